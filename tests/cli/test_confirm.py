"""apply asks "apply these changes? (yes/no)" on a terminal and refuses without one."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples, writes

BIN = Path(sys.executable).parent / "polyant-gitops"


def _on_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, type `answer`, return (exit, output)."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, answer.encode() + b"\n")  # waits in the terminal's input queue
        done = subprocess.run(
            [str(BIN), *args],
            stdin=follower,
            capture_output=True,
            text=True,
            env={**os.environ, **env, "NO_COLOR": "1"},
            timeout=120,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    return done.returncode, done.stdout + done.stderr


def test_without_a_terminal_apply_refuses_in_one_line(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    run = cli(["apply", "--root", str(root)], {**engine_env, **CANARIES})
    assert run.code == 1
    assert run.err.strip().splitlines()[-1] == (
        "error: apply needs confirmation and stdin is not a terminal: review the plan, "
        "then pass --auto-approve (or apply a saved plan with --plan)"
    )
    assert "+ create" in run.out  # the plan was shown before the refusal
    assert writes(sandbox.requests) == []


def test_on_a_terminal_only_yes_applies(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    code, text = _on_a_terminal(["apply", "--root", str(root)], env, "y")
    assert code == 1, text
    assert "apply these changes? (yes/no)" in text and "apply cancelled" in text
    assert writes(sandbox.requests) == []

    code, text = _on_a_terminal(["apply", "--root", str(root)], env, "yes")
    assert code == 0, text
    assert writes(sandbox.requests)
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 0
