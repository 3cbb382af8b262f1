"""A throttle-aware progress bar on stderr; silent when stderr is not a terminal."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich costs a tenth of a second to import: only a terminal needs it
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from reconciler.engine.client import EngineClient


class Progress:
    """Shows requests made and time spent waiting for the engine's per-route budget."""

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        self._client: EngineClient | None = None
        self._lock = threading.Lock()
        self._waited = 0.0
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._started = time.monotonic()

    def attach(self, client: EngineClient, expected_requests: int | None = None) -> None:
        """Follow `client`'s request counters; `expected_requests` turns on the ETA."""
        self._client = client
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=expected_requests)

    def waiting(self, handler: str, seconds: float) -> None:
        """Called by the client before it sleeps to stay under a handler's budget."""
        with self._lock:
            self._waited += seconds
            self._refresh(f"throttle: waiting {seconds:.1f}s on {handler}")

    def _refresh(self, note: str) -> None:
        if self._bar is None or self._task is None or self._client is None:
            return
        done = self._client.stats.reads + self._client.stats.writes
        label = f"{done} requests, {self._waited:.0f}s paced · {note}"
        self._bar.update(self._task, completed=done, description=label)

    def __enter__(self) -> Progress:
        if self._enabled:
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("reading the engine", total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
