"""A rich state applied to an empty engine converges, and a second apply writes nothing."""

from __future__ import annotations

from tests.apply.conftest import Engine, calls_of
from tests.apply.states import CANARIES, CANARY_VALUES, rich


def test_rich_state_converges_and_second_apply_writes_nothing(engine: Engine) -> None:
    desired = rich()
    report = engine.apply(desired, CANARIES)

    assert report.ok(), report.to_json()
    assert report.non_converged == []
    assert report.missing_secrets == []
    assert {r.status for r in report.results} == {"applied"}
    assert engine.plan(desired, CANARIES).changes == ()

    engine.reset()
    again = engine.apply(desired, CANARIES)
    assert again.results == []
    assert again.calls_made == 0
    assert engine.writes() == []


def test_report_calls_match_what_the_engine_saw(engine: Engine) -> None:
    engine.reset()
    report = engine.apply(rich(), CANARIES, check=False)

    recorded = [(c.method, c.path) for r in report.results for c in r.calls if not c.note]
    assert sorted(recorded) == sorted(engine.writes())
    assert report.calls_made == len(engine.writes())


def test_create_order_follows_the_contract(engine: Engine) -> None:
    report = engine.apply(rich(), CANARIES, check=False)
    calls = calls_of(report, "instance/alpha")
    paths = [p for _, p in calls]

    assert calls[0] == ("POST", "/api/instances")
    secrets_at = paths.index("/api/instances/alpha/secrets")
    settings_at = paths.index("/api/instances/alpha")
    # authEnabled goes on only after auth_api_key is configured (contract §1.2.5).
    assert secrets_at < settings_at
    result = next(r for r in report.results if r.key == "instance/alpha")
    bodies = {(c.method, c.path): c.body for c in result.calls}
    assert bodies[("PATCH", "/api/instances/alpha")]["authEnabled"] is True
    # create reads only slug, name, description, provider and model (contract §3.5).
    assert bodies[("POST", "/api/instances")] == {
        "slug": "alpha",
        "name": "Alpha",
        "description": "Every field set",
        "provider": "anthropic",
        "model": "claude-sonnet-4-5-20250929",
    }
    # Enable before pin before auto-load; the bulk skills PATCH is never used.
    assert ("PATCH", "/api/instances/alpha/skills") not in calls
    enable = paths.index("/api/instances/alpha/skills/faq-search")
    auto = paths.index("/api/instances/alpha/skills/faq-search/auto-load")
    assert enable < auto < paths.index("/api/instances/alpha/tools")


def test_tasks_created_disabled_get_one_patch(engine: Engine) -> None:
    report = engine.apply(rich(), CANARIES, check=False)
    calls = calls_of(report, "instance/alpha")
    task_writes = [c for c in calls if "/scheduled-tasks" in c[1]]

    tasks = engine.get("/api/instances/alpha/scheduled-tasks")["tasks"]
    paused = next(t["id"] for t in tasks if t["name"] == "Paused report")
    assert sorted(m for m, _ in task_writes) == ["PATCH", "POST", "POST", "POST"]
    assert ("PATCH", f"/api/instances/alpha/scheduled-tasks/{paused}") in task_writes
    enabled = {t["name"]: t["enabled"] for t in tasks}
    assert enabled == {"Daily digest": True, "Release reminder": True, "Paused report": False}


def test_caller_gets_agent_tool_of_a_new_callee(engine: Engine) -> None:
    report = engine.apply(rich(), CANARIES, check=False)

    # alpha calls beta; both switch their agent channel on in this run, so alpha's tools
    # wait until beta's channel (and its agent:beta catalog row) exists: one PATCH.
    assert calls_of(report, "instance/alpha").count(("PATCH", "/api/instances/alpha/tools")) == 1
    export = engine.get("/api/instances/alpha/export")["instance"]
    assert "agent:beta" in export["manualTools"]


def test_secret_canaries_never_leave_the_process(engine: Engine) -> None:
    report = engine.apply(rich(), CANARIES)
    texts = [report.to_json(), repr(report), str(report.results), *engine.progress]
    texts += [repr(c) for r in report.results for c in r.calls]

    for text in texts:
        for canary in CANARY_VALUES:
            assert canary not in text
    secret_put = next(
        c for r in report.results for c in r.calls if c.path == "/api/instances/alpha/secrets"
    )
    assert {"key": "auth_api_key", "value": "<from $POLYANT_SECRET__ALPHA__AUTH_API_KEY>"} in (
        secret_put.body["secrets"]
    )
    # ... while the engine really received the values.
    secrets = engine.get("/api/instances/alpha/secrets")["secrets"]
    assert {"key": "auth_api_key", "configured": True} in secrets
