"""Scheduled tasks (§12): keyed by instance SLUG text; create/list/get/PATCH/delete/run/runs."""

from __future__ import annotations

import dataclasses
from typing import Any

from .common import INT4_MAX, INT4_MIN, body_obj, bool_col, instance_or_404, jsonb, text_col
from .errors import Reply, bad_request, internal, not_found
from .jsutil import is_uuid, iso, js_str, new_id, now, pg_uuid, truthy
from .routing import Ctx, Routes
from .schedule import TYPES, next_run, normalize
from .state import Run, Store, Task
from .task_views import CREATED, LISTED, PATCHED, SINGLE, task_view
from .zod import MISSING

routes = Routes()
_C = "InstanceScheduledTasksController"
_BASE = "/api/instances/:slug/scheduled-tasks"


def max_retries(value: Any) -> int:
    """An integer column fed a JSON value (pg casts numeric text; anything else fails)."""
    if isinstance(value, bool) or value is None:
        raise internal()
    text = js_str(value)
    if not text.lstrip("-").isdigit() or not INT4_MIN <= int(text) <= INT4_MAX:
        raise internal()  # not an integer, or out of range for type integer
    return int(text)


def _schedule_type(schedule: Any) -> Any:
    return schedule.get("type", MISSING) if isinstance(schedule, dict) else MISSING


def tasks_of(store: Store, key: str) -> list[Task]:
    """Tasks whose instance_id text equals `key`, by createdAt."""
    return sorted(
        (t for t in store.tasks.values() if t.instance_key == key), key=lambda t: t.created_at
    )


def new_task(key: str, body: dict[str, Any], schedule: dict[str, Any], created_by: Any) -> Task:
    """A task row from an API-shaped body (values coerced like the database would)."""
    t = Task(
        id=new_id(),
        instance_key=key,
        name=text_col(body.get("name"), 255, nullable=False) or "",
        prompt=text_col(body.get("prompt"), None, nullable=False) or "",
        schedule=jsonb(schedule),
        description=text_col(body.get("description"), None, nullable=True),
        outbound_channel=text_col(body.get("outboundChannel"), 50, nullable=True),
        outbound_target=text_col(body.get("outboundTarget"), None, nullable=True),
        keep_history=bool_col(body.get("keepHistory", False)),
        delete_after_run=bool_col(body.get("deleteAfterRun", False)),
        max_retries=max_retries(body["maxRetries"]) if "maxRetries" in body else 3,
        created_by=created_by,
    )
    t.updated_at = t.created_at
    return t


@routes.add("POST", _BASE, f"{_C}.create")
async def create_task(ctx: Ctx) -> Reply:
    inst, _ = instance_or_404(ctx)
    body = body_obj(ctx)
    if not all(truthy(body.get(k)) for k in ("name", "prompt", "schedule")):
        raise bad_request("Fields 'name', 'prompt', and 'schedule' are required")
    kind = _schedule_type(body["schedule"])
    if kind not in TYPES:
        shown = "undefined" if kind is MISSING else js_str(kind)  # `${null}` is "null"
        raise bad_request(f'Invalid schedule type: "{shown}"')
    at = now()
    schedule = normalize(body["schedule"], at)
    # computeNextRun (a bad cron is a 400) runs before the insert (a bad column is a 500).
    next_at = next_run(schedule, at)
    task = new_task(inst.slug, body, schedule, "api")  # enabled/createdBy are ignored
    task.next_run_at = next_at
    ctx.store.tasks[task.id] = task
    return Reply({"task": task_view(task, CREATED)}, status=201)


@routes.add("GET", _BASE, f"{_C}.list")
async def list_tasks(ctx: Ctx) -> Reply:
    inst, _ = instance_or_404(ctx)
    return Reply({"tasks": [task_view(t, LISTED) for t in tasks_of(ctx.store, inst.slug)]})


@routes.add("GET", f"{_BASE}/runs", f"{_C}.runs")
async def list_runs(ctx: Ctx) -> Reply:
    inst, _ = instance_or_404(ctx)
    task_id = ctx.query.get("taskId")
    if task_id and not is_uuid(task_id):
        raise bad_request("Invalid taskId format")
    runs = [r for r in ctx.store.runs if r.instance_key == inst.slug]
    runs = [r for r in runs if (not task_id or r.task_id == task_id)]
    status = ctx.query.get("status")
    runs = [r for r in runs if not status or r.status == status]
    runs.sort(key=lambda r: r.started_at, reverse=True)
    limit, offset = _int(ctx.query.get("limit"), 20), _int(ctx.query.get("offset"), 0)
    page = runs[offset : offset + limit]
    return Reply({"runs": [_run_view(r) for r in page], "total": len(runs)})


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


def _run_view(r: Run) -> dict[str, Any]:
    return {
        "id": r.id,
        "taskId": r.task_id,
        "instanceId": r.instance_key,
        "status": r.status,
        "startedAt": iso(r.started_at),
        "finishedAt": iso(r.finished_at),
        "error": r.error,
        "conversationId": r.conversation_id,
    }


def _task_or_404(ctx: Ctx) -> tuple[str, Task]:
    inst, _ = instance_or_404(ctx)
    task_id = ctx.p("id")
    key = pg_uuid(task_id)
    if key is None:
        raise internal()  # invalid input syntax for type uuid
    task = ctx.store.tasks.get(key)
    if task is None or task.instance_key != inst.slug:
        raise not_found(f'Scheduled task "{task_id}" not found')
    return inst.status, task


@routes.add("GET", f"{_BASE}/:id", f"{_C}.get")
async def get_task(ctx: Ctx) -> Reply:
    _, task = _task_or_404(ctx)
    return Reply({"task": task_view(task, SINGLE)})


def _flag(value: Any) -> bool:
    """A NOT NULL boolean column set by PATCH: null reaches PostgreSQL and fails (500)."""
    if value is None:
        raise internal()
    return bool_col(value)


_PATCHABLE = {
    "name": lambda v: text_col(v, 255, nullable=False),
    "description": lambda v: text_col(v, None, nullable=True),
    "prompt": lambda v: text_col(v, None, nullable=False),
    "enabled": _flag,
    "deleteAfterRun": _flag,
    "maxRetries": max_retries,
    "outboundChannel": lambda v: text_col(v, 50, nullable=True),
    "outboundTarget": lambda v: text_col(v, None, nullable=True),
    "keepHistory": _flag,
}
_ATTR = {
    "deleteAfterRun": "delete_after_run",
    "maxRetries": "max_retries",
    "outboundChannel": "outbound_channel",
    "outboundTarget": "outbound_target",
    "keepHistory": "keep_history",
}


@routes.add("PATCH", f"{_BASE}/:id", f"{_C}.update")
async def patch_task(ctx: Ctx) -> Reply:
    _, task = _task_or_404(ctx)
    body = body_obj(ctx)
    staged = dataclasses.replace(task)
    for key, coerce in _PATCHABLE.items():
        if key in body:
            setattr(staged, _ATTR.get(key, key), coerce(body[key]))
    at = now()
    if "schedule" in body:
        schedule = body["schedule"]
        schedule = normalize(schedule, at) if isinstance(schedule, dict) else schedule
        if _schedule_type(schedule) in TYPES:  # an unknown type is stored, nextRunAt kept
            staged.next_run_at = next_run(schedule, at, staged.last_run_at)
        staged.schedule = jsonb(schedule)
    if body.get("enabled") is True:
        staged.consecutive_errors, staged.last_error, staged.last_run_status = 0, None, None
        if _schedule_type(staged.schedule) in TYPES:
            staged.next_run_at = next_run(staged.schedule, at, staged.last_run_at)
    staged.updated_at = at
    task.__dict__.update(staged.__dict__)
    return Reply({"task": task_view(task, PATCHED)})


@routes.add("DELETE", f"{_BASE}/:id", f"{_C}.remove")
async def delete_task(ctx: Ctx) -> Reply:
    _, task = _task_or_404(ctx)
    del ctx.store.tasks[task.id]
    ctx.store.runs = [r for r in ctx.store.runs if r.task_id != task.id]  # runs cascade
    return Reply({"deleted": True})


@routes.add("POST", f"{_BASE}/:id/run", f"{_C}.runNow")
async def run_now(ctx: Ctx) -> Reply:
    status, task = _task_or_404(ctx)
    if status == "active":  # inactive instances accept the call, then skip the run

        async def execute() -> None:
            record_run(ctx.store, task)

        ctx.after.append(execute)
    return Reply({"message": f'Task "{task.name}" execution started.'}, status=201)


def record_run(store: Store, task: Task) -> None:
    """A sandbox run: no AI provider is called; the run succeeds and updates the counters."""
    if task.id not in store.tasks:
        return
    at = now()
    store.runs.append(Run(new_id(), task.id, task.instance_key, "success", at, at))
    task.last_run_at, task.last_run_status, task.total_runs = at, "success", task.total_runs + 1
    task.consecutive_errors, task.last_error = 0, None
    kind = _schedule_type(task.schedule)
    if kind == "one-shot" and task.delete_after_run:
        del store.tasks[task.id]
        return
    task.next_run_at = None if kind == "one-shot" else _safe_next(task)


def _safe_next(task: Task) -> Any:
    try:
        return next_run(task.schedule, now(), task.last_run_at)
    except Exception:
        return task.next_run_at
