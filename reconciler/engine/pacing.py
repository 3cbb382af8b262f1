"""Per-handler pacing: a sliding-window log, corrected by the engine's X-RateLimit headers.

The engine (contract §1.3) keeps one decay timer per hit, per route handler and client IP:
a hit stops counting `window` seconds after it arrived. We log each of our hits from the
moment it is sent (in flight: it may already count) until `window * (1 + margin)` after
its answer came back, which is never earlier than the engine forgets it. When the engine
reports fewer remaining requests than our log explains (another client on the same IP, or
counters frozen by the engine's reset bug, §18.6), the difference is logged as "ghost" hits
that we assume just happened. A 429 blocks the handler for Retry-After seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

WaitCallback = Callable[[str, float], None]


@dataclass
class _Budget:
    """What we know about one handler's budget on the engine."""

    limit: int
    in_flight: int = 0
    hits: list[float] = field(default_factory=list)  # expiry times of answered hits
    ghosts: list[float] = field(default_factory=list)  # expiry times of hits we did not send
    blocked_until: float = 0.0

    def prune(self, now: float) -> None:
        self.hits = [t for t in self.hits if t > now]
        self.ghosts = [t for t in self.ghosts if t > now]

    def count(self) -> int:
        return self.in_flight + len(self.hits) + len(self.ghosts)

    def wait(self, now: float) -> float:
        """Seconds to wait before one more request; inf when only in-flight hits block."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.count() < self.limit:
            return 0.0
        expiries = self.hits + self.ghosts
        return min(expiries) - now if expiries else math.inf


class Pacer:
    """Thread-safe gate: `acquire` before sending, `release` or `throttled` after the answer."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        margin: float = 0.02,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self.limit = max(1, limit)
        self.window_s = window_s
        self.hold_s = window_s * (1.0 + margin)
        self._on_wait = on_wait
        self._cond = threading.Condition()
        self._budgets: dict[str, _Budget] = {}

    def _budget(self, handler: str) -> _Budget:
        budget = self._budgets.get(handler)
        if budget is None:
            budget = self._budgets[handler] = _Budget(limit=self.limit)
        return budget

    def acquire(self, handler: str) -> float:
        """Block until `handler` has budget for one request, take it; return seconds waited."""
        waited = 0.0
        while True:
            with self._cond:
                budget = self._budget(handler)
                budget.prune(time.monotonic())
                wait = budget.wait(time.monotonic())
                if wait <= 0:
                    budget.in_flight += 1
                    return waited
                if math.isinf(wait):
                    # Every slot is held by a request still in flight: its answer wakes us.
                    self._cond.wait(timeout=self.window_s)
                    continue
            if self._on_wait is not None:
                self._on_wait(handler, wait)
            time.sleep(wait)
            waited += wait

    def release(
        self, handler: str, *, remaining: int | None = None, limit: int | None = None
    ) -> None:
        """An answer other than 429 came back; `remaining`/`limit` from X-RateLimit-*."""
        with self._cond:
            budget = self._budget(handler)
            now = time.monotonic()
            budget.in_flight = max(0, budget.in_flight - 1)
            budget.hits.append(now + self.hold_s)
            if limit is not None and limit > 0:
                budget.limit = min(self.limit, limit)
            if remaining is not None:
                self._reconcile(budget, now, (limit or budget.limit) - remaining)
            self._cond.notify_all()

    def _reconcile(self, budget: _Budget, now: float, server_count: int) -> None:
        # Trust the engine when it counts more hits than we sent; forget ghosts it no longer
        # counts. Our own hits are never dropped early: the engine may still count them.
        budget.prune(now)
        excess = server_count - budget.count()
        if excess > 0:
            budget.ghosts.extend([now + self.hold_s] * excess)
        elif excess < 0 and budget.ghosts:
            budget.ghosts.sort()
            del budget.ghosts[: min(len(budget.ghosts), -excess)]

    def abandon(self, handler: str) -> None:
        """The request failed without an answer; it may still have counted, so keep a hit."""
        self.release(handler)

    def throttled(self, handler: str, retry_after_s: float | None) -> None:
        """A 429 came back: block the handler for Retry-After seconds."""
        with self._cond:
            budget = self._budget(handler)
            now = time.monotonic()
            budget.in_flight = max(0, budget.in_flight - 1)
            wait = retry_after_s if retry_after_s is not None else self.window_s
            budget.blocked_until = max(budget.blocked_until, now + wait * 1.02)
            # The engine resets a blocked handler's counter when the block ends.
            budget.hits.clear()
            budget.ghosts.clear()
            self._cond.notify_all()
