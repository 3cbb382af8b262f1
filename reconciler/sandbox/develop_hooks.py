"""develop-line routes for children: instance hooks (CRUD) and the paginated task list."""

from __future__ import annotations

import re
from typing import Any

from .common import body_obj, instance_or_404
from .errors import Reply, bad_request, not_found
from .jsutil import iso, new_id, now
from .routing import Ctx, Routes
from .state import Store
from .task_views import LISTED, task_view
from .tasks import tasks_of

routes = Routes()
_C = "InstanceHooksController"
_BASE = "/api/instances/:slug/hooks"
EVENTS = ("conversation_start", "message_received", "response_generated", "response_sent")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _develop(store: Store, ctx: Ctx) -> Any:
    from .develop import extra

    inst, _ = instance_or_404(ctx)
    return extra(store, inst)


@routes.add("GET", "/api/instances/:slug/scheduled-tasks", "InstanceScheduledTasksController.list")
async def list_tasks(ctx: Ctx) -> Reply:
    inst, _ = instance_or_404(ctx)
    limit = _int(ctx.query.get("limit"), 100, low=1, high=500)
    offset = _int(ctx.query.get("offset"), 0, low=0, high=None)
    rows = tasks_of(ctx.store, inst.slug)
    if ctx.query.get("enabledOnly") == "true":
        rows = [t for t in rows if t.enabled]
    return Reply({"tasks": [task_view(t, LISTED) for t in rows[offset : offset + limit]]})


def _int(text: str | None, default: int, *, low: int, high: int | None) -> int:
    # parseInt(x) || default, clamped (the controller's own rule).
    value = int(text) if text and text.lstrip("-").isdigit() and int(text) != 0 else default
    value = max(value, low)
    return min(value, high) if high is not None else value


def _parse(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "event" in body or not partial:
        if body.get("event") not in EVENTS:
            raise bad_request(f"Invalid enum value. Expected {' | '.join(map(repr, EVENTS))}")
        out["event"] = body["event"]
    if "actionConfig" in body or not partial:
        config = body.get("actionConfig")
        if not isinstance(config, dict) or not config.get("toolName"):
            raise bad_request("toolName is required")
        out["actionConfig"] = {"toolName": config["toolName"], "args": config.get("args") or {}}
    defaults: dict[str, Any] = {"actionType": "tool", "enabled": True, "position": 0}
    defaults["timeoutMs"] = 10_000
    for key, default in defaults.items():
        if key in body:
            out[key] = body[key]
        elif not partial:
            out[key] = default
    timeout = out.get("timeoutMs")
    if timeout is not None and not (isinstance(timeout, int) and 1000 <= timeout <= 30_000):
        raise bad_request("timeoutMs must be between 1000 and 30000")
    return out


@routes.add("GET", _BASE, f"{_C}.list")
async def list_hooks(ctx: Ctx) -> Reply:
    row = _develop(ctx.store, ctx)
    hooks = sorted(row.hooks.values(), key=lambda h: (h["event"], h["position"], h["createdAt"]))
    return Reply({"hooks": hooks})


@routes.add("POST", _BASE, f"{_C}.create")
async def create_hook(ctx: Ctx) -> Reply:
    data = _parse(body_obj(ctx), partial=False)
    row = _develop(ctx.store, ctx)
    inst, _ = instance_or_404(ctx)
    stamp = iso(now())
    hook = {"id": new_id(), "instanceId": inst.id, **data, "createdAt": stamp, "updatedAt": stamp}
    row.hooks[hook["id"]] = hook
    return Reply({"hook": hook}, status=201)


@routes.add("PATCH", f"{_BASE}/:id", f"{_C}.update")
async def update_hook(ctx: Ctx) -> Reply:
    if not _UUID.match(ctx.p("id")):
        raise bad_request("Invalid hook id")
    data = _parse(body_obj(ctx), partial=True)
    hook = _develop(ctx.store, ctx).hooks.get(ctx.p("id"))
    if hook is None:
        raise not_found("Hook not found")
    hook |= data | {"updatedAt": iso(now())}
    return Reply({"hook": hook})


@routes.add("DELETE", f"{_BASE}/:id", f"{_C}.remove")
async def delete_hook(ctx: Ctx) -> Reply:
    if not _UUID.match(ctx.p("id")):
        raise bad_request("Invalid hook id")
    if _develop(ctx.store, ctx).hooks.pop(ctx.p("id"), None) is None:
        raise not_found("Hook not found")
    return Reply({"deleted": True})


def import_hooks(row: Any, raw: Any) -> None:
    """What an import does with a 1.1 bundle's hooks: replace them all."""
    row.hooks.clear()
    for item in raw if isinstance(raw, list) else []:
        stamp = iso(now())
        hook = {"id": new_id(), **_parse(item, partial=False), "createdAt": stamp}
        row.hooks[hook["id"]] = hook | {"updatedAt": stamp}
