"""The reconcile core: plan, apply a plan, verify — one cycle the CLI, tests and benches call.

Load and validation stay with the caller (the CLI has a repository, tests build models);
from a desired State on, everybody goes through these functions: ``supplied_vars`` (which
secret variables are set, computed one way for everyone), ``make_plan`` (read → diff →
shard → safety), ``apply`` (run the plan's operations) and ``verify`` (re-read what apply
wrote and diff it again).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.engine.apply import apply_plan
from reconciler.engine.client import EngineClient
from reconciler.engine.duplicates import delete_duplicates
from reconciler.engine.read import read_live
from reconciler.engine.report import ApplyReport
from reconciler.errors import PlanError
from reconciler.fleet import compare
from reconciler.model import secretenv
from reconciler.model.objects import State
from reconciler.model.project import Project
from reconciler.plan import engineaware, safety
from reconciler.plan.changes import Duplicate, LiveSnapshot, Plan, duplicates_line
from reconciler.plan.diff import diff


def supplied_vars(state: State, env: Mapping[str, str]) -> set[str]:
    """Names (never values) of the set variables that would supply credentials at apply."""
    return secretenv.supplied_vars(state, env)


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
    # What this engine line lacks (develop's settings and hooks on main) is left unmanaged.
    desired, unmanaged = engineaware.fit_desired(desired, live.engine)
    env, prune, only = policy.env, policy.prune, policy.only
    plan = diff(desired, live, project, env=env, prune=prune, only=only, supplied_secrets=supplied)
    if policy.shard is not None:
        plan = _shard(plan, desired, live=live, project=project, policy=policy, supplied=supplied)
    # never user:password in engine_url: plans are posted and stored
    if refine is not None:
        plan = refine(plan, live)
    plan = replace(
        plan,
        environment=policy.env,
        engine_url=client.url,
        duplicates=refuse_duplicates(live.duplicates, prune=policy.prune),
    )
    managed = safety.managed_count(live, project, policy.env, desired)
    plan = safety.check_safety(plan, project, managed_count=managed, force=policy.force)
    plan = replace(plan, notices=(*unmanaged, *plan.notices))
    # After the thresholds: --force lifts those, never the refusal to wipe memories.
    plan = engineaware.review(plan, live.engine)
    return Planned(plan=plan, live=live)


def _shard(
    plan: Plan,
    desired: State,
    *,
    live: LiveSnapshot,
    project: Project,
    policy: Policy,
    supplied: Collection[str],
) -> Plan:
    """Every shard sees the whole catalog, but only shard 1 writes catalog skills, so
    parallel runners never import the same skill twice."""
    assert policy.shard is not None
    catalog = compare.catalog_changes(
        desired, live, project, env=policy.env, prune=policy.prune, supplied=supplied
    )
    return compare.shard_plan(plan, *policy.shard, catalog)


def refuse_duplicates(found: Sequence[Duplicate], *, prune: bool) -> tuple[Duplicate, ...]:
    """Live duplicates as plan changes under --prune; without it, a PlanError."""
    # Only the first copy of a name is managed; the others would run or live on unseen, so
    # they are a change (deleted under --prune), never a warning that leaves exit 0.
    if found and not prune:
        raise PlanError(
            f"{duplicates_line(found)}: "
            "run with --prune to delete the extra copies, or delete them on the engine"
        )
    return tuple(found)


def require_reviewed(
    plan: Plan, live: LiveSnapshot, *, saved: Plan | None, checksum: str | None
) -> None:
    """Refuse a fresh `plan` that is not the reviewed one (PlanError).

    A saved plan must still describe the engine (no fingerprint moved) and the fresh plan
    must have its change set; an ``--expect-checksum`` must match the fresh change set.
    """
    if saved is not None:
        stale = safety.check_fresh(saved, live)
        if stale:
            raise PlanError(
                f"the engine changed since the plan was made ({', '.join(stale)}): "
                "run plan again and review the new plan"
            )
        checksum = checksum or safety.checksum(saved)
    now = safety.checksum(plan)
    if checksum and now != checksum:
        raise PlanError(
            "the change set differs from the reviewed plan "
            f"(reviewed {checksum[:12]}, now {now[:12]}): "
            "the repo or the engine moved since the review; plan again and review it"
        )


def apply(
    client: EngineClient,
    plan: Plan,
    *,
    secrets: Mapping[str, str],
    dry_run: bool = False,
    prune: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Run the plan's operations (and nothing else); removals only when `prune`.

    An unsafe plan is refused here (``UnsafePlan``, exit 4), before any call.
    """
    safety.require_safe(plan)
    report = apply_plan(
        client, plan, secrets=secrets, dry_run=dry_run, prune=prune, on_progress=on_progress
    )
    if plan.duplicates and prune:
        found = delete_duplicates(client, list(plan.duplicates), dry_run=dry_run)
        report.results += found
        report.calls_made += 0 if dry_run else len(found)
    return report


def verify(
    client: EngineClient,
    report: ApplyReport,
    desired: State,
    project: Project,
    policy: Policy,
    *,
    supplied: Collection[str] = (),
) -> list[str]:
    """Re-read what apply wrote and no answer confirmed, diff it; sets report.non_converged.

    A change whose every write was confirmed by the engine's own answer (``settled``) is
    not read again: its answers already showed the state the plan asked for.
    """
    touched = {r.key for r in report.results if r.calls and not r.settled}
    if report.dry_run or not touched:
        return []
    slugs = sorted(k.split("/", 1)[1] for k in touched if k.startswith("instance/"))
    live = read_live(client, scope=project.scope_for(policy.env), only=slugs, skills=True)
    desired, _ = engineaware.fit_desired(desired, live.engine)
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
