"""Apply's two entry points (fresh or saved plan) and its report, with the safety checks."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import core
from reconciler.cli import context, scoping
from reconciler.cli.pipeline import make_plan, supplied_secret_vars
from reconciler.cli.targets import Targets
from reconciler.config import gitscope
from reconciler.config.load import LoadedRepo
from reconciler.engine.client import EngineClient
from reconciler.engine.report import ApplyReport
from reconciler.errors import PlanError
from reconciler.model.checks import public_url, visible
from reconciler.plan.changes import Plan
from reconciler.plan.planfile import plan_from_json


def plan_to_apply(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    *,
    plan_file: Path | None,
    prune: bool,
    force: bool,
    ref: str | None,
    shard: str | None,
    expect_checksum: str | None,
    targets: Targets | None = None,
) -> Plan:
    """A fresh plan, or the saved one re-checked against the engine; refuses what moved."""
    saved = load_saved(plan_file) if plan_file else None
    if saved is not None:
        check_target(saved, loaded, client, opts)
        if any(c.action == "delete" for c in saved.changes) and not prune:
            raise PlanError("the saved plan deletes objects: pass --prune to apply it")
        targets = _saved_targets(saved, targets)
    scoped = scoping.resolve(loaded, client, opts, ref=ref, shard=shard, targets=targets)
    only = set(saved.scope) if saved and saved.scope is not None else scoped.only
    fresh = make_plan(
        loaded,
        client,
        opts,
        prune=prune,
        force=force,
        only=only,
        shard=scoped.shard,
        targets=scoped.targets,
    )
    the_plan = scoping.stamp(fresh.plan, scoped, opts)
    core.require_reviewed(the_plan, fresh.live, saved=saved, checksum=expect_checksum)
    return the_plan


def _saved_targets(saved: Plan, given: Targets | None) -> Targets:
    """A saved plan applies exactly the targets it was made with; others are refused."""
    recorded = Targets.from_list(saved.targets or [])
    if given and given != recorded:
        raise PlanError(
            f"the saved plan was made for {recorded.describe() or 'every object'}, "
            f"not {given.describe()}: apply it without --instance/--skill, or plan again"
        )
    return recorded


def load_saved(path: Path) -> Plan:
    """The saved plan at `path` (PlanError when it cannot be read or is not one)."""
    try:
        return plan_from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read the saved plan {path}: {exc}") from exc


def check_target(
    saved: Plan, loaded: LoadedRepo, client: EngineClient, opts: context.Options
) -> None:
    """Refuse a saved plan made for another environment or engine."""
    env_name, _ = context.selected_env(loaded.project, opts.env_name)
    if saved.environment != env_name:
        raise PlanError(
            f"the saved plan is for environment {saved.environment or 'default'!r}, "
            f"this run targets {env_name or 'default'!r}"
        )
    if saved.engine_url and public_url(saved.engine_url) != client.url:
        raise PlanError(
            f"the saved plan was made against {public_url(saved.engine_url)}, "
            f"this run targets {client.url}"
        )


def apply_and_report(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    the_plan: Plan,
    *,
    prune: bool,
    dry_run: bool,
    record: bool = False,
) -> ApplyReport:
    """Run the plan, verify convergence, print the outcome and record the applied commit."""
    if not the_plan.has_changes:
        click.echo("Nothing to apply.")
    secrets = context.environ()
    report = core.apply(
        client, the_plan, secrets=secrets, dry_run=dry_run, prune=prune, on_progress=progress
    )
    if not dry_run and the_plan.has_changes:
        policy = core.Policy(env=the_plan.environment, prune=prune)
        supplied = supplied_secret_vars(loaded)
        core.verify(client, report, loaded.state, loaded.project, policy, supplied=supplied)
    print_report(report, dry_run=dry_run)
    if not dry_run:
        record_commit(opts, client, the_plan, report, wanted=record)
    return report


def record_commit(
    opts: context.Options, client: EngineClient, plan: Plan, report: ApplyReport, *, wanted: bool
) -> None:
    """Tag the applied commit (--record-applied) once everything was applied."""
    if wanted and report.ok() and plan.commit:
        env = plan.environment or "default"
        tag = gitscope.record_applied(opts.root, env, plan.commit, engine_url=client.url)
        click.echo(f"recorded {plan.commit[:12]} as applied to {env} ({tag})")


def progress(line: str) -> None:
    """Apply's progress lines, on stderr."""
    click.echo(line, err=True)


def print_report(report: ApplyReport, *, dry_run: bool) -> None:
    """One line per change, warnings and convergence errors, and the write count."""
    for result in report.results:
        verb = "would call" if dry_run else result.status
        line = f"{verb}: {result.key} ({result.action}) {result.reason}".rstrip()
        click.echo(visible(line))
        if dry_run:
            for call in result.calls:
                click.echo(f"    {call.method} {call.path}")
    for var in report.missing_secrets:
        click.echo(f"warning: no value supplied for {var}; left as it is on the engine", err=True)
    for key in report.non_converged:
        click.echo(f"error: {key} did not converge: a plan after apply still differs", err=True)
    click.echo(f"apply: {report.calls_made} write call(s)" + (" (dry run)" if dry_run else ""))
