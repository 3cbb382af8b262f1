"""The engine's HTTP client: auth, per-handler pacing, GET retries and one-place error mapping."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from reconciler.engine import routes
from reconciler.engine.answers import (
    encode_body,
    error_for_status,
    error_for_transport,
    float_header,
    int_header,
)
from reconciler.engine.pacing import Pacer, WaitCallback
from reconciler.engine.transport import (
    Answer,
    DeadlinePassed,
    Limits,
    Transport,
    TransportError,
    Unusable,
)
from reconciler.engine.workers import run_all
from reconciler.errors import EngineRejected, Throttled, UsageError
from reconciler.model.checks import header_problem, is_loopback_host, public_url

T = TypeVar("T")
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
MAX_CONSECUTIVE_429 = 5
GET_ATTEMPTS = 4
RETRY_STATUSES = frozenset({502, 503, 504})
DEADLINE_READS = 3  # the overall deadline of one request, in per-read timeouts


@dataclass(frozen=True)
class EngineConfig:
    """Where the engine is and how hard we may use it."""

    url: str
    token: str = field(repr=False)  # never printed, logged or put in an error
    # A management API key (develop on): sent as X-Polyant-Key instead of the token.
    api_key: str = field(default="", repr=False)
    insecure: bool = False  # allow plain http to non-loopback hosts
    timeout_s: float = 20.0  # per read; a whole exchange gets DEADLINE_READS times this
    rate_limit: int = 30  # per route handler per window (contract §1.3)
    rate_window_s: float = 60.0
    max_workers: int = 8
    retry_budget_s: float = 600.0  # total seconds one run may spend waiting out 429s

    def __post_init__(self) -> None:
        # http.client would refuse the header with the value in its message.
        for name, value in (("token", self.token), ("API key", self.api_key)):
            if problem := header_problem(value):
                raise UsageError(f"the engine {name} {problem}")


@dataclass
class ClientStats:
    """What a client did: requests per handler, 429s met, retries, time spent waiting."""

    by_handler: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    retries: int = 0
    waited_s: float = 0.0
    writes: int = 0
    reads: int = 0


def display_url(url: str) -> str:
    """The URL without user:password, query or trailing slash: fit for messages and requests."""
    return public_url(url)


def _check_url(config: EngineConfig) -> str:
    parts = urlsplit(config.url)
    shown = display_url(config.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"engine URL {shown!r} must look like https://host[:port]")
    if parts.scheme == "http" and not config.insecure and not is_loopback_host(parts.hostname):
        raise UsageError(
            f"refusing plain http to {shown}: the token would travel unencrypted; "
            "use an https:// URL, or pass --insecure (insecure: true in polyant.yaml)"
        )
    return shown


def _auth_headers(config: EngineConfig) -> dict[str, str]:
    # The engine checks X-Polyant-Key before any Bearer token (develop's AuthGuard).
    if config.api_key:
        return {"X-Polyant-Key": config.api_key}
    return {"Authorization": f"Bearer {config.token}"}


class EngineClient:
    """One connection pool to one engine; thread-safe; paces itself per route handler."""

    def __init__(self, config: EngineConfig, *, on_wait: WaitCallback | None = None) -> None:
        self.url = _check_url(config)
        self.config = config
        self.stats = ClientStats()
        self._lock = threading.Lock()
        self._on_wait = on_wait
        self._throttle_spent = 0.0
        self._pacer = Pacer(config.rate_limit, config.rate_window_s, on_wait=self._report_wait)
        limits = Limits(
            timeout_s=config.timeout_s,
            deadline_s=self.deadline_s,
            pool_size=max(config.max_workers, 1) + 2,
            max_bytes=MAX_RESPONSE_BYTES,
        )
        headers = _auth_headers(config) | {
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        try:
            # The URL without user:password: it is never sent, as Basic auth or otherwise.
            self._http = Transport(self.url, headers, limits)
        except Unusable as exc:
            raise UsageError(f"cannot use {self.url}: {exc}") from None

    def __repr__(self) -> str:
        return f"EngineClient({self.url!r})"

    @property
    def deadline_s(self) -> float:
        """Seconds one whole exchange may take: a few reads' worth, then it is a drip."""
        return self.config.timeout_s * DEADLINE_READS

    def _report_wait(self, handler: str, seconds: float) -> None:
        with self._lock:
            self.stats.waited_s += seconds
        if self._on_wait is not None:
            self._on_wait(handler, seconds)

    def get(self, path: str, *, what: str = "") -> Any:
        """GET `path`; retried on connection errors and 502/503/504."""
        return self.request("GET", path, what=what)

    def post(self, path: str, body: object | None = None, *, what: str = "") -> Any:
        """POST `body` as JSON to `path`; never retried blindly."""
        return self.request("POST", path, body, what=what)

    def put(self, path: str, body: object | None = None, *, what: str = "") -> Any:
        """PUT `body` as JSON to `path`; never retried blindly."""
        return self.request("PUT", path, body, what=what)

    def patch(self, path: str, body: object | None = None, *, what: str = "") -> Any:
        """PATCH `body` as JSON to `path`; never retried blindly."""
        return self.request("PATCH", path, body, what=what)

    def delete(self, path: str, *, what: str = "") -> Any:
        """DELETE `path`; never retried blindly."""
        return self.request("DELETE", path, what=what)

    def request(self, method: str, path: str, body: object | None = None, *, what: str = "") -> Any:
        """Send one request and return its decoded JSON body (None when empty)."""
        method = method.upper()
        what = what or f"{method} {path.split('?', maxsplit=1)[0]}"
        data = encode_body(body, what)
        handler = routes.handler_for(method, path)
        attempt = throttled = 0
        while True:
            try:
                answer = self._send(method, path, data, handler)
            except TransportError as exc:
                limit = (
                    self.deadline_s if isinstance(exc, DeadlinePassed) else self.config.timeout_s
                )
                failure = error_for_transport(exc, method, what, self.url, limit)
                # Only GETs are resent: a write may have landed (maybe_committed).
                if method == "GET" and failure.retryable and attempt < GET_ATTEMPTS - 1:
                    attempt = self._backoff(attempt)
                    continue
                raise failure.exception from exc
            if answer.status == 429:
                # The throttler answers before any handler runs: nothing landed, resend.
                throttled = self._on_429(handler, answer, what, throttled + 1)
                continue
            if method == "GET" and answer.status in RETRY_STATUSES and attempt < GET_ATTEMPTS - 1:
                attempt = self._backoff(attempt)
                continue
            return self._decode(answer, method, data, body, what)

    def _send(self, method: str, path: str, data: bytes | None, handler: str | None) -> Answer:
        if handler is not None:
            self._pacer.acquire(handler)
        self._count(method, handler)
        try:
            answer = self._http.exchange(method, path, data)
        except BaseException:
            if handler is not None:
                self._pacer.abandon(handler)
            raise
        if handler is not None and answer.status != 429:
            self._pacer.release(
                handler,
                remaining=int_header(answer.headers, "x-ratelimit-remaining"),
                limit=int_header(answer.headers, "x-ratelimit-limit"),
            )
        return answer

    def _count(self, method: str, handler: str | None) -> None:
        with self._lock:
            self.stats.by_handler[handler or "unthrottled"] += 1
            if method == "GET":
                self.stats.reads += 1
            else:
                self.stats.writes += 1

    def _on_429(self, handler: str | None, answer: Answer, what: str, in_a_row: int) -> int:
        with self._lock:
            self.stats.throttled += 1
        if in_a_row >= MAX_CONSECUTIVE_429:
            raise Throttled(
                f"{what}: the engine answered 429 {in_a_row} times in a row for route "
                f"{handler or 'unthrottled'} although we paced ourselves: another client with "
                "the same IP is using this budget (e.g. the admin panel through the web app's "
                "proxy); call the engine directly, or retry when it is idle"
            )
        wait = self._throttle_wait(float_header(answer.headers, "retry-after"), what)
        if handler is None:
            time.sleep(wait)
        else:
            self._pacer.throttled(handler, wait)
        return in_a_row

    def _throttle_wait(self, retry_after: float | None, what: str) -> float:
        # The engine blocks for one window at most (§1.3): a larger Retry-After is not
        # believed, and all waits of a run together stay within the retry budget.
        window = self.config.rate_window_s
        wait = min(retry_after, window) if retry_after is not None else window
        with self._lock:
            if self._throttle_spent + wait > self.config.retry_budget_s:
                raise Throttled(
                    f"{what}: gave up waiting for the engine's rate limit after "
                    f"{self._throttle_spent:.0f} s (retry budget {self.config.retry_budget_s:.0f}"
                    " s; POLYANT_RETRY_BUDGET_SECONDS raises it); retry when the engine is idle"
                )
            self._throttle_spent += max(wait, 0.0)
        return max(wait, 0.0)

    def _backoff(self, attempt: int) -> int:
        with self._lock:
            self.stats.retries += 1
        # Jittered exponential backoff, kept short: a GET that fails 4 times is reported.
        time.sleep(0.2 * (2**attempt) * random.uniform(0.5, 1.5))
        return attempt + 1

    def _decode(
        self, answer: Answer, method: str, data: bytes | None, body: object | None, what: str
    ) -> Any:
        if answer.oversized:
            cap = f"{MAX_RESPONSE_BYTES // 2**20} MB"
            raise EngineRejected(f"{what}: the answer is over {cap}; not read", answer.status)
        if 300 <= answer.status < 400:
            # Never followed: a redirect would drop the method, the body or the token.
            where = display_url(answer.headers.get("location", "")) or "elsewhere"
            raise EngineRejected(f"{what}: redirected to {where}; use that URL", answer.status)
        if answer.status >= 400:
            size = len(data or b"")
            error = error_for_status(
                answer, method=method, what=what, url=self.url, body_size=size, body=body
            )
            error.maybe_committed = method != "GET" and answer.status in (502, 504)
            raise error
        if not answer.content.strip():
            return None
        try:
            return json.loads(answer.content)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise EngineRejected(
                f"{what}: the engine answered {answer.status} with malformed JSON "
                f"({len(answer.content)} bytes); is {self.url} a Polyant engine?",
                answer.status,
            ) from exc

    def parallel(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Run jobs on max_workers threads; results in order; the first error raised at the end."""
        return run_all(jobs, self.config.max_workers)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
