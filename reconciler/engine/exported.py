"""Export bundles (instance export, skills catalog export) → live Instance and Skill models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic.alias_generators import to_camel

from reconciler.engine.convert import Notes, build, expect_dict, expect_list
from reconciler.model.enginefacts import CHANNEL_TYPES, NEWER_SETTINGS, SECTION_IDS
from reconciler.model.engineline import Capabilities
from reconciler.model.objects import (
    Channel,
    EnvSpec,
    EventSource,
    Hook,
    Instance,
    Room,
    ScheduledTask,
    Script,
    Skill,
    SkillAssignment,
)

_CATALOG_KEYS = frozenset({"requiredEnv", "requiredTools"})


@dataclass
class InstanceRead:
    """Everything fetched for one instance; None for a part the engine could not serve."""

    slug: str
    dto: dict[str, Any]
    export: dict[str, Any]
    tasks: list[ScheduledTask] | None = None
    sources: list[EventSource] = field(default_factory=list)
    # skill slug -> `GET …/skills/:skill/env` entries (only skills with plain rows)
    env: dict[str, list[Any] | None] = field(default_factory=dict)
    version: str = "1.0"  # the export bundle's format version
    hooks: list[Hook] | None = None  # None: the engine has no hooks (main) or not read


def plain_env_skills(export: dict[str, Any]) -> list[str]:
    """Skills whose plain (non-encrypted) env rows hold a value only the env GET shows.

    Bundle 1.0 says only `hasValue`; 1.1 (develop) carries the plain `value` itself, so
    those rows need no extra GET.
    """
    rows = export.get("skillEnv") or []
    wanted = {
        str(r.get("skillSlug"))
        for r in rows
        if isinstance(r, dict)
        and r.get("encrypted") is False
        and r.get("hasValue")
        and "value" not in r
    }
    return sorted(wanted)


def instance_from(read: InstanceRead, notes: Notes, caps: Capabilities | None = None) -> Instance:
    """The live Instance: metadata from the list DTO + export, children from their own GETs."""
    return instance_with_children(instance_fields(read, notes, caps), read, notes)


def instance_with_children(fields: dict[str, Any], read: InstanceRead, notes: Notes) -> Instance:
    """The Instance from `instance_fields` and the children `read` carries."""
    data = {**fields, "event_sources": read.sources}
    if read.tasks is not None:
        data["scheduled_tasks"] = read.tasks
    if read.hooks is not None:
        data["hooks"] = read.hooks
    return build(Instance, data, notes, f"instance/{read.slug}", f"instance {read.slug!r}")


def instance_fields(
    read: InstanceRead, notes: Notes, caps: Capabilities | None = None
) -> dict[str, Any]:
    """Every field but the children, from the list DTO, the export and the env GETs (so the
    raw export can be dropped as soon as it is read)."""
    key = f"instance/{read.slug}"
    exp, dto = read.export, read.dto
    data: dict[str, Any] = {snake: exp.get(camel) for snake, camel in _EXPORT_SCALARS.items()}
    settings = caps.settings if caps is not None else frozenset()
    # Settings the engine has (develop on): from the DTO, which carries every one of them.
    data |= {n: dto[camel] for n, camel in _NEWER_CAMEL.items() if camel in settings}
    data |= {
        "slug": read.slug,
        "langsmith_project": dto.get("langsmithProject"),
        "thinking_enabled": bool(dto.get("thinkingEnabled")),
        "stt_provider": dto.get("sttProvider") or "openai",
        "prompts": _prompts(exp),
        "skills": _assignments(exp),
        "manual_tools": [str(t) for t in exp.get("manualTools") or []],
        "secrets": [str(s["key"]) for s in _rows(exp, "secrets") if s.get("configured", True)],
        "channels": _channels(exp, notes, key),
        "skill_env": _skill_env(read, notes, key),
        "room": _room(exp.get("room"), notes, key),
    }
    return data


# The engine (camelCase) names of the newer settings, worked out once: to_camel runs two
# regex substitutions, and this ran 11 times per instance read.
_NEWER_CAMEL = {n: to_camel(n) for n in NEWER_SETTINGS}
_EXPORT_SCALARS = {
    "name": "name",
    "description": "description",
    "status": "status",
    "provider": "provider",
    "model": "model",
    "memory_enabled": "memoryEnabled",
    "knowledge_enabled": "knowledgeEnabled",
    "langsmith_enabled": "langsmithEnabled",
    "auth_enabled": "authEnabled",
    "icon": "icon",
}


def _rows(exp: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in exp.get(name) or [] if isinstance(r, dict)]


def _prompts(exp: dict[str, Any]) -> dict[str, str]:
    # Only the 8 sections the engine builds the system prompt from; titles are not managed.
    rows = _rows(exp, "prompts")
    found = {r.get("sectionKey"): r.get("content") for r in rows}
    return {k: str(found[k] or "") for k in SECTION_IDS if k in found}


def _assignments(exp: dict[str, Any]) -> list[SkillAssignment]:
    return [
        SkillAssignment.model_construct(
            slug=str(r.get("skillSlug")),
            enabled=r.get("enabled") is not False,
            auto_load=bool(r.get("autoLoad")),
            pinned_version=None if r.get("pinnedVersion") is None else str(r["pinnedVersion"]),
        )
        for r in _rows(exp, "skills")
    ]


def _channels(exp: dict[str, Any], notes: Notes, key: str) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    for row in _rows(exp, "channels"):
        kind = str(row.get("channelType"))
        if kind not in CHANNEL_TYPES:
            notes.warn(key, f"channel type {kind!r} is unknown to the engine's runtime; delete it")
            continue
        out[kind] = Channel(enabled=row.get("enabled") is True)
    return out


def _skill_env(read: InstanceRead, notes: Notes, key: str) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for row in _rows(read.export, "skillEnv"):
        skill, name = str(row.get("skillSlug")), str(row.get("key"))
        value: str | None = None  # encrypted: sensitive, declared only
        if row.get("encrypted") is False and "value" in row:  # bundle 1.1: the value itself
            value = "" if row.get("value") is None else str(row["value"])
        elif row.get("encrypted") is False:
            has_value = bool(row.get("hasValue"))
            value = _plain_value(read, skill, name, has_value=has_value, notes=notes, key=key)
        out.setdefault(skill, {})[name] = value
    return out


def _plain_value(
    read: InstanceRead, skill: str, name: str, *, has_value: bool, notes: Notes, key: str
) -> str | None:
    if not has_value:
        return ""
    entries = read.env.get(skill) or []
    entry = next((e for e in entries if isinstance(e, dict) and e.get("key") == name), None)
    if entry is not None and entry.get("sensitive") is False and isinstance(entry["value"], str):
        return str(entry["value"])
    why = "declares it sensitive" if entry is not None else "does not declare it"
    notes.warn(
        key,
        f"skill env {skill}.{name} holds a plain value the engine will not show (the skill's "
        f"current version {why}); it reads as undeclared-sensitive: fix the skill's "
        "requiredEnv or store the value as sensitive",
    )
    return None


def _room(raw: Any, notes: Notes, key: str) -> Room | None:
    if not isinstance(raw, dict):
        return None
    data = {
        "enabled": raw.get("enabled") is True,
        "prompt": raw.get("prompt") or "",
        "outbound_channel": raw.get("outboundChannel"),
        "outbound_target": raw.get("outboundTarget"),
        "eval_interval_minutes": raw.get("evalIntervalMinutes"),
    }
    return build(Room, data, notes, key, "the room")


def catalog_skills(payload: Any, notes: Notes) -> dict[str, Skill]:
    """Every active skill of `GET /api/skills/catalog/export`, current = last version."""
    bundle = expect_dict(payload, "the skills catalog export")
    out: dict[str, Skill] = {}
    for entry in expect_list(bundle.get("skills"), "the skills catalog export's skills"):
        skill = _catalog_skill(entry, notes)
        if skill is not None:
            out[skill.slug] = skill
    return out


def _catalog_skill(entry: Any, notes: Notes) -> Skill | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
        notes.warn("skill/?", "the catalog export holds a skill without a slug; ignored")
        return None
    slug, key = entry["slug"], f"skill/{entry['slug']}"
    versions = [v for v in entry.get("versions") or [] if isinstance(v, dict)]
    if not versions:
        notes.warn(key, f"skill {slug!r} has no version on the engine; ignored")
        return None
    current = versions[-1]
    raw_meta = current.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    data = _skill_data(slug, entry, meta, notes, key) | {
        "content": current.get("content") or "",
        "metadata": {k: v for k, v in meta.items() if k not in _CATALOG_KEYS},
        "scripts": _scripts(current.get("scripts")),
        "version": current.get("version"),
    }
    return build(Skill, data, notes, key, f"skill {slug!r}")


def _skill_data(
    slug: str, raw: dict[str, Any], meta: dict[str, Any], notes: Notes, key: str
) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": raw.get("name") or slug,
        "description": raw.get("description") or "",
        "category": raw.get("category") or "general",
        "required_env": _env_specs(meta.get("requiredEnv"), notes, key),
        "required_tools": [str(t) for t in meta.get("requiredTools") or []],
        "archived": False,
    }


def archived_skill(slug: str, payload: Any, notes: Notes) -> Skill:
    """A skill assigned to an instance but absent from the catalog: `GET /api/skills/:slug`."""
    detail = expect_dict(payload, f"skill {slug!r}")
    meta = {"requiredEnv": detail.get("requiredEnv"), "requiredTools": detail.get("requiredTools")}
    key = f"skill/{slug}"
    data = _skill_data(slug, detail, meta, notes, key) | {
        "content": detail.get("content") or "",
        "metadata": {},
        "scripts": [],
        "archived": True,
        "version": None,
    }
    return build(Skill, data, notes, key, f"archived skill {slug!r}")


def _env_specs(raw: Any, notes: Notes, key: str) -> list[EnvSpec]:
    specs: list[EnvSpec] = []
    for raw_item in raw if isinstance(raw, list) else []:
        item = raw_item
        if isinstance(item, str):
            # The runtime reads a string as a sensitive name, but the env and skill-list
            # routes break on it (contract §6.0): read it the runtime's way and say so.
            notes.warn(
                key,
                f"requiredEnv item {item!r} is a bare string, which breaks the engine's env "
                "routes; update the skill with objects {name, sensitive}",
            )
            item = {"name": item, "sensitive": True}
        if isinstance(item, dict):
            specs.append(
                EnvSpec.model_construct(
                    name=str(item.get("name")),
                    description=item.get("description"),
                    sensitive=item.get("sensitive") is not False,
                )
            )
    return specs


def _scripts(raw: Any) -> list[Script]:
    return [
        Script.model_construct(
            file=str(s.get("file")),
            description=str(s.get("description") or ""),
            content=str(s.get("content") or ""),
        )
        for s in (raw if isinstance(raw, list) else [])
        if isinstance(s, dict)
    ]
