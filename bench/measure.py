"""The benchmarks' harness: a timed, time-scaled sandbox and the tables they print."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.sandbox.server import SandboxServer

LIMIT = 30  # the engine's throttle: requests per window per route handler (contract §1.3)
WINDOW_S = 60.0  # engine seconds


class TimedLog(list[Any]):
    """The sandbox request log, with the monotonic time each record was appended."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._lock = threading.Lock()

    def append(self, item: Any) -> None:
        with self._lock:
            self.times.append(time.monotonic())
            super().append(item)

    def clear(self) -> None:
        with self._lock:
            self.times.clear()
            super().clear()


@contextmanager
def sandbox(
    *,
    time_scale: float,
    latency_s: float = 0.0,
    seed: Mapping[str, Any] | None = None,
    token: str | None = None,
) -> Iterator[SandboxServer]:
    """A sandbox engine with the real throttle policy, time-scaled, its log timestamped."""
    with tempfile.TemporaryDirectory(prefix="polyant-bench-") as tmp:
        seed_file = None
        if seed is not None:
            seed_file = Path(tmp) / "seed.json"
            seed_file.write_text(json.dumps(seed), encoding="utf-8")
        server = SandboxServer(
            limit=LIMIT,
            window_s=WINDOW_S,
            time_scale=time_scale,
            latency_s=latency_s,
            seed_file=seed_file,
            seed_demo=True,
            channel_network="ok",
            static_token=token,
        )
        server.engine.requests = TimedLog()
        with server:
            yield server


def settle(server: SandboxServer, expected: int, timeout_s: float = 3.0) -> None:
    """Wait until the sandbox logged `expected` requests (it logs just after answering)."""
    deadline = time.monotonic() + timeout_s
    while len(server.requests) < expected and time.monotonic() < deadline:
        time.sleep(0.005)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A compact left-aligned text table."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[c]) for r in cells) for c in range(len(headers))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def ratios_block(values: Mapping[str, Any]) -> str:
    """The final `ratios:` block every benchmark prints (one `name: value` per line)."""
    return "ratios:\n" + "\n".join(f"  {k}: {_cell(v)}" for k, v in values.items())
