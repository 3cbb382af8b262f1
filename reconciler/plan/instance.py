"""Field diff of one instance: metadata, prompts, skills, tools, secrets, channels, env, room.

Pure. Decisions documented here (the rest is in ``reconciler.plan.fields``):

- Prompts: only the sections the repo has are compared; extra live sections are ignored.
- Skill assignments: a listed assignment is enabled unless it says ``enabled: false``
  (listing a skill is the intent to use it); ``autoLoad`` only when written. Without
  ``pinnedVersion`` the expected pin is the catalog's current version, or ``(new version)``
  when this plan changes the skill. A live assignment that is already disabled and not in
  the repo is as removed as the engine allows (assignments cannot be deleted): no change.
- manualTools: tools the instance's enabled assignments will require after apply are
  skill-sourced on the engine (contract §5.2), so they are subtracted from both sides.
- Secrets are presence only; a declared secret that is missing becomes a change only when
  its variable (``secretenv.secret_var``) is supplied at apply time, else a warning.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model import secretenv
from reconciler.model.enginefacts import INSTANCE_METADATA_FIELDS
from reconciler.model.objects import Instance, SkillAssignment, managed_fields
from reconciler.plan.children import event_sources, scheduled_tasks, skill_env
from reconciler.plan.fields import (
    CONFIGURED,
    MISSING,
    DiffContext,
    SkillWorld,
    alias,
    compare_set_fields,
    icon_value,
    jsonable,
)

INSTANCE_SCALARS: tuple[str, ...] = (*INSTANCE_METADATA_FIELDS, "icon")
AUTH_KEY = "auth_api_key"


def instance_fields(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    """Every managed field of one instance, in the engine's apply order (contract §17.8)."""
    _scalars(ctx, desired, live)
    _secrets(ctx, desired, live)
    _assignments(ctx, desired, live, world)
    _manual_tools(ctx, desired, live, world)
    skill_env(ctx, desired, live, world)
    _prompts(ctx, desired, live)
    _channels(ctx, desired, live)
    _room(ctx, desired, live)
    event_sources(ctx, desired, live)
    scheduled_tasks(ctx, desired, live)


def _scalars(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    managed = managed_fields(desired)
    for name in INSTANCE_SCALARS:
        if name not in managed:
            continue
        new, old = getattr(desired, name), getattr(live, name) if live is not None else None
        if name == "icon":
            new, old = icon_value(new), icon_value(old)
        ctx.add(alias(desired, name), old, new)


def _prompts(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    have = live.prompts if live is not None else {}
    owned = set(ctx.project.agent_owned_prompts)
    for section, text in desired.prompts.items():
        path = f"prompts.{section}"
        old = have.get(section)
        if old == text:
            continue
        ctx.add(path, old, text)
        if section in owned and live is not None:
            ctx.note(
                "info",
                f"prompt section {section} is rewritten by the agent at runtime; "
                "apply replaces the agent's text with the repository's",
                path,
            )


def _secrets(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    configured = set(live.secrets or []) if live is not None else set()
    declared = set(desired.secrets) if desired.secrets is not None else None
    for key in sorted(declared or ()):
        var = secretenv.secret_var(ctx.slug, key)
        path = f"secrets[{key}]"
        if key in configured:
            continue
        if var in ctx.supplied:
            ctx.add(path, MISSING, CONFIGURED)
        else:
            ctx.note(
                "warning",
                f"secret {key} is declared but not configured on the engine; "
                f"set {var} when running apply to supply it",
                path,
            )
    for key in sorted(configured - declared if declared is not None else ()):
        ctx.removed(f"secrets[{key}]", CONFIGURED, f"secret {key}", switch="secrets")
    _auth_lock(ctx, desired, configured, declared)


def _auth_lock(
    ctx: DiffContext, desired: Instance, configured: set[str], declared: set[str] | None
) -> None:
    # Contract §1.2.5: authEnabled without an auth_api_key secret answers 401 to every chat.
    if "auth_enabled" not in managed_fields(desired) or not desired.auth_enabled:
        return
    var = secretenv.secret_var(ctx.slug, AUTH_KEY)
    pruned = any(f.path == f"secrets[{AUTH_KEY}]" and f.new is None for f in ctx.fields)
    kept = AUTH_KEY in configured and not pruned
    is_declared = AUTH_KEY in (declared or ())
    if kept or (is_declared and var in ctx.supplied):
        return
    todo = f"set {var} when running apply"
    if not is_declared:
        todo = f"declare {AUTH_KEY} under secrets and {todo}"
    ctx.note(
        "warning",
        f"authEnabled is true but secret {AUTH_KEY} is not configured: every chat request "
        f"to this instance will get 401; {todo}",
    )


def _assignments(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    if desired.skills is None:
        return
    have = {a.slug: a for a in (live.skills or [])} if live is not None else {}
    for want in desired.skills:
        path, pin = f"skills[{want.slug}]", world.expected_pin(want)
        cur = have.get(want.slug)
        if cur is None:
            new = {"enabled": want.enabled, "autoLoad": want.auto_load, "pinnedVersion": pin}
            ctx.add(path, None, {k: v for k, v in new.items() if v is not None})
            continue
        ctx.add(f"{path}.enabled", cur.enabled, want.enabled)
        if "auto_load" in managed_fields(want):
            ctx.add(f"{path}.autoLoad", cur.auto_load, want.auto_load)
        if pin is not None and cur.pinned_version is not None:
            ctx.add(f"{path}.pinnedVersion", cur.pinned_version, pin)
    listed = {a.slug for a in desired.skills}
    for slug, cur in sorted(have.items()):
        if slug not in listed and cur.enabled:
            ctx.removed(f"skills[{slug}]", jsonable(cur), f"skill assignment {slug}")


def _after_apply(
    ctx: DiffContext, desired: Instance, live: Instance | None
) -> Iterable[SkillAssignment]:
    """The assignments that will be enabled once apply is done."""
    live_on = [a for a in (live.skills or []) if a.enabled] if live is not None else []
    if desired.skills is None:
        return live_on
    listed = {a.slug for a in desired.skills}
    kept = [] if ctx.prune and ctx.project.prune.children else live_on
    return [a for a in desired.skills if a.enabled] + [a for a in kept if a.slug not in listed]


def _manual_tools(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    if desired.manual_tools is None:
        return
    from_skills: set[str] = set()
    for assignment in _after_apply(ctx, desired, live):
        from_skills |= world.tools_for(assignment)
    new = sorted(set(desired.manual_tools) - from_skills)
    old = sorted(set(live.manual_tools or []) - from_skills) if live is not None else None
    ctx.add("manualTools", old, new)


def _channels(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    if desired.channels is None:
        return
    have = (live.channels or {}) if live is not None else {}
    for kind, channel in desired.channels.items():
        path, cur = f"channels.{kind}", have.get(kind)
        if cur is None:
            ctx.add(path, None, {"enabled": channel.enabled})
            var = secretenv.channel_var(ctx.slug, kind)
            if kind != "agent" and var not in ctx.supplied:
                ctx.note(
                    "warning",
                    f"channel {kind} needs its credentials at apply time: set "
                    f"{var} to a JSON object of its config",
                    path,
                )
        else:
            ctx.add(f"{path}.enabled", cur.enabled, channel.enabled)
            if kind == "agent" and cur.enabled and not channel.enabled:
                _agent_warning(ctx, path)
    for kind, cur in sorted(have.items()):
        if kind not in desired.channels:
            ctx.removed(f"channels.{kind}", jsonable(cur), f"channel {kind}")
            if kind == "agent" and any(f.path == "channels.agent" for f in ctx.fields):
                _agent_warning(ctx, "channels.agent")


def _agent_warning(ctx: DiffContext, path: str) -> None:
    ctx.note(
        "warning",
        f"turning off the agent channel removes tool agent:{ctx.slug} from "
        "every other instance's tools for good; re-apply their manualTools afterwards",
        path,
    )


def _room(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    if "room" not in managed_fields(desired):
        return
    cur = live.room if live is not None else None
    if desired.room is None or cur is None:
        ctx.add("room", jsonable(cur), jsonable(desired.room))
        return
    compare_set_fields(ctx, "room", desired.room, cur)
