"""Execute a Plan through the engine API: ordered, paced, parallel per instance, failure-aware.

Order (contract §17.8, design §4): catalog skills (one import call for all), then instance
creates and updates — different instances in parallel, one instance's steps in sequence;
instances whose `agent` channel changes go first, and the tools of those among them that
call such a callee wait for a second pass, so `agent:<callee>` can be added — then
instance deletes, then skill archives (reverse dependency). A failed step is reported;
its dependants are skipped (a failed create skips the whole instance, a failed skill
import skips the assignments of that skill) and everything else goes on. Writes are
never resent blindly: an unknown outcome is settled by re-reading.

Minimal writes per change (tests/apply/test_minimal.py holds them to it):

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

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from functools import partial

from reconciler.engine import steps_skill
from reconciler.engine.client import EngineClient
from reconciler.engine.report import ApplyReport, Call, ChangeResult
from reconciler.engine.steps_common import ChangeRun, RunContext
from reconciler.engine.steps_instance import apply_instance, delete_instance, fresh_live
from reconciler.model.objects import Instance, State
from reconciler.model.project import Project
from reconciler.plan.changes import Change, LiveSnapshot, Plan

__all__ = ["ApplyReport", "Call", "ChangeResult", "apply_plan", "check_fresh", "verify"]


def apply_plan(
    client: EngineClient,
    plan: Plan,
    *,
    secrets: Mapping[str, str],
    project: Project,
    dry_run: bool = False,
    prune: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Apply every change of `plan`; `secrets` is the environment holding secret values."""
    ctx = RunContext(
        client, secrets, project, dry_run=dry_run, prune=prune, on_progress=on_progress
    )
    changes = _with_live(client, plan, project)
    runs = {change.key: ChangeRun(ctx, change) for change in changes}
    by_kind = _grouped(changes, runs)
    if by_kind["skill upsert"]:
        steps_skill.import_skills(ctx, by_kind["skill upsert"])
    first = [r for r in by_kind["instance upsert"] if _touches_agent(r.change)]
    rest = [r for r in by_kind["instance upsert"] if r not in first]
    ctx.deferred_tools = _early_callers(first)
    _parallel(ctx, first, apply_instance)
    _parallel(ctx, rest, apply_instance)
    _deferred_tools(ctx, first)
    _parallel(ctx, by_kind["instance delete"], delete_instance)
    for run in by_kind["skill delete"]:
        run.step("archive", partial(steps_skill.archive_skill, run))
    return _report(ctx, [runs[c.key] for c in changes])


def _report(ctx: RunContext, runs: list[ChangeRun]) -> ApplyReport:
    return ApplyReport(
        results=[run.result() for run in runs],
        missing_secrets=sorted(ctx.missing_secrets),
        calls_made=ctx.writes,
        reads_made=ctx.reads,
        notices=list(ctx.notices),
        dry_run=ctx.dry_run,
    )


def _with_live(client: EngineClient, plan: Plan, project: Project) -> list[Change]:
    """The plan's changes, each update carrying its live object.

    A plan loaded from a file has no live objects (only fingerprints): read the ones the
    updates need, once, so every step diffs against what is true now.
    """
    from reconciler.engine.read import read_live

    lacking = [c for c in plan.changes if c.action == "update" and c.live is None]
    if not lacking:
        return list(plan.changes)
    slugs = [c.slug for c in lacking if c.kind == "instance"]
    scope = project.scope_for(plan.environment)
    snapshot = read_live(client, scope=scope, only=slugs, skills=True)
    state = snapshot.state
    fill = {id(c) for c in lacking}
    return [
        replace(c, live=(state.instances if c.kind == "instance" else state.skills).get(c.slug))
        if id(c) in fill
        else c
        for c in plan.changes
    ]


def _grouped(changes: Sequence[Change], runs: dict[str, ChangeRun]) -> dict[str, list[ChangeRun]]:
    out: dict[str, list[ChangeRun]] = {
        "skill upsert": [],
        "skill delete": [],
        "instance upsert": [],
        "instance delete": [],
    }
    for change in changes:
        group = "delete" if change.action == "delete" else "upsert"
        out[f"{change.kind} {group}"].append(runs[change.key])
    return out


def _parallel(ctx: RunContext, runs: list[ChangeRun], fn: Callable[[ChangeRun], None]) -> None:
    """Different instances side by side (the client paces per handler)."""

    def job(run: ChangeRun) -> None:
        ctx.progress(f"{run.key}: {run.change.action}")
        run.step(run.change.action, partial(fn, run))

    ctx.client.parallel([partial(job, run) for run in runs])


def _touches_agent(change: Change) -> bool:
    """True when the change switches the instance's `agent` channel (a callee, §9.5)."""
    desired, live = change.desired, change.live
    if not isinstance(desired, Instance) or desired.channels is None:
        return False
    want = desired.channels.get("agent")
    have = (live.channels or {}).get("agent") if isinstance(live, Instance) else None
    if want is None:
        return have is not None and any(f.path == "channels.agent" for f in change.fields)
    return have is None or have.enabled != want.enabled


def _early_callers(first: list[ChangeRun]) -> set[str]:
    """Keys of first-group instances listing `agent:<callee>` of a callee switched on now.

    They run side by side with their callee, whose `agent:<slug>` catalog row may not
    exist yet when their tools step would run (§9.5): their tools wait for the second pass.
    """
    callees = set()
    for run in first:
        desired, live = run.change.desired, run.change.live
        wanted = desired.channels if isinstance(desired, Instance) else None
        want = (wanted or {}).get("agent")
        have = (live.channels or {}).get("agent") if isinstance(live, Instance) else None
        if want is not None and want.enabled and not (have is not None and have.enabled):
            callees.add(run.slug)
    return {
        run.key
        for run in first
        if isinstance(run.change.desired, Instance)
        and any(f"agent:{c}" in (run.change.desired.manual_tools or []) for c in callees)
    }


def _deferred_tools(ctx: RunContext, first: list[ChangeRun]) -> None:
    """The tools step of early callers, once every callee's agent channel is up (§17.6)."""
    for run in first:
        desired = run.change.desired
        if run.key not in ctx.deferred_tools or not isinstance(desired, Instance):
            continue
        if "create" in run.failed_steps:
            continue
        live = run.change.live if isinstance(run.change.live, Instance) else None
        base = live if live is not None else fresh_live(desired, {})
        run.step("tools", partial(steps_skill.apply_tools, run, desired, base, recheck=True))


def check_fresh(plan: Plan, live: LiveSnapshot) -> list[str]:
    """Keys of planned objects whose live fingerprint moved since the plan was made."""
    from reconciler.plan.safety import fingerprint

    stale = []
    for change in plan.changes:
        expected = plan.fingerprints.get(change.key)
        if expected is None:
            continue
        pool = live.state.instances if change.kind == "instance" else live.state.skills
        current = pool.get(change.slug)
        if fingerprint(current) != expected:
            stale.append(change.key)
    return stale


def verify(
    client: EngineClient,
    report: ApplyReport,
    desired: State,
    project: Project,
    *,
    env: str | None = None,
    prune: bool = False,
    supplied_secrets: Collection[str] = (),
) -> list[str]:
    """Re-read only the objects apply wrote to and diff them; sets report.non_converged."""
    from reconciler.engine.read import read_live
    from reconciler.plan.diff import diff

    touched = {r.key for r in report.results if r.calls}
    if report.dry_run or not touched:
        return []
    slugs = sorted(k.split("/", 1)[1] for k in touched if k.startswith("instance/"))
    live = read_live(client, scope=project.scope_for(env), only=slugs, skills=True)
    again = diff(
        desired, live, project, env=env, prune=prune, only=slugs, supplied_secrets=supplied_secrets
    )
    report.non_converged = sorted({c.key for c in again.changes if c.key in touched})
    return report.non_converged
