"""The GitHub workflows: actionlint and zizmor clean, pinned, least privilege, no injection."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.github.api import checksum_line, drift_issue_marker

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
NAMES = ("ci", "plan", "apply", "drift")


def load(name: str) -> dict[str, Any]:
    data = YAML(typ="safe").load((WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(name: str) -> list[dict[str, Any]]:
    return [step for job in load(name)["jobs"].values() for step in job.get("steps", [])]


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in the venv: run ./scripts/bootstrap")
    return str(path)


def test_actionlint_is_clean() -> None:
    done = subprocess.run(
        [_tool("actionlint"), "-no-color"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_is_clean() -> None:
    done = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-progress",
            "--persona",
            "pedantic",
            str(WORKFLOWS),
            str(ROOT / "action.yml"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_by_sha_with_a_version_comment() -> None:
    texts = [(WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8") for name in NAMES]
    for text in [*texts, (ROOT / "action.yml").read_text(encoding="utf-8")]:
        for line in text.splitlines():
            if re.match(r"\s*(- )?uses: \./ ", line):
                continue  # this repository's own action.yml, at the checked-out commit
            if re.match(r"\s*(- )?uses:", line):
                assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d", line), line


def test_the_engine_workflows_install_through_the_action() -> None:
    for name in ("plan", "apply", "drift"):
        for job in load(name)["jobs"].values():
            uses = [s.get("uses") for s in job.get("steps", [])]
            if "run" in str(job.get("steps")) and "polyant-gitops" in str(job.get("steps")):
                assert "./" in uses, name
            assert "./scripts/bootstrap" not in str(job.get("steps")), name


def test_checkouts_never_persist_credentials() -> None:
    for name in NAMES:
        for step in steps(name):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_run_scripts_interpolate_no_expression() -> None:
    # Untrusted values (branch names, PR titles...) reach scripts through env: only.
    for name in NAMES:
        for step in steps(name):
            assert "${{" not in step.get("run", ""), (name, step.get("name"))


def _permissions() -> dict[tuple[str, str], dict[str, str]]:
    out = {}
    for name in NAMES:
        data = load(name)
        assert data["permissions"] in ({}, {"contents": "read"}), name
        for job_id, job in data["jobs"].items():
            out[(name, job_id)] = job.get("permissions", data["permissions"])
    return out


def test_write_permissions_only_where_needed() -> None:
    writes = {
        key: sorted(scope for scope, level in perms.items() if level == "write")
        for key, perms in _permissions().items()
    }
    assert {k: v for k, v in writes.items() if v} == {
        ("plan", "plan"): ["pull-requests"],
        ("apply", "staging"): ["contents"],
        ("apply", "production"): ["contents"],
        ("drift", "drift"): ["issues"],
    }


def test_fork_pull_requests_are_validated_not_planned() -> None:
    jobs = load("plan")["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["plan"]["if"] == same_repo and jobs["plan"]["needs"] == "validate"
    assert jobs["fork-notice"]["if"] == same_repo.replace("==", "!=")
    assert "if" not in jobs["validate"]
    assert "secrets." not in str(jobs["validate"]) + str(jobs["fork-notice"])


def test_plan_posts_the_markers_github_py_reads() -> None:
    text = (WORKFLOWS / "plan.yml").read_text(encoding="utf-8")
    assert f"printf '{checksum_line('%s', '%s')}\\n'" in text
    assert '--marker "<!-- polyant-gitops:plan:$KEY -->"' in text
    assert "--changed-since" in text and "github.event.pull_request.base.sha" in text
    checkout = next(s for s in steps("plan") if "fetch-depth" in s.get("with", {}))
    assert checkout["with"]["fetch-depth"] == 0


def test_apply_runs_staging_then_production_without_cancelling() -> None:
    jobs = load("apply")["jobs"]
    assert jobs["production"]["needs"] == "staging"
    for env in ("staging", "production"):
        job = jobs[env]
        assert job["concurrency"] == {"group": f"polyant-apply-{env}", "cancel-in-progress": False}
        assert job["environment"]["name"] == env and job["env"]["POLYANT_ENV"] == env
        assert "--expect-checksum" in str(job["steps"])


def test_apply_jobs_have_identical_steps() -> None:
    # The two jobs are copies (no reusable workflow): keep them from drifting apart.
    jobs = load("apply")["jobs"]
    production = dict(jobs["production"])
    assert production.pop("needs") == "staging"
    assert str(jobs["staging"]).replace("staging", "ENV") == str(production).replace(
        "production", "ENV"
    )


def test_drift_treats_exit_3_as_a_finding_and_syncs_the_issue() -> None:
    text = (WORKFLOWS / "drift.yml").read_text(encoding="utf-8")
    data = load("drift")
    assert "schedule" in data["on"] and "workflow_dispatch" in data["on"]
    assert '3) echo "drifted=true"' in text and "--label polyant-drift" in text
    assert "--clean" in text
    assert drift_issue_marker("x").startswith("<!-- polyant-gitops:drift:")


def test_ci_runs_the_readme_test_command() -> None:
    runs = [s.get("run", "") for s in steps("ci")]
    assert "./scripts/bootstrap" in runs and "./scripts/test" in runs
    assert any("mypy --strict" in r for r in runs) and any("ruff format --check" in r for r in runs)


def test_ci_covers_every_supported_python_and_a_fresh_clone() -> None:
    jobs = load("ci")["jobs"]
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    fresh = " ".join(s.get("run", "") for s in jobs["fresh-clone"]["steps"])
    assert "git clone" in fresh and "./scripts/demo" in fresh and "./scripts/test" in fresh
    action = [s for s in jobs["action"]["steps"] if s.get("uses") == "./"]
    assert action and action[0]["with"]["command"] == "validate"
