"""Apply steps of an instance's children: skill env, channels, scheduled tasks, room.

Tasks are matched by name and PATCHed in place, so their id and run history survive; a
new task is POSTed (then PATCHed to disabled when needed: POST ignores `enabled`). A
channel PUT always carries an explicit `enabled`; only a new row needs credentials.
The room gets a partial PUT. Removals happen only under prune when the reviewed plan
contains them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.engine.steps_common import (
    ChangeRun,
    changed_fields,
    dump_value,
    find_named,
    inst_path,
    known_id,
)
from reconciler.model import secretenv
from reconciler.model.objects import Instance, Room, ScheduledTask
from reconciler.plan.fields import canonical_time

TASK_FIELDS = (
    "description",
    "schedule",
    "prompt",
    "outbound_channel",
    "outbound_target",
    "keep_history",
    "delete_after_run",
    "max_retries",
    "enabled",
)


def apply_skill_env(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """One PUT per skill whose env differs, always with an explicit `sensitive` (§7.8)."""
    if desired.skill_env is None:
        return
    live_env = live.skill_env or {}
    for skill, keys in desired.skill_env.items():
        have = live_env.get(skill, {})
        run.step(f"skill env {skill}", partial(_put_env, run, skill, keys, have))
    for skill, have in live_env.items():
        wanted = desired.skill_env.get(skill, {})
        for key in sorted(set(have) - set(wanted)):
            if run.removal_planned(f"skillEnv.{skill}.{key}"):
                what = f"skill env {skill}.{key} of instance {run.slug!r}"
                run.write("DELETE", inst_path(run.slug, "skills", skill, "env", key), what=what)


def _put_env(run: ChangeRun, skill: str, keys: dict[str, str | None], have: dict[str, Any]) -> None:
    # A sensitive value rides along when a PUT is needed anyway, like instance secrets.
    entries: list[dict[str, Any]] = []
    needed = False
    for key, value in keys.items():
        if run.ignored(f"skillEnv.{skill}.{key}"):
            continue
        if value is not None:
            entries.append({"key": key, "value": value, "sensitive": False})
            needed = needed or key not in have or have[key] != value
            continue
        var = secretenv.skill_env_var(run.slug, skill, key)
        secret = run.ctx.secret(var)
        if secret is None:
            if key not in have:
                run.ctx.missing(var)
            continue
        entries.append({"key": key, "value": secret, "sensitive": True})
        needed = needed or key not in have
    if needed:
        what = f"skill env of {skill!r} on instance {run.slug!r}"
        run.write("PUT", inst_path(run.slug, "skills", skill, "env"), {"env": entries}, what=what)


def apply_channels(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """PUT each channel whose switch differs (explicit `enabled`); creating one needs creds."""
    if desired.channels is None:
        return
    have = live.channels or {}
    for kind, channel in desired.channels.items():
        if run.ignored(f"channels.{kind}") or run.ignored(f"channels.{kind}.enabled"):
            continue
        current = have.get(kind)
        if current is not None and current.enabled == channel.enabled:
            continue
        run.step(
            f"channel {kind}",
            partial(_put_channel, run, kind, channel.enabled, current is None),
        )
    for kind in sorted(set(have) - set(desired.channels)):
        if run.removal_planned(f"channels.{kind}"):
            what = f"channel {kind} of instance {run.slug!r}"
            run.write("DELETE", inst_path(run.slug, "channels", kind), what=what)


def _put_channel(run: ChangeRun, kind: str, enabled: bool, new: bool) -> None:
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


def apply_tasks(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """Match tasks by name; PATCH in place (ids and run history survive), POST new ones."""
    if desired.scheduled_tasks is None:
        return
    if live.scheduled_tasks is None:
        run.skip("scheduled tasks", "the engine could not list them (see the plan's warnings)")
        return
    have = {t.name: t for t in _tasks_with_ids(run, live.scheduled_tasks)}
    for task in desired.scheduled_tasks:
        if run.ignored(f"scheduledTasks[{task.name}]"):
            continue
        run.step(
            f"scheduled task {task.name!r}",
            partial(_sync_task, run, task, have.get(task.name)),
        )
    for name in sorted(set(have) - {t.name for t in desired.scheduled_tasks}):
        if run.removal_planned(f"scheduledTasks[{name}]"):
            path = inst_path(run.slug, "scheduled-tasks", known_id(have[name]))
            run.write("DELETE", path, what=f"scheduled task {name!r} of {run.slug!r}")


def _tasks_with_ids(run: ChangeRun, tasks: list[ScheduledTask]) -> list[ScheduledTask]:
    if all(t.id for t in tasks):
        return tasks
    path = inst_path(run.slug, "scheduled-tasks")
    answer = run.read(path, what=f"instance {run.slug!r} scheduled tasks")
    rows = answer.get("tasks", []) if isinstance(answer, dict) else []
    ids = {r.get("name"): r.get("id") for r in rows if isinstance(r, dict)}
    return [t.model_copy(update={"id": ids.get(t.name)}) for t in tasks]


def _sync_task(run: ChangeRun, task: ScheduledTask, current: ScheduledTask | None) -> None:
    what = f"scheduled task {task.name!r} of instance {run.slug!r}"
    if current is None:
        task_id = _create_task(run, task, what)
        if not task.enabled:
            # POST ignores `enabled` (§12.3): a disabled task takes a PATCH right after.
            path = inst_path(run.slug, "scheduled-tasks", task_id)
            run.write("PATCH", path, {"enabled": False}, what=what)
        return
    changes = changed_fields(run, task, current, TASK_FIELDS, f"scheduledTasks[{task.name}].")
    if "schedule" in changes and _instants(changes["schedule"]) == _instants(
        dump_value(current.schedule)
    ):
        del changes["schedule"]  # "Z" vs "+00:00" vs ".000Z" is the same instant
    if current.auto_disabled and changes.get("enabled") is True:
        # The engine switched it off after 5 errors; re-enabling is the user's call, not ours.
        del changes["enabled"]
        run.ctx.notice(f"instance/{run.slug}: {what} was disabled by the engine after errors")
    if changes:
        run.write(
            "PATCH", inst_path(run.slug, "scheduled-tasks", known_id(current)), changes, what=what
        )


def _instants(schedule: dict[str, Any]) -> dict[str, Any]:
    return {
        k: canonical_time(v) if k in ("runAt", "anchorAt") and isinstance(v, str) else v
        for k, v in schedule.items()
    }


def _create_task(run: ChangeRun, task: ScheduledTask, what: str) -> str:
    body = task.model_dump(exclude={"enabled"}, exclude_none=True)
    path = inst_path(run.slug, "scheduled-tasks")
    answer = run.write(
        "POST", path, body, what=what, confirm=lambda: find_named(run, path, task.name, "tasks")
    )
    return run.new_id(answer, f"scheduled task {task.name!r}", "task", "id")


def update_room(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """PUT only the changed room fields (a new row gets defaults), or DELETE on explicit null."""
    if "room" not in desired.model_fields_set or run.ignored("room"):
        return
    path = inst_path(run.slug, "room")
    what = f"instance {run.slug!r} room"
    if desired.room is None:
        if live.room is not None and _planned(run, "room"):
            run.write("DELETE", path, what=what)
        return
    body = changed_fields(run, desired.room, live.room or Room(), Room.model_fields, "room.")
    if live.room is None or body:
        run.write("PUT", path, body, what=what, confirm=partial(_room_is, run, body))


def _room_is(run: ChangeRun, body: dict[str, Any]) -> Any:
    answer = run.read(inst_path(run.slug, "room"), what=f"instance {run.slug!r} room")
    if not isinstance(answer, dict) or not answer.get("configured"):
        return None
    return answer if all(answer.get(k) == v for k, v in body.items()) else None


def _planned(run: ChangeRun, path: str) -> bool:
    return any(f.path == path or f.path.startswith(path + ".") for f in run.change.fields)
