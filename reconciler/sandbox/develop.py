"""The develop line (5e59498) of the engine: what differs from main, as routes that win.

`SandboxServer(engine_line="develop")` puts these routes before the main ones. Each either
wraps the main handler (the instance DTO gains develop's settings) or replaces it
(models, paginated task lists, bundle 1.1, hooks). Develop-only rows live beside the
store, keyed by it, so the main-line modules stay as they are.
"""

from __future__ import annotations

import copy
import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import develop_rows, export, importer, instances
from .common import body_obj, instance_or_404
from .errors import Reply, bad_request
from .routing import Ctx, Routes
from .state import Instance, Store
from .tasks import tasks_of

routes = Routes()
_C = "InstancesController"
SETTINGS: dict[str, Any] = {
    "temperature": None,
    "stateInPromptEnabled": False,
    "toolResultsInHistoryEnabled": False,
    "debugEnabled": False,
    "optoutEnabled": False,
    "optoutStopKeywords": ["STOP"],
    "optoutResumeKeywords": ["START"],
    "optoutClosingMessage": None,
    "optoutResumeMessage": None,
    "optoutInjectPromptHint": True,
}
WIPE_MESSAGE = (
    "Changing the embedding provider permanently deletes all memories and the entire "
    "knowledge base for this instance (existing embeddings cannot be converted). Re-send "
    "the request with confirmWipe: true to proceed."
)


@dataclass
class Extra:
    """An instance's develop-only columns and rows."""

    settings: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(SETTINGS))
    embedding_provider: str = "openai"
    embedding_dim: int = 1024  # new instances; the seeded demo-agent keeps 1536
    data_rows: int = 0  # memories + knowledge documents (what a provider switch wipes)
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)


_EXTRAS: weakref.WeakKeyDictionary[Store, dict[str, Extra]] = weakref.WeakKeyDictionary()


def extra(store: Store, inst: Instance) -> Extra:
    """The develop-only part of an instance (created on first use)."""
    rows = _EXTRAS.setdefault(store, {})
    if inst.id not in rows:
        rows[inst.id] = Extra(embedding_dim=1536 if inst.slug == "demo-agent" else 1024)
    return rows[inst.id]


def add_data_rows(store: Store, slug: str, count: int) -> None:
    """Give an instance memories/knowledge (tests: what a provider switch would wipe)."""
    inst = store.by_slug(slug)
    if inst is None:
        raise KeyError(slug)
    extra(store, inst).data_rows += count


def dto(store: Store, inst: Instance, body: dict[str, Any]) -> dict[str, Any]:
    """A main-line instance DTO with develop's fields, in develop's key order."""
    row = extra(store, inst)
    head = {k: v for k, v in body.items() if k not in ("sttProvider", "icon", "createdAt")}
    tail = {k: body[k] for k in ("icon", "createdAt", "updatedAt") if k in body}
    head.pop("updatedAt", None)
    return (
        head
        | copy.deepcopy(row.settings)
        | {"sttProvider": body.get("sttProvider")}
        | {"embeddingDim": row.embedding_dim, "embeddingProvider": row.embedding_provider}
        | tail
    )


def _with_dto(ctx: Ctx, reply: Reply) -> Reply:
    body = reply.body
    if isinstance(body, dict) and isinstance(body.get("instance"), dict):
        inst = ctx.store.by_slug(str(body["instance"]["slug"]))
        if inst is not None:
            body["instance"] = dto(ctx.store, inst, body["instance"])
    if isinstance(body, dict) and isinstance(body.get("instances"), list):
        found = [(ctx.store.by_slug(str(d["slug"])), d) for d in body["instances"]]
        body["instances"] = [dto(ctx.store, i, d) for i, d in found if i is not None]
    return reply


@routes.add("GET", "/api/instances", f"{_C}.findAll")
async def list_instances(ctx: Ctx) -> Reply:
    return _with_dto(ctx, await instances.list_instances(ctx))


@routes.add("GET", "/api/instances/models", f"{_C}.getModels")
async def get_models(ctx: Ctx) -> Reply:
    path = Path(__file__).parent / "data" / "models_develop.json"
    return Reply(json.loads(path.read_text(encoding="utf-8")))


@routes.add("GET", "/api/instances/:slug", f"{_C}.findOne")
async def get_instance(ctx: Ctx) -> Reply:
    return _with_dto(ctx, await instances.get_instance(ctx))


@routes.add("POST", "/api/instances", f"{_C}.create")
async def create_instance(ctx: Ctx) -> Reply:
    return _with_dto(ctx, await instances.create_instance(ctx))


@routes.add("PATCH", "/api/instances/:slug", f"{_C}.update")
async def patch_instance(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    ours = {k: body.pop(k) for k in [*SETTINGS, "embeddingProvider", "confirmWipe"] if k in body}
    _check(ours)
    inst, _ = instance_or_404(ctx)
    row = extra(ctx.store, inst)
    provider = ours.get("embeddingProvider", row.embedding_provider)
    wipe = provider != row.embedding_provider
    if wipe and ours.get("confirmWipe") is not True and row.data_rows > 0:
        raise bad_request(WIPE_MESSAGE)
    reply = await instances.patch_instance(ctx)
    row.settings |= {k: v for k, v in ours.items() if k in SETTINGS}
    wiped = None
    if wipe:
        wiped = {"memories": row.data_rows, "documents": 0}
        row.embedding_provider, row.embedding_dim, row.data_rows = provider, 1024, 0
    reply = _with_dto(ctx, reply)
    reply.body["wiped"] = wiped
    return reply


def _check(ours: dict[str, Any]) -> None:
    provider = ours.get("embeddingProvider")
    if provider is not None and provider not in ("openai", "bedrock"):
        raise bad_request(
            f'Invalid embeddingProvider "{provider}". Valid embedding providers: openai, bedrock.'
        )
    for name in ("optoutStopKeywords", "optoutResumeKeywords"):
        if name in ours:
            ours[name] = _keywords(ours[name], name)
    temp = ours.get("temperature")
    if isinstance(temp, int | float) and not isinstance(temp, bool):
        ours["temperature"] = min(2, max(0, temp))


def _keywords(raw: Any, name: str) -> list[str]:
    if not isinstance(raw, list):
        raise bad_request(f"{name} must be an array of strings")
    out: list[str] = []
    for word in raw:
        if not isinstance(word, str):
            raise bad_request(f"{name} must contain only strings")
        if word.strip() and word.strip().lower() not in {w.lower() for w in out}:
            out.append(word.strip())
    if not out:
        raise bad_request(f"{name} must contain at least one non-empty keyword")
    return out


@routes.add("DELETE", "/api/instances/:slug", f"{_C}.remove")
async def delete_instance(ctx: Ctx) -> Reply:
    # develop deletes the slug-keyed data (tasks, conversations, memories, knowledge) too.
    inst, _ = instance_or_404(ctx)
    for task in tasks_of(ctx.store, inst.slug):
        del ctx.store.tasks[task.id]
    _EXTRAS.setdefault(ctx.store, {}).pop(inst.id, None)
    return await instances.delete_instance(ctx)


@routes.add("GET", "/api/instances/:slug/export", "InstanceExportController.export")
async def export_instance(ctx: Ctx) -> Reply:
    reply = await export.export_instance(ctx)
    inst = ctx.store.by_slug(ctx.p("slug"))
    if inst is not None and isinstance(reply.body, dict):
        reply.body = bundle_11(ctx.store, inst, reply.body)
    return reply


def bundle_11(store: Store, inst: Instance, bundle: dict[str, Any]) -> dict[str, Any]:
    """A main-line 1.0 bundle turned into develop's 1.1 (fields, env values, real tasks)."""
    body, data, row = bundle["instance"], store.data[inst.id], extra(store, inst)
    head = {k: body[k] for k in list(body)[: list(body).index("icon") + 1]}
    settings = {
        "langsmithProject": inst.langsmith_project,
        "thinkingEnabled": inst.thinking_enabled,
        "temperature": row.settings["temperature"],
        **{k: row.settings[k] for k in list(SETTINGS)[1:4]},
        "sttProvider": inst.stt_provider,
        "embeddingProvider": row.embedding_provider,
        "embeddingDim": row.embedding_dim,
        **{k: row.settings[k] for k in list(SETTINGS)[4:]},
    }
    rest = {k: v for k, v in body.items() if k not in head}
    rest["channels"] = [{**c, "config": {}} for c in rest["channels"]]
    rest["skillEnv"] = [
        {k: v for k, v in r.items() if k != "hasValue"}
        | ({} if r["encrypted"] else {"value": data.env[(r["skillSlug"], r["key"])].value})
        for r in rest["skillEnv"]
    ]
    rest["hooks"] = [develop_rows.hook_export(h) for h in row.hooks.values()]
    develop_rows.export_actions(store, inst, rest["eventSources"])
    rest["scheduledTasks"] = [export.task_export(t) for t in tasks_of(store, inst.slug)]
    order = ["prompts", "skills", "manualTools", "secrets", "channels", "skillEnv", "hooks"]
    order += ["room", "eventSources", "scheduledTasks"]
    return bundle | {"version": "1.1", "instance": head | settings | {k: rest[k] for k in order}}


@routes.add("POST", "/api/instances/import", "InstanceImportController.importNew")
async def import_new(ctx: Ctx) -> Reply:
    raw = _as_10(ctx)
    reply = await importer.import_instance(ctx)
    inst = ctx.store.by_slug(str(reply.body["slug"]))
    if inst is not None:
        _after_import(ctx.store, inst, raw, new=True)
    return reply


@routes.add("POST", "/api/instances/:slug/import", "InstanceImportController.importInto")
async def import_into(ctx: Ctx) -> Reply:
    raw = _as_10(ctx)
    inst = ctx.store.by_slug(ctx.p("slug"))
    if inst is not None:
        for task in tasks_of(ctx.store, inst.slug):
            del ctx.store.tasks[task.id]  # overwrite replaces the slug-keyed tasks
    reply = await importer.import_overwrite(ctx)
    if inst is not None:
        _after_import(ctx.store, inst, raw, new=False)
    return reply


def _as_10(ctx: Ctx) -> dict[str, Any]:
    # The main-line importer validates a 1.0 envelope and strips unknown keys: hand it the
    # 1.1 bundle as 1.0, keep the original to apply what 1.1 adds afterwards.
    body = body_obj(ctx)
    found = body.get("instance")
    raw: dict[str, Any] = copy.deepcopy(found) if isinstance(found, dict) else {}
    if body.get("version") == "1.1":
        body["version"] = "1.0"
    return raw


def _after_import(store: Store, inst: Instance, raw: dict[str, Any], *, new: bool) -> None:
    row = extra(store, inst)
    row.settings |= {k: copy.deepcopy(raw[k]) for k in SETTINGS if k in raw}
    for key in ("langsmithProject", "thinkingEnabled", "sttProvider"):
        if key in raw:
            attr = {"langsmithProject": "langsmith_project", "thinkingEnabled": "thinking_enabled"}
            setattr(inst, attr.get(key, "stt_provider"), raw[key])
    if new and raw.get("embeddingProvider") in ("openai", "bedrock"):
        row.embedding_provider = str(raw["embeddingProvider"])
    for task in tasks_of(store, inst.id):
        task.instance_key = inst.slug  # develop stores imported tasks where they run
    develop_rows.import_actions(store, inst, raw)
    from .develop_hooks import import_hooks

    import_hooks(row, raw.get("hooks"))
