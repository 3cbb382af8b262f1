"""Seeded fault injection: latency, 5xx, 429 bursts, dropped connections, slow responses."""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any


class FaultKind(StrEnum):
    """What a firing rule does to a request.

    latency      sleep `delay_s` before the request is handled (then handle it normally)
    error        answer `status` (default 500, engine body) without running the handler
    throttle     answer 429 with `Retry-After: retry_after_s` without running the handler
    drop_before  close the TCP connection before the handler runs (nothing is committed)
    drop_after   run the handler (the write IS committed), then close the connection
                 instead of answering
    slow         run the handler, then hold the response `delay_s` before sending it
                 (use a delay above the client's timeout to make the client give up)
    drip         run the handler, then send the answer one byte every `delay_s` (a slow
                 drip that never trips a per-read timeout)
    """

    LATENCY = "latency"
    ERROR = "error"
    THROTTLE = "throttle"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"
    SLOW = "slow"
    DRIP = "drip"


@dataclass(frozen=True)
class FaultRule:
    """One fault rule.

    match:  "*" (every routed request), a handler name glob ("InstancesController.*"),
            or "<METHOD> <route template glob>" ("PUT /api/instances/:slug/secrets",
            "* /api/skills*"). Unknown routes (404) never match.
    rate:   probability that an eligible matching request fires the rule (seeded draw).
    count:  fire at most this many times (None: no limit).
    after:  let the first `after` matching requests through untouched.
    delay_s, status, retry_after_s: parameters of the latency/slow, error, throttle kinds.
    reset:  for drop kinds, close with a TCP RST instead of a FIN.
    Delays are real seconds (not affected by the server's time_scale).
    """

    kind: FaultKind
    match: str = "*"
    rate: float = 1.0
    count: int | None = None
    after: int = 0
    delay_s: float = 0.0
    status: int = 500
    retry_after_s: int = 1
    reset: bool = False

    def matches(self, method: str, template: str, handler: str) -> bool:
        if self.match == "*":
            return True
        if " " in self.match:
            want_method, want_path = self.match.split(" ", 1)
            method_ok = want_method == "*" or want_method.upper() == method
            return method_ok and fnmatchcase(template, want_path.strip())
        return fnmatchcase(handler, self.match)


class FaultPlan:
    """An ordered, seeded set of rules; several rules may fire on the same request.

    Decisions depend only on the seed and the sequence of matching requests, so a
    sequential client sees the same faults on every run. `fired` counts firings per rule.
    """

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self.rules = tuple(rules)
        self.seed = seed
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start over: counters and the random sequence."""
        with self._lock:
            self._rng = random.Random(self.seed)
            self._seen = [0] * len(self.rules)
            self.fired = [0] * len(self.rules)

    def decide(self, method: str, template: str, handler: str) -> list[FaultRule]:
        """The rules that fire for this request, in rule order."""
        out: list[FaultRule] = []
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.matches(method, template, handler):
                    continue
                self._seen[i] += 1
                if self._seen[i] <= rule.after:
                    continue
                if rule.count is not None and self.fired[i] >= rule.count:
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                self.fired[i] += 1
                out.append(rule)
        return out


def abort_connection(send: Any, *, reset: bool = False) -> bool:
    """Close the client's TCP connection from inside an ASGI app served by uvicorn.

    uvicorn passes the bound `RequestResponseCycle.send` as `send`; its cycle holds the
    asyncio transport. Aborting it closes the socket without a response, and marking the
    cycle disconnected stops uvicorn from answering 500 when the app returns.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    cycle.disconnected = True  # type: ignore[union-attr]
    return True


_SPEC_FIELDS = {"rate": float, "count": int, "after": int, "delay": float, "status": int}


def parse_fault(spec: str) -> FaultRule:
    """A rule from the CLI form KIND[@MATCH][,key=value...]; keys: rate count after delay
    status retry-after reset. Example: `drip@GET /api/instances,delay=0.5,count=1`.
    """
    head, *pairs = spec.split(",")
    kind_text, _, match = head.partition("@")
    try:
        kind = FaultKind(kind_text.strip())
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault kind {kind_text!r} (known: {known})") from None
    values: dict[str, Any] = {"kind": kind, "match": match.strip() or "*"}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        try:
            if key == "reset":
                values["reset"] = raw.strip().lower() in ("1", "true", "yes", "")
            elif key == "retry_after":
                values["retry_after_s"] = int(raw)
            elif key in _SPEC_FIELDS:
                values["delay_s" if key == "delay" else key] = _SPEC_FIELDS[key](raw)
            else:
                raise ValueError(f"unknown fault option {key!r} in {spec!r}")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad fault option {pair!r} in {spec!r}: {exc}") from None
    return FaultRule(**values)
