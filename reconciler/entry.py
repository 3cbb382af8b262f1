"""The console entry point: imports nothing heavy before it can handle Ctrl-C."""

from __future__ import annotations

import sys


def main() -> None:
    """Run polyant-gitops; Ctrl-C at any moment is one line and exit 130."""
    try:
        from reconciler.cli import run

        code = run()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    sys.exit(code)
