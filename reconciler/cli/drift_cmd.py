"""`drift`: where the engine differs from the repository's files, as a report (exit 3)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import scoping
from reconciler.cli.options import common, finish, options, output_format, targeting, targets_of
from reconciler.cli.output import use_color, write_file
from reconciler.cli.pipeline import engine, load_valid, make_plan
from reconciler.errors import EXIT_CHANGES, EXIT_OK
from reconciler.plan.changes import Plan
from reconciler.render import text as render


@click.command()
@common
@output_format("the drift report")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report.")
@targeting
def drift(
    *,
    root: Path | None,
    env_name: str | None,
    insecure: bool,
    fmt: str,
    out: Path | None,
    target_instances: tuple[str, ...],
    target_skills: tuple[str, ...],
) -> None:
    """Report where the engine differs from the repository's files (exit 3 on drift).

    Compares the working tree as it is checked out (in CI: the default branch's head),
    deletes included, whatever prune settings say.
    """
    opts = options(root, env_name, insecure)
    loaded = load_valid(opts)
    targets = targets_of(target_instances, target_skills)
    with engine(loaded, opts) as client:
        scoped = scoping.resolve(loaded, client, opts, ref=None, shard=None, targets=targets)
        planned = make_plan(
            loaded, client, opts, prune=True, force=True, only=scoped.only, targets=targets
        )
    the_plan = scoping.stamp(planned.plan, scoped, opts)
    text = _report(the_plan, opts.root, fmt)
    if out:
        write_file(out, text)
    click.echo(text)
    finish(EXIT_CHANGES if the_plan.has_changes else EXIT_OK)


def _report(the_plan: Plan, root: Path, fmt: str) -> str:
    """The drift report for `the_plan` in `fmt` (text, markdown or json)."""
    from reconciler.config import gitscope
    from reconciler.render import drift as drifting

    env = the_plan.environment or "default"
    branch = scoping.branch_name(root)
    applied = gitscope.last_applied(root, env) if the_plan.commit else None
    if fmt == "json":
        return drifting.drift_json(
            the_plan, branch=branch, commit=the_plan.commit, last_applied=applied
        )
    if fmt == "markdown":
        return drifting.drift_markdown(
            the_plan,
            branch=branch,
            commit=the_plan.commit,
            last_applied=applied,
            marker=f"<!-- polyant-gitops:drift:{env} -->",
        )
    return render.to_text(the_plan, color=use_color())
