"""Two desired states that make apply use every write route: A creates, B updates and prunes."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from reconciler.model.managed import normalize
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project, Prune, Safety

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
PROJECT = Project(
    prune=Prune(instances=True, skills=True, children=True, secrets=True),
    safety=Safety(max_delete_percent=100, max_update_percent=100, min_objects=0),
)

# Five distinct secret canaries, one per kind of credential; the session token is a sixth.
CANARY = {
    "secret": "canary-secret-3f9a71d2",
    "channel": "canary-channel-b8e4c0aa",
    "skill_env": "canary-skillenv-5d21e9c7",
    "event_source": "canary-eventsrc-0c7f3b19",
    "hubspot": "canary-hubspot-e6a9d404",
    "token": "canary-session-token-91be7d5f",
}
SECRETS_ENV = {
    "POLYANT_SECRET__ALPHA__OPENAI_API_KEY": CANARY["secret"],
    "POLYANT_SECRET__ALPHA__AUTH_API_KEY": CANARY["secret"] + "-auth",
    "POLYANT_SKILLENV__ALPHA__FAQ_SEARCH__FAQ_API_KEY": CANARY["skill_env"],
    "POLYANT_CHANNEL__ALPHA__WHATSAPP": json.dumps(
        {"accountSid": "AC0001", "authToken": CANARY["channel"], "whatsappNumber": "+15550001"}
    ),
    "POLYANT_EVENTSOURCE__ALPHA__ORDERS__SIGNINGSECRET": CANARY["event_source"],
    "POLYANT_EVENTSOURCE__ALPHA__CRM__CLIENTSECRET": CANARY["hubspot"],
}

FAQ: dict[str, Any] = {
    "slug": "faq-search",
    "name": "faq-search",
    "description": "Search the FAQ",
    "requiredEnv": [
        {"name": "FAQ_INDEX", "sensitive": False},
        {"name": "FAQ_API_KEY", "sensitive": True},
    ],
    "requiredTools": ["curl"],
    "content": "# FAQ\n\nSearch the index.\n",
}
NOTES: dict[str, Any] = {
    "slug": "notes",
    "name": "notes",
    "description": "Take notes",
    "content": "# Notes\n\nKeep short notes.\n",
}
SCRATCH: dict[str, Any] = {
    "slug": "scratch",
    "name": "scratch",
    "content": "# Scratch\n\nNot assigned anywhere.\n",
}
GAMMA: dict[str, Any] = {
    "slug": "gamma",
    "name": "Gamma",
    "skills": [{"slug": "notes", "pinnedVersion": "0.1.0"}],
}
BETA: dict[str, Any] = {
    "slug": "beta",
    "name": "Beta",
    "channels": {"agent": {"enabled": True}},
    "scheduledTasks": [
        {
            "name": "Sweep",
            "schedule": {"type": "interval", "everyMs": 3_600_000},
            "prompt": "Sweep the queue.",
        }
    ],
}
ALPHA: dict[str, Any] = {
    "slug": "alpha",
    "name": "Alpha",
    "description": "Every field set",
    "provider": "anthropic",
    "model": "claude-sonnet-4-5-20250929",
    "memoryEnabled": False,
    "authEnabled": True,
    "icon": f"data:image/png;base64,{PNG}",
    "prompts": {"01-identity": "You are Alpha.", "04-safety": "Never share data."},
    "skills": [
        {"slug": "faq-search", "enabled": True, "autoLoad": True},
        {"slug": "notes", "enabled": False, "pinnedVersion": "0.1.0"},
    ],
    "manualTools": ["readSkill", "webSearch", "agent:beta"],
    "secrets": ["openai_api_key", "auth_api_key"],
    "channels": {"agent": {"enabled": True}, "whatsapp": {"enabled": True}},
    "skillEnv": {"faq-search": {"FAQ_INDEX": "helpdesk-v2", "FAQ_API_KEY": None}},
    "room": {"enabled": True, "prompt": "Watch the backlog.", "evalIntervalMinutes": 10},
    "eventSources": [
        {
            "name": "Orders",
            "sourceType": "webhook",
            "config": {"region": "eu-west", "signingSecret": None},
            "definitions": [
                {"name": "New order", "matchingPrompt": "An order", "interpretationPrompt": "Sum"},
                {"name": "Refund", "matchingPrompt": "A refund", "interpretationPrompt": "Sum"},
            ],
        },
        {
            "name": "CRM",
            "sourceType": "hubspot",
            "config": {"clientSecret": None},
            "definitions": [
                {"name": "Deal won", "matchingPrompt": "A deal", "interpretationPrompt": "Yay"}
            ],
        },
    ],
    "scheduledTasks": [
        {
            "name": "Daily digest",
            "schedule": {"type": "cron", "expression": "0 9 * * 1-5", "timezone": "UTC"},
            "prompt": "Summarise yesterday.",
        },
        {
            "name": "Paused report",
            "enabled": False,
            "schedule": {"type": "interval", "everyMs": 7_200_000},
            "prompt": "Write the report.",
        },
    ],
}


def _alpha_b() -> dict[str, Any]:
    """ALPHA after a round of edits that touches every update and removal route."""
    a = copy.deepcopy(ALPHA)
    a.update(description="Edited", icon=None, authEnabled=False, secrets=["openai_api_key"])
    a["prompts"] = {"01-identity": "You are Alpha, edited.", "04-safety": "Never share data."}
    a["skills"] = [
        {"slug": "faq-search", "enabled": False, "autoLoad": False},
        {"slug": "notes", "enabled": True},
    ]
    a["manualTools"] = ["readSkill", "searchMemory"]
    a["channels"] = {"agent": {"enabled": True}}
    a["skillEnv"] = {"faq-search": {"FAQ_INDEX": "helpdesk-v3"}}
    a["room"] = None
    orders = a["eventSources"][0]
    orders["enabled"] = False
    orders["definitions"] = [dict(orders["definitions"][0], matchingPrompt="A new order")]
    a["eventSources"] = [orders]
    daily = dict(a["scheduledTasks"][0], prompt="Summarise the day.")
    a["scheduledTasks"] = [daily]
    return a


ALPHA_B = _alpha_b()
NOTES_B = dict(NOTES, content="# Notes\n\nKeep very short notes.\n")


def state(instances: list[dict[str, Any]], skills: list[dict[str, Any]]) -> State:
    """A normalized desired State built as the repo loader builds it (fields set kept)."""
    inst = [Instance.model_validate(copy.deepcopy(d)) for d in instances]
    sk = [Skill.model_validate(copy.deepcopy(d)) for d in skills]
    return normalize(State(instances={i.slug: i for i in inst}, skills={s.slug: s for s in sk}))


def state_a() -> State:
    """Phase A: everything created from an empty engine."""
    return state([ALPHA, BETA], [FAQ, NOTES, SCRATCH])


def state_b() -> State:
    """Phase B (with --prune): alpha edited, beta deleted, gamma new, scratch archived."""
    return state([ALPHA_B, GAMMA], [FAQ, NOTES_B])
