"""A generated fleet for the benchmarks: repo documents, seed bundles and their credentials."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import secretenv
from reconciler.model.managed import normalize
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project, Prune, Safety

SKILL_SLUG = "fleet-faq"
PROMPT = (
    "You are {name}, the support agent of team {i}. Answer questions about the team's "
    "products, escalate outages to the on-call engineer and never share customer data.\n"
) * 6
SKILL: dict[str, Any] = {
    "slug": SKILL_SLUG,
    "name": SKILL_SLUG,
    "description": "Search the team FAQ",
    "category": "support",
    "requiredEnv": [
        {"name": "FAQ_API_KEY", "description": "API key", "sensitive": True},
        {"name": "FAQ_INDEX", "description": "index name", "sensitive": False},
    ],
    "requiredTools": ["httpRequest"],
    "content": "# FAQ\n\nSearch the FAQ index and quote the best entry.\n",
}
# A second catalog skill whose only env value is plain: one more env GET per instance.
SKILL_2: dict[str, Any] = {
    "slug": "fleet-kb",
    "name": "fleet-kb",
    "description": "Search the team knowledge base",
    "category": "support",
    "requiredEnv": [{"name": "KB_INDEX", "description": "index name", "sensitive": False}],
    "requiredTools": ["httpRequest"],
    "content": "# KB\n\nSearch the knowledge base.\n",
}
PROJECT_YAML = """\
version: 1
scope:
  instances: ["*"]
  excludeInstances: [demo-agent]
prune: {instances: true, skills: false, children: true, secrets: false}
safety: {maxDeletePercent: 100, maxUpdatePercent: 100, minObjects: 4}
"""


def project() -> Project:
    """PROJECT_YAML as a Project (the default scope already leaves demo-agent alone)."""
    return Project(
        prune=Prune(instances=True, skills=False, children=True, secrets=False),
        safety=Safety(max_delete_percent=100, max_update_percent=100, min_objects=4),
    )


def slug_of(i: int) -> str:
    """The slug of fleet instance `i`."""
    return f"agent-{i:04d}"


def with_second_skill(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` also assigned SKILL_2, with its plain env value."""
    slug = SKILL_2["slug"]
    doc["skills"] = [*doc["skills"], {"slug": slug, "enabled": True, "autoLoad": False}]
    doc["skillEnv"] = {**doc["skillEnv"], slug: {"KB_INDEX": f"kb-{doc['slug']}"}}
    return doc


def instance_doc(i: int) -> dict[str, Any]:
    """One realistic instance as its instance.yaml + prompt files say it (engine names)."""
    slug = slug_of(i)
    name = f"Agent {i}"
    return {
        "slug": slug,
        "name": name,
        "description": f"Support agent of team {i}",
        "status": "active",
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "memoryEnabled": True,
        "prompts": {
            "01-identity": PROMPT.format(name=name, i=i),
            "04-safety": "Never share customer data. Never run destructive commands.\n",
        },
        "skills": [{"slug": SKILL_SLUG, "enabled": True, "autoLoad": True}],
        "manualTools": ["readSkill", "spawnTask", "webSearch"],
        "secrets": ["openai_api_key"],
        "skillEnv": {SKILL_SLUG: {"FAQ_API_KEY": None, "FAQ_INDEX": f"team-{i}"}},
        "room": {
            "enabled": True,
            "prompt": "Group duplicate tickets and summarise the rest.",
            "outboundChannel": None,
            "outboundTarget": None,
            "evalIntervalMinutes": 10,
        },
        "eventSources": [
            {
                "name": "Tickets",
                "sourceType": "webhook",
                "config": {"signingSecret": None},
                "definitions": [
                    {
                        "name": "New ticket",
                        "matchingPrompt": "A ticket was opened",
                        "interpretationPrompt": "Summarise the ticket",
                    }
                ],
            }
        ],
        "scheduledTasks": [
            {
                "name": "Daily digest",
                "schedule": {"type": "cron", "expression": "0 8 * * 1-5", "timezone": "UTC"},
                "prompt": "Summarise yesterday's tickets.",
            }
        ],
    }


def whatsapp_config(slug: str) -> dict[str, str]:
    """The Twilio credentials of a rich instance's WhatsApp channel (bench values only)."""
    return {"accountSid": f"AC{slug}", "authToken": f"tok-{slug}", "whatsappNumber": "+15550100"}


def rich_doc(i: int) -> dict[str, Any]:
    """An instance with everything an overwrite import can destroy: a credentialed channel,
    a conversation definition, tasks (run history comes from running them), plain env."""
    doc = instance_doc(i)
    doc["channels"] = {"whatsapp": {"enabled": True}}
    doc["eventSources"][0]["definitions"].append(
        {
            "name": "Outage",
            "matchingPrompt": "A ticket reports an outage",
            "action": "conversation",
            "contextPrompt": "Tell the on-call engineer",
            "outboundChannel": "whatsapp",
            "outboundTarget": "+15550199",
        }
    )
    doc["scheduledTasks"].append(
        {
            "name": "Hourly sweep",
            "schedule": {"type": "interval", "everyMs": 3_600_000},
            "prompt": "Close stale tickets.",
        }
    )
    return doc


def state_of(docs: Sequence[Mapping[str, Any]], skills: Sequence[Mapping[str, Any]]) -> State:
    """A normalized desired State, built as the repo loader builds it (fields set kept)."""
    inst = [Instance.model_validate(copy.deepcopy(dict(d))) for d in docs]
    sk = [Skill.model_validate(copy.deepcopy(dict(s))) for s in skills]
    return normalize(State(instances={i.slug: i for i in inst}, skills={s.slug: s for s in sk}))


def fleet_state(n: int) -> State:
    """The desired state of an n-instance fleet plus its catalog skill."""
    return state_of([instance_doc(i) for i in range(n)], [SKILL])


def secrets_env(docs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The apply-time variables carrying every credential the documents declare."""
    env: dict[str, str] = {}
    for doc in docs:
        slug = doc["slug"]
        for key in doc.get("secrets") or []:
            env[secretenv.secret_var(slug, key)] = f"value-{slug}-{key}"
        for skill, values in (doc.get("skillEnv") or {}).items():
            for key, value in values.items():
                if value is None:
                    env[secretenv.skill_env_var(slug, skill, key)] = f"env-{slug}-{key}"
        for source in doc.get("eventSources") or []:
            for key, value in (source.get("config") or {}).items():
                if value is None:
                    var = secretenv.event_source_var(slug, source["name"], key)
                    env[var] = f"cred-{slug}-{key}"
        for kind in doc.get("channels") or {}:
            env[secretenv.channel_var(slug, kind)] = json.dumps(_channel_config(slug, kind))
    return env


def seed_skill(skill: Mapping[str, Any]) -> dict[str, Any]:
    """A catalog-export entry for a repo skill (version 0.1.0)."""
    meta = {
        "requiredEnv": skill.get("requiredEnv", []),
        "requiredTools": skill.get("requiredTools", []),
    }
    version = {
        "version": "0.1.0",
        "content": skill["content"],
        "metadata": meta,
        "scripts": [],
        "changelog": None,
    }
    return {
        "slug": skill["slug"],
        "name": skill["name"],
        "description": skill.get("description", ""),
        "category": skill.get("category", "general"),
        "isDefault": False,
        "versions": [version],
    }


def seed_bundle(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The export bundle (plus the seed extras) that makes the engine hold `doc` exactly."""
    slug = doc["slug"]
    env_rows = [
        {"skillSlug": skill, "key": key, "encrypted": value is None, "value": value or "x"}
        for skill, values in (doc.get("skillEnv") or {}).items()
        for key, value in values.items()
    ]
    return {
        "slug": slug,
        "name": doc["name"],
        "description": doc.get("description"),
        "status": doc.get("status", "active"),
        "provider": doc.get("provider"),
        "model": doc.get("model"),
        "memoryEnabled": doc.get("memoryEnabled", True),
        "prompts": [
            {"sectionKey": k, "title": k, "content": v} for k, v in doc.get("prompts", {}).items()
        ],
        "skills": [
            {
                "skillSlug": a["slug"],
                "enabled": a.get("enabled", True),
                "autoLoad": a.get("autoLoad", False),
                "pinnedVersion": None,
            }
            for a in doc.get("skills") or []
        ],
        "manualTools": list(doc.get("manualTools") or []),
        "secrets": [{"key": k, "configured": True} for k in doc.get("secrets") or []],
        "channels": [
            {"channelType": kind, "enabled": c["enabled"], "config": _channel_config(slug, kind)}
            for kind, c in (doc.get("channels") or {}).items()
        ],
        "skillEnv": env_rows,
        "room": doc.get("room"),
        "eventSources": [
            {
                "name": s["name"],
                "sourceType": s["sourceType"],
                "enabled": s.get("enabled", True),
                "config": {k: v or f"cred-{slug}" for k, v in (s.get("config") or {}).items()},
                "definitions": [dict({"enabled": True}, **d) for d in s.get("definitions", [])],
            }
            for s in doc.get("eventSources") or []
        ],
        "scheduledTasks": [_seed_task(t) for t in doc.get("scheduledTasks") or []],
    }


def _channel_config(slug: str, kind: str) -> dict[str, str]:
    return whatsapp_config(slug) if kind == "whatsapp" else {}


def _seed_task(task: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": task["name"],
        "description": task.get("description"),
        "enabled": task.get("enabled", True),
        "schedule": task["schedule"],
        "prompt": task["prompt"],
        "outboundChannel": task.get("outboundChannel"),
        "outboundTarget": task.get("outboundTarget"),
        "keepHistory": task.get("keepHistory", False),
        "deleteAfterRun": task.get("deleteAfterRun", False),
        "maxRetries": task.get("maxRetries", 3),
        "createdBy": "api",
    }


def seed_doc(
    docs: Sequence[Mapping[str, Any]], skills: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A sandbox seed file holding these instances and catalog skills."""
    return {
        "skills": {"skills": [seed_skill(s) for s in skills]},
        "instances": [seed_bundle(d) for d in docs],
    }
