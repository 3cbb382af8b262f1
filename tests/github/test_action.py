"""The composite action (action.yml): its run step, executed as the runner would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import copy_examples

from .test_actions_files import runner_parse

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)


def _action() -> dict[str, Any]:
    data = YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _run_step(tmp_path: Path, command: str, env: dict[str, str]) -> tuple[int, dict[str, str]]:
    step = next(s for s in _action()["runs"]["steps"] if s.get("id") == "run")
    out = tmp_path / "github_output"
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path / "repo",
        env={
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(out),
            "RUNNER_TEMP": str(tmp_path),
            "COMMAND": command,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr
    return done.returncode, runner_parse(out.read_text("utf-8")) if out.exists() else {}


def test_outputs_map_the_run_steps_outputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    outputs = {k: v["value"] for k, v in action["outputs"].items()}
    assert outputs["has_changes"] == "${{ steps.run.outputs.has_changes }}"
    assert outputs["checksum"] == "${{ steps.run.outputs.checksum }}"
    assert outputs["plan-json"] == "${{ steps.run.outputs.plan_json }}"
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install polyant-gitops")
    assert '"polyant-gitops==$VERSION"' in install["run"]
    assert action["inputs"]["version"]["default"] == _version()


def _version() -> str:
    from reconciler import __version__

    return __version__


def test_plan_through_the_action_reports_changes_and_the_plan_files(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    copy_examples(tmp_path / "repo")
    code, outputs = _run_step(tmp_path, "plan --detailed-exitcode", engine_env)
    assert code == 0  # 3 (changes) is a finding, not a failed step
    assert outputs["exit_code"] == "3" and outputs["has_changes"] == "true"
    assert outputs["unsafe"] == "false" and len(outputs["checksum"]) == 64
    assert Path(outputs["plan_json"]).is_file() and Path(outputs["plan_markdown"]).is_file()


def test_a_failing_command_fails_the_step(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    code, outputs = _run_step(tmp_path, "validate", {})
    assert code == 1 and outputs["exit_code"] == "1"


def _install_step(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    step = next(s for s in _action()["runs"]["steps"] if s.get("name") == "Install polyant-gitops")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_install_refuses_a_version_that_is_not_a_release(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "VERSION": "1.0 --index-url http://evil",
        "FROM_SOURCE": "false",
        "SOURCE": "",
    }
    done = _install_step(tmp_path, env)
    assert done.returncode == 1
    assert "::error title=polyant-gitops version::" in done.stdout


@pytest.mark.slow
def test_install_from_source_puts_the_tool_on_the_interpreters_path(tmp_path: Path) -> None:
    # A fresh interpreter stands in for the one setup-python puts first on PATH.
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "py")], check=True, timeout=120)
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "*cache*"))
    path = f"{tmp_path / 'py/bin'}:" + ":".join(
        p for p in os.environ["PATH"].split(":") if ".venv" not in p
    )
    done = _install_step(
        tmp_path, {"PATH": path, "VERSION": "0.1.0", "FROM_SOURCE": "true", "SOURCE": str(source)}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"polyant-gitops, version {_version()}"
    assert (tmp_path / "py/bin/polyant-gitops").is_file()
