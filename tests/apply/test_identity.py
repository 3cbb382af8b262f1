"""Updates happen in place: webhook tokens, source/definition ids and task ids survive."""

from __future__ import annotations

from typing import Any

from reconciler.core import apply
from reconciler.plan.planfile import plan_from_json, plan_to_json
from tests.apply.conftest import Engine
from tests.apply.states import ALPHA, BETA, CANARIES, FAQ_SEARCH, NOTES, edited, rich, state

NEW_SOURCES: list[dict[str, Any]] = [
    {
        "name": "Orders",
        "sourceType": "webhook",
        "enabled": False,
        "config": {"region": "eu-west", "signingSecret": None, "tenant": "acme"},
        "definitions": [
            {
                "name": "New order",
                "matchingPrompt": "Any new order",
                "interpretationPrompt": "Summarise it briefly",
                "enabled": False,
            },
            {
                "name": "Urgent",
                "matchingPrompt": "Something urgent",
                "action": "conversation",
                "contextPrompt": "Escalate",
                "outboundChannel": "agent",
                "outboundTarget": "beta",
            },
        ],
    },
    ALPHA["eventSources"][1],
]
NEW_TASKS: list[dict[str, Any]] = [
    {
        "name": "Daily digest",
        "description": "Evening summary",
        "enabled": False,
        "schedule": {"type": "interval", "everyMs": 86_400_000},
        "prompt": "Summarise today.",
        "outboundChannel": "agent",
        "outboundTarget": "beta",
        "keepHistory": False,
        "deleteAfterRun": True,
        "maxRetries": 5,
    },
    {
        "name": "Release reminder",
        "schedule": {"type": "cron", "expression": "0 8 1 * *"},
        "prompt": "Monthly release reminder.",
    },
    ALPHA["scheduledTasks"][2],
]


def _identities(engine: Engine) -> dict[str, Any]:
    sources = engine.get("/api/instances/alpha/event-sources")
    tasks = engine.get("/api/instances/alpha/scheduled-tasks")["tasks"]
    return {
        "sources": {s["name"]: (s["id"], s["webhookToken"]) for s in sources},
        "definitions": {
            f"{s['name']}/{d['name']}": d["id"] for s in sources for d in s["definitions"]
        },
        "tasks": {t["name"]: (t["id"], t["createdAt"]) for t in tasks},
    }


def test_every_other_field_changes_in_place(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    before = _identities(engine)
    desired = state(
        [edited(ALPHA, eventSources=NEW_SOURCES, scheduledTasks=NEW_TASKS), BETA],
        [FAQ_SEARCH, NOTES],
    )
    engine.reset()

    report = engine.apply(desired, CANARIES)

    assert report.ok(), report.to_json()
    assert _identities(engine) == before
    assert not any(method in ("POST", "DELETE") for method, _ in engine.writes())
    tasks = {t["name"]: t for t in engine.get("/api/instances/alpha/scheduled-tasks")["tasks"]}
    assert tasks["Daily digest"]["schedule"]["everyMs"] == 86_400_000
    assert tasks["Daily digest"]["enabled"] is False


def test_saved_plan_without_live_objects_still_updates_in_place(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    before = _identities(engine)
    desired = state(
        [edited(ALPHA, eventSources=NEW_SOURCES, scheduledTasks=NEW_TASKS), BETA],
        [FAQ_SEARCH, NOTES],
    )
    saved = plan_from_json(plan_to_json(engine.plan(desired, CANARIES)))
    assert all(c.live is None for c in saved.changes)

    report = apply(engine.client, saved, secrets=CANARIES)

    assert report.ok(), report.to_json()
    assert _identities(engine) == before
    assert engine.plan(desired, CANARIES).changes == ()
