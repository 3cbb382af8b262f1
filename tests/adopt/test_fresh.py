"""Adoption end to end, as a new user would: nothing but python3 and this repository.

* Package: build the wheel, install it (with the sandbox extra) into a fresh virtualenv in
  an empty folder, `init`, add an instance, `plan` and `apply --auto-approve` against the
  installed `polyant-gitops sandbox`.
* Template: a fresh `git clone` with nothing beside it runs the README's `./scripts/demo`.
  (CI's fresh-clone job also runs `./scripts/test` there.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", ".*_cache"
)

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env(home: Path) -> dict[str, str]:
    """Only what a fresh shell has: no venv of ours on PATH, no engine settings."""
    keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "LANG", "LC_"))}
    path = ":".join(p for p in os.environ["PATH"].split(":") if ".venv" not in p)
    return {**keep, "PATH": path, "HOME": str(home), "NO_COLOR": "1"}


def test_wheel_in_a_fresh_virtualenv_inits_plans_and_applies(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    python = shutil.which("python3", path=env["PATH"]) or sys.executable
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    _run([python, "-m", "venv", str(tmp_path / "builder")], tmp_path, env)
    builder = tmp_path / "builder/bin/python"
    _run(
        [
            str(builder),
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        tmp_path,
        env,
    )
    wheel = next((tmp_path / "dist").glob("polyant_gitops-*.whl"))

    work = tmp_path / "empty"
    work.mkdir()
    _run([python, "-m", "venv", str(work / ".venv")], work, env)
    pip = [str(work / ".venv/bin/python"), "-m", "pip", "install", "-q"]
    _run([*pip, str(wheel)], work, env)
    pg = str(work / ".venv/bin/polyant-gitops")
    # The plain install stays small: no web server, and the sandbox says what to install.
    missing = subprocess.run(
        [pg, "sandbox"], cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 1, missing.stderr
    assert "pipx install 'polyant-gitops[sandbox]'" in missing.stderr
    assert "Traceback" not in missing.stderr
    _run([*pip, f"{wheel}[sandbox]"], work, env)

    config = work / "config"
    _run([pg, "init", "--root", str(config)], work, env)
    instance = config / "instances/hello/instance.yaml"
    instance.parent.mkdir(parents=True)
    instance.write_text(
        "# yaml-language-server: $schema=../../.schemas/instance.json\n"
        "name: Hello\ndescription: First agent\nprovider: openai\nmodel: gpt-4.1-mini\n",
        encoding="utf-8",
    )
    _run([pg, "validate"], config, env)

    server = subprocess.Popen(
        [pg, "sandbox", "--port", "0"], cwd=work, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        banner = [server.stdout.readline().strip() for _ in range(6)]
        url = banner[0].removeprefix("sandbox engine listening on ")
        token = banner[1].removeprefix("generated bearer token: ")
        engine = {**env, "POLYANT_URL": url, "POLYANT_TOKEN": token}
        planned = _run([pg, "plan"], config / "instances", engine)  # from a subfolder
        assert "instance/hello" in planned and "+ create" in planned
        applied = _run([pg, "apply", "--auto-approve"], config, engine)
        assert "apply:" in applied
        again = _run([pg, "plan", "--detailed-exitcode"], config, engine)
        assert "No changes" in again
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_fresh_clone_runs_the_readme_demo(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.fail("run from a git checkout: this test clones it")
    env = _clean_env(tmp_path)
    # The clone sits alone in its own folder: nothing beside it (no shared folder next to it).
    alone = tmp_path / "alone"
    alone.mkdir()
    head = _run(["git", "rev-parse", "HEAD"], ROOT, env).strip()
    _run(["git", "clone", "-q", str(ROOT), str(alone / "clone")], tmp_path, env)
    _run(["git", "checkout", "-q", head], alone / "clone", env)
    out = _run(["./scripts/demo"], alone / "clone", env, timeout=900)
    assert "\x1b[" not in out  # piped: no raw escape codes
    assert "== polyant-gitops plan again: nothing left to do" in out
    assert "No changes" in out
