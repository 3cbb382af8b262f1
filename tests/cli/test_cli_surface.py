"""The command line's surface: help everywhere, usage errors exit 2, the sandbox's banner."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest

from reconciler.cli import main
from tests.cli.helpers import cli, copy_examples

BIN = Path(sys.executable).parent / "polyant-gitops"


def _commands(cmd: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, [*path, name])
    else:
        yield " ".join(path), cmd


def test_every_option_has_help_text() -> None:
    missing = [
        f"{name} {param.opts[0]}"
        for name, cmd in _commands(main, [])
        for param in cmd.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []


def test_every_repository_command_names_its_root_with_the_same_option() -> None:
    takes_root = {
        name for name, cmd in _commands(main, []) if "root" in {p.name for p in cmd.params}
    }
    assert {"validate", "schema", "plan", "apply", "drift", "export", "compare"} <= takes_root
    for name, cmd in _commands(main, []):
        for param in cmd.params:
            if param.name == "root":
                assert isinstance(param, click.Option) and param.opts == ["--root"], name


@pytest.mark.parametrize(
    "args",
    [["plan", "--shard", "5/4"], ["plan", "--shard", "x"], ["plan", "--env", "nowhere"]],
)
def test_bad_option_values_are_usage_errors(
    tmp_path: Path, engine_env: dict[str, str], args: list[str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    run = cli([*args, "--root", str(root)], engine_env)
    assert run.code == 2, run.text
    assert len(run.err.strip().splitlines()) == 1


def test_drift_help_says_it_compares_the_working_tree() -> None:
    text = cli(["drift", "--help"]).out
    assert "working tree" in text and "default branch" not in text.split("\n\n")[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sandbox_prints_url_token_and_export_lines(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN), "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(6)]
        url = f"http://127.0.0.1:{port}"
        assert lines[0] == f"sandbox engine listening on {url}"
        token = lines[1].removeprefix("generated bearer token: ")
        assert lines[4:] == [f"  export POLYANT_URL={url}", f"  export POLYANT_TOKEN={token}"]
        answer = httpx.get(f"{url}/api/instances", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200

        # A second sandbox on the same port: one line, exit 1, no traceback.
        taken = subprocess.run(
            [str(BIN), "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert taken.returncode == 1
        assert taken.stderr.strip().splitlines() == [
            f"error: cannot listen on 127.0.0.1:{port}: Address already in use; "
            "pick another --port (0 takes any free one)"
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_sandbox_with_a_given_token_does_not_print_it(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN), "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "POLYANT_SANDBOX_TOKEN": "tok-7d1e"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        assert 'export POLYANT_TOKEN="$POLYANT_SANDBOX_TOKEN"' in lines[4]
        assert "tok-7d1e" not in "".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    help_text = cli(["sandbox", "--help"]).out
    assert "POLYANT_SANDBOX_TOKEN" in help_text and "AUTH_SECRET" in help_text


def test_the_documented_shell_completion_works() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_POLYANT_GITOPS_COMPLETE=bash_source polyant-gitops)"' in readme
    done = subprocess.run(
        [str(BIN)],
        env={"PATH": "/usr/bin:/bin", "_POLYANT_GITOPS_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "_polyant_gitops_completion()" in done.stdout
