"""Fixtures for the fleet tests: two sandbox engines and a repo with two environments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE
from tests.fleet.repos import Engines, write_fleet_repo


@pytest.fixture
def engines() -> Iterator[Engines]:
    """A staging and a production engine (both fresh sandboxes, demo-agent seeded)."""
    with (
        SandboxServer(time_scale=TIME_SCALE) as staging,
        SandboxServer(time_scale=TIME_SCALE) as production,
    ):
        yield Engines(staging, production)


@pytest.fixture
def fleet_env(engines: Engines) -> dict[str, str]:
    """The variables the CLI reads: one token variable per environment, fast pacing."""
    return {
        "STAGING_TOKEN": engines.staging.token,
        "PRODUCTION_TOKEN": engines.production.token,
        "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
        "POLYANT_URL": "",
        "POLYANT_TOKEN": "",
    }


@pytest.fixture
def fleet_repo(tmp_path: Path, engines: Engines) -> Path:
    """A repo with environments staging and production pointing at the two engines."""
    return write_fleet_repo(tmp_path / "repo", engines)
