"""Which variable a command reads the engine token from, per environment."""

from __future__ import annotations

from pathlib import Path

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli, copy_examples


def _with_env(root: Path, url: str) -> None:
    (root / "polyant.yaml").write_text(
        "version: 1\n"
        "environments:\n"
        f"  staging: {{url: '{url}', tokenEnv: POLYANT_TOKEN, rateWindowSeconds: 3,\n"
        "            variables: {digestChannel: '#helpdesk-dev'}}\n"
    )


def test_per_environment_token_variable_wins(tmp_path: Path, sandbox: SandboxServer) -> None:
    root = copy_examples(tmp_path / "repo")
    _with_env(root, sandbox.url)
    env = {"POLYANT_TOKEN": "wrong-token", "POLYANT_TOKEN__STAGING": sandbox.token}
    run = cli(["plan", "--root", str(root), "--env", "staging"], env)
    assert run.code == 0, run.text
    assert "instance/helpdesk" in run.out


def test_token_env_of_the_environment_is_used(tmp_path: Path, sandbox: SandboxServer) -> None:
    root = copy_examples(tmp_path / "repo")
    _with_env(root, sandbox.url)
    wrong = cli(["plan", "--root", str(root), "--env", "staging"], {"POLYANT_TOKEN": "nope"})
    assert wrong.code == 1 and "rejected the token" in wrong.err
    right = cli(["plan", "--root", str(root), "--env", "staging"], {"POLYANT_TOKEN": sandbox.token})
    assert right.code == 0, right.text
