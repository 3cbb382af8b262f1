"""Commands that talk to the engine: export, plan, apply, drift."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import github_out, scoping
from reconciler.cli.applying import Steps, run_pipelined, run_planned
from reconciler.cli.drift_cmd import drift
from reconciler.cli.options import (
    common,
    creating,
    finish,
    options,
    output_format,
    targeting,
    targets_of,
)
from reconciler.cli.output import use_color, write_file
from reconciler.cli.overrides import keep_overrides
from reconciler.cli.pipeline import engine, make_plan, plan_streamed, policy_of
from reconciler.cli.streamed import saved_plan, streams
from reconciler.config.dirty import refuse_uncommitted
from reconciler.config.load import load_project, load_repo
from reconciler.config.schema import write_schemas
from reconciler.config.writer import write_repo
from reconciler.engine.read import read_live
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.model.checks import visible
from reconciler.plan import safety
from reconciler.plan.planfile import plan_to_json
from reconciler.render import text as render


@click.command()
@common
@click.option("--instance", "instances", multiple=True, help="Export only this instance.")
@click.option("--skills/--no-skills", default=True, help="Export the custom skills too.")
@click.option("--full", is_flag=True, help="Write every field, even ones the files omit.")
@click.option(
    "--force", is_flag=True, help="Overwrite files even when they hold uncommitted changes."
)
def export(
    *,
    root: Path | None,
    env_name: str | None,
    insecure: bool,
    instances: tuple[str, ...],
    skills: bool,
    full: bool,
    force: bool,
) -> None:
    """Write the live engine's instances and skills into the repository's files.

    A folder without polyant.yaml gets a minimal one, and .schemas/ so the files' editor
    modelines resolve. Files with uncommitted changes are not overwritten without --force.
    """
    opts = creating(root, env_name, insecure)
    loaded = load_project(opts.root, env=opts.env_name)
    if loaded.environment:
        loaded = load_repo(opts.root, env=opts.env_name)  # overrides need the base files
    with engine(loaded, opts) as client:
        live = read_live(
            client,
            scope=loaded.project.scope_for(loaded.environment),
            only=instances or None,
            skills=skills,
        )
    notices = live.notices + keep_overrides(live.state.instances, loaded)
    result = write_repo(
        opts.root,
        live.state,
        only_instances=instances or None,
        skills=skills,
        agent_owned_prompts=loaded.project.agent_owned_prompts,
        full=full,
        variables=loaded.variables,
        before_write=None if force else lambda paths: refuse_uncommitted(opts.root, paths),
    )
    write_schemas(opts.root)
    for notice in notices:
        click.echo(visible(f"warning: {notice.key}: {notice.message}"), err=True)
    for warning in result.warnings:
        click.echo(visible(f"warning: {warning}"), err=True)
    click.echo(f"export: {len(result.written)} file(s) written, {len(result.unchanged)} unchanged")
    finish(0)


@click.command()
@common
@click.option("--prune", is_flag=True, help="Plan deletes of objects missing from the repo.")
@click.option("--force", is_flag=True, help="Ignore the safety thresholds.")
@output_format("the plan")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save plan JSON.")
@click.option(
    "--markdown-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the plan as Markdown (the pull request comment) to this file.",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 3 when there are changes.")
@click.option("--changed-since", "ref", help="Plan only what changed since this git ref.")
@click.option("--shard", help="Plan shard I of N of the managed instances, e.g. 2/4.")
@targeting
def plan(
    *,
    root: Path | None,
    env_name: str | None,
    insecure: bool,
    prune: bool,
    force: bool,
    fmt: str,
    out: Path | None,
    markdown_out: Path | None,
    detailed_exitcode: bool,
    ref: str | None,
    shard: str | None,
    target_instances: tuple[str, ...],
    target_skills: tuple[str, ...],
) -> None:
    """Show what apply would change on the engine."""
    opts = options(root, env_name, insecure)
    targets = targets_of(target_instances, target_skills)
    loaded = scoping.load_scoped(opts, ref=ref, shard=shard, targets=targets)
    with engine(loaded, opts) as client:
        scoped = scoping.resolve(loaded, client, opts, ref=ref, shard=shard, targets=targets)
        if scoped.shard is None and not scoped.targets:
            # Streamed: the live fleet is never held (shards and targets need it whole).
            policy = policy_of(loaded, opts, prune=prune, force=force, only=scoped.only)
            planned = plan_streamed(loaded, client, policy)
        else:
            planned = make_plan(
                loaded,
                client,
                opts,
                prune=prune,
                force=force,
                only=scoped.only,
                shard=scoped.shard,
                targets=scoped.targets,
            ).plan
    the_plan = scoping.stamp(planned, scoped, opts)
    marker = f"<!-- polyant-gitops:plan:{the_plan.environment or 'default'} -->"
    markdown = render.to_markdown(the_plan, title=_title(the_plan), marker=marker)
    if out:
        write_file(out, plan_to_json(the_plan))
    if markdown_out:
        write_file(markdown_out, markdown)
    shown = {
        "text": lambda: render.to_text(the_plan, color=use_color()),
        "markdown": lambda: markdown,
        "json": lambda: render.to_json(the_plan),
    }[fmt]()
    click.echo(shown)
    github_out.plan_outputs(the_plan, markdown)
    safety.require_safe(the_plan)
    finish(EXIT_CHANGES if the_plan.has_changes and detailed_exitcode else EXIT_OK)


@click.command()
@common
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Apply this saved plan (from plan --out) exactly, if the engine has not moved.",
)
@click.option("--expect-checksum", help="Refuse unless the change set has this checksum.")
@click.option("--prune", is_flag=True, help="Apply deletes of objects missing from the repo.")
@click.option("--force", is_flag=True, help="Ignore the safety thresholds.")
@click.option("--dry-run", is_flag=True, help="Print the exact calls without sending writes.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="JSON report.")
@click.option("--changed-since", "ref", help="Apply only what changed since this git ref.")
@click.option("--shard", help="Apply shard I of N of the managed instances, e.g. 2/4.")
@click.option(
    "--record-applied",
    is_flag=True,
    help="Tag the applied commit polyant-applied/<env> so drift can tell who moved.",
)
@click.option(
    "--auto-approve",
    is_flag=True,
    help="Apply without asking (CI); without it apply asks on a terminal and refuses elsewhere.",
)
@click.option(
    "--no-lock",
    is_flag=True,
    help="Skip the engine's apply lease (rehearsals on a private engine only).",
)
@targeting
def apply(
    *,
    root: Path | None,
    env_name: str | None,
    insecure: bool,
    plan_file: Path | None,
    expect_checksum: str | None,
    prune: bool,
    force: bool,
    dry_run: bool,
    report: Path | None,
    ref: str | None,
    shard: str | None,
    record_applied: bool,
    auto_approve: bool,
    no_lock: bool,
    target_instances: tuple[str, ...],
    target_skills: tuple[str, ...],
) -> None:
    """Make the engine match the repository (or execute a saved plan).

    On a terminal it prints the plan and asks "apply these changes? (yes/no)"; a saved plan
    (--plan, already reviewed), --dry-run and --auto-approve do not ask.

    Instances are read, diffed, written and verified one by one, so reads and writes
    overlap (--dry-run, --shard and --instance/--skill plan everything first). The plan
    printed, its safety verdict (exit 4 writes nothing) and a reviewed plan's gates are
    those of `plan`; an object that moved since its review is not written.

    One apply at a time per engine: apply holds a lease on the engine (an inactive
    instance named polyant-gitops-apply-lease) for its writes; a second apply waits for it
    (POLYANT_LEASE_WAIT_SECONDS / leaseWaitSeconds, default 300) and then refuses, naming
    the holder and the expiry. Like Terraform's state lock, an unattended apply takes it
    before its first read (it plans while it writes); one that asks takes it after "yes".
    --dry-run, --no-lock and a shown plan without changes take no lease.
    """
    opts = options(root, env_name, insecure)
    targets = targets_of(target_instances, target_skills)
    saved = saved_plan(plan_file)
    steps = Steps(opts, plan_file, prune, force, ref, shard, expect_checksum)
    if streams(dry_run=dry_run, shard=shard, targeted=bool(targets), saved=saved):
        result = run_pipelined(
            steps, saved, ask=not auto_approve, lock=not no_lock, record=record_applied
        )
    else:
        result = run_planned(
            steps,
            targets,
            dry_run=dry_run,
            auto_approve=auto_approve,
            lock=not no_lock,
            record=record_applied,
        )
    if report:
        write_file(report, result.to_json())
    github_out.apply_outputs(result)
    finish(EXIT_OK if result.ok() else EXIT_ERROR)


def _title(the_plan: object) -> str:
    env = getattr(the_plan, "environment", None)
    return f"polyant-gitops plan — {env}" if env else "polyant-gitops plan"


def register(group: click.Group) -> None:
    """Attach this module's commands."""
    for command in (export, plan, apply, drift):
        group.add_command(command)
