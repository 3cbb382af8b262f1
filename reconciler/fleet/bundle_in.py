"""Engine bundles → repo models: Polyant export bundles imported into the repo format.

The engine's own conversion (``engine.exported``) reads the bundle; what a bundle cannot
carry is then left to the repo: ``thinkingEnabled``, ``langsmithProject`` and ``sttProvider``
are never written (``Bundled`` excludes them); ``scheduledTasks`` (always ``[]`` for API
tasks, §13) and an incomplete ``skillEnv`` (plain values are not exported) stay unset, so an
existing file keeps its keys and a new one leaves them unmanaged. Event sources keep the
repo's ``config`` and definitions keep the repo's action fields; a definition new to the
repo gets no ``action`` key (``Imported.fresh``), because the bundle does not say.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from reconciler.engine.convert import Notes, build, hooks_from, task_from, unique_by_name
from reconciler.engine.exported import InstanceRead, catalog_skills, instance_from
from reconciler.errors import UsageError
from reconciler.model.enginefacts import SECTION_IDS
from reconciler.model.engineline import DEVELOP, DEVELOP_SETTINGS, Capabilities
from reconciler.model.objects import Definition, EventSource, Instance, ScheduledTask, Skill
from reconciler.model.project import Scope
from reconciler.plan.changes import Notice

BUNDLE_VERSION = "1.0"
BUNDLE_VERSIONS = ("1.0", "1.1")  # main exports 1.0; develop exports 1.1, imports both
IMPORT_BODY_LIMIT = 102_400  # the engine's JSON body limit (§1.4): larger imports fail (500)
_TITLES = "Identity Soul Tooling Safety Skills Memory User-Identity Datetime".split()
SECTION_TITLES = {k: t.replace("-", " ") for k, t in zip(SECTION_IDS, _TITLES, strict=True)}
NEW_INSTANCE_TOOLS = ("spawnTask", "readSkill")  # what the engine gives a new instance
SKILL_VERSION = "0.1.0"  # what a catalog import stores for a new skill anyway (§6.8)
ACTION_FIELDS = ("action", "context_prompt", "outbound_channel", "outbound_target")
UNCARRIED = ("langsmith_project", "thinking_enabled", "stt_provider")
# The bundle's leading scalars, in the engine's key order (= the model's field order).
SCALARS = {
    "slug", "name", "description", "status", "provider", "model", "memory_enabled",
    "knowledge_enabled", "langsmith_enabled", "auth_enabled", "icon",
}  # fmt: skip


class Bundled(Instance):
    """An instance read from a bundle: the fields a bundle never carries are never written."""

    langsmith_project: str | None = Field(None, max_length=255, exclude=True)
    thinking_enabled: bool = Field(False, exclude=True)
    stt_provider: Literal["openai", "aws", "deepgram"] = Field("openai", exclude=True)


def parse_bundle(text: str, name: str) -> dict[str, Any]:
    """A bundle file's JSON, checked to be an instance or skills bundle of a known version."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}: not JSON ({exc.msg}, line {exc.lineno})") from exc
    kind = data.get("type") if isinstance(data, dict) else None
    body = {"instance": dict, "skills": list}
    if (
        not isinstance(data, dict)
        or data.get("version") not in BUNDLE_VERSIONS
        or kind not in body
        or not isinstance(data.get(kind), body[kind])
        or (kind == "instance" and not isinstance(data[kind].get("slug"), str))
    ):
        raise UsageError(
            f'{name}: not a Polyant export bundle this tool knows (version "1.0" or "1.1", '
            'type "instance" with an instance object or type "skills" with a skills list)'
        )
    return data


@dataclass
class Imported:
    """Models read from bundles, ready for the writer, and what the user must know."""

    instances: dict[str, Instance] = field(default_factory=dict)
    skills: dict[str, Skill] = field(default_factory=dict)
    # instance slug -> (source name, definition name) written without an `action` key
    fresh: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


def import_bundles(
    bundles: Iterable[dict[str, Any]],
    existing: Mapping[str, Instance],
    scope: Scope,
    *,
    with_tasks: bool = False,
) -> Imported:
    """Convert parsed bundles; `existing` are the repo's instances (their extra facts stay)."""
    notes, out = Notes(), Imported()
    for data in bundles:
        if data["type"] == "skills":
            for slug, skill in catalog_skills(data, notes).items():
                if scope.has_skill(slug):
                    out.skills[slug] = skill
                else:
                    notes.info(f"skill/{slug}", "outside this repo's scope; not written")
            continue
        body = data["instance"]
        slug, key = body["slug"], f"instance/{body['slug']}"
        if not scope.has_instance(slug):
            notes.info(key, "outside this repo's scope; not written")
            continue
        if slug in out.instances:
            notes.warn(key, "given by more than one bundle; the last one is written")
        reader = _InstanceImport(body, existing.get(slug), notes, key)
        reader.version = str(data["version"])
        out.instances[slug] = reader.instance(with_tasks=with_tasks)
        out.fresh[slug] = reader.fresh
    out.notices = notes.sorted()
    return out


class _InstanceImport:
    """One instance bundle → a `Bundled` instance, merged with what the repo already knows."""

    def __init__(self, body: dict[str, Any], existing: Instance | None, notes: Notes, key: str):
        self.body, self.existing, self.notes, self.key = body, existing, notes, key
        self.fresh: set[tuple[str, str]] = set()
        self.version = BUNDLE_VERSION

    @property
    def v11(self) -> bool:
        """True for a 1.1 bundle: flags, action fields, plain env values and real tasks."""
        return self.version != BUNDLE_VERSION

    def _base(self, plain: list[dict[str, Any]], with_tasks: bool) -> Instance:
        rows = [r for r in self.body.get("skillEnv") or [] if isinstance(r, dict)]
        export = {**self.body, "skillEnv": [r for r in rows if r not in plain]}
        # A 1.1 bundle carries the DTO-only settings itself: read them from its body.
        dto = self.body if self.v11 else {}
        tasks = self._tasks(with_tasks or self.v11)
        read = InstanceRead(self.body["slug"], dto, export, tasks=tasks, version=self.version)
        settings = frozenset(k for k in DEVELOP_SETTINGS if k in self.body)
        return instance_from(read, self.notes, Capabilities(line=DEVELOP, settings=settings))

    def instance(self, *, with_tasks: bool) -> Instance:
        plain = [
            r
            for r in dicts(self.body.get("skillEnv"))
            if r.get("encrypted") is False and r.get("hasValue") and "value" not in r
        ]
        base = self._base(plain, with_tasks)
        values = {name: getattr(base, name) for name in Instance.model_fields}
        fields = set(base.model_fields_set) - (set() if self.v11 else set(UNCARRIED))
        sources = [self._source(raw) for raw in dicts(self.body.get("eventSources"))]
        values["event_sources"] = unique_by_name(
            [s for s in sources if s is not None], source_name, self.notes, self.key, "event source"
        )
        values["skill_env"] = self._skill_env(base.skill_env or {}, plain)
        if values["skill_env"] is None:
            fields.discard("skill_env")
        if self.v11:
            return self._v11(values, fields)
        what = "thinkingEnabled, langsmithProject, sttProvider, definition action fields, "
        what += "event source config, plain skill env values"
        what += "" if with_tasks else ", scheduled tasks"
        self.notes.info(self.key, f"a bundle cannot carry {what}: the repo keeps its own")
        return Bundled.model_construct(_fields_set=fields, **values)

    def _v11(self, values: dict[str, Any], fields: set[str]) -> Instance:
        if isinstance(self.body.get("hooks"), list):
            values["hooks"] = hooks_from(self.body["hooks"], self.notes, self.key)
            fields.add("hooks")
        what = "event source config, credentials"
        self.notes.info(self.key, f"a bundle cannot carry {what}: the repo keeps its own")
        return Instance.model_construct(_fields_set=fields, **values)

    def _tasks(self, with_tasks: bool) -> list[ScheduledTask] | None:
        raw = dicts(self.body.get("scheduledTasks"))
        if raw and not with_tasks and not self.v11:
            names = ", ".join(repr(t.get("name")) for t in raw)
            self.notes.warn(
                self.key,
                f"the bundle holds scheduled task(s) {names}, stored by an earlier import "
                "where they never run; not written (--tasks writes them: apply then creates "
                "them as running tasks)",
            )
        tasks = [task_from(t, self.notes, self.key) for t in raw] if with_tasks else []
        return [t for t in tasks if t is not None] or None

    def _source(self, raw: dict[str, Any]) -> EventSource | None:
        name = raw.get("name")
        if not isinstance(name, str):
            self.notes.warn(self.key, "an event source without a name cannot be written")
            return None
        olds = self.existing.event_sources or [] if self.existing is not None else []
        old = next((s for s in olds if s.name == name), None)
        kind = str(raw.get("sourceType") or "")
        data: dict[str, Any] = {"name": name, "source_type": kind}
        data["enabled"] = raw.get("enabled") is not False
        if old is not None and "config" in old.model_fields_set:
            data["config"] = old.config  # the repo's declared keys: a bundle has no config
        elif kind == "hubspot":
            data["config"] = {"clientSecret": None}  # required by the engine, a credential
        old_defs = {d.name: d for d in old.definitions} if old is not None else {}
        defs = [self._definition(name, d, old_defs) for d in dicts(raw.get("definitions"))]
        if all(d is not None for d in defs):
            data["definitions"] = defs
        elif old is not None and "definitions" in old.model_fields_set:
            data["definitions"] = old.definitions
        return build(EventSource, data, self.notes, self.key, f"event source {name!r}")

    def _definition(
        self, source: str, raw: dict[str, Any], olds: dict[str, Definition]
    ) -> Definition | None:
        name = str(raw.get("name"))
        data: dict[str, Any] = {
            "name": name,
            "matching_prompt": raw.get("matchingPrompt") or "",
            "interpretation_prompt": raw.get("interpretationPrompt") or "",
            "enabled": raw.get("enabled") is not False,
        }
        old = olds.get(name)
        if self.v11:  # 1.1 carries the action fields
            data |= _actions(raw)
        elif old is not None:
            data |= {n: getattr(old, n) for n in ACTION_FIELDS if n in old.model_fields_set}
        elif not data["interpretation_prompt"]:
            self.notes.warn(
                self.key,
                f"definition {name!r} of event source {source!r} has no interpretationPrompt: "
                "a conversation definition, whose action fields a bundle cannot carry; the "
                "source's definitions are left as the repo has them: add it by hand",
            )
            return None
        else:
            self.fresh.add((source, name))  # written without `action`: the bundle cannot say
        label = f"definition {name!r} of event source {source!r}"
        return build(Definition, data, self.notes, self.key, label)

    def _skill_env(
        self, carried: dict[str, dict[str, str | None]], plain: list[dict[str, Any]]
    ) -> dict[str, dict[str, str | None]] | None:
        known = (self.existing.skill_env or {}) if self.existing is not None else {}
        env = {skill: dict(keys) for skill, keys in carried.items()}
        missing = []
        for row in plain:
            skill, name = str(row.get("skillSlug")), str(row.get("key"))
            value = known.get(skill, {}).get(name)
            if value is None:
                missing.append(f"{skill}.{name}")
            env.setdefault(skill, {})[name] = value
        if not missing:
            return env
        self.notes.warn(
            self.key,
            f"plain skill env value(s) {', '.join(missing)} are not in a bundle; skillEnv is "
            "left as the repo has it (add them under skillEnv by hand)",
        )
        return None


def _actions(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": raw.get("action") or "backlog",
        "context_prompt": raw.get("contextPrompt"),
        "outbound_channel": raw.get("outboundChannel"),
        "outbound_target": raw.get("outboundTarget"),
    }


def dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def source_name(source: EventSource) -> str:
    return source.name
