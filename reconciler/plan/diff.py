"""The pure diff: desired State vs live snapshot → Plan of ordered, typed operations.

Semantics (the per-part rules are in ``fields``, ``instance``, ``assignments``, ``events``
and ``children``):

- One Change per catalog skill and per instance, create / update / delete. Desired objects
  outside the environment's scope are not planned (a Notice says so); live objects outside
  it are never touched. ``only`` restricts the plan to those instance slugs (a scoped
  plan); skills in the repo are still compared, but no skill is deleted by a scoped plan.
- Deletes only with ``prune`` and the matching ``polyant.yaml`` prune switch
  (instances / skills); otherwise an info Notice. An empty repository never prunes: no
  delete is planned and a Notice makes ``check_safety`` refuse the plan.
- A repo skill archived on the engine cannot be revived: a warning, no change.
- Display order: skills, then instances (creates and updates, by slug); then instance
  deletes, then skill deletes. Execution order (each change's ``wave``): catalog skills,
  then instances that switch their ``agent`` channel (callees, §9.5), then the other
  instances, then instance deletes, then skill archives (reverse dependency). Inside a
  change, operations are sorted by ``operations.RANK`` (contract §17.8). The tools of a
  callee-wave instance that lists ``agent:<callee>`` of a callee switched on now are
  ``deferred`` until every callee ran (the catalog row appears with the channel, §17.6).
- ``supplied_secrets`` holds the NAMES of the variables (``reconciler.model.secretenv``) that
  will carry secret values at apply time; a declared secret that is missing on the engine
  is a change when its variable is supplied, else a warning. Values never enter a plan.
- Every change carries the fingerprint of its live object, stamped here (a pipelined apply
  stamps it as it diffs, then drops the live object) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from reconciler.model.managed import normalize
from reconciler.model.objects import Instance, State
from reconciler.model.project import Project
from reconciler.plan import operations as op
from reconciler.plan.changes import Change, LiveSnapshot, Plan, Wave
from reconciler.plan.differ import Differ, compared, gone, out_of_scope
from reconciler.plan.fields import SkillWorld
from reconciler.plan.operations import Operation
from reconciler.plan.safety import EMPTY_DESIRED_KEY, fingerprint


def diff(
    desired: State,
    live: LiveSnapshot,
    project: Project,
    *,
    env: str | None = None,
    prune: bool = False,
    only: Collection[str] | None = None,
    supplied_secrets: Collection[str] = (),
) -> Plan:
    """Plan what apply must do so the engine matches the repository."""
    want, have = normalize(desired), normalize(live.state)
    run = Differ(project, env, prune, frozenset(supplied_secrets), want, have, list(live.notices))
    skills = skill_changes(run, scoped=only is not None)
    instances = _instance_changes(run, world(run, skills), only)
    return finish(run, skills + instances, only=only, live_instances=bool(have.instances))


def skill_changes(run: Differ, *, scoped: bool) -> list[Change]:
    """The catalog's changes; a scoped plan deletes no skill."""
    out: list[Change] = []
    for slug, skill in run.want.skills.items():
        cur = run.have.skills.get(slug)
        if not run.scope.has_skill(slug):
            out_of_scope(run, "skill", slug)
        elif cur is not None and cur.archived:
            run.note(
                "warning",
                f"skill/{slug}",
                "this skill is archived on the engine and "
                "cannot be revived (its slug stays reserved): rename the skill in the "
                "repository",
            )
        else:
            out += compared(run, skill, cur)
    if not scoped:
        for slug in run.active_skills():
            if slug not in run.want.skills:
                out += gone(run, "skill", slug, run.have.skills[slug])
    return out


def world(run: Differ, skills: list[Change]) -> SkillWorld:
    """The catalog as the instances' diffs see it, once the catalog's changes are known."""
    changing = frozenset(c.slug for c in skills if c.action != "delete")
    in_scope = {k: v for k, v in run.want.skills.items() if run.scope.has_skill(k)}
    return SkillWorld(in_scope, run.have.skills, changing)


def finish(
    run: Differ, changes: list[Change], *, only: Collection[str] | None, live_instances: bool
) -> Plan:
    """The Plan of these changes: fingerprints stamped, ordered, in waves, with notices."""
    if not run.may_delete and run.prune and (live_instances or run.active_skills()):
        message = "the repository declares no instance and no skill: --prune deletes nothing"
        run.note("warning", EMPTY_DESIRED_KEY, message)
    stamped = [replace(c, fingerprint=c.fingerprint or fingerprint(c.live)) for c in changes]
    return Plan(
        changes=tuple(_with_waves(_ordered(stamped))),
        notices=tuple(run.notices),
        environment=run.env,
        scope=None if only is None else tuple(sorted(set(only))),
        left_out=() if only is None else tuple(_left_out(run, set(only))),
    )


def _instance_changes(run: Differ, world: SkillWorld, only: Collection[str] | None) -> list[Change]:
    out: list[Change] = []
    chosen = set(only) if only is not None else None
    want, have, scope = run.want.instances, run.have.instances, run.scope
    for slug, inst in want.items():
        if chosen is not None and slug not in chosen:
            continue
        if not scope.has_instance(slug):
            out_of_scope(run, "instance", slug)
            continue
        out += compared(run, inst, have.get(slug), world)
    for slug, cur in have.items():
        wanted = chosen is None or slug in chosen
        if wanted and slug not in want and scope.has_instance(slug):
            out += gone(run, "instance", slug, cur)
    for slug in sorted((chosen or set()) - set(want) - set(have)):
        run.note(
            "warning",
            f"instance/{slug}",
            "asked for, but this instance is neither in the repository nor on the engine",
        )
    return out


def _ordered(changes: list[Change]) -> list[Change]:
    rank = {("skill", False): 0, ("instance", False): 1, ("instance", True): 2, ("skill", True): 3}
    return sorted(changes, key=lambda c: (rank[(c.kind, c.action == "delete")], c.slug))


def _with_waves(changes: list[Change]) -> list[Change]:
    """Each change with the wave apply runs it in; early callers' tools deferred."""
    callees = {c.slug for c in changes if c.kind == "instance" and _switches_agent_on(c)}
    out = []
    for change in changes:
        wave = wave_of(change)
        ops = change.operations
        if wave == "callees" and any(f"agent:{s}" in _manual(change) for s in callees):
            ops = tuple(_deferred(o) for o in ops)
        out.append(replace(change, wave=wave, operations=ops))
    return out


def wave_of(change: Change) -> Wave:
    """The wave apply runs a change in (catalog, callees, instances, deletes, archives)."""
    if change.kind == "skill":
        return "archives" if change.action == "delete" else "catalog"
    if change.action == "delete":
        return "deletes"
    touches = any(
        o.type in (op.CHANNEL_PUT, op.CHANNEL_DELETE) and o.target == "agent"
        for o in change.operations
    )
    return "callees" if touches else "instances"


def _switches_agent_on(change: Change) -> bool:
    return any(
        o.type == op.CHANNEL_PUT and o.target == "agent" and o.args.get("enabled")
        for o in change.operations
    )


def _manual(change: Change) -> list[str]:
    desired = change.desired
    return list(desired.manual_tools or []) if isinstance(desired, Instance) else []


def _deferred(operation: Operation) -> Operation:
    if operation.type != op.TOOLS_PATCH:
        return operation
    return replace(operation, args={**operation.args, "deferred": True})


def _left_out(run: Differ, chosen: set[str]) -> list[str]:
    scope = run.scope
    slugs = {s for s in set(run.want.instances) | set(run.have.instances) if scope.has_instance(s)}
    return [f"instance/{s}" for s in sorted(slugs - chosen)]
