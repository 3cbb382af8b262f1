"""A richly configured engine (seed file) with everything an export bundle drops or hides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.helpers import PNG

# Secret values stored on the seeded engine: none may ever reach a file or an output.
CANARIES = {
    "secret": "sk-canary-bundle-1a2b",
    "env": "canary-bundle-env-3c4d",
    "slack": "xoxb-canary-bundle-5e6f",
    "hubspot": "canary-bundle-hubspot-7a8b",
    "hook": "canary-bundle-hook-9c0d",
}

FAQ_VERSIONS = [
    {"version": "0.1.0", "content": "# FAQ\n\nOld text.", "metadata": {}, "scripts": []},
    {
        "version": "0.2.0",
        "content": "# FAQ\n\nSearch the FAQ index.",
        "metadata": {
            "requiredEnv": [
                {"name": "FAQ_INDEX", "description": "Index name", "sensitive": False},
                {"name": "FAQ_API_KEY", "sensitive": True},
            ],
            "requiredTools": ["httpRequest"],
            "owner": "it",
        },
        "scripts": [{"file": "search.py", "description": "Search", "content": "print(1)\n"}],
    },
]


def catalog() -> dict[str, Any]:
    """A skills catalog bundle: faq-search (two versions) and triage."""
    return {
        "version": "1.0",
        "exportedAt": "2026-01-01T00:00:00.000Z",
        "type": "skills",
        "skills": [
            {"slug": "faq-search", "name": "faq-search", "description": "Search the FAQ",
             "category": "knowledge", "isDefault": False, "versions": FAQ_VERSIONS},
            {"slug": "triage", "name": "triage", "description": "", "category": "general",
             "isDefault": False,
             "versions": [{"version": "0.1.0", "content": "# Triage", "metadata": {}}]},
        ],
    }  # fmt: skip


def helpdesk() -> dict[str, Any]:
    """An instance with every kind of child, including what an export cannot show."""
    return {
        "slug": "helpdesk", "name": "Helpdesk", "description": "FAQ helpdesk", "status": "active",
        "provider": "openai", "model": "gpt-4.1-mini", "memoryEnabled": True,
        "knowledgeEnabled": True, "authEnabled": False, "langsmithEnabled": False, "icon": PNG,
        "thinkingEnabled": True, "langsmithProject": "helpdesk-traces", "sttProvider": "aws",
        "prompts": [{"sectionKey": "01-identity", "title": "Identity", "content": "You help."}],
        "skills": [
            {"skillSlug": "faq-search", "enabled": True, "autoLoad": True,
             "pinnedVersion": "0.1.0"},
            {"skillSlug": "triage", "enabled": False, "autoLoad": False},
        ],
        "manualTools": ["readSkill", "spawnTask", "searchKnowledge"],
        "secrets": [{"key": "openai_api_key", "value": CANARIES["secret"]}],
        "channels": [{"channelType": "slack", "enabled": True,
                      "config": {"botToken": CANARIES["slack"], "appToken": "xapp-1",
                                 "signingSecret": "s"}}],
        "skillEnv": [
            {"skillSlug": "faq-search", "key": "FAQ_INDEX", "encrypted": False,
             "value": "helpdesk-v2"},
            {"skillSlug": "faq-search", "key": "FAQ_API_KEY", "encrypted": True,
             "value": CANARIES["env"]},
        ],
        "room": {"enabled": True, "prompt": "Watch the backlog.", "outboundChannel": "slack",
                 "outboundTarget": "#ops", "evalIntervalMinutes": 10},
        "eventSources": [
            {"name": "Zendesk", "sourceType": "webhook", "enabled": True,
             "config": {"signingSecret": CANARIES["hook"]},
             "definitions": [
                 {"name": "New ticket", "matchingPrompt": "A ticket.",
                  "interpretationPrompt": "Summarise it."},
                 {"name": "Urgent", "matchingPrompt": "An outage.",
                  "interpretationPrompt": "Who is on call?", "action": "conversation",
                  "contextPrompt": "Reply in ops.", "outboundChannel": "slack",
                  "outboundTarget": "#ops"},
             ]},
            {"name": "Deals", "sourceType": "hubspot", "enabled": False,
             "config": {"clientSecret": CANARIES["hubspot"]},
             "definitions": [
                 {"name": "Won", "matchingPrompt": "A deal is won.", "interpretationPrompt": "",
                  "action": "conversation", "contextPrompt": "Congratulate.",
                  "outboundChannel": "slack", "outboundTarget": "#sales"},
             ]},
        ],
        "scheduledTasks": [
            {"name": "Digest", "description": None, "enabled": True,
             "schedule": {"type": "cron", "expression": "0 8 * * 1-5"},
             "prompt": "Summarise.", "outboundChannel": None, "outboundTarget": None,
             "keepHistory": False, "deleteAfterRun": False, "maxRetries": 3},
        ],
    }  # fmt: skip


def write_seed(path: Path, *instances: dict[str, Any]) -> Path:
    """A sandbox seed file holding the catalog and `instances`."""
    doc = {"skills": catalog(), "instances": [{"instance": i} for i in instances]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
