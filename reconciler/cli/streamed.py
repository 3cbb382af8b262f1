"""Apply through the pipeline: each instance read, diffed, written and verified on its own.

Used whenever an apply writes the whole scope it plans (no --dry-run, --shard or
--instance/--skill targets): the plan comes out of the same diff, so the printed plan,
safety verdict and exit codes are those of the classic plan-then-apply.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import core, stream
from reconciler.cli import context, scoping
from reconciler.cli.output import use_color
from reconciler.cli.pipeline import check_against_engine, supplied_secret_vars
from reconciler.cli.saved import check_target, load_saved, print_report, progress, record_commit
from reconciler.config.load import LoadedRepo
from reconciler.engine.client import EngineClient
from reconciler.engine.report import ApplyReport
from reconciler.errors import PlanError
from reconciler.plan import safety
from reconciler.plan.changes import Plan
from reconciler.render import text


def saved_plan(path: Path | None) -> Plan | None:
    """The saved plan of --plan, read once (None without --plan)."""
    return load_saved(path) if path is not None else None


def streams(*, dry_run: bool, shard: str | None, targeted: bool, saved: Plan | None) -> bool:
    """Whether this apply runs pipelined (the others plan everything first)."""
    return not (dry_run or shard or targeted or (saved is not None and saved.targets))


def apply_streamed(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    *,
    review: stream.Review,
    saved: Plan | None,
    prune: bool,
    force: bool,
    ref: str | None,
    record_applied: bool,
) -> ApplyReport:
    """Run the pipeline, print the plan (unless one was shown) and the outcome."""
    scoped = scoping.resolve(loaded, client, opts, ref=ref, shard=None)
    only = set(saved.scope) if saved and saved.scope is not None else scoped.only
    env_name, _ = context.selected_env(loaded.project, opts.env_name)
    policy = core.Policy(env=env_name, prune=prune, only=only, force=force)
    done = stream.apply_pipelined(
        client,
        loaded.state,
        loaded.project,
        policy,
        secrets=context.environ(),
        supplied=supplied_secret_vars(loaded),
        review=review,
        check=lambda live: check_against_engine(loaded, live),
        on_progress=progress,
    )
    plan = scoping.stamp(done.plan, scoped, opts)
    if review.plan is None and not done.stopped:
        click.echo(_render(plan))
        safety.require_safe(plan)  # exit 4: the pipeline wrote nothing
    if not plan.has_changes and not done.stopped:
        click.echo("Nothing to apply.")
    print_report(done.report, dry_run=False)
    for line in done.refused:
        click.echo(f"error: {line}", err=True)
    record_commit(opts, client, plan, done.report, wanted=record_applied)
    return done.report


def review_of(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    *,
    saved: Plan | None,
    prune: bool,
    expect: str | None,
) -> stream.Review:
    """The gates of this apply; a saved plan for another target is refused here (PlanError)."""
    if saved is None:
        return stream.Review(checksum=expect)
    check_target(saved, loaded, client, opts)
    if any(c.action == "delete" for c in saved.changes) and not prune:
        raise PlanError("the saved plan deletes objects: pass --prune to apply it")
    if expect and safety.checksum(saved) != expect:
        raise PlanError(
            f"the reviewed plan's checksum is {safety.checksum(saved)[:12]}, not {expect[:12]}: "
            "nothing was written; apply the plan that was reviewed"
        )
    return stream.Review(plan=saved)


def _render(plan: Plan) -> str:
    return text.to_text(plan, color=use_color())
