"""Each representative change costs exactly the minimal writes documented in the apply modules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apply.conftest import Engine
from tests.apply.states import ALPHA, BETA, CANARIES, FAQ_SEARCH, NOTES, edited, state


def _applied(engine: Engine) -> None:
    report = engine.apply(state([ALPHA, BETA], [FAQ_SEARCH, NOTES]), CANARIES, check=False)
    assert report.ok(), report.to_json()
    engine.reset()


def _apply_alpha(engine: Engine, **changes: Any) -> list[tuple[str, str]]:
    desired = state([edited(ALPHA, **changes), BETA], [FAQ_SEARCH, NOTES])
    report = engine.apply(desired, CANARIES, check=False)
    assert report.ok(), report.to_json()
    assert engine.plan(desired, CANARIES).changes == ()
    return engine.writes()


def _task_id(engine: Engine, name: str) -> str:
    tasks = engine.get("/api/instances/alpha/scheduled-tasks")["tasks"]
    return str(next(t["id"] for t in tasks if t["name"] == name))


def _source(engine: Engine, name: str) -> dict[str, Any]:
    sources = engine.get("/api/instances/alpha/event-sources")
    found: dict[str, Any] = next(s for s in sources if s["name"] == name)
    return found


def test_one_prompt_edit_is_one_patch(engine: Engine) -> None:
    _applied(engine)
    prompts = dict(ALPHA["prompts"], **{"04-safety": "Never share anything."})
    assert _apply_alpha(engine, prompts=prompts) == [("PATCH", "/api/instances/alpha/prompts")]


def test_one_schedule_change_is_one_patch(engine: Engine) -> None:
    _applied(engine)
    tasks = [dict(t) for t in ALPHA["scheduledTasks"]]
    tasks[0]["schedule"] = {"type": "cron", "expression": "30 8 * * 1-5", "timezone": "UTC"}
    task_id = _task_id(engine, "Daily digest")

    writes = _apply_alpha(engine, scheduledTasks=tasks)

    assert writes == [("PATCH", f"/api/instances/alpha/scheduled-tasks/{task_id}")]
    assert _task_id(engine, "Daily digest") == task_id


def test_new_assignment_with_pin_is_enable_then_rollback(engine: Engine) -> None:
    _applied(engine)
    notes_v2 = edited(NOTES, content="# Notes\n\nVersion two.\n")
    engine.apply(state([ALPHA, BETA], [FAQ_SEARCH, notes_v2]), CANARIES, check=False)
    versions = engine.get("/api/skills/notes/versions")["versions"]
    first = next(v["id"] for v in versions if v["version"] == "0.1.0")
    engine.reset()

    beta = edited(BETA, skills=[{"slug": "notes", "pinnedVersion": "0.1.0"}])
    desired = state([ALPHA, beta], [FAQ_SEARCH, notes_v2])
    report = engine.apply(desired, CANARIES, check=False)

    assert engine.writes() == [
        ("POST", "/api/instances/beta/skills/notes"),
        ("POST", "/api/instances/beta/skills/notes/rollback"),
    ]
    rollback = [c for r in report.results for c in r.calls if c.path.endswith("/rollback")]
    assert rollback[0].body == {"versionId": first}
    assert engine.plan(desired, CANARIES).changes == ()


def test_following_assignment_is_upgraded_after_a_skill_update(engine: Engine) -> None:
    _applied(engine)
    faq_v2 = edited(FAQ_SEARCH, content="# FAQ search\n\nNow with synonyms.\n")
    desired = state([ALPHA, BETA], [faq_v2, NOTES])
    engine.apply(desired, CANARIES, check=False)

    assert engine.writes() == [
        ("POST", "/api/skills/catalog/import"),
        ("POST", "/api/instances/alpha/skills/faq-search/upgrade"),
    ]
    assert engine.plan(desired, CANARIES).changes == ()


def test_skill_metadata_change_is_one_import(engine: Engine) -> None:
    _applied(engine)
    desired = state([ALPHA, BETA], [FAQ_SEARCH, edited(NOTES, category="writing")])
    report = engine.apply(desired, CANARIES, check=False)

    assert engine.writes() == [("POST", "/api/skills/catalog/import")]
    assert report.results[0].key == "skill/notes"
    assert engine.plan(desired, CANARIES).changes == ()


def test_channel_toggle_keeps_credentials(engine: Engine) -> None:
    _applied(engine)
    channels = {"agent": {"enabled": True}, "whatsapp": {"enabled": False}}
    report_writes = _apply_alpha(engine, channels=channels)

    assert report_writes == [("PUT", "/api/instances/alpha/channels/whatsapp")]
    rows = engine.get("/api/instances/alpha/channels")["channels"]
    whatsapp = next(r for r in rows if r["channelType"] == "whatsapp")
    assert whatsapp["enabled"] is False
    assert whatsapp["config"]["whatsappNumber"] == "+15550001"


def test_room_change_sends_only_the_changed_field(engine: Engine) -> None:
    _applied(engine)
    room = dict(ALPHA["room"], evalIntervalMinutes=15)
    desired = state([edited(ALPHA, room=room), BETA], [FAQ_SEARCH, NOTES])
    report = engine.apply(desired, CANARIES, check=False)

    assert engine.writes() == [("PUT", "/api/instances/alpha/room")]
    assert report.results[0].calls[0].body == {"evalIntervalMinutes": 15}


@pytest.mark.parametrize(
    ("field", "value"),
    [("enabled", False), ("config", {"region": "us-east", "signingSecret": None, "extra": "x"})],
)
def test_event_source_update_is_one_put(engine: Engine, field: str, value: Any) -> None:
    _applied(engine)
    sources = [dict(s) for s in ALPHA["eventSources"]]
    sources[0][field] = value
    source = _source(engine, "Orders")

    writes = _apply_alpha(engine, eventSources=sources)

    assert writes == [("PUT", f"/api/instances/alpha/event-sources/{source['id']}")]
    after = _source(engine, "Orders")
    assert (after["id"], after["webhookToken"]) == (source["id"], source["webhookToken"])


def test_definition_change_puts_only_that_field(engine: Engine) -> None:
    _applied(engine)
    sources = [dict(s) for s in ALPHA["eventSources"]]
    definitions = [dict(d) for d in sources[0]["definitions"]]
    definitions[1]["outboundTarget"] = "+15550009"
    sources[0]["definitions"] = definitions
    source = _source(engine, "Orders")
    urgent = next(d for d in source["definitions"] if d["name"] == "Urgent")
    desired = state([edited(ALPHA, eventSources=sources), BETA], [FAQ_SEARCH, NOTES])

    report = engine.apply(desired, CANARIES, check=False)

    path = f"/api/instances/alpha/event-sources/{source['id']}/definitions/{urgent['id']}"
    assert engine.writes() == [("PUT", path)]
    assert report.results[0].calls[0].body == {"outboundTarget": "+15550009"}


def test_provider_change_patches_provider_and_model_together(engine: Engine) -> None:
    _applied(engine)
    desired = state([edited(ALPHA, model="claude-opus-4-6"), BETA], [FAQ_SEARCH, NOTES])
    report = engine.apply(desired, CANARIES, check=False)

    assert engine.writes() == [("PATCH", "/api/instances/alpha")]
    assert report.results[0].calls[0].body == {
        "provider": "anthropic",
        "model": "claude-opus-4-6",
    }


def test_newly_declared_secret_rides_with_the_supplied_ones(engine: Engine) -> None:
    _applied(engine)
    env = dict(CANARIES, POLYANT_SECRET__ALPHA__TAVILY_API_KEY="canary-tavily-31337")
    secrets = ["openai_api_key", "auth_api_key", "tavily_api_key"]
    desired = state([edited(ALPHA, secrets=secrets), BETA], [FAQ_SEARCH, NOTES])
    report = engine.apply(desired, env, check=False)

    assert engine.writes() == [("PUT", "/api/instances/alpha/secrets")]
    keys = [item["key"] for item in report.results[0].calls[0].body["secrets"]]
    assert sorted(keys) == sorted(secrets)
    assert "canary-tavily-31337" not in report.to_json()


def test_same_instant_in_another_spelling_is_no_change(engine: Engine) -> None:
    _applied(engine)
    tasks = [dict(t) for t in ALPHA["scheduledTasks"]]
    tasks[1]["schedule"] = {"type": "one-shot", "runAt": "2031-01-01T10:00:00+01:00"}
    prompts = dict(ALPHA["prompts"], **{"01-identity": "You are Alpha."})

    writes = _apply_alpha(engine, scheduledTasks=tasks, prompts=prompts)

    assert writes == [("PATCH", "/api/instances/alpha/prompts")]
