"""Shared fixtures: a real sandbox engine on loopback, time-scaled so the throttle runs fast."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from reconciler.sandbox.server import SandboxServer

# The engine's real policy (30 requests / 60 s per handler) with time running 20x faster:
# a window lasts 3 s, so paced runs finish quickly but pacing is still exercised for real.
TIME_SCALE = 20.0
RATE_WINDOW_SECONDS = 60.0 / TIME_SCALE

settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox engine (demo-agent seeded) for one test."""
    with SandboxServer(time_scale=TIME_SCALE, seed_demo=True) as server:
        yield server


@pytest.fixture
def engine_env(sandbox: SandboxServer) -> dict[str, str]:
    """Environment variables that point the CLI at the sandbox with matching pacing."""
    return {
        "POLYANT_URL": sandbox.url,
        "POLYANT_TOKEN": sandbox.token,
        "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
    }


@pytest.fixture
def examples_root() -> Path:
    """The repository's own example config (instances/, skills/, polyant.yaml)."""
    return Path(__file__).resolve().parent.parent


@pytest.fixture(params=["main", "develop"])
def line_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A fresh sandbox behaving as the released engine (main) or its develop line."""
    with SandboxServer(time_scale=TIME_SCALE, seed_demo=True, engine_line=request.param) as server:
        yield server


@pytest.fixture
def line_env(line_sandbox: SandboxServer) -> dict[str, str]:
    """Environment variables that point the CLI at `line_sandbox`."""
    return {
        "POLYANT_URL": line_sandbox.url,
        "POLYANT_TOKEN": line_sandbox.token,
        "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
    }


@pytest.fixture
def sandbox_develop() -> Iterator[SandboxServer]:
    """A fresh sandbox behaving as the develop line (5e59498)."""
    with SandboxServer(time_scale=TIME_SCALE, seed_demo=True, engine_line="develop") as server:
        yield server


@pytest.fixture
def develop_env(sandbox_develop: SandboxServer) -> dict[str, str]:
    """Environment variables that point the CLI at `sandbox_develop`."""
    return {
        "POLYANT_URL": sandbox_develop.url,
        "POLYANT_TOKEN": sandbox_develop.token,
        "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
    }
