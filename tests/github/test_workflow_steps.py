"""The workflows' steps run locally: the real CLI, the sandbox engine, the fake GitHub API.

The pull request → merge → apply → drift story of plan.yml / apply.yml / drift.yml, step by
step, with the same commands and the same GitHub variables the runner would give them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git
import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.github.api import checksum_line
from reconciler.sandbox.server import SandboxServer

from .fake_github import BOT, HUMAN, REPOSITORY, TOKEN, FakeGitHub
from .test_actions_files import runner_parse

ENV = "staging"
SECRET_VAR = "POLYANT_SECRET__SUPPORT_BOT__OPENAI_API_KEY"
CANARY = "sk-canary-3b7f19d2e0"
PLAN_MARKER = f"<!-- polyant-gitops:plan:{ENV} -->"


@dataclass
class Run:
    code: int
    out: str


def cli(args: Sequence[str], env: Mapping[str, str | None]) -> Run:
    """`polyant-gitops ARGS` in-process with exactly these variables added (None = unset)."""
    result = CliRunner().invoke(main, list(args), env=dict(env), catch_exceptions=False)
    return Run(result.exit_code, result.stdout + result.stderr)


@pytest.fixture
def actions(tmp_path: Path, fake_github: FakeGitHub) -> dict[str, str | None]:
    """The variables a runner sets for a pull_request job (files in tmp_path)."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 1, "pull_request": {"number": 1}}), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_REF_NAME": "main",
        "POLYANT_URL": None,
        "POLYANT_GITHUB_AUTHOR": None,
    }


def _open_pr(fake: FakeGitHub) -> int:
    return int(
        fake.store.add_issue(title="PR", body="", labels=[], user=HUMAN, pull=True)["number"]
    )


def test_comment_command_keeps_one_sticky_comment(
    tmp_path: Path, fake_github: FakeGitHub, actions: dict[str, str | None]
) -> None:
    pr = _open_pr(fake_github)
    body = tmp_path / "comment.md"
    for text in ("first plan", "second plan"):
        body.write_text(text, encoding="utf-8")
        run = cli(["github", "comment", "--body-file", str(body), "--marker", PLAN_MARKER], actions)
        assert run.code == 0, run.out
    (comment,) = fake_github.store.comments_on(pr)
    assert comment["body"] == f"{PLAN_MARKER}\nsecond plan"
    assert "updated comment" in run.out and f"#{pr}" in run.out


def test_drift_issue_command_opens_and_closes(
    tmp_path: Path, fake_github: FakeGitHub, actions: dict[str, str | None]
) -> None:
    report = tmp_path / "drift.md"
    report.write_text("<!-- polyant-gitops:drift:staging -->\ndrifted", encoding="utf-8")
    opened = cli(["github", "drift-issue", "--report", str(report), "--env", ENV], actions)
    closed = cli(["github", "drift-issue", "--clean", "--env", ENV], actions)
    assert opened.code == 0 and "opened" in opened.out, opened.out
    assert closed.code == 0 and "closed" in closed.out, closed.out
    (issue,) = fake_github.store.issues.values()
    assert issue["state"] == "closed" and issue["labels"] == [{"name": "polyant-drift"}]


def test_missing_github_variables_fail_in_one_line(
    tmp_path: Path, actions: dict[str, str | None]
) -> None:
    body = tmp_path / "comment.md"
    body.write_text("x", encoding="utf-8")
    run = cli(
        ["github", "comment", "--body-file", str(body), "--marker", PLAN_MARKER],
        {**actions, "GITHUB_TOKEN": None},
    )
    assert run.code == 1 and "GITHUB_TOKEN is not set" in run.out
    assert "Traceback" not in run.out


def _config_repo(root: Path, sandbox: SandboxServer) -> tuple[git.Repo, str, str]:
    """A config repo: base commit (polyant.yaml) and a 'pull request' adding one instance."""
    root.mkdir()
    (root / "polyant.yaml").write_text(
        f"version: 1\nenvironments:\n  {ENV}:\n    url: {sandbox.url}\n"
        "    tokenEnv: POLYANT_TOKEN\n    rateWindowSeconds: 3\n",
        encoding="utf-8",
    )
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test").set_value("user", "email", "test@example.com")
    repo.index.add(["polyant.yaml"])
    base = repo.index.commit("base").hexsha
    inst = root / "instances" / "support-bot"
    (inst / "prompts").mkdir(parents=True)
    (inst / "instance.yaml").write_text(
        "name: Support bot\ndescription: Answers support questions\nprovider: openai\n"
        "model: gpt-4.1-mini\nsecrets: [openai_api_key]\n",
        encoding="utf-8",
    )
    (inst / "prompts" / "01-identity.md").write_text("You are the support bot.\n", "utf-8")
    repo.index.add(["instances"])
    return repo, base, repo.index.commit("add support-bot").hexsha


def _plan_step(root: Path, base: str, env: Mapping[str, str | None]) -> tuple[Run, dict[str, str]]:
    output = Path(str(env["GITHUB_OUTPUT"]))
    output.unlink(missing_ok=True)
    run = cli(
        [
            "plan",
            "--root",
            str(root),
            "--env",
            ENV,
            "--changed-since",
            base,
            "--shard",
            "1/1",
            "--out",
            str(root / "plan.json"),
            "--markdown-out",
            str(root / "plan.md"),
        ],
        env,
    )
    return run, runner_parse(output.read_text(encoding="utf-8")) if output.exists() else {}


def test_reviewed_plan_is_applied_then_drift_is_reported(
    tmp_path: Path,
    sandbox: SandboxServer,
    fake_github: FakeGitHub,
    actions: dict[str, str | None],
) -> None:
    root = tmp_path / "repo"
    repo, base, merged = _config_repo(root, sandbox)
    engine = {**actions, "POLYANT_TOKEN": sandbox.token, "POLYANT_RATE_WINDOW_SECONDS": "3"}
    pr = _open_pr(fake_github)

    # plan.yml: the read job sees secret NAMES only (POLYANT_SECRET_NAMES placeholders).
    plan, outputs = _plan_step(root, base, {**engine, SECRET_VAR: "supplied-at-apply"})
    assert plan.code == 0, plan.out
    assert outputs["has_changes"] == "true" and len(outputs["checksum"]) == 64
    assert "support-bot" in Path(str(actions["GITHUB_STEP_SUMMARY"])).read_text("utf-8")
    comment = root / "comment.md"
    comment.write_text(
        checksum_line(ENV, outputs["checksum"]) + "\n" + (root / "plan.md").read_text("utf-8"),
        encoding="utf-8",
    )
    posted = cli(
        ["github", "comment", "--body-file", str(comment), "--marker", PLAN_MARKER], engine
    )
    assert posted.code == 0, posted.out

    # The merge, then apply.yml: find the reviewed checksum, apply with the real secret.
    fake_github.store.commit_pulls[merged] = [
        {"number": pr, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": merged}
    ]
    found = cli(["github", "reviewed-checksum", "--sha", merged, "--env", ENV], engine)
    assert found.out.strip() == outputs["checksum"]
    applied = cli(
        [
            "apply",
            "--auto-approve",
            "--root",
            str(root),
            "--env",
            ENV,
            "--shard",
            "1/1",
            "--expect-checksum",
            found.out.strip(),
            "--report",
            str(tmp_path / "r.json"),
            "--record-applied",
        ],
        {**engine, SECRET_VAR: CANARY},
    )
    assert applied.code == 0, applied.out
    assert repo.git.rev_parse("refs/tags/polyant-applied/staging^{commit}") == merged

    # drift.yml: clean first, then someone edits the engine by hand.
    clean = cli(
        [
            "drift",
            "--root",
            str(root),
            "--env",
            ENV,
            "--format",
            "markdown",
            "--out",
            str(tmp_path / "drift.md"),
        ],
        engine,
    )
    assert clean.code == 0, clean.out
    httpx.patch(
        f"{sandbox.url}/api/instances/support-bot",
        json={"description": "hand edit"},
        headers={"Authorization": f"Bearer {sandbox.token}"},
    ).raise_for_status()
    drifted = cli(
        [
            "drift",
            "--root",
            str(root),
            "--env",
            ENV,
            "--format",
            "markdown",
            "--out",
            str(tmp_path / "drift.md"),
        ],
        engine,
    )
    assert drifted.code == 3, drifted.out
    issue = cli(
        ["github", "drift-issue", "--report", str(tmp_path / "drift.md"), "--env", ENV], engine
    )
    assert issue.code == 0 and "opened" in issue.out, issue.out
    (opened,) = [i for i in fake_github.store.issues.values() if "pull_request" not in i]
    assert "`instance/support-bot`" in opened["body"] and "`description`" in opened["body"]
    assert f"main@{merged[:12]}" in opened["body"]
    assert "**The repository did not move**" in opened["body"]
    assert "**The engine moved**" in opened["body"]

    texts = [
        plan.out,
        posted.out,
        applied.out,
        clean.out,
        drifted.out,
        issue.out,
        json.dumps([fake_github.store.comments, fake_github.store.issues]),
        *(
            p.read_text("utf-8", errors="replace")
            for p in tmp_path.rglob("*")
            if p.is_file() and ".git" not in p.parts
        ),
    ]
    assert not [t for t in texts if CANARY in t or sandbox.token in t or TOKEN in t]


def test_apply_refuses_a_change_set_other_than_the_reviewed_one(
    tmp_path: Path,
    sandbox: SandboxServer,
    fake_github: FakeGitHub,
    actions: dict[str, str | None],
) -> None:
    root = tmp_path / "repo"
    _, base, _ = _config_repo(root, sandbox)
    engine = {**actions, "POLYANT_TOKEN": sandbox.token, "POLYANT_RATE_WINDOW_SECONDS": "3"}
    # Without POLYANT_SECRET_NAMES the reviewed plan cannot know apply will supply the secret.
    plan, outputs = _plan_step(root, base, {**engine, SECRET_VAR: None})
    assert plan.code == 0, plan.out
    sandbox.reset_requests()
    applied = cli(
        [
            "apply",
            "--auto-approve",
            "--root",
            str(root),
            "--env",
            ENV,
            "--shard",
            "1/1",
            "--expect-checksum",
            outputs["checksum"],
        ],
        {**engine, SECRET_VAR: CANARY},
    )
    assert applied.code == 1 and "differs from the reviewed plan" in applied.out
    assert [r for r in sandbox.requests if r.method != "GET"] == []
    assert CANARY not in applied.out


def test_a_bot_comment_without_checksum_means_no_reviewed_plan(
    fake_github: FakeGitHub, actions: dict[str, str | None]
) -> None:
    pr = _open_pr(fake_github)
    fake_github.store.add_comment(pr, f"{PLAN_MARKER}\nThe plan failed (exit 1)", BOT)
    fake_github.store.commit_pulls["a" * 40] = [
        {"number": pr, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": "a" * 40}
    ]
    run = cli(["github", "reviewed-checksum", "--sha", "a" * 40, "--env", ENV], actions)
    assert run.code == 0 and run.out.strip() == ""
