"""The HTTP client against the sandbox: error mapping, retries, 429s, secrets hygiene."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reconciler.engine import EngineClient, EngineConfig
from reconciler.errors import (
    AuthRejected,
    EngineRejected,
    EngineTimeout,
    EngineUnavailable,
    NotFound,
    RequestTooLarge,
    Throttled,
    UsageError,
)
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from tests.engine.helpers import make_client, settled


def _seen(server: SandboxServer, method: str, path: str) -> int:
    return sum(1 for r in settled(server) if (r.method, r.path) == (method, path))


def test_a_bad_token_is_rejected_with_advice_and_without_the_token(sandbox: SandboxServer) -> None:
    bad = "not-a-session-token-canary-8d1f"
    config = EngineConfig(url=sandbox.url, token=bad)
    with EngineClient(config) as client, pytest.raises(AuthRejected) as caught:
        client.get("/api/instances")
    message = str(caught.value)
    assert (
        sandbox.url in message and "POLYANT_TOKEN" in message and "polyant-gitops token" in message
    )
    assert bad not in message and bad not in repr(config) and bad not in repr(client)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_connection_refused_names_the_url_after_a_few_get_retries() -> None:
    url = _closed_port_url()
    with EngineClient(EngineConfig(url=url, token="secret-token-x")) as client:
        with pytest.raises(EngineUnavailable) as caught:
            client.get("/api/instances")
        assert url in str(caught.value) and "secret-token-x" not in str(caught.value)
        assert client.stats.retries == 3
        with pytest.raises(EngineUnavailable) as write:
            client.post("/api/instances", {"slug": "x", "name": "X"})
        # Refused means nothing was sent: the write certainly did not land.
        assert write.value.maybe_committed is False and client.stats.retries == 3


def test_404_names_the_object_and_the_engine_message(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client, pytest.raises(NotFound) as caught:
        client.get("/api/instances/ghost/export", what="instance 'ghost' export")
    assert str(caught.value).startswith("instance 'ghost' export: not found")
    assert 'Instance "ghost" not found' in str(caught.value)


def test_oversized_bodies_are_refused_before_sending(sandbox: SandboxServer) -> None:
    sections = [
        {"key": k, "content": "x" * 40_000} for k in ("01-identity", "02-soul", "03-tooling")
    ]
    with make_client(sandbox) as client, pytest.raises(RequestTooLarge) as caught:
        client.patch("/api/instances/demo-agent/prompts", {"sections": sections},
                     what="instance 'demo-agent' prompts")  # fmt: skip
    assert "instance 'demo-agent' prompts" in str(caught.value) and "102400" in str(caught.value)
    assert settled(sandbox) == []


def test_engine_rejections_carry_status_and_message_but_no_secret(sandbox: SandboxServer) -> None:
    secret = "canary-value-that-is-too-long-" + "z" * 8200
    body = {"secrets": [{"key": "openai_api_key", "value": secret}]}
    with make_client(sandbox) as client, pytest.raises(EngineRejected) as caught:
        client.put("/api/instances/demo-agent/secrets", body, what="instance 'demo-agent' secrets")
    assert caught.value.status == 400 and "8192" in str(caught.value)
    assert "canary-value" not in str(caught.value)


@pytest.fixture
def bad_server() -> Iterator[str]:
    """A loopback server answering malformed JSON, a gigantic body or a redirect."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/moved":
                self.send_response(301)
                self.send_header("Location", "https://engine.example.com/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if self.path == "/huge":
                self.send_header("Content-Length", str(50 * 1024 * 1024))
                self.end_headers()
                return
            payload = b'{"instances": [oops'
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_malformed_and_huge_answers_are_clear_rejections(bad_server: str) -> None:
    with EngineClient(EngineConfig(url=bad_server, token="t")) as client:
        with pytest.raises(EngineRejected, match=r"malformed JSON .*a Polyant engine"):
            client.get("/api/instances", what="instance list")
        with pytest.raises(EngineRejected, match="over 20 MB"):
            client.get("/huge")
        with pytest.raises(
            EngineRejected, match=r"redirected to https://engine\.example\.com/moved"
        ):
            client.get("/moved")


def test_get_is_retried_on_503_and_succeeds(sandbox: SandboxServer) -> None:
    rule = FaultRule(FaultKind.ERROR, match="GET /api/instances", status=503, count=2)
    sandbox.set_faults(FaultPlan([rule]))
    with make_client(sandbox) as client:
        listing = client.get("/api/instances")
        assert [i["slug"] for i in listing["instances"]] == ["demo-agent"]
        assert client.stats.retries == 2
    assert _seen(sandbox, "GET", "/api/instances") == 3


def test_writes_are_never_retried_on_503(sandbox: SandboxServer) -> None:
    rule = FaultRule(FaultKind.ERROR, match="POST /api/instances", status=503, count=1)
    sandbox.set_faults(FaultPlan([rule]))
    with make_client(sandbox) as client, pytest.raises(EngineRejected) as caught:
        client.post("/api/instances", {"slug": "once", "name": "Once"})
    assert caught.value.status == 503
    assert _seen(sandbox, "POST", "/api/instances") == 1


def test_a_write_dropped_after_commit_may_be_committed_and_is_not_resent(
    sandbox: SandboxServer,
) -> None:
    sandbox.set_faults(FaultPlan([FaultRule(FaultKind.DROP_AFTER, match="POST /api/instances")]))
    with make_client(sandbox) as client:
        with pytest.raises(EngineUnavailable) as caught:
            client.post("/api/instances", {"slug": "landed", "name": "Landed"})
        assert caught.value.maybe_committed is True
        assert "re-read" in str(caught.value)
        assert _seen(sandbox, "POST", "/api/instances") == 1
        sandbox.set_faults(None)
        assert client.get("/api/instances/landed")["instance"]["name"] == "Landed"


def test_a_write_that_times_out_may_be_committed(sandbox: SandboxServer) -> None:
    rule = FaultRule(FaultKind.SLOW, match="PATCH /api/instances/:slug", delay_s=1.0)
    sandbox.set_faults(FaultPlan([rule]))
    with make_client(sandbox, timeout_s=0.3) as client, pytest.raises(EngineTimeout) as caught:
        client.patch("/api/instances/demo-agent", {"name": "Renamed"}, what="instance 'demo-agent'")
    assert caught.value.maybe_committed is True and "0.3 s" in str(caught.value)
    time.sleep(1.0)  # the slow answer is still being held; the write itself has landed
    assert _seen(sandbox, "PATCH", "/api/instances/demo-agent") == 1
    sandbox.set_faults(None)
    with make_client(sandbox) as client:
        assert client.get("/api/instances/demo-agent")["instance"]["name"] == "Renamed"


def test_a_429_burst_is_waited_out(sandbox: SandboxServer) -> None:
    rule = FaultRule(FaultKind.THROTTLE, match="GET /api/instances", count=1, retry_after_s=1)
    sandbox.set_faults(FaultPlan([rule]))
    waits: list[tuple[str, float]] = []
    config = EngineConfig(url=sandbox.url, token=sandbox.token, rate_window_s=3.0)
    with EngineClient(config, on_wait=lambda h, s: waits.append((h, s))) as client:
        assert client.get("/api/instances")["instances"]
        assert client.stats.throttled == 1 and client.stats.waited_s >= 1.0
    assert waits and waits[0][0] == "Instances.list" and waits[0][1] >= 1.0
    assert [r.status for r in settled(sandbox)] == [429, 200]


def test_a_429_storm_raises_throttled_naming_the_route(sandbox: SandboxServer) -> None:
    rule = FaultRule(FaultKind.THROTTLE, match="GET /api/instances", retry_after_s=0)
    sandbox.set_faults(FaultPlan([rule]))
    with make_client(sandbox) as client, pytest.raises(Throttled) as caught:
        client.get("/api/instances", what="instance list")
    assert "Instances.list" in str(caught.value) and "another client" in str(caught.value)
    assert _seen(sandbox, "GET", "/api/instances") == 5


@pytest.fixture
def fast_sandbox() -> Iterator[SandboxServer]:
    """The real policy (30 per 60 s) with time 60x faster: one window per second."""
    with SandboxServer(time_scale=60.0, limit=30, seed_demo=True) as server:
        yield server


def _burn(server: SandboxServer, count: int) -> None:
    # Another client on the same IP (e.g. the admin panel) spends the room handler's budget.
    import httpx

    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers) as other:
        for _ in range(count):
            other.get("/api/instances/other/room")


def test_a_shared_budget_is_paced_by_the_engine_count(fast_sandbox: SandboxServer) -> None:
    _burn(fast_sandbox, 25)
    settled(fast_sandbox)
    fast_sandbox.reset_requests()
    with make_client(fast_sandbox, window_s=1.0) as client:
        for _ in range(10):
            client.get("/api/instances/demo-agent/room")
        assert client.stats.throttled == 0 and client.stats.waited_s > 0.5
    assert [r.status for r in settled(fast_sandbox)] == [200] * 10


def test_an_exhausted_shared_budget_is_waited_out(fast_sandbox: SandboxServer) -> None:
    _burn(fast_sandbox, 31)
    with make_client(fast_sandbox, window_s=1.0) as client:
        assert client.get("/api/instances/demo-agent/room") == {"configured": False}
        assert client.stats.throttled == 1


def test_plain_http_to_a_remote_host_needs_insecure() -> None:
    with pytest.raises(UsageError, match="https:// URL, or pass --insecure"):
        EngineClient(EngineConfig(url="http://engine.example.com:4000", token="t"))
    for url in ("https://engine.example.com", "http://localhost:4000", "http://[::1]:4000"):
        EngineClient(EngineConfig(url=url, token="t")).close()
    EngineClient(EngineConfig(url="http://10.0.0.5", token="t", insecure=True)).close()
    with pytest.raises(UsageError):
        EngineClient(EngineConfig(url="ftp://engine", token="t"))


def test_credentials_in_the_url_never_show(sandbox: SandboxServer) -> None:
    url = sandbox.url.replace("http://", "http://user:pa55word@")
    with EngineClient(EngineConfig(url=url, token=sandbox.token)) as client:
        with pytest.raises(NotFound) as caught:
            client.get("/api/instances/ghost")
        assert "pa55word" not in str(caught.value) + repr(client) + client.url


def test_parallel_keeps_order_and_raises_the_first_error_after_all_ran() -> None:
    ran: list[int] = []

    def job(i: int) -> int:
        ran.append(i)
        if i in (2, 4):
            raise ValueError(f"job {i}")
        return i * 10

    with EngineClient(EngineConfig(url="http://127.0.0.1:9", token="t")) as client:
        assert client.parallel([lambda i=i: i * 10 for i in range(5)]) == [0, 10, 20, 30, 40]
        with pytest.raises(ValueError, match="job 2"):
            client.parallel([lambda i=i: job(i) for i in range(6)])
    assert sorted(ran) == [0, 1, 2, 3, 4, 5]


def test_parallel_runs_max_workers_jobs_at_once_and_no_more() -> None:
    meet = threading.Barrier(3, timeout=30)  # three jobs must be running side by side
    lock = threading.Lock()
    active: list[int] = [0, 0]  # now, most

    def job(i: int) -> int:
        with lock:
            active[0] += 1
            active[1] = max(active)
        if i < 3:
            meet.wait()
        with lock:
            active[0] -= 1
        return i

    config = EngineConfig(url="http://127.0.0.1:9", token="t", max_workers=3)
    with EngineClient(config) as client:
        assert client.parallel([lambda i=i: job(i) for i in range(40)]) == list(range(40))
    assert active == [0, 3]


def test_a_token_no_header_can_carry_is_refused_without_echoing_it() -> None:
    # Any caller, not only the CLI: http.client would otherwise fail with the value inside.
    bad = [{"token": "tok\nsecret-canary"}, {"token": "t", "api_key": "k\x7fsecret-canary"}]
    for kwargs in bad:
        with pytest.raises(UsageError) as caught:
            EngineConfig(url="http://127.0.0.1:1", **kwargs)
        assert "HTTP header at position" in str(caught.value)
        assert "secret-canary" not in str(caught.value)
