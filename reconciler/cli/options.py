"""Click options shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.cli.context import Options
from reconciler.cli.targets import Targets
from reconciler.config.discover import config_root
from reconciler.config.scaffold import scaffold
from reconciler.config.tree import PROJECT_FILE

F = TypeVar("F", bound=Callable[..., Any])


def common(func: F) -> F:
    """--root, --env and --insecure, gathered into an `opts: Options` argument."""
    func = click.option(
        "--insecure", is_flag=True, help="Allow plain http to a non-loopback engine."
    )(func)
    func = click.option("--env", "env_name", help="Environment of polyant.yaml to use.")(func)
    return root_option(func)


def root_option(func: F) -> F:
    """--root: the one way every command names the config repository."""
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The config repository (default: the nearest folder upward holding polyant.yaml).",
    )(func)


def options(
    root: Path | None, env_name: str | None, insecure: bool, *, create: bool = False
) -> Options:
    """Bundle the common option values; the root is found (or refused) here, once."""
    found = config_root(root, Path.cwd(), create=create)
    return Options(root=found, env_name=env_name, insecure=insecure)


def finish(code: int) -> None:
    """End the command with `code` (click turns this into the process exit status)."""
    click.get_current_context().exit(code)


def creating(root: Path | None, env_name: str | None, insecure: bool) -> Options:
    """Options for a command that fills a repository (export, bundle import): a folder
    without polyant.yaml gets a minimal one, so what it writes validates and plans."""
    opts = options(root, env_name, insecure, create=True)
    for rel in scaffold(opts.root, only=(PROJECT_FILE,)).written:
        click.echo(f"wrote {rel} (a minimal one: review its environments)", err=True)
    return opts


def targeting(func: F) -> F:
    """--instance and --skill (repeatable globs): plan, apply or drift only those objects."""
    func = click.option(
        "--skill",
        "target_skills",
        multiple=True,
        metavar="GLOB",
        help="Only this catalog skill (repeatable, glob allowed, e.g. 'faq-*').",
    )(func)
    return click.option(
        "--instance",
        "target_instances",
        multiple=True,
        metavar="GLOB",
        help="Only this instance and the skills it assigns (repeatable, glob allowed).",
    )(func)


def targets_of(instances: tuple[str, ...], skills: tuple[str, ...]) -> Targets:
    """The Targets of a run's --instance and --skill values."""
    return Targets(instances=instances, skills=skills)


def output_format(what: str) -> Callable[[F], F]:
    """--format text|markdown|json (default text): how `what` is printed on stdout."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "markdown", "json"]),
        default="text",
        show_default=True,
        help=f"How to print {what} on stdout.",
    )
