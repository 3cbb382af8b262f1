"""Complete reads and bundles across engine lines: paged tasks, bundle 1.1, credentials."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.auth import verify_token
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples
from tests.conftest import TIME_SCALE

TASKS_HANDLER = "InstanceScheduledTasksController.list"


def _seed(path: Path, tasks: int) -> Path:
    task = {
        "description": None, "enabled": True, "prompt": "Check", "outboundChannel": None,
        "outboundTarget": None, "keepHistory": False, "deleteAfterRun": False, "maxRetries": 3,
    }  # fmt: skip
    rows = [
        task | {"name": f"task-{n:03d}", "schedule": {"type": "interval", "everyMs": 3_600_000}}
        for n in range(tasks)
    ]
    bundle = {"slug": "busy", "name": "Busy", "scheduledTasks": rows}
    path.write_text(json.dumps({"instances": [bundle]}))
    return path


def _empty_repo(root: Path) -> Path:
    root.mkdir()
    (root / "polyant.yaml").write_text("version: 1\nscope:\n  excludeInstances: [demo-agent]\n")
    return root


@pytest.mark.parametrize("line", ["main", "develop"])
def test_an_instance_with_520_tasks_is_read_completely(tmp_path: Path, line: str) -> None:
    seed = _seed(tmp_path / "seed.json", 520)
    with SandboxServer(time_scale=TIME_SCALE, seed_file=seed, engine_line=line) as server:
        env = {"POLYANT_URL": server.url, "POLYANT_TOKEN": server.token}
        root = _empty_repo(tmp_path / "repo")
        assert cli(["export", "--root", str(root)], env).code == 0
        text = (root / "instances" / "busy" / "instance.yaml").read_text()
        assert text.count("- name: task-") == 520 and "task-519" in text
        server.reset_requests()
        plan = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
        assert plan.code == 0, plan.text
        pages = [r.path for r in server.requests if r.handler == TASKS_HANDLER]
    # develop pages 500 at a time (its maximum); main answers everything at once.
    assert len(pages) == (2 if line == "develop" else 1), pages


def test_a_develop_bundle_imports_to_files_that_plan_to_nothing(
    tmp_path: Path, sandbox_develop: SandboxServer, develop_env: dict[str, str]
) -> None:
    env = {**develop_env, **CANARIES}
    assert (
        cli(["apply", "--auto-approve", "--root", str(copy_examples(tmp_path / "repo"))], env).code
        == 0
    )
    headers = {"Authorization": f"Bearer {sandbox_develop.token}"}
    files = []
    for path in (
        "instances/helpdesk/export",
        "instances/assistant/export",
        "skills/catalog/export",
    ):
        answer = httpx.get(f"{sandbox_develop.url}/api/{path}", headers=headers).json()
        files.append(tmp_path / f"{len(files)}.json")
        files[-1].write_text(json.dumps(answer))
    assert json.loads(files[0].read_text())["version"] == "1.1"
    root = _empty_repo(tmp_path / "fresh")
    imported = cli(["bundle", "import", "--root", str(root), *map(str, files)], env)
    assert imported.code == 0, imported.text
    text = (root / "instances" / "helpdesk" / "instance.yaml").read_text()
    assert "action: conversation" in text and "FAQ_INDEX: helpdesk-v2" in text
    assert "Daily digest" in text  # 1.1 carries the real scheduled tasks
    plan = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert plan.code == 0, plan.text


def test_bundle_export_writes_the_version_the_engine_accepts(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    out = tmp_path / "assistant.json"
    args = ["bundle", "export", "--root", str(root), "--instance", "assistant", "--out", str(out)]
    run = cli([*args, "--bundle-version", "engine"], line_env)
    assert run.code == 0, run.text
    bundle = json.loads(out.read_text())
    expected = "1.1" if line_sandbox.engine_line == "develop" else "1.0"
    assert bundle["version"] == expected
    headers = {"Authorization": f"Bearer {line_sandbox.token}"}
    answer = httpx.post(f"{line_sandbox.url}/api/instances/import", json=bundle, headers=headers)
    assert answer.status_code == 201, answer.text
    if expected == "1.0":  # main refuses 1.1, which is why `engine` asks
        assert cli([*args, "--bundle-version", "1.1"], line_env).code == 0
        refused = httpx.post(
            f"{line_sandbox.url}/api/instances/import",
            json=json.loads(out.read_text()),
            headers=headers,
        )
        assert refused.status_code == 400


def test_a_management_api_key_works_and_a_403_names_the_permission(tmp_path: Path) -> None:
    reads = {"agent:read", "agent.task:read", "agent.governance:read", "agent.export:read"}
    keys = {"pk_full": reads | {"agent.room:read"}, "pk_thin": {"agent:read"}}
    root = copy_examples(tmp_path / "repo")
    with SandboxServer(
        time_scale=TIME_SCALE, engine_line="develop", api_keys=keys, authz_enforce=True
    ) as server:
        base = {"POLYANT_URL": server.url, "POLYANT_TOKEN": "not-a-valid-token"}
        plan = cli(["plan", "--root", str(root)], base | {"POLYANT_API_KEY": "pk_full"})
        assert "rejected the token" not in plan.text
        assert "instance/helpdesk" in plan.out, plan.text
        assert "skill assignments and manual tools are not managed on this engine" in plan.out
        thin = cli(
            ["apply", "--auto-approve", "--root", str(root)], base | {"POLYANT_API_KEY": "pk_thin"}
        )
        assert thin.code == 1
        assert "lacks the permission 'agent:write'" in thin.text, thin.text
        assert "pk_thin" not in thin.text and "pk_full" not in plan.text


def test_token_mints_for_a_given_user(tmp_path: Path) -> None:
    secret = "s" * 40
    run = cli(["token", "--sub", "user-123", "--email", "ci@example.com"], {"AUTH_SECRET": secret})
    assert run.code == 0, run.text
    session = verify_token(run.out.strip(), secret)
    assert (session.user_id, session.email) == ("user-123", "ci@example.com")
