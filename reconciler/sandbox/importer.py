"""Instance imports (§14): new (slug collisions, -imported-N) and overwrite, in transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .bundle_schema import BUNDLE
from .common import jsonb
from .errors import HttpError, Reply, bad_request, http
from .jsutil import new_id, new_token, now
from .prompts_tools import recompute
from .routing import Ctx, Routes
from .schedule import TYPES, Wedged, next_run
from .state import (
    Assignment,
    Channel,
    Definition,
    EnvRow,
    EventSource,
    Instance,
    InstanceData,
    Prompt,
    Room,
    Store,
    Task,
)
from .tasks import tasks_of
from .zod import parse
from .zod_issues import pretty

routes = Routes()
_C = "InstanceExportController"


class ImportFailure(Exception):
    """Any import error: answered 400 with the raw message (404 when it says "not found")."""


def _limit(value: str | None, n: int) -> None:
    if value is not None and len(value) > n:
        raise ImportFailure(f"Failed query: value too long for type character varying({n})")


def _set_row(inst: Instance, b: dict[str, Any]) -> None:
    for value, n in ((b["name"], 255), (b["status"], 20), (b["provider"], 50), (b["model"], 100)):
        _limit(value, n)
    inst.name, inst.description, inst.status = b["name"], b["description"], b["status"]
    inst.provider, inst.model, inst.icon = b["provider"], b["model"], b.get("icon")
    inst.memory_enabled, inst.knowledge_enabled = b["memoryEnabled"], b["knowledgeEnabled"]
    inst.langsmith_enabled, inst.auth_enabled = b["langsmithEnabled"], b["authEnabled"]
    inst.updated_at = now()


class _Filler:
    """Writes a validated bundle into an instance, collecting warnings in engine order."""

    def __init__(self, store: Store, inst: Instance, data: InstanceData) -> None:
        self.store, self.inst, self.data = store, inst, data
        self.warnings: list[dict[str, str]] = []

    def warn(self, kind: str, message: str) -> None:
        self.warnings.append({"type": kind, "message": message})

    def run(self, b: dict[str, Any]) -> list[dict[str, str]]:
        for p in b["prompts"]:  # upserted, arbitrary keys and titles included
            _limit(p["sectionKey"], 50)
            _limit(p["title"], 100)
            self.data.prompts[p["sectionKey"]] = Prompt(p["title"], p["content"])
        self.skills(b["skills"])
        self.tools(b["manualTools"])
        self.channels(b["channels"])
        self.env(b["skillEnv"])
        self.data.room = None
        if b["room"] is not None:
            r = b["room"]
            self.data.room = Room(
                new_id(),
                r["enabled"],
                r["prompt"],
                r["outboundChannel"],
                r["outboundTarget"],
                r["evalIntervalMinutes"],
            )
        self.sources(b["eventSources"])
        self.tasks(b["scheduledTasks"])
        for s in b["secrets"]:
            self.warn("secret_required", f'Secret "{s["key"]}" needs to be configured')
        recompute(self.store, self.data)
        return self.warnings

    def skills(self, items: list[dict[str, Any]]) -> None:
        self.data.assignments.clear()
        for item in items:
            skill = self.store.skill_by_slug(item["skillSlug"])
            if skill is None or skill.current() is None:
                self.warn("missing_skill", f'Skill "{item["skillSlug"]}" not found — skipped')
                continue
            pinned = next((v for v in skill.versions if v.version == item["pinnedVersion"]), None)
            version = pinned or skill.current()  # an unknown pin falls back silently
            vid = version.id if version else None
            self.data.assignments[skill.id] = Assignment(
                skill.id, item["enabled"], item["autoLoad"], vid
            )

    def tools(self, names: list[str]) -> None:
        for name, src in list(self.data.tools.items()):
            if src == "manual":
                del self.data.tools[name]
        for name in names:
            if name not in self.store.tools:
                self.warn("missing_tool", f'Tool "{name}" not found — skipped')
            elif name not in self.data.tools:
                self.data.tools[name] = "manual"

    def channels(self, items: list[dict[str, Any]]) -> None:
        self.data.channels.clear()  # credentials included; running adapters are not stopped
        for c in items:
            _limit(c["channelType"], 50)
            self.data.channels[c["channelType"]] = Channel(enabled=False, config={})
            message = (
                f'Channel "{c["channelType"]}" imported without credentials — configure manually'
            )
            self.warn("channel_credentials", message)

    def env(self, items: list[dict[str, Any]]) -> None:
        for key, row in list(self.data.env.items()):
            if not row.encrypted:
                del self.data.env[key]  # plain values are wiped, encrypted rows are kept
        for e in items:
            if e["encrypted"]:
                label = f"{e['skillSlug']}.{e['key']}"
                message = f'Skill env "{label}" (encrypted) needs to be configured'
                self.warn("skill_env_required", message)
                continue
            _limit(e["skillSlug"], 100)
            _limit(e["key"], 255)
            row = EnvRow(e["skillSlug"], e["key"], e.get("value", ""), encrypted=False)
            self.data.env[(row.skill_slug, row.key)] = row

    def sources(self, items: list[dict[str, Any]]) -> None:
        self.data.sources.clear()  # cascades definitions and pending backlog
        for s in items:
            _limit(s["name"], 255)
            _limit(s["sourceType"], 50)
            src = EventSource(
                new_id(), self.inst.id, s["name"], s["sourceType"], {}, False, new_token()
            )
            for d in s["definitions"]:
                _limit(d["name"], 255)
                row = Definition(
                    new_id(),
                    src.id,
                    d["name"],
                    d["matchingPrompt"],
                    d["interpretationPrompt"],
                    enabled=d["enabled"],
                )
                src.definitions[row.id] = row
            self.data.sources[src.id] = src
            message = (
                f'Event source "{s["name"]}" imported without credentials — configure manually'
            )
            self.warn("event_source_credentials", message)

    def tasks(self, items: list[dict[str, Any]]) -> None:
        for tid in [t.id for t in tasks_of(self.store, self.inst.id)]:
            del self.store.tasks[tid]  # only UUID-keyed (imported) tasks are replaced
        for t in items:
            _limit(t["name"], 255)
            _limit(t["outboundChannel"], 50)
            task = Task(
                new_id(),
                self.inst.id,
                t["name"],
                t["prompt"],
                jsonb(t["schedule"]),
                description=t["description"],
                enabled=t["enabled"],
                outbound_channel=t["outboundChannel"],
                outbound_target=t["outboundTarget"],
                keep_history=t["keepHistory"],
                delete_after_run=t["deleteAfterRun"],
                max_retries=t["maxRetries"],
                created_by=t["createdBy"],
            )
            if t["enabled"]:
                task.next_run_at = _imported_next(t["schedule"])
            self.store.tasks[task.id] = task


def _imported_next(schedule: dict[str, Any]) -> datetime | None:
    if schedule.get("type") not in TYPES:
        return None
    try:
        return next_run(schedule, now())
    except Wedged:
        raise ImportFailure("everyMs <= 0 would hang the engine; the sandbox refuses") from None
    except HttpError:
        raise ImportFailure("Invalid time value") from None


def _free_slug(store: Store, slug: str) -> str:
    if store.by_slug(slug) is None:
        return slug
    for n in range(1, 101):
        candidate = f"{slug}-imported" if n == 1 else f"{slug}-imported-{n}"
        if store.by_slug(candidate) is None:
            return candidate
    raise ImportFailure(f'Could not find an available slug for "{slug}"')


def _bundle(ctx: Ctx) -> dict[str, Any]:
    value, issues = parse(BUNDLE, ctx.body)
    if issues:
        raise bad_request(pretty(issues))
    instance: dict[str, Any] = value["instance"]
    return instance


def _answer(exc: Exception) -> HttpError:
    message = str(exc)
    return http(404 if "not found" in message else 400, message)


def import_new(store: Store, b: dict[str, Any]) -> tuple[Instance, list[dict[str, str]]]:
    """POST /api/instances/import: a new instance, in one transaction."""
    with store.transaction():
        slug = _free_slug(store, b["slug"])  # not validated against the slug regex
        _limit(slug, 100)
        inst = Instance(new_id(), slug, b["name"])
        _set_row(inst, b)
        inst.created_at = inst.updated_at
        data = store.add_instance(inst)
        warnings = _Filler(store, inst, data).run(b)
    return inst, warnings


@routes.add("POST", "/api/instances/import", f"{_C}.importNew")
async def import_instance(ctx: Ctx) -> Reply:
    b = _bundle(ctx)
    try:
        inst, warnings = import_new(ctx.store, b)
    except ImportFailure as exc:
        raise _answer(exc) from exc
    return Reply({"slug": inst.slug, "instanceId": inst.id, "warnings": warnings}, status=201)


@routes.add("POST", "/api/instances/:slug/import", f"{_C}.importInto")
async def import_overwrite(ctx: Ctx) -> Reply:
    b = _bundle(ctx)
    slug = ctx.p("slug")  # the bundle slug is ignored; the path slug is not validated
    inst = ctx.store.by_slug(slug)
    if inst is None:
        raise _answer(ImportFailure(f'Instance "{slug}" not found'))
    try:
        with ctx.store.transaction():
            inst = ctx.store.instances[inst.id]  # the transaction may have swapped objects
            _set_row(inst, b)
            data = ctx.store.data[inst.id]
            warnings = _Filler(ctx.store, inst, data).run(b)
    except ImportFailure as exc:
        raise _answer(exc) from exc
    return Reply({"slug": inst.slug, "instanceId": inst.id, "warnings": warnings}, status=201)
