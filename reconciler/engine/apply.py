"""Execute a Plan's operations through the engine API: paced, parallel per instance, failure-aware.

Apply runs the plan's operations and nothing else (``executor.dispatch.HANDLERS`` maps each
operation type to its calls); it never compares desired with live state. The plan decided
the order: the waves of its changes — catalog skills (one import call for all), instances
switching their `agent` channel, the other instances, instance deletes, skill archives —
and, inside a change, the order of its operations. Different instances of a wave run in
parallel, one instance's operations in sequence; tools operations marked ``deferred`` run
after their wave, so `agent:<callee>` can be added (§17.6). A failed operation is reported;
its dependants are skipped (a failed create skips the whole instance, a failed skill
import skips the assignments of that skill) and everything else goes on. Writes are
never resent blindly: an unknown outcome is settled by re-reading.

Minimal writes per change (tests/apply/test_minimal.py holds apply to it, and
tests/plan/test_plan_operations.py the plan's operations as far as the plan decides):

=====================  ===============================================================
catalog skills         1 import per ≤ 100 KB batch of new/changed skills; archive: 1 DELETE
instance create        POST + whatever differs from a fresh instance (below)
settings / icon        1 PATCH of the changed fields (provider+model together) / 1 PUT|DELETE
secrets                1 PUT per 64 keys, only when a declared key is missing and supplied
skill assignment       new: enable (+ rollback if pinned ≠ current) (+ auto-load) (+ disable);
                       existing: enable|disable, upgrade|rollback, auto-load — each if it differs
tools                  0 or 1 PATCH (a GET decides when skills moved or the sets differ)
skill env              1 PUT per skill with a changed or missing key
prompts                1 PATCH per ≤ 8 changed sections under 100 KB
channel / room         1 PUT per channel whose switch differs / 1 PUT of changed fields
event source           new: POST + 1 POST per definition; changed: 1 PUT, + 1 PUT per changed
                       definition; sourceType change: DELETE + POST (+ definitions)
scheduled task         new: POST (+ PATCH when disabled); changed: 1 PATCH
removals (prune)       1 DELETE each; instance: 1 DELETE per task, then the instance
=====================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from reconciler.engine.client import EngineClient
from reconciler.engine.executor.change import ChangeRun
from reconciler.engine.executor.context import RunContext
from reconciler.engine.executor.dispatch import run_operations
from reconciler.engine.executor.skills import import_skills
from reconciler.engine.report import ApplyReport, Call, ChangeResult
from reconciler.plan.changes import WAVES, Change, Plan, Wave

__all__ = [
    "ApplyReport",
    "Call",
    "ChangeResult",
    "apply_plan",
    "report_of",
    "run_change",
    "run_waves",
]


def apply_plan(
    client: EngineClient,
    plan: Plan,
    *,
    secrets: Mapping[str, str],
    dry_run: bool = False,
    prune: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Run every operation of `plan`; `secrets` is the environment holding secret values.

    Removals (operations the plan marked ``prune``) run only when `prune` allows them.
    """
    ctx = RunContext(client, secrets, dry_run=dry_run, prune=prune, on_progress=on_progress)
    return report_of(ctx, run_waves(ctx, plan))


def run_waves(ctx: RunContext, plan: Plan) -> list[ChangeRun]:
    """Every change of `plan`, wave after wave; the runs, in plan order."""
    runs = [ChangeRun(ctx, change) for change in plan.changes]
    for wave in WAVES:
        _run_wave(ctx, wave, [run for run in runs if run.change.wave == wave])
    for run in runs:
        for var in run.change.unsupplied:
            ctx.missing(var)
    return runs


def run_change(ctx: RunContext, change: Change) -> ChangeRun:
    """One change that depends on no other instance, run on its own (a pipelined apply)."""
    run = ChangeRun(ctx, change)
    ctx.progress(f"{run.key}: {change.action}")
    run_operations(run)
    for var in change.unsupplied:
        ctx.missing(var)
    return run


def _run_wave(ctx: RunContext, wave: Wave, members: list[ChangeRun]) -> None:
    """One wave: imports batched, archives in order, instances side by side, then deferrals."""
    if wave == "catalog":
        import_skills(ctx, members)
    elif wave == "archives":
        for run in members:
            run_operations(run)
    else:
        _parallel(ctx, members, run_operations)
    late = [run for run in members if any(o.args.get("deferred") for o in run.change.operations)]
    if late:
        _parallel(ctx, late, partial(run_operations, deferred=True), quiet=True)


def report_of(ctx: RunContext, runs: list[ChangeRun]) -> ApplyReport:
    """The report of these runs, with the context's counters."""
    return ApplyReport(
        results=[run.result() for run in runs],
        missing_secrets=sorted(ctx.missing_secrets),
        calls_made=ctx.writes,
        reads_made=ctx.reads,
        notices=list(ctx.notices),
        dry_run=ctx.dry_run,
    )


def _parallel(
    ctx: RunContext, runs: list[ChangeRun], fn: Callable[[ChangeRun], None], *, quiet: bool = False
) -> None:
    """Different instances side by side (the client paces per handler)."""

    def job(run: ChangeRun) -> None:
        if not quiet:
            ctx.progress(f"{run.key}: {run.change.action}")
        fn(run)

    ctx.client.parallel([partial(job, run) for run in runs])
