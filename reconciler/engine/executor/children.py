"""Executor of an instance's children operations: skill env, channels, room, scheduled tasks.

Each handler sends what its operation says. Values that are secret (sensitive skill env,
channel credentials) come from the environment only now; ids of tasks the plan could not
name are resolved by name when the operation runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from reconciler.engine.capabilities import TASK_PAGE
from reconciler.engine.executor.change import (
    ChangeRun,
    appeared_since_plan,
    confirmer,
    find_named,
    id_by_name,
)
from reconciler.engine.executor.wire import inst_path
from reconciler.model import secretenv
from reconciler.model.objects import Instance
from reconciler.plan.operations import CONFIGURED, Operation


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
    path = inst_path(run.slug, "skills", skill, "env")
    holds = _env_holds(entries, _hidden(operation))
    confirm = confirmer(run, path, what, holds)
    run.write("PUT", path, {"env": entries}, what=what, confirm=confirm, expect=holds)


def _hidden(operation: Operation) -> set[str]:
    """Keys whose live value the plan could not see (stored encrypted, or sensitive)."""
    prefix = f"skillEnv.{operation.target}."
    return {f.path[len(prefix) :] for f in operation.fields if f.old == CONFIGURED}


def _env_holds(entries: list[dict[str, Any]], hidden: set[str]) -> Callable[[Any], bool]:
    """Does an env list (PUT or GET answer, §7.8) show every entry sent?

    The list has the current version's requiredEnv keys only, plain values only where
    that metadata says ``sensitive: false`` (as the read takes them), and never whether a
    row is encrypted: a plain value replacing one the plan could not see proves nothing.
    """

    def holds(answer: Any) -> bool:
        rows = answer.get("env") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            return False
        shown = {
            r.get("key"): r for r in rows if isinstance(r, dict) and r.get("configured") is True
        }
        for entry in entries:
            row = shown.get(entry["key"])
            if row is None:
                return False
            if entry["sensitive"] is False and (
                entry["key"] in hidden
                or row.get("sensitive") is not False
                or row.get("value") != entry["value"]
            ):
                return False
        return True

    return holds


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
    confirm = partial(_channel_is, run, kind, enabled)
    expect = partial(_channel_holds, kind, enabled) if _settles(run, kind, enabled) else None
    run.write("PUT", path, body, what=what, confirm=confirm, expect=expect)


def _settles(run: ChangeRun, kind: str, enabled: bool) -> bool:
    """Can the answer of a channel write be the state it leaves (§9.3)?

    Switching on a Telegram, Slack or WhatsApp channel starts its adapter; a failed start
    switches the row off afterwards, so an answer saying ``enabled: true`` may not last.
    The agent adapter starts in memory. Switching `agent` off also removes the tool
    ``agent:<slug>`` from every instance (§9.5), this one too when it lists it.
    """
    if enabled:
        return kind == "agent"
    return kind != "agent" or not _calls_itself(run)


def _calls_itself(run: ChangeRun) -> bool:
    desired = run.change.desired
    if not isinstance(desired, Instance):
        return True  # unknown: assume the worst
    return f"agent:{run.slug}" in (desired.manual_tools or [])


def _channel_holds(kind: str, enabled: bool, answer: Any) -> bool:
    row = answer.get("channel") if isinstance(answer, dict) else None
    if not isinstance(row, dict):
        return False
    return row.get("channelType") == kind and row.get("enabled") is enabled


def _channel_is(run: ChangeRun, kind: str, enabled: bool) -> Any:
    # A Slack or Telegram PUT can hang while the row is already stored (§18.5): re-read.
    answer = run.read(inst_path(run.slug, "channels"), what=f"instance {run.slug!r} channels")
    rows = answer.get("channels", []) if isinstance(answer, dict) else []
    for row in rows:
        if isinstance(row, dict) and row.get("channelType") == kind:
            return {"channel": row} if row.get("enabled") is enabled else None
    return None


def delete_channel(run: ChangeRun, operation: Operation) -> None:
    """DELETE one channel the reviewed plan prunes (agent: see ``_settles``)."""
    kind = operation.target
    what = f"channel {kind} of instance {run.slug!r}"
    gone = kind != "agent" or not _calls_itself(run)
    path = inst_path(run.slug, "channels", kind)
    run.write("DELETE", path, what=what, expect=lambda _answer: gone)


def put_room(run: ChangeRun, operation: Operation) -> None:
    """PUT the planned room fields (a new row gets the engine's defaults for the rest)."""
    body = dict(operation.args["body"])
    path = inst_path(run.slug, "room")
    what = f"instance {run.slug!r} room"
    holds = partial(_room_holds, body)
    confirm = confirmer(run, path, what, holds)
    # The PUT answers {"success": true} (§10.2): only the re-read after a lost answer, a
    # GET of the row, can confirm it.
    run.write("PUT", path, body, what=what, confirm=confirm, expect=holds)


def _room_holds(body: dict[str, Any], answer: Any) -> bool:
    if not isinstance(answer, dict) or answer.get("configured") is not True:
        return False
    return all(answer.get(k) == v for k, v in body.items())


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
        _patch_task(run, f"{path}/{task_id}", {"enabled": False}, what)


def update_task(run: ChangeRun, operation: Operation) -> None:
    """PATCH the changed fields in place (id and run history survive)."""
    task_id = _task_id(run, operation)
    path = inst_path(run.slug, "scheduled-tasks", task_id)
    _patch_task(run, path, dict(operation.args["body"]), _task_what(run, operation.target))


def _patch_task(run: ChangeRun, path: str, body: dict[str, Any], what: str) -> None:
    """One task PATCH; its answer is the row after the write, but only some columns (§12.3):
    a change of prompt, description, deleteAfterRun or maxRetries is not confirmed by it
    (the GET of the task, after a lost answer, has them all)."""
    holds = partial(_task_holds, body)
    confirm = confirmer(run, path, what, holds)
    run.write("PATCH", path, body, what=what, confirm=confirm, expect=holds)


def _task_holds(body: dict[str, Any], answer: Any) -> bool:
    task = answer.get("task") if isinstance(answer, dict) else None
    if not isinstance(task, dict):
        return False
    for key, value in body.items():
        if key not in task:
            return False
        if key == "schedule":
            if _schedule(task[key]) != _schedule(value):
                return False
        elif task[key] != value:
            return False
    return True


def _schedule(raw: Any) -> Any:
    """A schedule without its null keys. The engine stores the one sent as it is (only a
    relative runAt, which the repo never holds, becomes a time, §12.1)."""
    return {k: v for k, v in raw.items() if v is not None} if isinstance(raw, dict) else raw


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
