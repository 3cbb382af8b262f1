"""Diff of an instance's scheduled tasks and skill env into operations (pure).

Tasks are matched by name (contract §17.5) and PATCHed in place, so their id and run
history survive; a new one is POSTed (then PATCHed to disabled: POST ignores `enabled`).
A task the engine disabled after five errors (``auto_disabled``) is not re-enabled by the
plan: apply would flap it on and off; a warning tells the user to look at its errors.
Times compare as instants ('Z' vs '+00:00' vs '.000Z' is no change). When the engine
cannot list an instance's tasks, they are not managed for it until then.
Skill env: plain values compare by value; sensitive ones (null) by presence only, and a
live value is never shown when the key is sensitive in the skill's requiredEnv. One PUT
per skill, always with an explicit ``sensitive`` (§7.8); sensitive values ride along.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import secretenv
from reconciler.model.objects import Instance, OneShotSchedule, ScheduledTask
from reconciler.plan import operations as op
from reconciler.plan.fields import (
    MISSING,
    DiffContext,
    SkillWorld,
    canonical_time,
    changed_body,
    compare_set_fields,
    jsonable,
    ordered_set_fields,
)
from reconciler.plan.operations import CONFIGURED


def _dump(model: ScheduledTask) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return out


def duplicates(ctx: DiffContext, what: str, names: Sequence[str]) -> None:
    """Warn about live children sharing a name: matching by name cannot tell them apart."""
    for name, count in sorted(Counter(names).items()):
        if count > 1:
            ctx.note(
                "warning",
                f"the engine has {count} {what} named {name!r}; the plan matches "
                "by name, so rename or delete the extras on the engine",
            )


def scheduled_tasks(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    """Compare the managed list of scheduled tasks by name."""
    if desired.scheduled_tasks is None or (live is not None and live.scheduled_tasks is None):
        return
    live_list = (live.scheduled_tasks or []) if live is not None else []
    duplicates(ctx, "scheduled tasks", [t.name for t in live_list])
    have = {t.name: t for t in live_list}
    for task in desired.scheduled_tasks:
        path, cur = f"scheduledTasks[{task.name}]", have.get(task.name)
        if cur is None:
            body = task.model_dump(mode="json", exclude={"enabled"}, exclude_none=True)
            ctx.begin(op.TASK_CREATE, task.name, body=body, disabled=not task.enabled)
            ctx.add(path, None, _dump(task))
            if live is not None and not ctx.fresh and isinstance(task.schedule, OneShotSchedule):
                _one_shot_note(ctx, path, task)
        else:
            draft = ctx.begin(op.TASK_UPDATE, task.name, id=cur.id)
            _task_update(ctx, path, task, cur)
            draft.args["body"] = changed_body(draft, path, task)
    wanted = {t.name for t in desired.scheduled_tasks}
    for name, cur in sorted(have.items()):
        if name not in wanted:
            ctx.begin(op.TASK_DELETE, name, id=cur.id)
            ctx.removed(f"scheduledTasks[{name}]", _dump(cur), f"scheduled task {name!r}")


def _one_shot_note(ctx: DiffContext, path: str, task: ScheduledTask) -> None:
    if task.delete_after_run:
        ctx.note(
            "warning",
            f"one-shot task {task.name!r} (deleteAfterRun) is missing on the "
            "engine: it may have run and deleted itself; creating it again runs it again "
            "unless runAt is past",
            path,
        )


def _task_update(ctx: DiffContext, path: str, task: ScheduledTask, cur: ScheduledTask) -> None:
    skip = {"name", "schedule"}
    if cur.auto_disabled and not cur.enabled and task.enabled:
        skip.add("enabled")
        ctx.note(
            "warning",
            f"scheduled task {task.name!r} was disabled by the engine after 5 "
            "consecutive errors; the plan does not re-enable it (it would fail and flap): "
            "read its last error in the admin panel, fix the cause, then re-enable it "
            "there",
            f"{path}.enabled",
        )
    compare_set_fields(ctx, path, task, cur, frozenset(skip))
    if "schedule" in ordered_set_fields(task) and _schedule_key(task) != _schedule_key(cur):
        ctx.add(f"{path}.schedule", jsonable(cur.schedule), jsonable(task.schedule))


def _schedule_key(task: ScheduledTask) -> dict[str, Any]:
    """The schedule with its times in canonical UTC, so equal instants compare equal."""
    out: dict[str, Any] = jsonable(task.schedule)
    for key in ("runAt", "anchorAt"):
        if key in out:
            out[key] = canonical_time(out[key])
    return out


def skill_env(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    """Compare the managed skill env: plain values by value, sensitive ones by presence."""
    if desired.skill_env is None:
        return
    have = (live.skill_env or {}) if live is not None else {}
    for skill, keys in desired.skill_env.items():
        cur = have.get(skill, {})
        sensitive = _sensitive_keys(world, skill)
        draft = ctx.begin(op.SKILL_ENV_PUT, skill, live=sorted(cur))
        for key, value in keys.items():
            _env_key(ctx, (skill, key), value, cur, key in sensitive)
        kept = {k: v for k, v in keys.items() if not ctx.ignored(f"skillEnv.{skill}.{k}")}
        draft.args["plain"] = {k: v for k, v in kept.items() if v is not None}
        draft.args["sensitive"] = [k for k, v in kept.items() if v is None]
        for key in sorted(set(cur) - set(keys)):
            _env_removed(ctx, skill, key)
    for skill in sorted(set(have) - set(desired.skill_env)):
        for key in sorted(have[skill]):
            _env_removed(ctx, skill, key)


def _env_removed(ctx: DiffContext, skill: str, key: str) -> None:
    ctx.begin(op.SKILL_ENV_DELETE, f"{skill}.{key}", skill=skill, key=key)
    ctx.removed(f"skillEnv.{skill}.{key}", CONFIGURED, f"skill env {skill}.{key}")


def _sensitive_keys(world: SkillWorld, skill: str) -> set[str]:
    specs = [s for s in (world.desired.get(skill), world.live.get(skill)) if s is not None]
    return {e.name for s in specs for e in s.required_env if e.sensitive}


def _env_key(
    ctx: DiffContext,
    names: tuple[str, str],
    value: str | None,
    cur: Mapping[str, str | None],
    hide: bool,
) -> None:
    skill, key = names
    path = f"skillEnv.{skill}.{key}"
    if value is None:  # declared sensitive: presence only, the value comes from the env
        if key in cur:
            return
        var = secretenv.skill_env_var(ctx.slug, skill, key)
        if var in ctx.supplied:
            ctx.add(path, MISSING, CONFIGURED)
        else:
            ctx.lacks(
                var,
                f"sensitive skill env {skill}.{key} is not set on the engine; "
                f"set {var} when running apply to supply it",
                path,
            )
        return
    if key not in cur:
        ctx.add(path, None, value)
    elif cur[key] != value:
        # Never echo a live value that is (or is declared) sensitive, only its presence.
        shown = cur[key] if cur[key] is not None and not hide else CONFIGURED
        ctx.add(path, shown, value)
