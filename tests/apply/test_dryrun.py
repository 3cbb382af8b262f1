"""Dry runs list the exact calls, with placeholders for ids not known yet, and write nothing."""

from __future__ import annotations

import re

from reconciler.engine.report import ApplyReport
from tests.apply.conftest import Engine, calls_of
from tests.apply.states import (
    ALPHA,
    BETA,
    CANARIES,
    CANARY_VALUES,
    FAQ_SEARCH,
    NOTES,
    edited,
    rich,
    state,
)


def test_dry_run_from_empty_writes_nothing_and_uses_placeholders(engine: Engine) -> None:
    engine.reset()
    report = engine.apply(rich(), CANARIES, dry_run=True)

    assert engine.writes() == []
    assert report.dry_run and report.calls_made == 0
    paths = [p for _, p in calls_of(report, "instance/alpha")]
    assert "/api/instances/alpha/event-sources/<id of event source 'Orders'>/definitions" in paths
    assert "/api/instances/alpha/scheduled-tasks/<id of scheduled task 'Paused report'>" in paths
    assert ("POST", "/api/skills/catalog/import") in calls_of(report, "skill/faq-search")
    assert not any(canary in report.to_json() for canary in CANARY_VALUES)
    # Nothing happened: the same plan is still pending.
    assert len(engine.plan(rich(), CANARIES).changes) == 4


def test_dry_run_lists_the_calls_a_real_apply_then_makes(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    notes_v2 = edited(NOTES, content="# Notes\n\nSecond version.\n")
    engine.apply(state([ALPHA, BETA], [FAQ_SEARCH, notes_v2]), CANARIES, check=False)
    tasks = [dict(t) for t in ALPHA["scheduledTasks"]]
    tasks[1]["prompt"] = "Remind everyone."
    alpha = edited(
        ALPHA,
        scheduledTasks=tasks,
        room=dict(ALPHA["room"], enabled=False),
        skills=[
            {"slug": "faq-search", "enabled": True, "autoLoad": False},
            {"slug": "notes", "enabled": True, "pinnedVersion": "0.1.0"},
        ],
    )
    desired = state([alpha, BETA], [FAQ_SEARCH, notes_v2])

    engine.reset()
    dry = engine.apply(desired, CANARIES, dry_run=True)
    assert engine.writes() == []
    real = engine.apply(desired, CANARIES)

    def listed(report: ApplyReport) -> list[tuple[str, str, object]]:
        return [(c.method, c.path, c.body) for r in report.results for c in r.calls]

    assert listed(dry) == listed(real)
    assert sorted(m for m, _, _ in listed(real)) == ["PATCH", "POST", "POST", "PUT"]
    assert [(m, p) for m, p, _ in listed(real)] == engine.writes()
    assert real.ok()


def _shape(report: ApplyReport) -> list[tuple[str, str]]:
    ids = re.compile(r"<id of [^>]*>|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    return [(c.method, ids.sub("<id>", c.path)) for r in report.results for c in r.calls]


def test_dry_run_from_empty_matches_the_real_apply(engine: Engine) -> None:
    dry = engine.apply(rich(), CANARIES, dry_run=True)
    real = engine.apply(rich(), CANARIES)

    assert real.ok(), real.to_json()
    assert _shape(dry) == _shape(real)
    assert len(_shape(real)) == real.calls_made + 1  # the import call is listed per skill
