"""Start-up state: the demo-agent migration and an optional seed file of engine bundles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import catalog
from .common import jsonb
from .instances import seed_defaults
from .jsutil import new_id, new_token, now
from .prompts_tools import recompute
from .schedule import TYPES, next_run
from .secrets_channels import sync_agent_tool
from .skills import add_version
from .state import (
    Assignment,
    Channel,
    Definition,
    EnvRow,
    EventSource,
    InstanceData,
    Prompt,
    Room,
    Skill,
    Store,
    new_instance,
)
from .tasks import new_task

PLACEHOLDER = "sandbox-seed-value"


def seed_demo_agent(store: Store) -> None:
    """Migration 0035: demo-agent with the 8 default prompts and no tool rows."""
    d = catalog.DEMO_AGENT
    inst = new_instance(d["slug"], d["name"], d["description"])
    seed_defaults(store.add_instance(inst), store, tools=False)


def load_seed_file(store: Store, path: Path) -> None:
    """Load a seed file.

    Seed file (JSON)::

        {
          "skills": <skills bundle, as GET /api/skills/catalog/export returns it>,
          "instances": [<instance bundle, as GET /api/instances/:slug/export returns it>, ...]
        }

    Both keys are optional. Unlike the import routes, a seed bundle is loaded as if it had
    been built through the API, so it becomes live state a test can rely on:

    * skills keep every version with its exact version string (the last one is current);
      an entry may add `"status": "archived"`;
    * an instance gets the default prompts, overlaid by the bundle's prompts (titles kept);
      `manualTools`, skill assignments (pinned by version string), channel rows, room,
      event sources (new ids and tokens) and definitions are created as listed;
    * extra optional keys are honoured where the API can set them: `langsmithProject`,
      `thinkingEnabled`, `sttProvider` on the instance; `value` on `secrets` and `skillEnv`
      entries (default: a placeholder, so they show as configured); `config` on `channels`
      and `eventSources`; `action`, `contextPrompt`, `outboundChannel`, `outboundTarget` on
      definitions;
    * `scheduledTasks` of an instance bundle become normal, slug-keyed API tasks (visible in
      `GET …/scheduled-tasks`), each an object shaped like the export's task entries.
    """
    load_seed(store, json.loads(path.read_text(encoding="utf-8")))


def load_seed(store: Store, doc: dict[str, Any]) -> None:
    """Load a parsed seed document."""
    for entry in (doc.get("skills") or {}).get("skills", []):
        _seed_skill(store, entry)
    for bundle in doc.get("instances", []):
        _seed_instance(store, bundle.get("instance", bundle))


def _seed_skill(store: Store, entry: dict[str, Any]) -> None:
    skill = Skill(
        new_id(),
        entry["slug"],
        entry.get("name", entry["slug"]),
        entry.get("description", ""),
        entry.get("category", "general"),
        entry.get("status", "active"),
        bool(entry.get("isDefault", False)),
    )
    store.skills[skill.id] = skill
    for v in entry.get("versions", []):
        add_version(
            skill,
            v["version"],
            v["content"],
            metadata=v.get("metadata", {}),
            scripts=v.get("scripts", []),
            changelog=v.get("changelog"),
        )


# Bundle keys copied as they are onto the new instance, with their attribute names.
_SCALARS: tuple[tuple[str, str], ...] = (
    ("status", "status"),
    ("provider", "provider"),
    ("model", "model"),
    ("memoryEnabled", "memory_enabled"),
    ("icon", "icon"),
    ("knowledgeEnabled", "knowledge_enabled"),
    ("authEnabled", "auth_enabled"),
    ("langsmithEnabled", "langsmith_enabled"),
    ("sttProvider", "stt_provider"),
    ("langsmithProject", "langsmith_project"),
    ("thinkingEnabled", "thinking_enabled"),
)


def _seed_instance(store: Store, b: dict[str, Any]) -> None:
    inst = new_instance(b["slug"], b["name"], b.get("description"))
    for key, attr in _SCALARS:
        if key in b:
            setattr(inst, attr, b[key])
    data = store.add_instance(inst)
    seed_defaults(data, store, tools=False)
    for p in b.get("prompts", []):
        data.prompts[p["sectionKey"]] = Prompt(p.get("title", p["sectionKey"]), p["content"])
    for name in b.get("manualTools", list(catalog.DEFAULT_TOOL_NAMES)):
        if name in store.tools:
            data.tools[name] = "manual"
    _seed_skills(store, data, b.get("skills", []))
    for s in b.get("secrets", []):
        data.secrets[s["key"]] = s.get("value", PLACEHOLDER)
    for c in b.get("channels", []):
        data.channels[c["channelType"]] = Channel(bool(c.get("enabled")), c.get("config", {}))
        if c["channelType"] == "agent":
            sync_agent_tool(store, inst, bool(c.get("enabled")))
    _seed_env(data, b.get("skillEnv", []))
    if b.get("room"):
        data.room = _room(b["room"])
    _seed_sources(inst.id, data, b.get("eventSources", []))
    _seed_tasks(store, inst.slug, b.get("scheduledTasks", []))
    recompute(store, data)


def _seed_env(data: InstanceData, items: list[dict[str, Any]]) -> None:
    for e in items:
        value = e.get("value", PLACEHOLDER if e.get("encrypted") else "")
        data.env[(e["skillSlug"], e["key"])] = EnvRow(
            e["skillSlug"], e["key"], value, bool(e.get("encrypted"))
        )


def _room(r: dict[str, Any]) -> Room:
    return Room(
        new_id(),
        r.get("enabled", False),
        r.get("prompt", ""),
        r.get("outboundChannel"),
        r.get("outboundTarget"),
        r.get("evalIntervalMinutes", 5),
    )


def _seed_skills(store: Store, data: InstanceData, items: list[dict[str, Any]]) -> None:
    for item in items:
        skill = store.skill_by_slug(item["skillSlug"])
        if skill is None or skill.current() is None:
            continue
        pinned = next((v for v in skill.versions if v.version == item.get("pinnedVersion")), None)
        vid = (pinned or skill.current() or skill.versions[-1]).id
        data.assignments[skill.id] = Assignment(
            skill.id, bool(item.get("enabled", True)), bool(item.get("autoLoad", False)), vid
        )


def _seed_sources(inst_id: str, data: InstanceData, items: list[dict[str, Any]]) -> None:
    for s in items:
        src = EventSource(
            new_id(),
            inst_id,
            s["name"],
            s["sourceType"],
            s.get("config", {}),
            bool(s.get("enabled", True)),
            new_token(),
        )
        for d in s.get("definitions", []):
            row = Definition(
                new_id(),
                src.id,
                d["name"],
                d["matchingPrompt"],
                d.get("interpretationPrompt", ""),
                d.get("action", "backlog"),
                d.get("contextPrompt"),
                d.get("outboundChannel"),
                d.get("outboundTarget"),
                bool(d.get("enabled", True)),
            )
            src.definitions[row.id] = row
        data.sources[src.id] = src


def _seed_tasks(store: Store, slug: str, items: list[dict[str, Any]]) -> None:
    for t in items:
        task = new_task(slug, t, t["schedule"], t.get("createdBy", "api"))
        task.schedule = jsonb(t["schedule"])
        task.enabled = bool(t.get("enabled", True))
        if task.enabled and t["schedule"].get("type") in TYPES:
            task.next_run_at = next_run(t["schedule"], now())
        store.tasks[task.id] = task
