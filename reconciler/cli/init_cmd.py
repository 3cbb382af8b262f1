"""`polyant-gitops init`: make a folder a config repository (and optionally fill it)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.options import finish
from reconciler.config.scaffold import scaffold
from reconciler.config.schema import write_schemas

NEXT_STEPS = """
Next:
  polyant-gitops sandbox                  # an engine to try things on (prints export lines)
  mkdir -p instances/my-agent && $EDITOR instances/my-agent/instance.yaml
  polyant-gitops validate && polyant-gitops plan
Set the staging/production URLs in polyant.yaml and a POLYANT_TOKEN secret per GitHub
environment; the workflows in .github/workflows plan pull requests and apply merges."""


@click.command()
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder to initialise (default: the current folder; created if missing).",
)
@click.option(
    "--from-engine",
    is_flag=True,
    help="Then export the live engine into it (POLYANT_URL and POLYANT_TOKEN, or --env).",
)
@click.option("--env", "env_name", help="With --from-engine: the environment to export from.")
@click.option("--insecure", is_flag=True, help="Allow plain http to a non-loopback engine.")
def init(root: Path | None, from_engine: bool, env_name: str | None, insecure: bool) -> None:
    """Scaffold polyant.yaml, .schemas/, .gitignore, .pre-commit-config.yaml and workflows.

    Existing files are kept as they are; the workflows install this polyant-gitops
    version from PyPI (pinned), so bumping it is a reviewed change.
    """
    target = (root or Path.cwd()).resolve()
    target.mkdir(parents=True, exist_ok=True)
    done = scaffold(target)
    write_schemas(target)
    for rel in done.written:
        click.echo(f"wrote {rel}")
    for rel in done.kept:
        click.echo(f"kept {rel} (already there)")
    click.echo("wrote .schemas/ (editor completion for the YAML files)")
    if from_engine:
        from reconciler.cli.engine_cmds import export

        click.get_current_context().invoke(
            export,
            root=target,
            env_name=env_name,
            insecure=insecure,
            instances=(),
            skills=True,
            full=False,
            force=False,
        )
    click.echo(NEXT_STEPS)
    finish(0)


def register(group: click.Group) -> None:
    """Attach this module's command."""
    group.add_command(init)
