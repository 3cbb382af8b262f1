"""`polyant-gitops` and `python -m reconciler` are one entry point with one error path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "polyant-gitops"


def _run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYANT_")}
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [(["plan", "--root", "."], 1), (["plan", "--bogus"], 2), (["--version"], 0)],
)
def test_both_entry_points_exit_alike(tmp_path: Path, args: list[str], code: int) -> None:
    (tmp_path / "polyant.yaml").write_text("version: 1\n", encoding="utf-8")
    as_module = _run([sys.executable, "-m", "reconciler", *args], tmp_path)
    as_script = _run([str(SCRIPT), *args], tmp_path)
    assert as_module.returncode == as_script.returncode == code, as_module.stderr
    assert as_module.stderr == as_script.stderr
    assert "Traceback" not in as_module.stderr
