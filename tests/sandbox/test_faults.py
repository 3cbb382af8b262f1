"""Fault injection seen by a real httpx client: latency, 5xx, 429, drops, slow answers."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from reconciler.sandbox import FaultKind, FaultPlan, FaultRule, SandboxServer

CREATE = "POST /api/instances"
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def _client(server: SandboxServer, timeout: float = 5) -> httpx.Client:
    auth = {"Authorization": f"Bearer {server.token}"}
    return httpx.Client(base_url=server.url, headers=auth, timeout=timeout)


def _exists(c: httpx.Client, slug: str) -> bool:
    return c.get(f"/api/instances/{slug}").status_code == 200


def test_latency_rule_and_global_latency(make_server: Callable[..., SandboxServer]) -> None:
    rule = FaultRule(FaultKind.LATENCY, match="GET /api/tools", delay_s=0.3)
    server = make_server(faults=FaultPlan([rule]), latency_s=0.05)
    with _client(server) as c:
        start = time.monotonic()
        assert c.get("/api/tools").status_code == 200
        assert time.monotonic() - start >= 0.35
        start = time.monotonic()
        assert c.get("/api/instances").status_code == 200
        assert time.monotonic() - start >= 0.05  # the global latency, without the rule's


def _statuses(server: SandboxServer, seed: int, n: int = 40) -> list[int]:
    server.set_faults(
        FaultPlan([FaultRule(FaultKind.ERROR, match="*Models*", rate=0.3)], seed=seed)
    )
    with _client(server) as c:
        return [c.get("/api/instances/models").status_code for _ in range(n)]


def test_error_rate_is_deterministic_with_a_seed(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(limit=1000)
    first, again, other = _statuses(server, 7), _statuses(server, 7), _statuses(server, 8)
    assert first == again
    assert first != other
    assert set(first) == {200, 500} and 5 <= first.count(500) <= 20
    with _client(server) as c:
        server.set_faults(FaultPlan([FaultRule(FaultKind.ERROR, status=503)]))
        r = c.get("/api/tools")
        assert r.status_code == 503
        server.set_faults(FaultPlan([FaultRule(FaultKind.ERROR)]))
        assert c.get("/api/tools").json() == {"statusCode": 500, "message": "Internal server error"}
        server.set_faults(None)
        assert c.get("/api/tools").status_code == 200


def test_throttle_burst_then_normal(make_server: Callable[..., SandboxServer]) -> None:
    burst = FaultRule(FaultKind.THROTTLE, match="InstancesController.findAll", count=3, after=1)
    server = make_server(faults=FaultPlan([burst]))
    with _client(server) as c:
        codes = [c.get("/api/instances") for _ in range(6)]
    assert [r.status_code for r in codes] == [200, 429, 429, 429, 200, 200]
    assert codes[1].headers["retry-after"] == "1"
    assert codes[1].json() == {
        "statusCode": 429,
        "message": "ThrottlerException: Too Many Requests",
    }
    assert [r.fault for r in server.requests] == [
        None,
        "throttle",
        "throttle",
        "throttle",
        None,
        None,
    ]


@pytest.mark.parametrize("reset", [False, True])
def test_drop_before_commit(make_server: Callable[..., SandboxServer], reset: bool) -> None:
    rule = FaultRule(FaultKind.DROP_BEFORE, match=CREATE, count=1, reset=reset)
    server = make_server(faults=FaultPlan([rule]))
    with _client(server) as c:
        with pytest.raises(DROPPED):
            c.post("/api/instances", json={"slug": "dropped", "name": "x"})
        assert not _exists(c, "dropped")  # nothing was committed
        assert c.post("/api/instances", json={"slug": "dropped", "name": "x"}).status_code == 201
    assert server.requests[0].status == 0 and server.requests[0].fault == "drop_before"


@pytest.mark.parametrize("reset", [False, True])
def test_drop_after_commit(make_server: Callable[..., SandboxServer], reset: bool) -> None:
    rule = FaultRule(FaultKind.DROP_AFTER, match="POST /api/instances", count=1, reset=reset)
    server = make_server(faults=FaultPlan([rule]))
    with _client(server) as c:
        with pytest.raises(DROPPED):
            c.post("/api/instances", json={"slug": "landed", "name": "x"})
        assert _exists(c, "landed")  # the client saw a broken connection, the write landed
        retry = c.post("/api/instances", json={"slug": "landed", "name": "x"})
        assert retry.status_code == 409
    assert server.calls("InstancesController.create") == 2


def test_slow_answer_beats_the_client_timeout(make_server: Callable[..., SandboxServer]) -> None:
    rule = FaultRule(FaultKind.SLOW, match="POST /api/instances/:slug/*", delay_s=1.0)
    server = make_server(faults=FaultPlan([rule]))
    with _client(server, timeout=0.3) as c:
        assert c.post("/api/instances", json={"slug": "slow", "name": "x"}).status_code == 201
        with pytest.raises(httpx.ReadTimeout):
            c.post(
                "/api/instances/slow/scheduled-tasks",
                json={
                    "name": "t",
                    "prompt": "p",
                    "schedule": {"type": "interval", "everyMs": 60000},
                },
            )
        listed = c.get("/api/instances/slow/scheduled-tasks").json()["tasks"]
        assert [t["name"] for t in listed] == ["t"]  # committed before the slow answer


def test_matchers() -> None:
    rule = FaultRule(FaultKind.ERROR, match="PUT /api/instances/:slug/*")
    assert rule.matches("PUT", "/api/instances/:slug/secrets", "X.y")
    assert not rule.matches("GET", "/api/instances/:slug/secrets", "X.y")
    assert FaultRule(FaultKind.ERROR, match="* /api/skills*").matches("DELETE", "/api/skills", "")
    assert FaultRule(FaultKind.ERROR, match="Skills*").matches("GET", "/x", "SkillsController.get")
    assert FaultRule(FaultKind.ERROR).matches("GET", "/health", "HealthController.check")
