"""Properties through the real engine path (one time-scaled sandbox per property).

- plan(S, S) is empty: apply S, read the engine back, diff → no change;
- apply(plan(D, L)) converges: L is applied first, then D (with --prune), then plan(D) → empty;
- export round-trips: S → engine → export files → load_repo → the same state (both ways).

Every example works on fresh instance slugs, so one engine serves all examples.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings

from reconciler import core
from reconciler.cli import main
from reconciler.config.load import load_repo
from reconciler.config.writer import write_repo
from reconciler.engine.client import EngineClient
from reconciler.engine.read import read_live
from reconciler.plan.changes import LiveSnapshot
from reconciler.plan.diff import diff
from reconciler.sandbox.server import SandboxServer
from tests.reliability import cycle
from tests.reliability.states import FAQ, NOTES, PROJECT, state
from tests.reliability.strategies import credentials, fleet, fresh_slugs

SCALE = 120.0  # 0.5 s throttle windows: many examples share one engine's budget
PLACEHOLDERS = ["x0", "x1"]
SKILLS = [FAQ, NOTES]
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # No shrinking: each step goes through the engine, and shrinking a failure took > 5 min;
    # the failing example is printed as drawn.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
POLYANT_YAML = """\
version: 1
scope: {instances: ["*"], excludeInstances: [demo-agent]}
prune: {instances: true, skills: true, children: true, secrets: true}
safety: {maxDeletePercent: 100, maxUpdatePercent: 100, minObjects: 0}
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[EngineClient]:
    """One sandbox for the module, its catalog holding the skills the strategies assign."""
    with SandboxServer(time_scale=SCALE) as server, cycle.client_for(server, SCALE) as client:
        assert cycle.apply_state(client, state([], SKILLS), prune=False).ok()
        yield client
        print(f"\nproperty engine: {client.stats}")


def _renamed(*fleets: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The fleets with their placeholder slugs replaced by fresh ones (the same for all)."""
    slugs = dict(zip(PLACEHOLDERS, fresh_slugs(len(PLACEHOLDERS)), strict=True))
    out = []
    for drawn in fleets:
        docs = copy.deepcopy(drawn)
        for doc in docs:
            doc["slug"] = slugs[doc["slug"]]
        out.append(docs)
    return out


def _converge(client: EngineClient, docs: list[dict[str, Any]], *, prune: bool) -> LiveSnapshot:
    """Apply `docs`, check the report, and return a read of those instances."""
    env = credentials(docs)
    slugs = [d["slug"] for d in docs]
    plan = cycle.plan_for(client, state(docs, SKILLS), prune=prune, env=env, only=slugs)
    plan = replace(
        plan, changes=[c for c in plan.changes if c.kind == "instance" and c.slug in slugs]
    )
    report = core.apply(client, plan, secrets=env, prune=prune)
    assert report.ok(), report.to_json()
    return read_live(client, scope=PROJECT.scope, only=slugs)


def _changes(docs: list[dict[str, Any]], live: LiveSnapshot, *, prune: bool) -> list[str]:
    env = credentials(docs)
    slugs = [d["slug"] for d in docs]
    desired = state(docs, SKILLS)
    supplied = core.supplied_vars(desired, env)
    plan = diff(desired, live, PROJECT, prune=prune, only=slugs, supplied_secrets=supplied)
    return [f"{c.key}: {[f.path for f in c.fields]}" for c in plan.changes]


@EXAMPLES
@given(fleet(PLACEHOLDERS))
def test_plan_of_an_applied_state_is_empty(
    engine: EngineClient, drawn: list[dict[str, Any]]
) -> None:
    (docs,) = _renamed(drawn)
    live = _converge(engine, docs, prune=False)
    assert _changes(docs, live, prune=False) == []


@EXAMPLES
@given(fleet(PLACEHOLDERS), fleet(PLACEHOLDERS))
def test_apply_of_any_plan_converges(
    engine: EngineClient, drawn_live: list[dict[str, Any]], drawn_desired: list[dict[str, Any]]
) -> None:
    before, desired = _renamed(drawn_live, drawn_desired)
    _converge(engine, before, prune=True)
    live = _converge(engine, desired, prune=True)
    assert _changes(desired, live, prune=True) == []


@EXAMPLES
@given(fleet(PLACEHOLDERS))
def test_export_then_load_round_trips(engine: EngineClient, drawn: list[dict[str, Any]]) -> None:
    (docs,) = _renamed(drawn)
    live = _converge(engine, docs, prune=False)
    slugs = [d["slug"] for d in docs]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "polyant.yaml").write_text(POLYANT_YAML, encoding="utf-8")
        write_repo(root, live.state, only_instances=slugs)
        loaded = load_repo(root)
    assert sorted(loaded.state.instances) == sorted(slugs)
    # The exported files say exactly what the engine holds ...
    supplied = core.supplied_vars(loaded.state, credentials(docs))
    again = diff(loaded.state, live, PROJECT, only=slugs, supplied_secrets=supplied)
    assert [c.key for c in again.changes] == []
    # ... and hold every field the original desired state manages, with its value; prompt
    # sections the agent owns (polyant.yaml agentOwnedPrompts) are left out of new files.
    owned = set(PROJECT.agent_owned_prompts)
    for doc in docs:
        if "prompts" in doc:
            doc["prompts"] = {k: v for k, v in doc["prompts"].items() if k not in owned}
    as_live = LiveSnapshot(state=loaded.state, instance_slugs=slugs)
    assert _changes(docs, as_live, prune=False) == []


def test_empty_manual_tools_is_refused_before_any_call(tmp_path: Path) -> None:
    # Zero tool rows means ALL tools on the engine (contract §5.2), so `manualTools: []`
    # can never converge: validation refuses it with its file and line.
    folder = tmp_path / "instances" / "bare"
    folder.mkdir(parents=True)
    (folder / "instance.yaml").write_text("name: Bare\nmanualTools: []\n")
    (tmp_path / "polyant.yaml").write_text("{}\n")
    run = CliRunner().invoke(main, ["validate", "--root", str(tmp_path)])
    assert run.exit_code == 1
    assert "instances/bare/instance.yaml:2:" in run.stderr
    assert "manualTools: [] would give the instance every tool" in run.stderr
