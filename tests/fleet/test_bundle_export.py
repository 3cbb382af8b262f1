"""`bundle export`: repo → bundles the engine's own import routes accept, without secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, CANARY_VALUES, assert_no_canary, cli, copy_examples
from tests.fleet.repos import Engines, write


def _post(server: SandboxServer, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.token}"}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=10)


def _get(server: SandboxServer, path: str) -> Any:
    headers = {"Authorization": f"Bearer {server.token}"}
    answer = httpx.get(server.url + path, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_exported_bundles_are_accepted_by_the_engines_import(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    root = copy_examples(tmp_path / "repo")
    out = tmp_path / "helpdesk.json"
    run = cli(["bundle", "export", "--root", str(root), "--instance", "helpdesk", "--skills",
               "--out", str(out)], CANARIES)  # fmt: skip
    assert run.code == 0, run.text
    catalog = json.loads((tmp_path / "helpdesk-skills.json").read_text())
    bundle = json.loads(out.read_text())
    assert list(bundle) == ["version", "exportedAt", "type", "instance"]
    assert bundle["instance"]["scheduledTasks"] == []
    assert "Daily digest" not in out.read_text()
    assert "scheduled tasks Daily digest are left out" in run.err
    assert "definition action fields are not in a bundle: Zendesk tickets/Urgent ticket" in run.err
    assert_no_canary(out.read_text(), run.text)

    imported = _post(sandbox, "/api/skills/catalog/import", catalog)
    assert imported.status_code == 201, imported.text
    assert sorted(imported.json()["created"]) == ["faq-search", "ticket-triage"]
    answer = _post(sandbox, "/api/instances/import", bundle)
    assert answer.status_code == 201, answer.text
    kinds = {w["type"] for w in answer.json()["warnings"]}
    assert "missing_skill" not in kinds and "missing_tool" not in kinds
    assert {"secret_required", "channel_credentials", "skill_env_required"} <= kinds

    back = _get(sandbox, "/api/instances/helpdesk/export")["instance"]
    sent = bundle["instance"]
    for key in ("name", "description", "provider", "model", "authEnabled", "icon", "room"):
        assert back[key] == sent[key], key
    assert back["prompts"] == sent["prompts"]
    assert sorted(back["manualTools"]) == sorted(sent["manualTools"])
    assert [s["skillSlug"] for s in back["skills"]] == ["faq-search", "ticket-triage"]
    env = _get(sandbox, "/api/instances/helpdesk/skills/faq-search/env")["env"]
    assert {e["key"]: e.get("value") for e in env}["FAQ_INDEX"] == "helpdesk-v2"


def test_the_key_order_is_the_engines(tmp_path: Path, sandbox: SandboxServer) -> None:
    root = copy_examples(tmp_path / "repo")
    out = tmp_path / "assistant.json"
    assert cli(["bundle", "export", "--root", str(root), "--instance", "assistant",
                "--out", str(out)]).code == 0  # fmt: skip
    ours = json.loads(out.read_text())["instance"]
    theirs = _get(sandbox, "/api/instances/demo-agent/export")["instance"]
    assert list(ours) == list(theirs)
    assert out.read_text().startswith('{\n  "version": "1.0",\n  "exportedAt": "')


def test_a_bundle_is_resolved_for_its_environment(
    fleet_repo: Path, engines: Engines, tmp_path: Path
) -> None:
    out = tmp_path / "helpdesk.json"
    args = ["bundle", "export", "--root", str(fleet_repo), "--instance", "helpdesk", "--out"]
    assert cli([*args, str(out), "--env", "staging"]).code == 0
    body = json.loads(out.read_text())["instance"]
    assert (body["model"], body["description"]) == ("gpt-4.1-mini", "FAQ helpdesk for Staging team")
    assert cli([*args, str(out), "--env", "production"]).code == 0
    assert json.loads(out.read_text())["instance"]["model"] == "gpt-4.1"
    _ = engines


def test_a_bundle_over_the_import_limit_is_flagged(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "repo")
    for section in ("05-skills", "06-memory", "08-datetime", "03-tooling"):
        write(root / f"instances/assistant/prompts/{section}.md", "Lorem ipsum. " * 2400)
    out = tmp_path / "big.json"
    run = cli(
        ["bundle", "export", "--root", str(root), "--instance", "assistant", "--out", str(out)]
    )
    assert run.code == 0, run.text
    assert out.stat().st_size > 102_400
    assert "the engine refuses import bodies over 102400 bytes, so the import fails" in run.err


def test_catalog_only_export_and_clear_errors(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "repo")
    out = tmp_path / "catalog.json"
    run = cli(["bundle", "export", "--root", str(root), "--skills", "--out", str(out)])
    assert run.code == 0, run.text
    catalog = json.loads(out.read_text())
    assert catalog["type"] == "skills"
    assert [s["slug"] for s in catalog["skills"]] == ["faq-search", "ticket-triage"]
    faq = catalog["skills"][0]["versions"][0]
    assert faq["metadata"]["requiredTools"] == ["httpRequest"]
    assert [s["file"] for s in faq["scripts"]] == ["search.py"]

    missing = cli(
        ["bundle", "export", "--root", str(root), "--instance", "nope", "--out", str(out)]
    )
    assert missing.code == 1 and "no instance 'nope'" in missing.err and "helpdesk" in missing.err
    neither = cli(["bundle", "export", "--root", str(root), "--out", str(out)])
    assert neither.code == 2 and "--instance SLUG and/or --skills" in neither.err
    assert all(v not in out.read_text() for v in CANARY_VALUES)
