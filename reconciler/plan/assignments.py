"""Diff of an instance's skill assignments and manual tools into operations (pure).

- A listed assignment is enabled unless it says ``enabled: false`` (listing a skill is the
  intent to use it); ``autoLoad`` only when written. Without ``pinnedVersion`` the
  expected pin is the catalog's current version, or ``(new version)`` when this plan
  changes the skill. A live assignment that is already disabled and not in the repo is as
  removed as the engine allows (assignments cannot be deleted): no change.
- Operations per assignment, in this order: enable or disable (one at a time: the bulk
  PATCH races, §7.4), the pin (``upgrade`` to follow the current version, ``rollback`` to
  an explicit pin), ``auto-load``; a new disabled assignment is enable then disable (§17.1).
- manualTools: tools the instance's enabled assignments will require after apply are
  skill-sourced on the engine (contract §5.2), so they are subtracted from both sides.
  The tools operation is conditional: a GET decides at run time whether the PATCH is
  needed; it is planned when the manual set differs or the assignments move.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model.enginefacts import FIRST_IMPORT_VERSION
from reconciler.model.managed import managed_fields
from reconciler.model.objects import Instance, SkillAssignment
from reconciler.plan import operations as op
from reconciler.plan.fields import DiffContext, SkillWorld, jsonable


def assignments(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    """Compare the listed assignments with the live ones, skill by skill."""
    if desired.skills is None:
        return
    have = {a.slug: a for a in (live.skills or [])} if live is not None else {}
    for want in desired.skills:
        cur = have.get(want.slug)
        if cur is None:
            _new(ctx, want, world)
        else:
            _existing(ctx, want, cur, world)
    listed = {a.slug for a in desired.skills}
    for slug, cur in sorted(have.items()):
        if slug not in listed and cur.enabled:
            ctx.begin(op.ASSIGNMENT_DISABLE, slug)
            ctx.removed(f"skills[{slug}]", jsonable(cur), f"skill assignment {slug}")


def _new(ctx: DiffContext, want: SkillAssignment, world: SkillWorld) -> None:
    path, pin = f"skills[{want.slug}]", world.expected_pin(want)
    new = {"enabled": want.enabled, "autoLoad": want.auto_load, "pinnedVersion": pin}
    enable = ctx.begin(op.ASSIGNMENT_ENABLE, want.slug)
    if not ctx.add(path, None, {k: v for k, v in new.items() if v is not None}, into=enable):
        del ctx.drafts[-1]
        return
    # A new row is pinned to the current version: an explicit pin that differs rolls back.
    pinned = want.pinned_version
    if pinned and not ctx.ignored(f"{path}.pinnedVersion") and _differs(world, want):
        ctx.begin(op.ASSIGNMENT_ROLLBACK, want.slug, keep=True, version=pinned)
    auto = "auto_load" in managed_fields(want) and want.auto_load
    if auto and not ctx.ignored(f"{path}.autoLoad"):
        ctx.begin(op.ASSIGNMENT_AUTO_LOAD, want.slug, keep=True, value=True)
    if not want.enabled and not ctx.ignored(f"{path}.enabled"):
        ctx.begin(op.ASSIGNMENT_DISABLE, want.slug, keep=True)


def _differs(world: SkillWorld, want: SkillAssignment) -> bool:
    """True when the version a new row gets is not the explicit pin."""
    if want.slug in world.changing:
        created = want.slug not in world.live
        return not created or want.pinned_version != FIRST_IMPORT_VERSION
    skill = world.live.get(want.slug)
    return skill is None or skill.version != want.pinned_version


def _existing(
    ctx: DiffContext, want: SkillAssignment, cur: SkillAssignment, world: SkillWorld
) -> None:
    path, pin = f"skills[{want.slug}]", world.expected_pin(want)
    switch = ctx.begin(op.ASSIGNMENT_ENABLE if want.enabled else op.ASSIGNMENT_DISABLE, want.slug)
    pinning = None
    if pin is not None and cur.pinned_version is not None:
        kind = op.ASSIGNMENT_ROLLBACK if want.pinned_version else op.ASSIGNMENT_UPGRADE
        pinning = ctx.begin(kind, want.slug, version=want.pinned_version)
    auto = ctx.begin(op.ASSIGNMENT_AUTO_LOAD, want.slug, value=want.auto_load)
    # Fields in display order (enabled, autoLoad, pin); operations in execution order.
    ctx.add(f"{path}.enabled", cur.enabled, want.enabled, into=switch)
    if "auto_load" in managed_fields(want):
        ctx.add(f"{path}.autoLoad", cur.auto_load, want.auto_load, into=auto)
    if pinning is not None:
        ctx.add(f"{path}.pinnedVersion", cur.pinned_version, pin, into=pinning)


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


def manual_tools(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    """Compare the manual tools not provided by skills; plan the conditional tools PATCH."""
    if desired.manual_tools is None:
        return
    from_skills: set[str] = set()
    for assignment in _after_apply(ctx, desired, live):
        from_skills |= world.tools_for(assignment)
    new = sorted(set(desired.manual_tools) - from_skills)
    old = sorted(set(live.manual_tools or []) - from_skills) if live is not None else None
    moved = any(d.kind.startswith("assignment.") and (d.fields or d.keep) for d in ctx.drafts)
    ctx.begin(
        op.TOOLS_PATCH,
        keep=moved and not ctx.ignored("manualTools"),
        manual=sorted(desired.manual_tools),
        live=sorted(live.manual_tools or []) if live is not None else [],
    )
    ctx.add("manualTools", old, new)
