"""Saved plans (`plan --out` / `apply --plan`), staleness, foreign targets, and drift."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples, writes


def _patch(sandbox: SandboxServer, path: str, body: dict[str, object]) -> None:
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    response = httpx.patch(f"{sandbox.url}{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text


def test_saved_plan_applies_exactly_what_was_reviewed(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    saved = tmp_path / "plan.json"
    assert cli(["plan", "--root", str(root), "--out", str(saved)], env).code == 0
    doc = json.loads(saved.read_text())
    assert doc["schemaVersion"] == 2 and doc["changes"]

    run = cli(["apply", "--auto-approve", "--root", str(root), "--plan", str(saved)], env)
    assert run.code == 0, run.text
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 0


def test_stale_saved_plan_is_refused_and_writes_nothing(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    (root / "instances/helpdesk/prompts/01-identity.md").write_text("# Identity\n\nNew text.\n")
    saved = tmp_path / "plan.json"
    assert cli(["plan", "--root", str(root), "--out", str(saved)], env).code == 0

    _patch(sandbox, "/api/instances/helpdesk", {"description": "edited in the admin panel"})
    sandbox.reset_requests()
    run = cli(["apply", "--auto-approve", "--root", str(root), "--plan", str(saved)], env)
    assert run.code == 1
    assert "changed since the plan" in run.err and "instance/helpdesk" in run.err
    assert writes(sandbox.requests) == []


def test_saved_plan_for_another_engine_is_refused(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    saved = tmp_path / "plan.json"
    assert cli(["plan", "--root", str(root), "--out", str(saved)], engine_env).code == 0
    with SandboxServer(time_scale=20.0) as other:
        env = {**engine_env, "POLYANT_URL": other.url, "POLYANT_TOKEN": other.token}
        run = cli(["apply", "--auto-approve", "--root", str(root), "--plan", str(saved)], env)
        assert run.code == 1
        assert "was made against" in run.err
        assert writes(other.requests) == []


def test_drift_names_the_field_and_clears(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    clean = cli(["drift", "--root", str(root), "--format", "markdown"], env)
    assert clean.code == 0, clean.text

    _patch(sandbox, "/api/instances/assistant", {"model": "gpt-4o", "provider": "openai"})
    drifted = cli(["drift", "--root", str(root), "--format", "json"], env)
    assert drifted.code == 3, drifted.text
    doc = json.loads(drifted.out)
    assert "instance/assistant" in json.dumps(doc)
    assert "model" in json.dumps(doc)


def test_unsafe_prune_exits_4_and_force_overrides(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    for slug in ("helpdesk", "assistant"):
        for path in sorted((root / "instances" / slug).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (root / "instances" / slug).rmdir()
    unsafe = cli(["plan", "--root", str(root), "--prune"], env)
    assert unsafe.code == 4, unsafe.text
    sandbox.reset_requests()
    refused = cli(["apply", "--auto-approve", "--root", str(root), "--prune"], env)
    assert refused.code == 4
    assert writes(sandbox.requests) == []
