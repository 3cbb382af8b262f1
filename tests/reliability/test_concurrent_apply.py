"""Issue 15 item 1: concurrent applies against one engine never duplicate objects.

Three `apply` processes start together against one sandbox with latency, ten times over:
the apply lease lets exactly one of them write; the others wait for it and then find
nothing to do (or refuse, naming the holder). The engine ends with no duplicate and no
lease left behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, copy_examples
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE
from tests.reliability import cycle

ROUNDS = 10
RACERS = 3
LEASE = "polyant-gitops-apply-lease"
HANG_GUARD_S = 240


def _env(server: SandboxServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **CANARIES,
        "POLYANT_URL": server.url,
        "POLYANT_TOKEN": server.token,
        "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
        **extra,
    }


def _start(root: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--root", str(root), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _writes(out: str) -> int:
    found = re.search(r"apply: (\d+) write call", out)
    return int(found.group(1)) if found else 0


def _race(root: Path, server: SandboxServer, **extra: str) -> list[tuple[int, str, str]]:
    env = _env(server, **extra)
    procs = [_start(root, env) for _ in range(RACERS)]
    outputs = [p.communicate(timeout=HANG_GUARD_S) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]


def _census_dupes(server: SandboxServer) -> list[str]:
    return cycle.census(server).duplicates()


def test_three_simultaneous_applies_ten_times(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    writers_per_round, duplicates = [], []
    for _ in range(ROUNDS):
        with SandboxServer(time_scale=TIME_SCALE, latency_s=0.05) as server:
            results = _race(root, server)
            for code, _out, err in results:
                assert code in (0, 1), err
                assert "Traceback" not in err and "internal error" not in err, err
                if code == 1:  # refused: one line naming the holder and its expiry
                    assert "holds the apply lease" in err and "until" in err, err
            writers_per_round.append(sum(1 for code, out, _ in results if _writes(out) > 0))
            duplicates += _census_dupes(server)
            assert LEASE not in {i.slug for i in server.store.instances.values()}
    assert duplicates == []
    assert writers_per_round == [1] * ROUNDS


def test_a_second_apply_refuses_naming_the_holder_when_it_may_not_wait(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    with SandboxServer(time_scale=TIME_SCALE) as server:
        import httpx

        # Another apply holds the lease (as its own create would have left it).
        held = (
            "polyant-gitops apply lease: held by ci@runner pid 7 "
            "until 2999-01-01T00:00:00Z (run 0123abcd)."
        )
        httpx.post(
            f"{server.url}/api/instances",
            json={"slug": LEASE, "name": "lease", "description": held},
            headers={"Authorization": f"Bearer {server.token}"},
        ).raise_for_status()
        server.reset_requests()
        second = _start(root, _env(server, POLYANT_LEASE_WAIT_SECONDS="0"))
        _, err = second.communicate(timeout=HANG_GUARD_S)
        written = [r for r in server.requests if r.method != "GET"]
    assert second.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: another apply holds the apply lease"), err
    assert "ci@runner pid 7, until 2999-01-01T00:00:00Z" in last, last
    assert written == [r for r in written if r.path == "/api/instances"]  # only its try


def test_an_expired_lease_is_taken_over(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    with SandboxServer(time_scale=TIME_SCALE) as server:
        import httpx

        headers = {"Authorization": f"Bearer {server.token}"}
        stale = (
            "polyant-gitops apply lease: held by ghost@gone pid 1 "
            "until 2001-01-01T00:00:00Z (run abc)."
        )
        httpx.post(
            f"{server.url}/api/instances",
            json={"slug": LEASE, "name": "lease", "description": stale},
            headers=headers,
        ).raise_for_status()
        proc = _start(root, _env(server, POLYANT_LEASE_WAIT_SECONDS="0"))
        out, err = proc.communicate(timeout=HANG_GUARD_S)
        assert proc.returncode == 0, err
        assert _writes(out) > 0
        slugs = {i.slug for i in server.store.instances.values()}
        assert not any(s.startswith(LEASE) for s in slugs), slugs


def test_the_lease_is_never_planned_or_pruned(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    with SandboxServer(time_scale=TIME_SCALE) as server:
        import httpx

        headers = {"Authorization": f"Bearer {server.token}"}
        live = "polyant-gitops apply lease: held by x@y pid 2 until 2999-01-01T00:00:00Z (run abc)."
        httpx.post(
            f"{server.url}/api/instances",
            json={"slug": LEASE, "name": "lease", "description": live},
            headers=headers,
        ).raise_for_status()
        plan = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", "--root", str(root), "--prune"],
            env=_env(server),
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
            check=False,
        )
        assert plan.returncode == 0, plan.stderr
        assert LEASE not in plan.stdout + plan.stderr


def test_a_create_rechecks_the_name_right_before_writing() -> None:
    """Another writer (an apply with --no-lock) creates the task between plan and apply."""
    from reconciler import core
    from tests.reliability.states import SECRETS_ENV, state_a

    desired = state_a()
    with (
        SandboxServer(time_scale=TIME_SCALE) as server,
        cycle.client_for(server, TIME_SCALE) as client,
    ):
        assert cycle.apply_state(client, desired).ok()
        beta = desired.instances["beta"]
        sweep = (beta.scheduled_tasks or [])[0]
        client.delete("/api/instances/beta/scheduled-tasks/" + _task_id(server, "Sweep"))
        plan = cycle.plan_for(client, desired)  # plans to create 'Sweep' again
        body = sweep.model_dump(by_alias=True, exclude={"enabled"}, exclude_none=True)
        client.post("/api/instances/beta/scheduled-tasks", body)  # the other writer
        report = core.apply(client, plan, secrets=SECRETS_ENV, prune=True)
        assert cycle.census(server).duplicates() == []
        assert not report.ok()  # the skipped create is reported: plan again
        assert any(
            "appeared on the engine since the plan" in s
            for r in report.results
            for s in r.skipped_parts
        )


def _task_id(server: SandboxServer, name: str) -> str:
    return next(t.id for t in server.store.tasks.values() if t.name == name)
