"""The real CLI against the sandbox engine: validate, plan, apply, re-plan, export, leaks."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import (
    CANARIES,
    all_files_text,
    assert_no_canary,
    cli,
    copy_examples,
    writes,
)


def test_validate_passes_on_the_example_repo(examples_root: Path) -> None:
    run = cli(["validate", "--root", str(examples_root)])
    assert run.code == 0, run.text
    assert "ok:" in run.out


def test_example_repo_applies_and_converges(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    first = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert first.code == 3, first.text
    assert "instance/helpdesk" in first.out and "create" in first.out

    applied = cli(
        ["apply", "--auto-approve", "--root", str(root), "--report", str(tmp_path / "r.json")], env
    )
    assert applied.code == 0, applied.text
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["results"], report

    again = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert again.code == 0, again.text

    sandbox.reset_requests()
    second = cli(["apply", "--auto-approve", "--root", str(root)], env)
    assert second.code == 0, second.text
    assert writes(sandbox.requests) == [], "a second apply must write nothing"
    assert_no_canary(first.text, applied.text, again.text, second.text, all_files_text(tmp_path))


def test_export_round_trips_to_an_empty_plan(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0

    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / "polyant.yaml").write_text((root / "polyant.yaml").read_text())
    first = cli(["export", "--root", str(exported)], env)
    assert first.code == 0, first.text
    assert cli(["validate", "--root", str(exported)]).code == 0
    snapshot = {p: p.read_bytes() for p in exported.rglob("*") if p.is_file()}

    plan = cli(["plan", "--root", str(exported), "--detailed-exitcode"], env)
    assert plan.code == 0, plan.text

    second = cli(["export", "--root", str(exported)], env)
    assert second.code == 0, second.text
    assert {p: p.read_bytes() for p in exported.rglob("*") if p.is_file()} == snapshot
    assert_no_canary(first.text, plan.text, all_files_text(exported))


def test_rejected_token_is_one_clear_line(tmp_path: Path, sandbox: SandboxServer) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {"POLYANT_URL": sandbox.url, "POLYANT_TOKEN": "not-a-real-token-c4n4ry"}
    run = cli(["plan", "--root", str(root)], env)
    assert run.code == 1
    assert "rejected the token" in run.err
    assert "Traceback" not in run.text
    assert "not-a-real-token-c4n4ry" not in run.text


def test_unreachable_engine_names_the_url(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {"POLYANT_URL": "http://127.0.0.1:9", "POLYANT_TOKEN": "x"}
    run = cli(["plan", "--root", str(root)], env)
    assert run.code == 1
    assert "127.0.0.1:9" in run.err
    assert "Traceback" not in run.text


def test_missing_token_says_which_variable(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "repo")
    run = cli(
        ["plan", "--root", str(root)], {"POLYANT_URL": "http://127.0.0.1:9", "POLYANT_TOKEN": ""}
    )
    assert run.code == 1
    assert "POLYANT_TOKEN" in run.err


def test_github_outputs_and_summary(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    outputs, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = {
        **engine_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    run = cli(["plan", "--root", str(root), "--markdown-out", str(tmp_path / "c.md")], env)
    assert run.code == 0, run.text
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    assert lines["has_changes"] == "true"
    assert lines["unsafe"] == "false"
    assert int(lines["creates"]) >= 3
    assert len(lines["checksum"]) == 64
    assert "instance/helpdesk" in summary.read_text()
    assert "<!-- polyant-gitops:plan:" in (tmp_path / "c.md").read_text()


def test_credentials_in_the_engine_url_never_reach_an_output(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    url = sandbox.url.replace("http://", "http://admin:url-canary-p4ss@")
    env = {**engine_env, "POLYANT_URL": url}
    saved, markdown = tmp_path / "plan.json", tmp_path / "plan.md"
    run = cli(
        [
            "plan",
            "--root",
            str(root),
            "--format",
            "json",
            "--out",
            str(saved),
            "--markdown-out",
            str(markdown),
        ],
        env,
    )
    assert run.code == 0, run.text
    assert sandbox.url in saved.read_text()  # the engine is named, without its credentials
    for text in (run.text, saved.read_text(), markdown.read_text()):
        assert "url-canary-p4ss" not in text and "admin:" not in text
