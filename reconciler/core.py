"""The reconcile core: plan, apply a plan, verify — one cycle the CLI, tests and benches call.

Load and validation stay with the caller (the CLI has a repository, tests build models);
from a desired State on, everybody goes through these functions: ``supplied_vars`` (which
secret variables are set, computed one way for everyone), ``make_plan`` (read → diff →
shard → safety), ``apply`` (run the plan's operations) and ``verify`` (re-read what apply
wrote and diff it again).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from reconciler.engine.apply import apply_plan
from reconciler.engine.client import EngineClient
from reconciler.engine.read import read_live
from reconciler.engine.report import ApplyReport
from reconciler.fleet import compare
from reconciler.model import secretenv
from reconciler.model.objects import State
from reconciler.model.project import Project
from reconciler.plan import safety
from reconciler.plan.changes import LiveSnapshot, Plan
from reconciler.plan.diff import diff


def supplied_vars(state: State, env: Mapping[str, str]) -> set[str]:
    """Names (never values) of the set variables that would supply credentials at apply."""
    names: set[str] = set()
    for slug, inst in state.instances.items():
        names |= {secretenv.secret_var(slug, key) for key in inst.secrets or []}
        names |= {secretenv.channel_var(slug, kind) for kind in inst.channels or {}}
        for skill, values in (inst.skill_env or {}).items():
            names |= {secretenv.skill_env_var(slug, skill, key) for key in values}
        for source in inst.event_sources or []:
            names |= {secretenv.event_source_var(slug, source.name, k) for k in source.config or {}}
    return {name for name in names if secretenv.lookup(env, name)}


@dataclass(frozen=True)
class Planned:
    """A plan and the live snapshot it was computed from."""

    plan: Plan
    live: LiveSnapshot


@dataclass(frozen=True)
class Policy:
    """How a plan is made: environment, pruning, scope, shard, safety override."""

    env: str | None = None
    prune: bool = False
    only: Collection[str] | None = None
    shard: tuple[int, int] | None = None
    force: bool = False


def make_plan(
    client: EngineClient,
    desired: State,
    project: Project,
    policy: Policy,
    *,
    supplied: Collection[str] = (),
    check: Callable[[LiveSnapshot], None] | None = None,
    refine: Callable[[Plan, LiveSnapshot], Plan] | None = None,
) -> Planned:
    """Read what the plan needs from the engine, diff, shard, and judge its safety.

    `check` sees the live snapshot before the diff (the CLI validates assignments against
    the live catalog there); `refine` narrows the plan before safety judges it (the CLI's
    --instance/--skill targets).
    """
    scope = project.scope_for(policy.env)
    live = read_live(client, scope=scope, only=policy.only)
    if check is not None:
        check(live)
    plan = diff(
        desired,
        live,
        project,
        env=policy.env,
        prune=policy.prune,
        only=policy.only,
        supplied_secrets=supplied,
    )
    if policy.shard is not None:
        # Every shard sees the whole catalog, but only shard 1 writes catalog skills, so
        # parallel runners never import the same skill twice.
        catalog = compare.catalog_changes(
            desired, live, project, env=policy.env, prune=policy.prune, supplied=supplied
        )
        plan = compare.shard_plan(plan, *policy.shard, catalog)
    if refine is not None:
        plan = refine(plan, live)
    plan.environment = policy.env
    plan.engine_url = client.url  # never user:password: plans are posted and stored
    managed = safety.managed_count(live, project, policy.env, desired)
    safety.check_safety(plan, project, managed_count=managed, force=policy.force)
    return Planned(plan=plan, live=live)


def apply(
    client: EngineClient,
    plan: Plan,
    *,
    secrets: Mapping[str, str],
    dry_run: bool = False,
    prune: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Run the plan's operations (and nothing else); removals only when `prune`."""
    return apply_plan(
        client, plan, secrets=secrets, dry_run=dry_run, prune=prune, on_progress=on_progress
    )


def verify(
    client: EngineClient,
    report: ApplyReport,
    desired: State,
    project: Project,
    policy: Policy,
    *,
    supplied: Collection[str] = (),
) -> list[str]:
    """Re-read only the objects apply wrote to and diff them; sets report.non_converged."""
    touched = {r.key for r in report.results if r.calls}
    if report.dry_run or not touched:
        return []
    slugs = sorted(k.split("/", 1)[1] for k in touched if k.startswith("instance/"))
    live = read_live(client, scope=project.scope_for(policy.env), only=slugs, skills=True)
    again = diff(
        desired,
        live,
        project,
        env=policy.env,
        prune=policy.prune,
        only=slugs,
        supplied_secrets=supplied,
    )
    report.non_converged = sorted({c.key for c in again.changes if c.key in touched})
    return report.non_converged
