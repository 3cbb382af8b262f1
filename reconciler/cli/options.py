"""Click options shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.cli.context import Options
from reconciler.config.exportfiles import atomic_write

F = TypeVar("F", bound=Callable[..., Any])


def common(func: F) -> F:
    """--root, --env and --insecure, gathered into an `opts: Options` argument."""
    func = click.option(
        "--insecure", is_flag=True, help="Allow plain http to a non-loopback engine."
    )(func)
    func = click.option("--env", "env_name", help="Environment of polyant.yaml to use.")(func)
    func = click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(),
        show_default=True,
        help="The config repository.",
    )(func)
    return func


def options(root: Path, env_name: str | None, insecure: bool) -> Options:
    """Bundle the common option values."""
    return Options(root=root.resolve(), env_name=env_name, insecure=insecure)


def finish(code: int) -> None:
    """End the command with `code` (click turns this into the process exit status)."""
    click.get_current_context().exit(code)


def write_file(path: Path, content: str | bytes) -> None:
    """Write an output file (plan, report, bundle) atomically; text ends with a newline."""
    if isinstance(content, str):
        content = (content if content.endswith("\n") else content + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, content)
