"""Commands that need no engine: validate and schema."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import context
from reconciler.cli.options import finish, options, root_option
from reconciler.config.load import load_repo
from reconciler.config.schema import write_schemas
from reconciler.config.validate import format_problem


@click.command()
@root_option
@click.option("--env", "env_name", help="Resolve variables and overrides of this environment.")
def validate(root: Path | None, env_name: str | None) -> None:
    """Check the repository; every problem at once as file:line:col (exit 1 on errors)."""
    loaded = load_repo(options(root, env_name, False).root, env=env_name)  # validates once
    problems = loaded.findings
    github = context.in_github_actions()
    for problem in problems:
        click.echo(format_problem(problem, github=False), err=True)
        if github:
            click.echo(format_problem(problem, github=True))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        click.echo(f"error: {len(errors)} problem(s) in the repository", err=True)
        finish(1)
    state = loaded.state
    click.echo(
        f"ok: {len(state.instances)} instance(s), {len(state.skills)} skill(s) valid"
        + (f", {len(problems)} warning(s)" if problems else "")
    )
    finish(0)


@click.command()
@root_option
def schema(root: Path | None) -> None:
    """Write JSON Schemas to .schemas/ for editor completion (yaml-language-server)."""
    for path in write_schemas(options(root, None, False).root):
        click.echo(f"wrote {path}")
    finish(0)


def register(group: click.Group) -> None:
    """Attach this module's commands."""
    group.add_command(validate)
    group.add_command(schema)
