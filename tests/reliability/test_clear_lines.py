"""Issue 15 item 7: what used to be `internal error (…)` is one clear line now."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli, copy_examples


def _one_error_line(err: str) -> str:
    assert "internal error" not in err and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert lines[-1].startswith("error: "), err
    return lines[-1]


def test_a_non_ascii_token_is_named_not_sent(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path)
    run = cli(["plan", "--root", str(root)], {**engine_env, "POLYANT_TOKEN": "tök-én-secret"})
    assert run.code in (1, 2), run.text
    line = _one_error_line(run.err)
    assert "POLYANT_TOKEN" in line and "position 2" in line
    assert "tök" not in run.text and "secret" not in run.text


def test_a_non_ascii_api_key_is_named_not_sent(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path)
    env = {**engine_env, "POLYANT_API_KEY": "pk-ké-secret"}
    run = cli(["plan", "--root", str(root)], env)
    assert run.code in (1, 2), run.text
    line = _one_error_line(run.err)
    assert "POLYANT_API_KEY" in line and "position 5" in line
    assert "internal error" not in run.text and "secret" not in run.text


def test_plan_out_into_a_missing_folder(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path)
    target = tmp_path / "missing" / "dir" / "plan.json"
    run = cli(["plan", "--root", str(root), "--out", str(target)], engine_env)
    assert run.code == 0, run.text  # the folders are made
    assert target.is_file()


def test_plan_out_under_a_file_is_one_line(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path)
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "plan.json"
    run = cli(["plan", "--root", str(root), "--out", str(target)], engine_env)
    assert run.code == 1, run.text
    assert "cannot write" in _one_error_line(run.err)


def test_a_step_summary_that_is_a_folder(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path)
    folder = tmp_path / "summary"
    folder.mkdir()
    env = {**engine_env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(folder)}
    run = cli(["plan", "--root", str(root)], env)
    assert run.code == 1, run.text
    assert "GITHUB_STEP_SUMMARY" in _one_error_line(run.err)


def test_an_unwritable_github_output(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path)
    target = tmp_path / "no-such-folder" / "output"
    env = {**engine_env, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(target)}
    run = cli(["plan", "--root", str(root)], env)
    assert run.code == 1, run.text
    assert "GITHUB_OUTPUT" in _one_error_line(run.err)


def test_a_closed_stdout_pipe(tmp_path: Path, sandbox: SandboxServer) -> None:
    root = copy_examples(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "validate", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader went away (like `| head -0`)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "closed" in _one_error_line(err)
    assert "Exception ignored" not in err


def test_ctrl_c_in_the_first_moments_is_one_line_and_exit_130(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    seen = []
    # Interrupt at several moments of the start-up (imports, loading, validating).
    for delay in (0.15, 0.3, 0.5, 0.8, 1.2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "validate", "--root", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay, err)
        # -SIGINT: the signal itself ended the process (a shell reports 130 for it too), when
        # it landed while the interpreter was starting or exiting, outside our code.
        assert proc.returncode in (0, 130, -signal.SIGINT), (proc.returncode, err)
        assert err.strip().splitlines() in ([], ["interrupted"]), err
        if proc.returncode == 130:
            assert err.strip() == "interrupted", err
        seen.append(proc.returncode)
    assert set(seen) <= {0, 130, -signal.SIGINT}, seen


def test_ctrl_c_while_waiting_for_the_engine_is_one_line_and_exit_130(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    # An engine that takes the connection and never answers: the command is surely inside
    # our code (waiting) when the signal lands, whatever the machine's speed.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {
            **os.environ,
            "POLYANT_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "POLYANT_TOKEN": "t",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "plan", "--root", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready, _, _ = select.select([silent], [], [], 120)
        assert ready, "the plan never reached the engine"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip() == "interrupted", err
