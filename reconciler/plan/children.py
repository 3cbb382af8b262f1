"""Field diff of an instance's keyed children: event sources, definitions, tasks, skill env.

Pure. Children are matched by name (contract §17.5). Event source configs are compared as
key sets only: the engine masks values, so a value can never be compared and never shown.
A task the engine disabled after five errors (``auto_disabled``) is not re-enabled by the
plan: apply would flap it on and off; a warning tells the user to look at its errors.
Skill env: plain values compare by value; sensitive ones (null) by presence only, and a
live value is never shown when the key is sensitive in the skill's requiredEnv.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import secretenv
from reconciler.model.objects import (
    Definition,
    EventSource,
    Instance,
    OneShotSchedule,
    ScheduledTask,
    managed_fields,
)
from reconciler.plan.fields import (
    CONFIGURED,
    MISSING,
    DiffContext,
    SkillWorld,
    canonical_time,
    compare_set_fields,
    jsonable,
    ordered_set_fields,
)

VALUE = "(value)"
CREDENTIAL = "(credential)"


def source_dump(source: EventSource) -> dict[str, Any]:
    """An event source as a plan shows it: config reduced to key names, never values."""
    out: dict[str, Any] = source.model_dump(mode="json", exclude_none=True)
    if source.config is not None:
        out["config"] = {k: CREDENTIAL if v is None else VALUE for k, v in source.config.items()}
    return out


def _dump(model: Definition | ScheduledTask) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return out


def _duplicates(ctx: DiffContext, what: str, names: Sequence[str]) -> None:
    # The engine allows duplicate names; matching by name then cannot tell them apart.
    for name, count in sorted(Counter(names).items()):
        if count > 1:
            ctx.note(
                "warning",
                f"the engine has {count} {what} named {name!r}; the plan matches "
                "by name, so rename or delete the extras on the engine",
            )


def event_sources(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    """Compare the managed list of event sources by name."""
    if desired.event_sources is None:
        return
    live_list = (live.event_sources or []) if live is not None else []
    _duplicates(ctx, "event sources", [s.name for s in live_list])
    have = {s.name: s for s in live_list}
    for source in desired.event_sources:
        path, cur = f"eventSources[{source.name}]", have.get(source.name)
        if cur is None:
            ctx.add(path, None, source_dump(source))
            _credentials(ctx, path, source, None)
        else:
            _source_update(ctx, path, source, cur)
    wanted = {s.name for s in desired.event_sources}
    for name, cur in sorted(have.items()):
        if name not in wanted:
            ctx.removed(f"eventSources[{name}]", source_dump(cur), f"event source {name!r}")


def _source_update(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    if cur.source_type != source.source_type:
        ctx.add(f"{path}.sourceType", cur.source_type, source.source_type)
        ctx.note(
            "warning",
            f"event source {source.name!r} changes sourceType, which the engine "
            "cannot update: apply must delete and re-create it, which gives it a new "
            "webhook URL",
            f"{path}.sourceType",
        )
    compare_set_fields(
        ctx, path, source, cur, frozenset({"name", "source_type", "config", "definitions"})
    )
    managed = managed_fields(source)
    if "config" in managed:
        _config_keys(ctx, path, source, cur)
    if "definitions" in managed:
        _definitions(ctx, path, source, cur)


def _config_keys(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    have = set(cur.config or {})
    _credentials(ctx, path, source, have)
    for key in sorted(have - set(source.config or {})):
        ctx.note(
            "info",
            f"event source {source.name!r} has config key {key} on the engine but "
            "not in the repository; the engine cannot remove config keys",
            f"{path}.config.{key}",
        )


def _credentials(ctx: DiffContext, path: str, source: EventSource, have: set[str] | None) -> None:
    """Config keys the engine lacks (`have` None: a new source, whose dump already lists them).

    Repo values are simply set; a credential (null) needs its variable at apply time.
    """
    for key, value in sorted((source.config or {}).items()):
        if have is not None and key in have:
            continue
        key_path = f"{path}.config.{key}"
        var = secretenv.event_source_var(ctx.slug, source.name, key)
        if value is not None or var in ctx.supplied:
            if have is not None:
                ctx.add(key_path, MISSING, CONFIGURED)
            continue
        ctx.note(
            "warning",
            f"event source {source.name!r} needs credential {key} at apply time: "
            f"set {var} to supply it",
            key_path,
        )


def _definitions(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    _duplicates(
        ctx, f"definitions in event source {source.name!r}", [d.name for d in cur.definitions]
    )
    have = {d.name: d for d in cur.definitions}
    for definition in source.definitions:
        def_path, old = f"{path}.definitions[{definition.name}]", have.get(definition.name)
        if old is None:
            ctx.add(def_path, None, _dump(definition))
        else:
            compare_set_fields(ctx, def_path, definition, old, frozenset({"name"}))
    wanted = {d.name for d in source.definitions}
    for name, old in sorted(have.items()):
        if name not in wanted:
            what = f"definition {name!r} of event source {source.name!r}"
            ctx.removed(f"{path}.definitions[{name}]", _dump(old), what)


def scheduled_tasks(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    """Compare the managed list of scheduled tasks by name."""
    if desired.scheduled_tasks is None:
        return
    live_list = (live.scheduled_tasks or []) if live is not None else []
    _duplicates(ctx, "scheduled tasks", [t.name for t in live_list])
    have = {t.name: t for t in live_list}
    for task in desired.scheduled_tasks:
        path, cur = f"scheduledTasks[{task.name}]", have.get(task.name)
        if cur is None:
            ctx.add(path, None, _dump(task))
            if live is not None and isinstance(task.schedule, OneShotSchedule):
                _one_shot_note(ctx, path, task)
        else:
            _task_update(ctx, path, task, cur)
    wanted = {t.name for t in desired.scheduled_tasks}
    for name, cur in sorted(have.items()):
        if name not in wanted:
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
        for key, value in keys.items():
            _env_key(ctx, (skill, key), value, cur, key in sensitive)
        for key in sorted(set(cur) - set(keys)):
            ctx.removed(f"skillEnv.{skill}.{key}", CONFIGURED, f"skill env {skill}.{key}")
    for skill in sorted(set(have) - set(desired.skill_env)):
        for key in sorted(have[skill]):
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
            ctx.note(
                "warning",
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
