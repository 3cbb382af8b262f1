"""The workflows' own shell steps, run by bash as the runner would, end to end.

Each `run:` script is taken from the YAML and executed with the runner's default shell
(`bash --noprofile --norc -eo pipefail`), the step's `env:` (values supplied here, as the
runner would resolve them) and the runner's GITHUB_* variables, against the sandbox engine
and the fake GitHub API. This venv's bin folder comes first on PATH, as the action's install
step puts polyant-gitops on PATH on the runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import git
import httpx
import pytest

from reconciler.sandbox.server import SandboxServer

from .fake_github import HUMAN, REPOSITORY, TOKEN, FakeGitHub
from .test_actions_files import runner_parse
from .test_workflow_steps import ENV, SECRET_VAR, _config_repo
from .test_workflows import load

CANARY = "sk-canary-scripts-71c4d0"
BIN = str(Path(sys.executable).parent)


class Runner:
    """Runs workflow steps in one work tree, keeping each step's outputs."""

    def __init__(self, root: Path, base_env: Mapping[str, str]) -> None:
        self.root = root
        self.base_env = dict(base_env)
        self.outputs: dict[str, dict[str, str]] = {}
        self.logs: list[str] = []

    def step(self, workflow: str, job: str, name: str, env: Mapping[str, str]) -> int:
        """Run step `name` of `job`; `env` must give a value for every key of its env:."""
        spec = load(workflow)["jobs"][job]
        step = next(s for s in spec["steps"] if s.get("name") == name)
        declared = set(step.get("env", {})) | set(spec.get("env", {}))
        assert declared <= set(env), f"{name}: supply {sorted(declared - set(env))}"
        out = self.root.parent / f"out-{len(self.logs)}"
        script = step["run"]
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.root,
            env={**self.base_env, **env, "GITHUB_OUTPUT": str(out)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.logs.append(done.stdout + done.stderr)
        self.outputs[name] = runner_parse(out.read_text("utf-8")) if out.exists() else {}
        return done.returncode


@pytest.fixture
def runner(tmp_path: Path, sandbox: SandboxServer, fake_github: FakeGitHub) -> Runner:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 1, "pull_request": {"number": 1}}), "utf-8")
    return Runner(
        tmp_path / "repo",
        {
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": fake_github.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "7",
            "GITHUB_REF_NAME": "main",
            "POLYANT_RATE_WINDOW_SECONDS": "3",
        },
    )


def _plan(runner: Runner, sandbox: SandboxServer, base: str, names: str) -> dict[str, str]:
    job = {"POLYANT_ENV": ENV, "SHARD": "1/1"}
    assert runner.step("plan", "plan", "Name this plan", job) == 0
    key = runner.outputs["Name this plan"]
    assert key == {"key": ENV, "artifact": f"plan-{ENV}-1-of-1"}
    env = {**job, "POLYANT_TOKEN": sandbox.token, "BASE_SHA": base, "SUPPLIED_NAMES": names}
    assert runner.step("plan", "plan", "Plan", env) == 0, runner.logs[-1]
    plan = runner.outputs["Plan"]
    post = {
        **job,
        "GITHUB_TOKEN": TOKEN,
        "KEY": key["key"],
        "RC": plan["exit_code"],
        "CHECKSUM": plan.get("checksum", ""),
    }
    assert runner.step("plan", "plan", "Post the plan on the pull request", post) == 0, runner.logs[
        -1
    ]
    return plan


def _apply(runner: Runner, sandbox: SandboxServer, secrets: str) -> int:
    job = {"POLYANT_ENV": ENV}
    scope = {**job, "FULL": "", "SHARDS": '["1/1"]'}
    assert runner.step("apply", "staging", "Decide what to apply", scope) == 0, runner.logs[-1]
    if runner.outputs["Decide what to apply"].get("skipped") == "true":
        return 0
    found = runner.step(
        "apply",
        "staging",
        "Find the plan reviewed on the pull request",
        {**job, "GITHUB_TOKEN": TOKEN},
    )
    if found:
        return found
    return runner.step(
        "apply",
        "staging",
        "Apply",
        {
            **job,
            "POLYANT_TOKEN": sandbox.token,
            "POLYANT_APPLY_SECRETS": secrets,
            "SINCE": runner.outputs["Decide what to apply"].get("since", ""),
            "GIT_COMMITTER_NAME": "bot",
            "GIT_COMMITTER_EMAIL": "bot@example.com",
        },
    )


def _merge(fake: FakeGitHub, pr: int, sha: str) -> None:
    fake.store.commit_pulls[sha] = [
        {"number": pr, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": sha}
    ]


def test_plan_apply_record_and_drift_scripts(
    tmp_path: Path, runner: Runner, sandbox: SandboxServer, fake_github: FakeGitHub
) -> None:
    repo, base, merged = _config_repo(runner.root, sandbox)
    origin = git.Repo.init(tmp_path / "origin.git", bare=True)
    repo.create_remote("origin", str(tmp_path / "origin.git"))
    pr = int(
        fake_github.store.add_issue(title="PR", body="", labels=[], user=HUMAN, pull=True)["number"]
    )

    plan = _plan(runner, sandbox, base, f"{SECRET_VAR}\n")
    (comment,) = fake_github.store.comments_on(pr)
    assert f"<!-- polyant-gitops:checksum:{ENV}:{plan['checksum']} -->" in comment["body"]
    assert (
        runner.step(
            "plan",
            "plan",
            "Fail when the plan failed or is unsafe",
            {"POLYANT_ENV": ENV, "SHARD": "1/1", "RC": plan["exit_code"]},
        )
        == 0
    )

    _merge(fake_github, pr, merged)
    assert _apply(runner, sandbox, f"{SECRET_VAR}={CANARY}\r\n") == 0, runner.logs[-1]
    assert (
        runner.step(
            "apply",
            "staging",
            "Share the applied-commit record",
            {"POLYANT_ENV": ENV, "GITHUB_TOKEN": TOKEN},
        )
        == 0
    ), runner.logs[-1]
    assert origin.git.rev_parse("refs/tags/polyant-applied/staging^{commit}") == merged
    assert _apply(runner, sandbox, "") == 0  # a re-run: already applied, nothing to do
    assert runner.outputs["Decide what to apply"] == {"skipped": "true"}

    httpx.patch(
        f"{sandbox.url}/api/instances/support-bot",
        json={"description": "by hand"},
        headers={"Authorization": f"Bearer {sandbox.token}"},
    ).raise_for_status()
    drift_env = {"POLYANT_ENV": ENV, "POLYANT_TOKEN": sandbox.token}
    assert runner.step("drift", "drift", "Look for drift", drift_env) == 0, runner.logs[-1]
    assert runner.outputs["Look for drift"] == {"drifted": "true"}
    issue_env = {"POLYANT_ENV": ENV, "GITHUB_TOKEN": TOKEN, "DRIFTED": "true"}
    assert runner.step("drift", "drift", "Open, update or close the drift issue", issue_env) == 0
    (issue,) = [i for i in fake_github.store.issues.values() if "pull_request" not in i]
    assert "`description`" in issue["body"] and issue["state"] == "open"

    # The canary appears only in the ::add-mask:: command the runner consumes.
    log = "\n".join(runner.logs)
    assert [line for line in log.splitlines() if CANARY in line] == [f"::add-mask::{CANARY}"]
    stored = json.dumps([fake_github.store.comments, fake_github.store.issues])
    assert CANARY not in stored and sandbox.token not in stored + log


def test_apply_script_refuses_a_commit_without_a_reviewed_plan(
    runner: Runner, sandbox: SandboxServer, fake_github: FakeGitHub
) -> None:
    _config_repo(runner.root, sandbox)
    assert _apply(runner, sandbox, "") == 1
    assert "::error title=No reviewed plan::" in runner.logs[-1]


def test_apply_script_rejects_foreign_variable_names(
    runner: Runner, sandbox: SandboxServer
) -> None:
    _config_repo(runner.root, sandbox)
    sandbox.reset_requests()
    status = runner.step(
        "apply",
        "staging",
        "Apply",
        {
            "POLYANT_ENV": ENV,
            "POLYANT_TOKEN": sandbox.token,
            "SINCE": "",
            "POLYANT_APPLY_SECRETS": f"{SECRET_VAR}={CANARY}\nPATH=/tmp/evil\n",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@example.com",
        },
    )
    assert status == 1 and "::error title=POLYANT_APPLY_SECRETS::" in runner.logs[-1]
    assert sandbox.requests == []
