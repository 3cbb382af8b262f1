"""Issue 15 item 1c: duplicates found on the engine are a change, never a warning with exit 0."""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples
from tests.reliability import cycle

TASK = {
    "name": "Daily digest",
    "prompt": "Again.",
    "schedule": {"type": "cron", "expression": "0 8 * * 1-5", "timezone": "Europe/Paris"},
}
SOURCE = {"name": "Zendesk tickets", "sourceType": "webhook", "config": {}, "enabled": True}


def _duplicate(sandbox: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    base = f"{sandbox.url}/api/instances/helpdesk"
    httpx.post(f"{base}/scheduled-tasks", json=TASK, headers=headers).raise_for_status()
    httpx.post(f"{base}/event-sources", json=SOURCE, headers=headers).raise_for_status()
    assert sorted(cycle.census(sandbox).duplicates()) == [
        "helpdesk/Daily digest",
        "helpdesk/Zendesk tickets",
    ]


def test_duplicates_stop_a_plan_without_prune(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path)
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    _duplicate(sandbox)
    for command in (["plan", "--detailed-exitcode"], ["apply", "--auto-approve"]):
        run = cli([*command, "--root", str(root)], env)
        assert run.code == 1, run.text
        last = run.err.strip().splitlines()[-1]
        assert last.startswith("error: duplicates on the engine"), run.err
        assert "'Daily digest'" in last and "'Zendesk tickets'" in last and "--prune" in last


def test_prune_plans_and_deletes_the_extra_copies(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path)
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    _duplicate(sandbox)
    plan = cli(["plan", "--root", str(root), "--prune", "--detailed-exitcode"], env)
    assert plan.code == 3, plan.text
    assert "delete extra scheduled task 'Daily digest' of instance/helpdesk" in plan.out
    assert "delete extra event source 'Zendesk tickets' of instance/helpdesk" in plan.out
    assert cli(["apply", "--auto-approve", "--root", str(root), "--prune"], env).code == 0
    assert cycle.census(sandbox).duplicates() == []
    again = cli(["plan", "--root", str(root), "--prune", "--detailed-exitcode"], env)
    assert again.code == 0, again.text
