"""Desired states for the apply tests, written as a repo would hold them (engine field names)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from reconciler.model.managed import normalize
from reconciler.model.objects import Instance, Skill, State

# A 1x1 PNG: the engine checks the magic bytes of icons.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
ICON = f"data:image/png;base64,{PNG}"

CANARIES = {
    "POLYANT_SECRET__ALPHA__OPENAI_API_KEY": "sk-canary-openai-5e1f9a",
    "POLYANT_SECRET__ALPHA__AUTH_API_KEY": "canary-auth-77c3d2",
    "POLYANT_SKILLENV__ALPHA__FAQ_SEARCH__FAQ_API_KEY": "canary-faqkey-0b9e44",
    "POLYANT_CHANNEL__ALPHA__WHATSAPP": json.dumps(
        {"accountSid": "AC0001", "authToken": "canary-twilio-a1b2c3", "whatsappNumber": "+15550001"}
    ),
    "POLYANT_EVENTSOURCE__ALPHA__ORDERS__SIGNINGSECRET": "canary-signing-4d4d4d",
    "POLYANT_EVENTSOURCE__ALPHA__CRM__CLIENTSECRET": "canary-hubspot-9f9f9f",
}
CANARY_VALUES = [
    "sk-canary-openai-5e1f9a",
    "canary-auth-77c3d2",
    "canary-faqkey-0b9e44",
    "canary-twilio-a1b2c3",
    "canary-signing-4d4d4d",
    "canary-hubspot-9f9f9f",
]

FAQ_SEARCH: dict[str, Any] = {
    "slug": "faq-search",
    "name": "FAQ search",
    "description": "Search the internal FAQ",
    "category": "support",
    "requiredEnv": [
        {"name": "FAQ_INDEX", "description": "index name", "sensitive": False},
        {"name": "FAQ_API_KEY", "sensitive": True},
    ],
    "requiredTools": ["curl"],
    "metadata": {"owner": "support-team"},
    "content": "# FAQ search\n\nUse the FAQ index to answer questions.\n",
    "scripts": [{"file": "search.py", "description": "query the index", "content": "print(1)\n"}],
}
NOTES: dict[str, Any] = {
    "slug": "notes",
    "name": "notes",
    "description": "Take notes",
    "content": "# Notes\n\nKeep short notes.\n",
}

BETA: dict[str, Any] = {
    "slug": "beta",
    "name": "Beta",
    "description": "The callee",
    "provider": "openai",
    "model": "gpt-4.1-mini",
    "channels": {"agent": {"enabled": True}},
    "scheduledTasks": [
        {
            "name": "Hourly sweep",
            "schedule": {"type": "interval", "everyMs": 3_600_000},
            "prompt": "Sweep the queue.",
        }
    ],
}

ALPHA: dict[str, Any] = {
    "slug": "alpha",
    "name": "Alpha",
    "description": "Every field set",
    "status": "active",
    "provider": "anthropic",
    "model": "claude-sonnet-4-5-20250929",
    "memoryEnabled": False,
    "knowledgeEnabled": True,
    "langsmithEnabled": True,
    "langsmithProject": "alpha-traces",
    "authEnabled": True,
    "thinkingEnabled": True,
    "sttProvider": "deepgram",
    "icon": ICON,
    "prompts": {
        "01-identity": "You are Alpha, the helpdesk agent.",
        "04-safety": "Never share customer data.",
    },
    "skills": [
        {"slug": "faq-search", "enabled": True, "autoLoad": True},
        {"slug": "notes", "enabled": False, "pinnedVersion": "0.1.0"},
    ],
    "manualTools": ["readSkill", "webSearch", "httpRequest", "agent:beta"],
    "secrets": ["openai_api_key", "auth_api_key"],
    "channels": {"agent": {"enabled": True}, "whatsapp": {"enabled": True}},
    "skillEnv": {"faq-search": {"FAQ_INDEX": "helpdesk-v2", "FAQ_API_KEY": None}},
    "room": {
        "enabled": True,
        "prompt": "Watch the backlog.",
        "outboundChannel": "whatsapp",
        "outboundTarget": "+15550002",
        "evalIntervalMinutes": 10,
    },
    "eventSources": [
        {
            "name": "Orders",
            "sourceType": "webhook",
            "config": {"region": "eu-west", "signingSecret": None},
            "definitions": [
                {
                    "name": "New order",
                    "matchingPrompt": "A new order arrived",
                    "interpretationPrompt": "Summarise the order",
                },
                {
                    "name": "Urgent",
                    "matchingPrompt": "An urgent complaint",
                    "action": "conversation",
                    "contextPrompt": "Handle the complaint",
                    "outboundChannel": "whatsapp",
                    "outboundTarget": "+15550003",
                },
            ],
        },
        {
            "name": "CRM",
            "sourceType": "hubspot",
            "enabled": False,
            "config": {"clientSecret": None},
            "definitions": [
                {
                    "name": "Deal won",
                    "matchingPrompt": "A deal was won",
                    "interpretationPrompt": "Congratulate the team",
                    "enabled": False,
                }
            ],
        },
    ],
    "scheduledTasks": [
        {
            "name": "Daily digest",
            "description": "Morning summary",
            "schedule": {"type": "cron", "expression": "0 9 * * 1-5", "timezone": "Europe/Paris"},
            "prompt": "Summarise yesterday.",
            "outboundChannel": "whatsapp",
            "outboundTarget": "+15550002",
            "keepHistory": True,
            "maxRetries": 2,
        },
        {
            "name": "Release reminder",
            "schedule": {"type": "one-shot", "runAt": "2031-01-01T09:00:00Z"},
            "prompt": "Remind the team about the release.",
            "deleteAfterRun": True,
        },
        {
            "name": "Paused report",
            "enabled": False,
            "schedule": {"type": "interval", "everyMs": 7_200_000},
            "prompt": "Write the report.",
        },
    ],
}


def state(
    instances: list[dict[str, Any]] | None = None, skills: list[dict[str, Any]] | None = None
) -> State:
    """A normalized desired State built the way the repo loader builds it (fields_set kept)."""
    inst = [Instance.model_validate(copy.deepcopy(d)) for d in instances or []]
    sk = [Skill.model_validate(copy.deepcopy(d)) for d in skills or []]
    return normalize(State(instances={i.slug: i for i in inst}, skills={s.slug: s for s in sk}))


def rich() -> State:
    """Two instances (alpha uses every field, beta is alpha's agent callee) and two skills."""
    return state([ALPHA, BETA], [FAQ_SEARCH, NOTES])


def edited(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with top-level keys replaced."""
    out = copy.deepcopy(base)
    out.update(copy.deepcopy(changes))
    return out
