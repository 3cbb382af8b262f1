"""One object's diff: the policy, both normalized states, and one skill's or instance's change.

Pure. ``diff.diff`` runs it over whole states; the pipelined apply runs it one instance at a
time, as each is read, so both produce the very same changes (the rules are in ``diff``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project, Scope
from reconciler.plan import operations as op
from reconciler.plan.catalog import catalog_entry
from reconciler.plan.changes import Action, Change, Kind, Notice
from reconciler.plan.fields import DiffContext, SkillWorld, skill_fields
from reconciler.plan.instance import create_body, fresh_instance, instance_fields
from reconciler.plan.operations import Operation


@dataclass
class Differ:
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


def compared(
    run: Differ,
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
    run: Differ,
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


def gone(run: Differ, kind: Kind, slug: str, live: Instance | Skill) -> list[Change]:
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


def out_of_scope(run: Differ, kind: Kind, slug: str) -> None:
    run.note(
        "info",
        f"{kind}/{slug}",
        f"in the repository but outside the scope of "
        f"{run.where()} (polyant.yaml scope); not planned",
    )


def instance(run: Differ, slug: str, live: Instance | None, world: SkillWorld) -> list[Change]:
    """The change of one instance in scope: create, update, delete (under --prune) or none."""
    desired = run.want.instances.get(slug)
    if desired is not None:
        return compared(run, desired, live, world)
    return gone(run, "instance", slug, live) if live is not None else []
