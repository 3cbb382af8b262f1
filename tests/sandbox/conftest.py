"""Fixtures: sandbox servers started per test, and the honesty summary line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.sandbox import SandboxServer

HONESTY: dict[str, tuple[int, int]] = {}  # scenario -> (matched, total)


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with the given options; all are stopped after the test."""
    started: list[SandboxServer] = []

    def factory(**kwargs: Any) -> SandboxServer:
        server = SandboxServer(**kwargs).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not HONESTY:
        return
    matched = sum(m for m, _ in HONESTY.values())
    total = sum(t for _, t in HONESTY.values())
    terminalreporter.write_line(f"sandbox honesty: {matched}/{total} recorded exchanges matched")
    for name, (m, t) in sorted(HONESTY.items()):
        terminalreporter.write_line(f"  {name}: {m}/{t}")
