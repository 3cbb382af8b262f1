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
- Every change carries the fingerprint of its live object, stamped here and only here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

from reconciler.model.managed import normalize
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project, Scope
from reconciler.plan import operations as op
from reconciler.plan.catalog import catalog_entry
from reconciler.plan.changes import Action, Change, Kind, LiveSnapshot, Notice, Plan, Wave
from reconciler.plan.fields import DiffContext, SkillWorld, skill_fields
from reconciler.plan.instance import create_body, fresh_instance, instance_fields
from reconciler.plan.operations import Operation
from reconciler.plan.safety import EMPTY_DESIRED_KEY, fingerprint


@dataclass
class _Run:
    """One diff run: its policy, both normalized states and the notices it collects."""

    project: Project
    env: str | None
    prune: bool
    supplied: frozenset[str]
    want: State
    have: State
    notices: list[Notice] = field(default_factory=list)

    @property
    def scope(self) -> Scope:
        return self.project.scope_for(self.env)

    @property
    def may_delete(self) -> bool:
        # An empty repository is far more likely a wrong folder than a wish to delete all.
        return bool(self.want.instances or self.want.skills)

    def context(self, kind: Kind, slug: str) -> DiffContext:
        return DiffContext(kind, slug, self.project, prune=self.prune, supplied=self.supplied)

    def note(self, level: str, key: str, message: str) -> None:
        self.notices.append(Notice("warning" if level == "warning" else "info", key, message))

    def where(self) -> str:
        return f"environment {self.env!r}" if self.env else "this repository"

    def active_skills(self) -> list[str]:
        scope = self.scope
        return [s for s, k in self.have.skills.items() if scope.has_skill(s) and not k.archived]


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
    run = _Run(project, env, prune, frozenset(supplied_secrets), want, have, list(live.notices))
    skills = _skill_changes(run, scoped=only is not None)
    changing = frozenset(c.slug for c in skills if c.action != "delete")
    in_scope = {k: v for k, v in want.skills.items() if run.scope.has_skill(k)}
    instances = _instance_changes(run, SkillWorld(in_scope, have.skills, changing), only)
    if not run.may_delete and prune and (have.instances or run.active_skills()):
        message = "the repository declares no instance and no skill: --prune deletes nothing"
        run.note("warning", EMPTY_DESIRED_KEY, message)
    changes = [replace(c, fingerprint=fingerprint(c.live)) for c in skills + instances]
    return Plan(
        changes=tuple(_with_waves(_ordered(changes))),
        notices=tuple(run.notices),
        environment=env,
        scope=None if only is None else tuple(sorted(set(only))),
        left_out=() if only is None else tuple(_left_out(run, set(only))),
    )


def _skill_changes(run: _Run, *, scoped: bool) -> list[Change]:
    out: list[Change] = []
    for slug, skill in run.want.skills.items():
        cur = run.have.skills.get(slug)
        if not run.scope.has_skill(slug):
            _out_of_scope(run, "skill", slug)
        elif cur is not None and cur.archived:
            run.note(
                "warning",
                f"skill/{slug}",
                "this skill is archived on the engine and "
                "cannot be revived (its slug stays reserved): rename the skill in the "
                "repository",
            )
        else:
            out += _compared(run, skill, cur)
    if not scoped:
        for slug in run.active_skills():
            if slug not in run.want.skills:
                out += _gone(run, "skill", slug, run.have.skills[slug])
    return out


def _instance_changes(run: _Run, world: SkillWorld, only: Collection[str] | None) -> list[Change]:
    out: list[Change] = []
    chosen = set(only) if only is not None else None
    want, have, scope = run.want.instances, run.have.instances, run.scope
    for slug, inst in want.items():
        if chosen is not None and slug not in chosen:
            continue
        if not scope.has_instance(slug):
            _out_of_scope(run, "instance", slug)
            continue
        out += _compared(run, inst, have.get(slug), world)
    for slug, cur in have.items():
        wanted = chosen is None or slug in chosen
        if wanted and slug not in want and scope.has_instance(slug):
            out += _gone(run, "instance", slug, cur)
    for slug in sorted((chosen or set()) - set(want) - set(have)):
        run.note(
            "warning",
            f"instance/{slug}",
            "asked for, but this instance is neither in the repository nor on the engine",
        )
    return out


def _compared(
    run: _Run,
    desired: Instance | Skill,
    live: Instance | Skill | None,
    world: SkillWorld | None = None,
) -> list[Change]:
    if isinstance(desired, Skill):
        ctx = run.context("skill", desired.slug)
        old = live if isinstance(live, Skill) else None
        skill_fields(ctx, desired, old)
        entry = catalog_entry(desired, old)
        operations = [Operation(op.CATALOG_IMPORT, desired.slug, tuple(ctx.fields), entry)]
        unsupplied: set[str] = set()
    else:
        assert world is not None  # instances are always diffed with the catalog in view
        ctx = run.context("instance", desired.slug)
        operations, unsupplied = _instance_operations(run, ctx, desired, live, world)
    run.notices += ctx.notices
    if live is not None and not ctx.fields:
        return []
    action: Action = "create" if live is None else "update"
    change = Change(ctx.kind, action, desired.slug, tuple(ctx.fields), desired, live)
    return [
        replace(change, operations=op.ordered(operations), unsupplied=tuple(sorted(unsupplied)))
    ]


def _instance_operations(
    run: _Run,
    ctx: DiffContext,
    desired: Instance,
    live: Instance | Skill | None,
    world: SkillWorld,
) -> tuple[list[Operation], set[str]]:
    """Diff for display; a create's operations are planned against a fresh instance."""
    instance_fields(ctx, desired, live if isinstance(live, Instance) else None, world)
    if live is not None:
        return ctx.operations(), ctx.wanted
    work = run.context("instance", desired.slug)
    work.fresh = True
    instance_fields(work, desired, fresh_instance(desired), world)
    create = Operation(op.INSTANCE_CREATE, desired.slug, (), {"body": create_body(desired)})
    return [create, *work.operations()], work.wanted


def _gone(run: _Run, kind: Kind, slug: str, live: Instance | Skill) -> list[Change]:
    switch = run.project.prune.skills if kind == "skill" else run.project.prune.instances
    key = f"{kind}/{slug}"
    if run.prune and switch and run.may_delete:
        if kind == "skill":
            run.note(
                "warning",
                key,
                "deleting a skill archives it for good: its slug can never be used again",
            )
        kind_op = op.CATALOG_ARCHIVE if kind == "skill" else op.INSTANCE_DELETE
        removal = Operation(kind_op, slug, (), {"prune": True})
        return [Change(kind, "delete", slug, (), None, live, (removal,))]
    if not switch:
        why = f"polyant.yaml prune.{kind}s is off"
    elif not run.prune:
        why = "--prune would delete it"
    else:
        why = "kept, because an empty repository never prunes"
    run.note("info", key, f"on the engine but not in the repository; {why}")
    return []


def _out_of_scope(run: _Run, kind: Kind, slug: str) -> None:
    run.note(
        "info",
        f"{kind}/{slug}",
        f"in the repository but outside the scope of "
        f"{run.where()} (polyant.yaml scope); not planned",
    )


def _ordered(changes: list[Change]) -> list[Change]:
    rank = {("skill", False): 0, ("instance", False): 1, ("instance", True): 2, ("skill", True): 3}
    return sorted(changes, key=lambda c: (rank[(c.kind, c.action == "delete")], c.slug))


def _with_waves(changes: list[Change]) -> list[Change]:
    """Each change with the wave apply runs it in; early callers' tools deferred."""
    callees = {c.slug for c in changes if c.kind == "instance" and _switches_agent_on(c)}
    out = []
    for change in changes:
        wave = _wave(change)
        ops = change.operations
        if wave == "callees" and any(f"agent:{s}" in _manual(change) for s in callees):
            ops = tuple(_deferred(o) for o in ops)
        out.append(replace(change, wave=wave, operations=ops))
    return out


def _wave(change: Change) -> Wave:
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


def _left_out(run: _Run, chosen: set[str]) -> list[str]:
    scope = run.scope
    slugs = {s for s in set(run.want.instances) | set(run.have.instances) if scope.has_instance(s)}
    return [f"instance/{s}" for s in sorted(slugs - chosen)]
