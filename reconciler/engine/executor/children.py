"""Executor of an instance's children operations: skill env, channels, room, scheduled tasks.

Each handler sends what its operation says. Values that are secret (sensitive skill env,
channel credentials) come from the environment only now; ids of tasks the plan could not
name are resolved by name when the operation runs.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.engine.capabilities import TASK_PAGE
from reconciler.engine.executor.change import (
    ChangeRun,
    appeared_since_plan,
    find_named,
    id_by_name,
)
from reconciler.engine.executor.wire import inst_path
from reconciler.model import secretenv
from reconciler.plan.operations import Operation


def put_skill_env(run: ChangeRun, operation: Operation) -> None:
    """One PUT of a skill's env, always with an explicit `sensitive` (§7.8)."""
    skill, live = operation.target, set(operation.args["live"])
    entries: list[dict[str, Any]] = [
        {"key": k, "value": v, "sensitive": False} for k, v in operation.args["plain"].items()
    ]
    for key in operation.args["sensitive"]:
        var = secretenv.skill_env_var(run.slug, skill, key)
        secret = run.ctx.secret(var)
        if secret is not None:
            entries.append({"key": key, "value": secret, "sensitive": True})
        elif key not in live:
            run.ctx.missing(var)
    what = f"skill env of {skill!r} on instance {run.slug!r}"
    run.write("PUT", inst_path(run.slug, "skills", skill, "env"), {"env": entries}, what=what)


def delete_skill_env(run: ChangeRun, operation: Operation) -> None:
    """DELETE one skill env key the reviewed plan prunes."""
    skill, key = operation.args["skill"], operation.args["key"]
    what = f"skill env {skill}.{key} of instance {run.slug!r}"
    run.write("DELETE", inst_path(run.slug, "skills", skill, "env", key), what=what)


def put_channel(run: ChangeRun, operation: Operation) -> None:
    """PUT one channel with an explicit `enabled`; only a new row needs credentials."""
    kind, enabled, new = operation.target, bool(operation.args["enabled"]), operation.args["new"]
    # Toggling an existing row sends config {}: the engine merges, keeping the stored
    # credentials (contract §9.3). Only a new row needs them, from the environment.
    creds = run.ctx.channel_creds(run.slug, kind) if new else None
    if new and creds is None and kind != "agent":
        var = secretenv.channel_var(run.slug, kind)
        run.ctx.missing(var)
        run.skip(f"channel {kind}", f"creating it needs its credentials: set ${var} (JSON)")
        return
    body = {"config": creds or {}, "enabled": enabled}
    path = inst_path(run.slug, "channels", kind)
    what = f"channel {kind} of instance {run.slug!r}"
    run.write("PUT", path, body, what=what, confirm=lambda: _channel_is(run, kind, enabled))


def _channel_is(run: ChangeRun, kind: str, enabled: bool) -> Any:
    # A Slack or Telegram PUT can hang while the row is already stored (§18.5): re-read.
    answer = run.read(inst_path(run.slug, "channels"), what=f"instance {run.slug!r} channels")
    rows = answer.get("channels", []) if isinstance(answer, dict) else []
    for row in rows:
        if isinstance(row, dict) and row.get("channelType") == kind:
            return answer if row.get("enabled") is enabled else None
    return None


def delete_channel(run: ChangeRun, operation: Operation) -> None:
    """DELETE one channel the reviewed plan prunes."""
    what = f"channel {operation.target} of instance {run.slug!r}"
    run.write("DELETE", inst_path(run.slug, "channels", operation.target), what=what)


def put_room(run: ChangeRun, operation: Operation) -> None:
    """PUT the planned room fields (a new row gets the engine's defaults for the rest)."""
    body = dict(operation.args["body"])
    path = inst_path(run.slug, "room")
    what = f"instance {run.slug!r} room"
    run.write("PUT", path, body, what=what, confirm=partial(_room_is, run, body))


def _room_is(run: ChangeRun, body: dict[str, Any]) -> Any:
    answer = run.read(inst_path(run.slug, "room"), what=f"instance {run.slug!r} room")
    if not isinstance(answer, dict) or not answer.get("configured"):
        return None
    return answer if all(answer.get(k) == v for k, v in body.items()) else None


def delete_room(run: ChangeRun, operation: Operation) -> None:
    """DELETE the room (the repo says explicitly: no room)."""
    del operation
    run.write("DELETE", inst_path(run.slug, "room"), what=f"instance {run.slug!r} room")


def _task_what(run: ChangeRun, name: str) -> str:
    return f"scheduled task {name!r} of instance {run.slug!r}"


def create_task(run: ChangeRun, operation: Operation) -> None:
    """POST a new task; a disabled one takes a PATCH right after (POST ignores `enabled`)."""
    name, what = operation.target, _task_what(run, operation.target)
    path = inst_path(run.slug, "scheduled-tasks")
    listing = f"{path}?limit={TASK_PAGE}"  # develop pages the list; main ignores the limit
    if appeared_since_plan(run, listing, name, "tasks"):
        return
    answer = run.write(
        "POST",
        path,
        dict(operation.args["body"]),
        what=what,
        confirm=lambda: find_named(run, listing, name, "tasks"),
    )
    if operation.args["disabled"]:
        task_id = run.new_id(answer, f"scheduled task {name!r}", "task", "id")
        run.write("PATCH", f"{path}/{task_id}", {"enabled": False}, what=what)


def update_task(run: ChangeRun, operation: Operation) -> None:
    """PATCH the changed fields in place (id and run history survive)."""
    task_id = _task_id(run, operation)
    path = inst_path(run.slug, "scheduled-tasks", task_id)
    run.write("PATCH", path, dict(operation.args["body"]), what=_task_what(run, operation.target))


def delete_task(run: ChangeRun, operation: Operation) -> None:
    """DELETE one task the reviewed plan prunes."""
    path = inst_path(run.slug, "scheduled-tasks", _task_id(run, operation))
    run.write("DELETE", path, what=f"scheduled task {operation.target!r} of {run.slug!r}")


def _task_id(run: ChangeRun, operation: Operation) -> str:
    known = operation.args.get("id")
    if isinstance(known, str) and known:
        return known
    # develop pages the list (100 by default): ask for its maximum, which main ignores.
    path = inst_path(run.slug, "scheduled-tasks") + f"?limit={TASK_PAGE}"
    return id_by_name(run, path, operation.target, "tasks")
