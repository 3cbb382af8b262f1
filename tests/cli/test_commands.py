"""The command table: commands load on first use, and every one of them is listed."""

from __future__ import annotations

import subprocess
import sys

from reconciler.cli import COMMAND_MODULES
from tests.cli.helpers import cli


def test_help_lists_every_command_and_each_resolves_to_itself() -> None:
    run = cli(["--help"], {})
    assert run.code == 0, run.text
    for name in COMMAND_MODULES:
        assert f"  {name} " in run.out, name
        sub = cli([name, "--help"], {})
        assert sub.code == 0 and "Usage:" in sub.out, (name, sub.text)


def test_validate_does_not_import_the_engine_client() -> None:
    code = (
        "import sys\n"
        "from reconciler.cli import run\n"
        "run(['validate', '--root', 'no-such-dir'])\n"
        "print(sorted(m for m in ('httpx', 'urllib3', 'git', 'reconciler.engine.client')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
