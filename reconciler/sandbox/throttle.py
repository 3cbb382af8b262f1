"""@nestjs/throttler 6 in-memory storage: per-hit decay, per handler + client IP, blocks."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class _Record:
    expires_at: float
    pending: list[float] = field(default_factory=list)  # decay deadlines of live hits
    frozen: int = 0  # hits whose decay timer was cancelled (the §18.6 quirk)
    blocked: bool = False
    block_expires_at: float = 0.0

    def total(self, now: float) -> int:
        self.pending = [t for t in self.pending if t > now]
        return len(self.pending) + self.frozen


@dataclass(frozen=True)
class Verdict:
    """The outcome of one hit; header values are real (time-scaled) seconds."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int


class Throttler:
    """Counts hits per (client IP, handler name); the window is `window_s / time_scale`.

    Each hit decays on its own after the window (a sliding count, like the engine's one
    timer per hit). The hit that takes the count over `limit` blocks the key for a full
    window; blocked requests are not counted. The first request after the block expires
    resets the key and is counted. With `freeze_quirk`, that reset also cancels the decay
    of every other key's pending hits, as the engine does (contract §18.6).
    """

    def __init__(
        self,
        *,
        limit: int = 30,
        window_s: float = 60.0,
        time_scale: float = 1.0,
        freeze_quirk: bool = False,
    ) -> None:
        self.limit = limit
        self.ttl = window_s / time_scale
        self.freeze_quirk = freeze_quirk
        self._keys: dict[tuple[str, str], _Record] = {}

    def hit(
        self, client: str, handler: str, *, limit: int | None = None, at: float | None = None
    ) -> Verdict:
        """Count one request and say whether it may proceed."""
        limit = self.limit if limit is None else limit
        now = time.monotonic() if at is None else at
        rec = self._keys.setdefault((client, handler), _Record(expires_at=now + self.ttl))
        if rec.expires_at <= now:
            rec.expires_at = now + self.ttl
        if not rec.blocked:
            rec.pending.append(now + self.ttl)
        if rec.total(now) > limit and not rec.blocked:
            rec.blocked = True
            rec.block_expires_at = now + self.ttl
        if rec.blocked and rec.block_expires_at <= now:
            self._reset(rec, now)
            rec.pending.append(now + self.ttl)
        total = rec.total(now)
        return Verdict(
            allowed=not rec.blocked,
            limit=limit,
            remaining=max(0, limit - total),
            reset_s=_secs(rec.expires_at - now),
            retry_after_s=max(1, _secs(rec.block_expires_at - now)),
        )

    def _reset(self, rec: _Record, now: float) -> None:
        rec.pending.clear()
        rec.frozen = 0
        rec.blocked = False
        rec.block_expires_at = 0.0
        if not self.freeze_quirk:
            return
        for other in self._keys.values():
            if other is not rec:
                other.frozen += len([t for t in other.pending if t > now])
                other.pending.clear()

    def clear(self) -> None:
        """Forget every counter (an engine restart)."""
        self._keys.clear()


def _secs(delta: float) -> int:
    return max(0, math.ceil(delta))
