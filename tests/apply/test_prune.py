"""Deletes happen only under prune, last, in reverse dependency order, tasks before instances."""

from __future__ import annotations

from reconciler.core import apply
from reconciler.engine.read import read_live
from reconciler.plan.safety import check_fresh
from tests.apply.conftest import PRUNING, Engine, calls_of
from tests.apply.states import ALPHA, BETA, CANARIES, FAQ_SEARCH, NOTES, edited, rich, state


def _alpha_alone() -> dict[str, object]:
    return edited(ALPHA, manualTools=["readSkill", "webSearch", "httpRequest"])


def test_instance_delete_removes_its_tasks_first(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    task = engine.get("/api/instances/beta/scheduled-tasks")["tasks"][0]
    desired = state([_alpha_alone()], [FAQ_SEARCH, NOTES])

    report = engine.apply(desired, CANARIES, prune=True, project=PRUNING)

    assert report.ok(), report.to_json()
    assert calls_of(report, "instance/beta") == [
        ("DELETE", f"/api/instances/beta/scheduled-tasks/{task['id']}"),
        ("DELETE", "/api/instances/beta"),
    ]
    # Deletes come after every create/update.
    assert [r.key for r in report.results][-1] == "instance/beta"
    # Re-creating the slug does not resurrect the old task (contract §17.6).
    engine.apply(
        state([_alpha_alone(), edited(BETA, scheduledTasks=[])], [FAQ_SEARCH, NOTES]), CANARIES
    )
    assert engine.get("/api/instances/beta/scheduled-tasks")["tasks"] == []


def test_without_prune_nothing_is_deleted(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    tasks = [t for t in ALPHA["scheduledTasks"] if t["name"] != "Paused report"]
    desired = state([edited(_alpha_alone(), scheduledTasks=tasks)], [FAQ_SEARCH])
    engine.reset()

    report = engine.apply(desired, CANARIES, project=PRUNING)

    assert not any(m == "DELETE" for m, _ in engine.writes())
    assert report.ok()
    # A plan made with prune but applied without it refuses the deletes.
    plan = engine.plan(desired, CANARIES, prune=True, project=PRUNING)
    refused = apply(engine.client, plan, secrets=CANARIES, prune=False)
    assert not any(m == "DELETE" for m, _ in engine.writes())
    skipped = {r.key: r.status for r in refused.results if r.status == "skipped"}
    assert skipped == {"skill/notes": "skipped", "instance/beta": "skipped"}
    assert not refused.ok()


def test_prune_removes_children_and_archives_skills_last(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    tasks = [t for t in ALPHA["scheduledTasks"] if t["name"] != "Paused report"]
    alpha = edited(
        _alpha_alone(),
        scheduledTasks=tasks,
        skills=[{"slug": "faq-search", "enabled": True, "autoLoad": True}],
        eventSources=ALPHA["eventSources"][:1],
        channels={"agent": {"enabled": True}},
        secrets=["openai_api_key", "auth_api_key"],
    )
    desired = state([alpha, BETA], [FAQ_SEARCH])

    report = engine.apply(desired, CANARIES, prune=True, project=PRUNING)

    assert report.ok(), report.to_json()
    assert [r.key for r in report.results][-1] == "skill/notes"
    assert calls_of(report, "skill/notes") == [("DELETE", "/api/skills/notes")]
    names = [t["name"] for t in engine.get("/api/instances/alpha/scheduled-tasks")["tasks"]]
    assert sorted(names) == ["Daily digest", "Release reminder"]
    sources = [s["name"] for s in engine.get("/api/instances/alpha/event-sources")]
    assert sources == ["Orders"]
    channels = [c["channelType"] for c in engine.get("/api/instances/alpha/channels")["channels"]]
    assert channels == ["agent"]
    assert engine.plan(desired, CANARIES, prune=True, project=PRUNING).changes == ()


def test_check_fresh_names_objects_that_moved(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    desired = state([edited(ALPHA, description="Edited"), edited(BETA, description="B")], [])
    plan = engine.plan(desired, CANARIES)
    assert check_fresh(plan, read_live(engine.client, scope=PRUNING.scope)) == []

    engine.client.patch("/api/instances/beta", {"status": "inactive"})

    live = read_live(engine.client, scope=PRUNING.scope)
    assert check_fresh(plan, live) == ["instance/beta"]
