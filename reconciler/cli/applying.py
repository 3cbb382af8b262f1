"""apply's two ways of running: pipelined (the default) and plan-everything-first."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.cli import context, scoping
from reconciler.cli.confirm import confirm_apply
from reconciler.cli.context import Options
from reconciler.cli.output import use_color
from reconciler.cli.pipeline import engine, load_valid
from reconciler.cli.saved import apply_and_report, plan_to_apply
from reconciler.cli.streamed import apply_streamed, review_of
from reconciler.cli.targets import Targets
from reconciler.config.load import LoadedRepo
from reconciler.engine.client import EngineClient
from reconciler.engine.lease import Lease, held
from reconciler.engine.report import ApplyReport
from reconciler.errors import PlanError
from reconciler.plan import safety
from reconciler.plan.changes import Plan
from reconciler.render import text as render


@dataclass(frozen=True)
class Steps:
    """What apply was asked, shared by its two ways of running."""

    opts: Options
    plan_file: Path | None
    prune: bool
    force: bool
    ref: str | None
    shard: str | None
    expect_checksum: str | None

    def planner(
        self, loaded: LoadedRepo, client: EngineClient, targets: Targets | None
    ) -> Callable[[], Plan]:
        return functools.partial(
            plan_to_apply,
            loaded,
            client,
            self.opts,
            plan_file=self.plan_file,
            prune=self.prune,
            force=self.force,
            ref=self.ref,
            shard=self.shard,
            expect_checksum=self.expect_checksum,
            targets=targets,
        )


def run_pipelined(
    steps: Steps, saved: Plan | None, *, ask: bool, lock: bool, record: bool
) -> ApplyReport:
    """Read, write and verify instance by instance (reconciler/stream)."""
    opts = steps.opts
    loaded = (
        scoping.load_scoped(opts, ref=steps.ref, shard=None) if saved is None else load_valid(opts)
    )
    with engine(loaded, opts) as client:
        shown = _show(saved) if saved is not None else None
        if shown is None and ask:
            shown = _show(steps.planner(loaded, client, None)())
            if not shown.has_changes:
                return apply_and_report(
                    loaded, client, opts, shown, prune=steps.prune, dry_run=False
                )
            confirm_apply()
        review = review_of(
            loaded, client, opts, saved=shown, prune=steps.prune, expect=steps.expect_checksum
        )
        with held(_lease(client, loaded, opts) if lock else None):
            return apply_streamed(
                loaded,
                client,
                opts,
                review=review,
                saved=saved,
                prune=steps.prune,
                force=steps.force,
                ref=steps.ref,
                record_applied=record,
            )


def run_planned(
    steps: Steps,
    targets: Targets | None,
    *,
    dry_run: bool,
    auto_approve: bool,
    lock: bool,
    record: bool,
) -> ApplyReport:
    """Plan everything, then apply it (dry runs, shards, targeted applies)."""
    opts = steps.opts
    # A saved plan carries its own scope: load every folder it may name.
    loaded = (
        scoping.load_scoped(opts, ref=steps.ref, shard=steps.shard, targets=targets)
        if steps.plan_file is None
        else load_valid(opts)
    )
    with engine(loaded, opts) as client:
        make = steps.planner(loaded, client, targets)
        the_plan = _show(make())
        asked = the_plan.has_changes and not (auto_approve or dry_run or steps.plan_file)
        if asked:
            confirm_apply()
        skip = dry_run or not lock or not the_plan.has_changes
        with held(None if skip else _lease(client, loaded, opts)):
            if not skip:
                the_plan = _under_lease(make, the_plan, asked=asked)
            return apply_and_report(
                loaded, client, opts, the_plan, prune=steps.prune, dry_run=dry_run, record=record
            )


def _show(the_plan: Plan) -> Plan:
    click.echo(render.to_text(the_plan, color=use_color()))
    safety.require_safe(the_plan)  # exit 4 before anything is asked or written
    return the_plan


def _under_lease(make: Callable[[], Plan], shown: Plan, *, asked: bool) -> Plan:
    """The plan again, now that no other apply writes: another may have written meanwhile."""
    again = make()
    if safety.checksum(again) == safety.checksum(shown):
        return again
    if asked:
        raise PlanError(
            "the engine moved while this apply waited for the apply lease: "
            "nothing was written; run apply again and review the new plan"
        )
    click.echo("The engine moved while waiting for the apply lease; plan now:")
    return _show(again)


def _lease(client: EngineClient, loaded: LoadedRepo, opts: Options) -> Lease:
    wait = context.lease_wait_s(loaded.project, opts.env_name)
    say = functools.partial(click.echo, err=True)
    # Polling stays at 12 reads per rate window, so two waiters fit in one handler's budget.
    poll = client.config.rate_window_s / 12
    return Lease(client, holder=context.lease_holder(), wait_s=wait, poll_s=poll, on_wait=say)
