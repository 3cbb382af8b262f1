"""How the engine commands write: colour on terminals only, files replaced atomically."""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.cli import context


def use_color() -> bool:
    """ANSI colour only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and not context.environ().get("NO_COLOR")


def write_file(path: Path, text: str) -> None:
    """Write `text` (with a final newline) to `path` atomically."""
    # Write beside the target and rename, so a crash never leaves half a file.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    tmp.replace(path)
