"""Repo models → engine bundles, for teams that still hand files to the admin panel.

The engine's export shape and key order (§13.1, §6.7), for the admin panel's import (§14):
secrets and encrypted skill env declared only, plain skill env with ``value``,
``scheduledTasks: []``, the icon as its data URI. Notices say what the bundle drops and what
the import will do (disabled channels and sources, new webhook URLs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic.alias_generators import to_camel

from reconciler.engine.convert import Notes
from reconciler.fleet.bundle_in import (
    BUNDLE_VERSION,
    IMPORT_BODY_LIMIT,
    NEW_INSTANCE_TOOLS,
    SCALARS,
    SECTION_TITLES,
    SKILL_VERSION,
)
from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.objects import EventSource, Instance, ScheduledTask, Skill
from reconciler.plan.changes import Notice


def instance_bundle(
    inst: Instance, exported_at: datetime, version: str = BUNDLE_VERSION
) -> tuple[dict[str, Any], list[Notice]]:
    """The engine's export bundle of one repo instance, and what it drops.

    Version 1.0 is what main (172e0bc) exports and accepts; 1.1 (develop 5e59498 on) also
    carries the instance flags, definition action fields, channel config and real tasks.
    """
    notes = Notes()
    key = f"instance/{inst.slug}"
    body: dict[str, Any] = inst.model_dump(mode="json", include=SCALARS)
    if version != BUNDLE_VERSION:
        body |= _v11_settings(inst)
    body |= _children(inst, notes, key)
    if version == BUNDLE_VERSION:
        _export_notes(inst, notes, key)
    else:
        _v11_children(inst, body)
        _v11_notes(inst, notes, key)
    envelope = {"version": version, "exportedAt": _iso(exported_at), "type": "instance"}
    return {**envelope, "instance": body}, notes.sorted()


def _children(inst: Instance, notes: Notes, key: str) -> dict[str, Any]:
    return {
        "prompts": [
            {"sectionKey": k, "title": SECTION_TITLES.get(k, k), "content": v}
            for k, v in sorted(inst.prompts.items())
        ],
        "skills": [
            {
                "skillSlug": a.slug,
                "enabled": a.enabled,
                "autoLoad": a.auto_load,
                "pinnedVersion": a.pinned_version,
            }
            for a in inst.skills or []
        ],
        "manualTools": _tools(inst, notes, key),
        "secrets": [{"key": k, "configured": True} for k in inst.secrets or []],
        "channels": [
            {"channelType": t, "enabled": c.enabled} for t, c in (inst.channels or {}).items()
        ],
        "skillEnv": _env_rows(inst),
        "room": inst.room.model_dump(mode="json") if inst.room is not None else None,
        "eventSources": [_source_row(s) for s in inst.event_sources or []],
        "scheduledTasks": [],
    }


def _v11_settings(inst: Instance) -> dict[str, Any]:
    # The engine's 1.1 key order (export.service.ts); embeddingDim follows the provider
    # (bedrock embeds in 1024 dimensions only) and is applied by import-new only.
    names = ("langsmith_project", "thinking_enabled", "temperature", "state_in_prompt_enabled",
             "tool_results_in_history_enabled", "debug_enabled", "stt_provider",
             "embedding_provider")  # fmt: skip
    out: dict[str, Any] = inst.model_dump(mode="json", include=set(names))
    out = {to_camel(n): out[to_camel(n)] for n in names}
    out["embeddingDim"] = 1024 if inst.embedding_provider == "bedrock" else 1536
    optout = {n for n in NEWER_SETTINGS if n.startswith("optout")}
    return out | inst.model_dump(mode="json", include=optout)


def _v11_children(inst: Instance, body: dict[str, Any]) -> None:
    for row in body["channels"]:
        row["config"] = {}  # credentials never travel; the import creates the channel disabled
    for row in body["skillEnv"]:
        row.pop("hasValue", None)  # 1.1 rows carry `value` for plain keys, nothing otherwise
    acting = {"action", "context_prompt", "outbound_channel", "outbound_target"}
    for row, source in zip(body["eventSources"], inst.event_sources or [], strict=True):
        for out, d in zip(row["definitions"], source.definitions, strict=True):
            out.update(d.model_dump(mode="json", include=acting))
    body["hooks"] = [h.model_dump(mode="json") for h in inst.hooks or []]
    body["scheduledTasks"] = [_task_row(t) for t in inst.scheduled_tasks or []]


def _task_row(task: ScheduledTask) -> dict[str, Any]:
    row: dict[str, Any] = task.model_dump(mode="json", exclude={"id", "auto_disabled"})
    row["schedule"] = task.schedule.model_dump(mode="json", exclude_none=True)
    return row | {"createdBy": "api"}


def _v11_notes(inst: Instance, notes: Notes, key: str) -> None:
    for level, items, message in _losses(inst)[3:]:
        if items:
            add = notes.warn if level == "warning" else notes.info
            add(key, message.format(", ".join(items)))


def _tools(inst: Instance, notes: Notes, key: str) -> list[str]:
    if inst.manual_tools is None:
        return list(NEW_INSTANCE_TOOLS)  # unmanaged: what a new instance gets anyway
    if not inst.manual_tools:
        notes.warn(key, "manualTools is empty: an instance with no tool rows has ALL tools")
    return list(inst.manual_tools)


def _env_rows(inst: Instance) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for skill, keys in (inst.skill_env or {}).items():
        for name, value in keys.items():
            row: dict[str, Any] = {"skillSlug": skill, "key": name, "encrypted": value is None}
            row["hasValue"] = bool(value)
            if value is not None:
                row["value"] = value  # plain, non-sensitive: the import stores it
            rows.append(row)
    return rows


def _source_row(source: EventSource) -> dict[str, Any]:
    fields = {"name", "matching_prompt", "interpretation_prompt", "enabled"}
    include: Any = {"name": True, "source_type": True, "enabled": True}
    include["definitions"] = {"__all__": fields}
    row: dict[str, Any] = source.model_dump(mode="json", include=include)
    row.setdefault("definitions", [])
    return row


def _export_notes(inst: Instance, notes: Notes, key: str) -> None:
    for level, items, message in _losses(inst):
        if items:
            add = notes.warn if level == "warning" else notes.info
            add(key, message.format(", ".join(items)))


def _losses(inst: Instance) -> list[tuple[str, list[str], str]]:
    """(level, affected names, message) for everything the engine's import will not do."""
    scalars = (
        ("thinkingEnabled", inst.thinking_enabled, False),
        ("langsmithProject", inst.langsmith_project, None),
        ("sttProvider", inst.stt_provider, "openai"),
    )
    defs = [(s, d) for s in inst.event_sources or [] for d in s.definitions]
    acting = [f"{s.name}/{d.name}" for s, d in defs if d.action != "backlog" or d.context_prompt
              or d.outbound_channel or d.outbound_target]  # fmt: skip
    credentials = ["yes"] if inst.channels or inst.event_sources or inst.secrets else []
    return [
        ("warning", [a for a, v, d in scalars if v != d], "not in a bundle: {} (the import "
         "uses the defaults)"),
        ("warning", [t.name for t in inst.scheduled_tasks or []], "scheduled tasks {} are "
         "left out: the engine's import stores tasks where they never run; apply creates them"),
        ("warning", acting, "definition action fields are not in a bundle: {}"),
        ("info", [a.slug for a in inst.skills or [] if a.pinned_version], "pins of {} name "
         "versions of this repo's engines; the import silently uses the current version where "
         "a pin is unknown"),
        ("info", sorted(set(SECTION_TITLES) - set(inst.prompts)), "prompt sections {} are not "
         "in the repo: the import creates no such section (it seeds no defaults)"),
        ("info", credentials, "the import creates channels and event sources disabled, without "
         "credentials (new webhook URLs); secrets must be set on the engine"),
    ]  # fmt: skip


def skills_bundle(
    skills: Iterable[Skill], exported_at: datetime
) -> tuple[dict[str, Any], list[Notice]]:
    """The engine's catalog export bundle of repo skills (one version each)."""
    notes = Notes()
    entries = [_catalog_entry(skill) for skill in sorted(skills, key=lambda s: s.slug)]
    for entry in entries:
        notes.info(
            f"skill/{entry['slug']}",
            f"an engine that already has this skill skips it (version {SKILL_VERSION} exists "
            "there): the catalog import cannot update a skill; apply can",
        )
    envelope = {"version": BUNDLE_VERSION, "exportedAt": _iso(exported_at), "type": "skills"}
    return {**envelope, "skills": entries}, notes.sorted()


def _catalog_entry(skill: Skill) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if skill.required_env:
        meta["requiredEnv"] = [
            e.model_dump(mode="json", exclude_none=True) for e in skill.required_env
        ]
    if skill.required_tools:
        meta["requiredTools"] = list(skill.required_tools)
    version = {
        "version": SKILL_VERSION,
        "content": skill.content,
        "metadata": meta | dict(skill.metadata),
        "scripts": [s.model_dump(mode="json") for s in skill.scripts],
        "changelog": None,
    }
    head = {"slug": skill.slug, "name": skill.name, "description": skill.description}
    return head | {"category": skill.category, "isDefault": False, "versions": [version]}


def bundle_text(bundle: dict[str, Any]) -> str:
    """The bundle as the engine writes it: JSON with two-space indent."""
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def size_notice(bundle: dict[str, Any], key: str) -> Notice | None:
    """A warning when the bundle is over the engine's import body limit."""
    compact = len(json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode())
    pretty = len(bundle_text(bundle).encode())
    if pretty <= IMPORT_BODY_LIMIT:
        return None
    fits = (
        "it fits only if uploaded compact" if compact <= IMPORT_BODY_LIMIT else "the import fails"
    )
    return Notice(
        "warning",
        key,
        f"the bundle is {pretty} bytes ({compact} compact); the engine refuses import bodies "
        f"over {IMPORT_BODY_LIMIT} bytes, so {fits} (shrink the icon or prompts)",
    )


def _iso(moment: datetime) -> str:
    # JavaScript's toISOString: UTC, milliseconds and a Z.
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
