"""Under injected faults apply succeeds or fails cleanly, and a second apply converges."""

from __future__ import annotations

from collections import Counter

import pytest

from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from tests.apply.conftest import Engine, status_of
from tests.apply.states import ALPHA, BETA, CANARIES, CANARY_VALUES, rich
from tests.conftest import RATE_WINDOW_SECONDS

FAULTS = {
    "500 on a prompt PATCH": FaultRule(
        FaultKind.ERROR, "PATCH /api/instances/:slug/prompts", count=1
    ),
    "500 on the secrets PUT": FaultRule(
        FaultKind.ERROR, "PUT /api/instances/:slug/secrets", count=1
    ),
    "429 burst on task creates": FaultRule(
        FaultKind.THROTTLE, "POST /api/instances/:slug/scheduled-tasks", count=2, retry_after_s=1
    ),
    "drop after commit: instance create": FaultRule(
        FaultKind.DROP_AFTER, "POST /api/instances", count=1
    ),
    "drop after commit: event source create": FaultRule(
        FaultKind.DROP_AFTER, "POST /api/instances/:slug/event-sources", count=2
    ),
    "drop after commit: definition create": FaultRule(
        FaultKind.DROP_AFTER, "POST /api/instances/:slug/event-sources/:id/definitions", count=1
    ),
    "drop after commit: task create": FaultRule(
        FaultKind.DROP_AFTER, "POST /api/instances/:slug/scheduled-tasks", count=2
    ),
    "drop after commit: room PUT": FaultRule(
        FaultKind.DROP_AFTER, "PUT /api/instances/:slug/room", count=1
    ),
    "drop before: skill enable": FaultRule(
        FaultKind.DROP_BEFORE, "POST /api/instances/:slug/skills/:name", count=1
    ),
    "timeout: task create": FaultRule(
        FaultKind.SLOW, "POST /api/instances/:slug/scheduled-tasks", count=1, delay_s=2.0
    ),
    "timeout: prompts PATCH": FaultRule(
        FaultKind.SLOW, "PATCH /api/instances/:slug/prompts", count=1, delay_s=2.0
    ),
    "drop after commit: catalog import": FaultRule(
        FaultKind.DROP_AFTER, "POST /api/skills/catalog/import", count=1
    ),
    "500 on the catalog import": FaultRule(
        FaultKind.ERROR, "POST /api/skills/catalog/import", count=1
    ),
}


def _names(engine: Engine, slug: str) -> tuple[list[str], list[str], list[str]]:
    sources = engine.get(f"/api/instances/{slug}/event-sources")
    tasks = engine.get(f"/api/instances/{slug}/scheduled-tasks")["tasks"]
    definitions = [f"{s['name']}/{d['name']}" for s in sources for d in s["definitions"]]
    return [s["name"] for s in sources], [t["name"] for t in tasks], definitions


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_then_second_apply_converges_without_duplicates(
    sandbox: SandboxServer, name: str
) -> None:
    # A short client timeout so that a slow answer is a timeout (the write still lands).
    config = EngineConfig(
        url=sandbox.url, token=sandbox.token, rate_window_s=RATE_WINDOW_SECONDS, timeout_s=1.0
    )
    with EngineClient(config) as client:
        engine = Engine(sandbox, client, [])
        faults = FaultPlan([FAULTS[name]])
        sandbox.set_faults(faults)
        first = engine.apply(rich(), CANARIES, check=False)
        sandbox.set_faults(None)
        assert faults.fired[0] >= 1

        for result in first.results:
            assert result.status in ("applied", "failed", "skipped")
            assert "Traceback" not in result.reason and "\n" not in result.reason
        text = first.to_json()
        assert not any(canary in text for canary in CANARY_VALUES)

        second = engine.apply(rich(), CANARIES)
        assert second.ok(), second.to_json()
        assert engine.plan(rich(), CANARIES).changes == ()

        sources, tasks, definitions = _names(engine, "alpha")
        assert Counter(sources) == Counter(s["name"] for s in ALPHA["eventSources"])
        assert Counter(tasks) == Counter(t["name"] for t in ALPHA["scheduledTasks"])
        assert len(definitions) == len(set(definitions)) == 3
        assert _names(engine, "beta")[1] == [t["name"] for t in BETA["scheduledTasks"]]
        instances = [i["slug"] for i in engine.get("/api/instances")["instances"]]
        assert sorted(instances) == ["alpha", "beta", "demo-agent"]


def test_write_that_landed_without_answer_is_not_resent(engine: Engine) -> None:
    rule = FaultRule(FaultKind.DROP_AFTER, "POST /api/instances/:slug/event-sources", count=2)
    engine.sandbox.set_faults(FaultPlan([rule]))
    report = engine.apply(rich(), CANARIES, check=False)

    assert status_of(report, "instance/alpha") == "applied", report.to_json()
    posts = [w for w in engine.writes() if w == ("POST", "/api/instances/alpha/event-sources")]
    assert len(posts) == 2  # one per source, none resent
    notes = [c.note for r in report.results for c in r.calls if "re-read" in c.note]
    assert len(notes) == 2
    # ... and the definitions landed under the re-read source ids.
    assert len(_names(engine, "alpha")[2]) == 3


def test_import_that_landed_without_answer_is_settled_per_skill(engine: Engine) -> None:
    rule = FaultRule(FaultKind.DROP_AFTER, "POST /api/skills/catalog/import", count=1)
    engine.sandbox.set_faults(FaultPlan([rule]))
    report = engine.apply(rich(), CANARIES)

    assert report.ok(), report.to_json()
    skill = next(r for r in report.results if r.key == "skill/faq-search")
    assert "a re-read shows this skill landed" in skill.reason
    imports = [w for w in engine.writes() if w == ("POST", "/api/skills/catalog/import")]
    assert len(imports) == 1
