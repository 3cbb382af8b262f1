"""How the engine commands write: colour on terminals only, files replaced atomically."""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.cli import context
from reconciler.config.exportfiles import atomic_write
from reconciler.errors import OutputError


def use_color() -> bool:
    """ANSI colour only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and not context.environ().get("NO_COLOR")


def write_file(path: Path, content: str | bytes) -> None:
    """Write an output file (plan, report, bundle) atomically; text ends with a newline."""
    if isinstance(content, str):
        content = (content if content.endswith("\n") else content + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, content)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
