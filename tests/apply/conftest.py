"""Fixtures for the apply tests: a paced client on the sandbox and plan → apply helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler import core
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.engine.report import ApplyReport
from reconciler.model.objects import State
from reconciler.model.project import Project, Prune
from reconciler.plan.changes import Plan
from reconciler.sandbox.server import SandboxServer
from tests.apply.pipefleet import FLEET, Fleet, running_fleet, write_fleet
from tests.conftest import RATE_WINDOW_SECONDS

PROJECT = Project()
PRUNING = Project(prune=Prune(instances=True, skills=True, children=True, secrets=True))


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[EngineClient]:
    """An engine client paced for the time-scaled sandbox."""
    config = EngineConfig(
        url=sandbox.url, token=sandbox.token, rate_window_s=RATE_WINDOW_SECONDS, timeout_s=5.0
    )
    with EngineClient(config) as engine:
        yield engine


@dataclass
class Engine:
    """The sandbox plus a client, with the plan/apply cycle the CLI runs."""

    sandbox: SandboxServer
    client: EngineClient
    progress: list[str]
    offset: int = 0  # requests the client sent before the last reset of the sandbox log

    def plan(
        self,
        desired: State,
        env: Mapping[str, str],
        *,
        prune: bool = False,
        project: Project = PROJECT,
    ) -> Plan:
        supplied = core.supplied_vars(desired, env)
        policy = core.Policy(prune=prune, force=True)  # thresholds: tests/plan/test_plan_safety
        return core.make_plan(self.client, desired, project, policy, supplied=supplied).plan

    def apply(
        self,
        desired: State,
        env: Mapping[str, str],
        *,
        prune: bool = False,
        dry_run: bool = False,
        project: Project = PROJECT,
        check: bool = True,
    ) -> ApplyReport:
        """plan + apply (+ verify), like `polyant-gitops apply` does."""
        plan = self.plan(desired, env, prune=prune, project=project)
        report = core.apply(
            self.client,
            plan,
            secrets=env,
            dry_run=dry_run,
            prune=prune,
            on_progress=self.progress.append,
        )
        if check and not dry_run:
            supplied = core.supplied_vars(desired, env)
            core.verify(
                self.client, report, desired, project, core.Policy(prune=prune), supplied=supplied
            )
        return report

    def _sent(self) -> int:
        return self.client.stats.reads + self.client.stats.writes

    def settle(self) -> None:
        """Wait until the sandbox logged every request the client sent.

        The sandbox appends to its log after the response went out, so the last request
        of an apply can land in the log a moment after the client saw its answer.
        """
        deadline = time.monotonic() + 3.0
        while len(self.sandbox.requests) < self._sent() - self.offset:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)

    def reset(self) -> None:
        """Forget the sandbox's request log (after the pending entries arrived)."""
        self.settle()
        self.sandbox.reset_requests()
        self.offset = self._sent()

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every write the sandbox saw since the last reset."""
        self.settle()
        return [(r.method, r.path) for r in self.sandbox.requests if r.method != "GET"]

    def get(self, path: str) -> Any:
        return self.client.get(path)


@pytest.fixture
def engine(sandbox: SandboxServer, client: EngineClient) -> Engine:
    """The sandbox engine and the plan/apply cycle."""
    return Engine(sandbox, client, [])


def calls_of(report: ApplyReport, key: str) -> list[tuple[str, str]]:
    """(method, path) of the calls one change made."""
    result = next(r for r in report.results if r.key == key)
    return [(c.method, c.path) for c in result.calls]


def status_of(report: ApplyReport, key: str) -> str:
    """The status of one change in a report."""
    return next(r.status for r in report.results if r.key == key)


@pytest.fixture(scope="module")
def fleet_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 40-instance repository and its matching engine seed (tests/apply/pipefleet.py)."""
    return write_fleet(tmp_path_factory.mktemp("fleet"), FLEET)


@pytest.fixture
def fleet(fleet_template: tuple[Path, Path], tmp_path: Path) -> Iterator[Fleet]:
    """A private copy of the fleet repository and a sandbox seeded to match it."""
    with running_fleet(fleet_template, tmp_path) as running:
        yield running
