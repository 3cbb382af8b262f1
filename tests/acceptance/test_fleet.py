"""A fleet of a few dozen instances on the real engine: applied, then planned with zero 429s."""

from __future__ import annotations

import time
from pathlib import Path

from tests.acceptance.engines import require_tier
from tests.acceptance.proxy import RecordingProxy
from tests.cli.helpers import cli

require_tier()

FLEET = 30


def _fleet_repo(root: Path, rid: str) -> Path:
    for n in range(FLEET):
        folder = root / "instances" / f"fleet{n:02d}-{rid}"
        folder.mkdir(parents=True)
        (folder / "instance.yaml").write_text(
            f"name: Fleet {n:02d} {rid}\ndescription: member {n} of a fleet\n"
            "manualTools: [readSkill, spawnTask]\n"
        )
    (root / "polyant.yaml").write_text(
        f"version: 1\nscope:\n  instances: ['*-{rid}']\n  skills: ['*-{rid}']\n"
    )
    return root


def test_a_fleet_is_applied_and_planned_without_a_single_429(
    tmp_path: Path,
    proxied_env: dict[str, str],
    proxy: RecordingProxy,
    rid: str,
    cleanup: None,
) -> None:
    root = _fleet_repo(tmp_path / "repo", rid)
    applied = cli(["apply", "--auto-approve", "--root", str(root)], proxied_env)
    assert applied.code == 0, applied.text
    created = [
        s for s in proxy.seen if (s.method, s.path) == ("POST", "/api/instances") and not s.lease
    ]
    assert proxy.lease_calls() >= 2  # the apply held the engine's lease and let it go
    assert [s.status for s in created if s.status != 429] == [201] * FLEET
    met = sum(1 for s in proxy.seen if s.status == 429)
    print(f"fleet of {FLEET}: apply sent {len(proxy.seen)} requests, {met} answered 429")

    # A plan started right after the apply meets a few 429s: the client's first parallel
    # burst per handler cannot know the budget the apply's process spent (it waits them
    # out). From an engine quiet for one window, the plan reads 30 instances on each
    # handler, its whole budget, and must meet none.
    time.sleep(61)
    proxy.reset()
    plan = cli(["plan", "--root", str(root), "--detailed-exitcode"], proxied_env)
    assert plan.code == 0, plan.text
    reads = len(proxy.seen)
    print(f"fleet of {FLEET}: plan made {reads} reads, {proxy.throttled()} answered 429")
    assert reads >= FLEET
    assert proxy.throttled() == 0, [s.path for s in proxy.seen if s.status == 429]
