"""Rate limiting: 30 per window per handler and client IP, before auth, time-scaled."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from reconciler.sandbox import SandboxServer
from reconciler.sandbox.throttle import Throttler

THROTTLED = {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}


def _client(server: SandboxServer) -> httpx.Client:
    auth = {"Authorization": f"Bearer {server.token}"}
    return httpx.Client(base_url=server.url, headers=auth, timeout=5)


def test_31st_call_to_one_handler_is_429_while_another_handler_answers(
    make_server: Callable[..., SandboxServer],
) -> None:
    server = make_server(time_scale=30)  # a 60 s window lasts 2 s
    with _client(server) as c:
        remaining = [c.get("/api/instances/a/room").headers["x-ratelimit-remaining"]]
        remaining += [
            c.get(f"/api/instances/s{i}/room").headers["x-ratelimit-remaining"] for i in range(29)
        ]
        assert remaining == [str(n) for n in range(29, -1, -1)]
        blocked = c.get("/api/instances/other-slug/room")  # the key is the handler, not the path
        assert blocked.status_code == 429
        assert blocked.json() == THROTTLED
        assert int(blocked.headers["retry-after"]) >= 1
        assert "x-ratelimit-remaining" not in blocked.headers
        other = c.get("/api/instances/models")
        assert other.status_code == 200
        assert other.headers["x-ratelimit-remaining"] == "29"
        # Unauthenticated requests are throttled first, and the health check never is.
        assert httpx.get(f"{server.url}/api/instances/a/room").status_code == 429
        assert c.get("/health").status_code == 200
        time.sleep(2.1)  # the block lasts one window
        again = c.get("/api/instances/a/room")
        assert again.status_code == 200
        assert again.headers["x-ratelimit-remaining"] == "29"


def test_rejections_count_but_parser_errors_and_unknown_routes_do_not(
    make_server: Callable[..., SandboxServer],
) -> None:
    server = make_server(limit=3)
    with _client(server) as c:
        bad_json = {"content-type": "application/json"}
        for _ in range(5):
            r = c.post("/api/instances", content=b'{"slug": ', headers=bad_json)
            assert r.status_code == 400
            assert "x-ratelimit-limit" not in r.headers
            assert c.get("/api/nope").status_code == 404
        assert httpx.get(f"{server.url}/api/instances").status_code == 401  # counted
        assert c.get("/api/instances").headers["x-ratelimit-remaining"] == "1"


def test_hits_decay_one_by_one() -> None:
    t = Throttler(limit=3, window_s=60)
    assert [t.hit("ip", "h", at=float(s)).remaining for s in (0, 10, 20)] == [2, 1, 0]
    assert not t.hit("ip", "h", at=30).allowed  # blocked until 90
    assert t.hit("ip", "h", at=65).allowed is False  # still blocked although hits decayed
    v = t.hit("ip", "h", at=91)
    assert v.allowed and v.remaining == 2  # the block reset, this hit counted
    assert t.hit("ip", "other", at=91).remaining == 2  # independent key


def test_freeze_quirk_is_off_by_default_and_models_the_engine_when_on() -> None:
    for freeze, expected in ((False, 2), (True, 1)):
        t = Throttler(limit=2, window_s=60, freeze_quirk=freeze)
        for s in (0, 1, 2):
            t.hit("ip", "blocked", at=s)  # third hit blocks "blocked" until 62
        t.hit("ip", "other", at=10)
        t.hit("ip", "blocked", at=63)  # the reset cancels the decay of "other" when frozen
        assert t.hit("ip", "other", at=200).remaining == expected - 1
