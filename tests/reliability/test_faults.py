"""Fault matrix: every write route apply uses × {500, 429 burst, drop after commit, timeout}.

The write routes are not listed by hand: a clean run of phase A (everything created) then
phase B (everything updated or pruned) is recorded at collection time, and every write
handler in its request log becomes a row. For each cell the fault hits the first matching
request(s); apply runs once under the fault and once without, and then the engine must
have converged (an empty plan), with no duplicate and no missing named object.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import pytest

from reconciler.model.objects import State
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from tests.reliability import cycle
from tests.reliability.states import SECRETS_ENV, state_a, state_b

SCALE = 20.0  # the engine's 30/60 s throttle with 3 s windows
CLIENT_TIMEOUT_S = 0.5  # short, so that a slow answer is a timeout (the write still lands)
PHASES = {"A": state_a, "B": state_b}


@functools.cache
def write_handlers() -> list[tuple[str, str]]:
    """(phase, handler) of every write handler a clean A-then-B apply sends to."""
    found: list[tuple[str, str]] = []
    with SandboxServer(time_scale=SCALE) as server, cycle.client_for(server, SCALE) as client:
        for phase, desired in PHASES.items():
            offset = client.stats.reads + client.stats.writes
            server.reset_requests()
            report = cycle.apply_state(client, desired())
            assert report.ok(), report.to_json()
            cycle.settle(server, client, offset)
            seen = {r.handler for r in server.requests if r.method != "GET" and r.handler}
            found += [(phase, h) for h in sorted(seen) if h not in {h for _, h in found}]
    return found


def rule(kind: str, handler: str) -> FaultRule:
    """The fault of one matrix column, aimed at the first request(s) of `handler`."""
    if kind == "500":
        return FaultRule(FaultKind.ERROR, handler, count=1)
    if kind == "429 burst":
        return FaultRule(FaultKind.THROTTLE, handler, count=2, retry_after_s=1)
    if kind == "drop after commit":
        return FaultRule(FaultKind.DROP_AFTER, handler, count=1)
    return FaultRule(FaultKind.SLOW, handler, count=1, delay_s=CLIENT_TIMEOUT_S + 0.4)


def _converged(server: SandboxServer, desired: State) -> None:
    got = cycle.census(server).without("demo-agent")
    want = cycle.expected(desired)
    assert got.duplicates() == [], "duplicated objects"
    assert got == want, f"engine objects differ from the desired ones: {got} != {want}"


def run_case(phase: str, handler: str, kind: str) -> None:
    """One matrix cell: apply under the fault, apply again clean, then check convergence."""
    desired = PHASES[phase]()
    with (
        SandboxServer(time_scale=SCALE) as server,
        cycle.client_for(server, SCALE, timeout_s=CLIENT_TIMEOUT_S) as client,
    ):
        if phase == "B":
            assert cycle.apply_state(client, state_a()).ok()
        faults = FaultPlan([rule(kind, handler)])
        server.set_faults(faults)
        first = cycle.apply_state(client, desired, check=False)
        server.set_faults(None)

        assert faults.fired[0] >= 1, f"{handler} was not called under the fault"
        for result in first.results:
            assert "Traceback" not in result.reason and "\n" not in result.reason
        if kind == "429 burst":
            assert client.stats.throttled >= 2 and first.ok(), first.to_json()
        assert not any(v in first.to_json() for v in SECRETS_ENV.values())

        second = cycle.apply_state(client, desired)
        assert second.ok(), second.to_json()
        assert cycle.plan_for(client, desired).changes == ()
        _converged(server, desired)


@pytest.mark.parametrize("kind", ["500", "drop after commit", "timeout"])
@pytest.mark.parametrize(("phase", "handler"), write_handlers(), ids=str)
def test_fault_then_clean_apply_converges(phase: str, handler: str, kind: str) -> None:
    run_case(phase, handler, kind)


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_429_burst_on_every_write_route_then_converges(phase: str) -> None:
    # Grouped per phase, cells run side by side: each waits Retry-After (1 s) twice, so
    # one test id per cell would spend a minute asleep. Each cell has its own engine.
    handlers = [h for p, h in write_handlers() if p == phase]
    assert handlers

    def cell(handler: str) -> str | None:
        try:
            run_case(phase, handler, "429 burst")
        except Exception as exc:  # collected: every failing route is reported at once
            return f"{handler}: {type(exc).__name__}: {str(exc)[:300]}"
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        failures = [f for f in pool.map(cell, handlers) if f]
    assert failures == []
