"""Contract behaviours the recorded traffic does not exercise (hazards, modes, seeds)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import SandboxServer
from reconciler.sandbox.bodyparse import v8_message
from reconciler.sandbox.cron import CronError, parse_cron

INTERNAL = {"statusCode": 500, "message": "Internal server error"}
INVALID_BODY = {"statusCode": 400, "message": "Invalid request body", "error": "Bad Request"}


@pytest.fixture
def server(make_server: Callable[..., SandboxServer]) -> SandboxServer:
    return make_server(limit=1000, time_scale=100)


@pytest.fixture
def api(server: SandboxServer) -> Iterator[httpx.Client]:
    auth = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=5) as c:
        assert c.post("/api/instances", json={"slug": "q", "name": "Q"}).status_code == 201
        yield c


def _task(c: httpx.Client, schedule: dict[str, object]) -> httpx.Response:
    return c.post(
        "/api/instances/q/scheduled-tasks", json={"name": "n", "prompt": "p", "schedule": schedule}
    )


def test_interval_hazards_answer_instead_of_wedging(api: httpx.Client) -> None:
    for every in (0, -5):
        # A wedged sandbox would leave this call to the client's timeout (an error here).
        r = _task(api, {"type": "interval", "everyMs": every})
        assert (r.status_code, r.json()) == (500, INTERNAL)  # the engine would hang here
    future = _task(api, {"type": "interval", "everyMs": 0, "anchorAt": "2099-01-01T00:00:00Z"})
    assert future.status_code == 201  # no loop when the first run is already in the future
    tiny = _task(api, {"type": "interval", "everyMs": 1, "anchorAt": "1970-01-01T00:00:00Z"})
    assert tiny.status_code == 201  # computed, not looped
    assert _task(api, {"type": "one-shot", "runAt": "+5x"}).json() == INTERNAL


def test_poison_pill_one_shot(api: httpx.Client, server: SandboxServer) -> None:
    r = _task(api, {"type": "one-shot", "runAt": "tomorrow"})
    assert (r.status_code, r.json()) == (400, INVALID_BODY)
    assert api.get("/api/instances/q/scheduled-tasks").json() == INVALID_BODY  # persisted
    task_id = next(iter(server.store.tasks))  # the API never reveals it
    assert api.get(f"/api/instances/q/scheduled-tasks/{task_id}").status_code == 400
    assert api.delete(f"/api/instances/q/scheduled-tasks/{task_id}").status_code == 200
    assert api.get("/api/instances/q/scheduled-tasks").json() == {"tasks": []}


def test_task_patch_rules(api: httpx.Client) -> None:
    made = _task(api, {"type": "cron", "expression": "0 9 * * *", "timezone": "Europe/Paris"})
    tid = made.json()["task"]["id"]
    url = f"/api/instances/q/scheduled-tasks/{tid}"
    weekly = api.patch(url, json={"schedule": {"type": "weekly"}}).json()["task"]
    assert "scheduleHuman" not in weekly
    assert weekly["nextRunAt"] == made.json()["task"]["nextRunAt"]  # left unchanged
    assert api.patch(url, json={"schedule": {"type": "cron", "expression": "x"}}).status_code == 400
    assert api.get("/api/instances/q/scheduled-tasks/not-a-uuid").json() == INTERNAL
    paris = datetime.fromisoformat(made.json()["task"]["nextRunAt"].replace("Z", "+00:00"))
    assert paris.astimezone(UTC).hour in (7, 8)  # 09:00 in Paris


def test_cron_fields() -> None:
    start = datetime(2026, 11, 23, 8, 40, 24, tzinfo=UTC)  # a Monday
    assert parse_cron("30 0 9 * * 1").next_after(start) == datetime(
        2026, 11, 23, 9, 0, 30, tzinfo=UTC
    )
    assert parse_cron("0 0 L * *").next_after(start) == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_cron("0 0 0 1 1 * 2028").next_after(start) == datetime(2028, 1, 1, tzinfo=UTC)
    assert parse_cron("0 12 * * SUN").next_after(start) == datetime(2026, 11, 29, 12, tzinfo=UTC)
    for bad in ("* * * *", "not a cron", "61 * * * *", "*/0 * * * *"):
        with pytest.raises(CronError):
            parse_cron(bad)
    with pytest.raises(CronError):
        parse_cron("0 9 * * *", "Mars/Olympus_Mons")


def test_json_error_messages() -> None:
    assert v8_message('{"slug": "x", ') == (
        "Expected double-quoted property name in JSON at position 14"
    )
    assert v8_message('{"sections": [') == "Unexpected end of JSON input"
    assert v8_message('{"a" 1}') == "Expected ':' after property name in JSON at position 5"
    assert v8_message('{"a": 1,}') == "Expected double-quoted property name in JSON at position 8"
    assert v8_message("[1 2]") == "Expected ',' or ']' after array element in JSON at position 3"


def test_body_limit_and_unparsed_bodies(api: httpx.Client) -> None:
    big = {"sections": [{"key": "01-identity", "content": "x" * 102_400}]}
    r = api.patch("/api/instances/q/prompts", json=big)
    assert (r.status_code, r.json()) == (500, INTERNAL)
    assert "x-ratelimit-limit" not in r.headers
    plain = api.post("/api/instances", content=b"{}", headers={"content-type": "text/plain"})
    assert plain.json() == INVALID_BODY
    form = api.put(
        "/api/instances/q/room",
        content=b"enabled=true",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.json()["message"] == "Expected boolean, received string"
    wrong = api.put("/api/instances/q?x=1", json={})
    assert wrong.json()["message"] == "Cannot PUT /api/instances/q?x=1"


def test_patch_can_rename_to_an_unreachable_slug(api: httpx.Client) -> None:
    assert api.patch("/api/instances/q", json={"slug": "Has Space"}).status_code == 200
    assert api.get("/api/instances/Has%20Space").status_code == 400
    assert api.get("/api/instances/Has%20Space/prompts").status_code == 200  # not validated
    assert api.patch("/api/instances/q", json={"status": "x" * 21}).status_code == 404


def test_delete_keeps_slug_keyed_tasks_and_agent_tools(api: httpx.Client) -> None:
    assert (
        api.put("/api/instances/q/channels/agent", json={"config": {}, "enabled": True}).status_code
        == 200
    )
    api.post("/api/instances", json={"slug": "caller", "name": "C"})
    tools = ["readSkill", "spawnTask", "agent:q"]
    api.patch("/api/instances/caller/tools", json={"enabled": tools})
    _task(api, {"type": "one-shot", "runAt": "2099-01-01T00:00:00Z"})
    assert api.delete("/api/instances/q").status_code == 200
    manual = api.get("/api/instances/caller/export").json()["instance"]["manualTools"]
    assert "agent:q" in manual  # a dangling agent tool survives the callee
    api.post("/api/instances", json={"slug": "q", "name": "Q again"})
    assert len(api.get("/api/instances/q/scheduled-tasks").json()["tasks"]) == 1  # resurrected


def test_channel_network_modes(make_server: Callable[..., SandboxServer]) -> None:
    slack = {"config": {"botToken": "b", "appToken": "a", "signingSecret": "s"}, "enabled": True}
    for mode, expect_enabled_later in (("ok", True), ("invalid", False)):
        server = make_server(channel_network=mode, time_scale=100)
        auth = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=auth) as c:
            c.post("/api/instances", json={"slug": "ch", "name": "Ch"})
            r = c.put("/api/instances/ch/channels/slack", json=slack)
            assert r.json()["channel"]["enabled"] is True
            time.sleep(0.1)
            listed = c.get("/api/instances/ch/channels").json()["channels"]
            assert listed[0]["enabled"] is expect_enabled_later
    hang = make_server(channel_hang_s=30, time_scale=100)  # hangs 0.3 s real
    auth = {"Authorization": f"Bearer {hang.token}"}
    with httpx.Client(base_url=hang.url, headers=auth, timeout=0.1) as c:
        c.post("/api/instances", json={"slug": "ch", "name": "Ch"})
        with pytest.raises(httpx.ReadTimeout):
            c.put("/api/instances/ch/channels/slack", json=slack)
        assert c.get("/api/instances/ch/channels").json()["channels"][0]["enabled"] is True


def test_seed_file(make_server: Callable[..., SandboxServer], tmp_path: Path) -> None:
    versions = [{"version": "1.0.0", "content": "a"}, {"version": "1.2.0", "content": "b"}]
    skill = {"slug": "s1", "name": "S One", "description": "d", "category": "ops"}
    skill |= {"isDefault": False, "status": "archived", "versions": versions}
    task = {"name": "t", "prompt": "p", "enabled": False}
    task["schedule"] = {"type": "interval", "everyMs": 60000}
    instance = {
        "slug": "seeded",
        "name": "Seeded",
        "thinkingEnabled": True,
        "prompts": [{"sectionKey": "01-identity", "title": "Who", "content": "me"}],
        "skills": [
            {"skillSlug": "s1", "enabled": True, "autoLoad": True, "pinnedVersion": "1.0.0"}
        ],
        "secrets": [{"key": "openai_api_key", "configured": True}],
        "channels": [{"channelType": "agent", "enabled": True}],
        "room": {"prompt": "r"},
        "scheduledTasks": [task],
    }
    seed = {"skills": {"skills": [skill]}, "instances": [{"instance": instance}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    server = make_server(seed_file=path)
    auth = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=auth) as c:
        slugs = [i["slug"] for i in c.get("/api/instances").json()["instances"]]
        assert slugs == ["demo-agent", "seeded"]
        assert c.get("/api/instances/seeded").json()["instance"]["thinkingEnabled"] is True
        prompts = c.get("/api/instances/seeded/prompts").json()["prompts"]
        assert (prompts[0]["title"], prompts[0]["content"], len(prompts)) == ("Who", "me", 8)
        export = c.get("/api/instances/seeded/export").json()["instance"]
        assert export["skills"][0]["pinnedVersion"] == "1.0.0"
        assert export["secrets"] == [{"key": "openai_api_key", "configured": True}]
        assert c.get("/api/skills").json() == {"skills": []}  # archived
        assert c.get("/api/skills/s1/versions").json()["versions"][-1]["version"] == "1.2.0"
        tasks = c.get("/api/instances/seeded/scheduled-tasks").json()["tasks"]
        assert [(t["name"], t["enabled"]) for t in tasks] == [("t", False)]
        assert c.get("/api/instances/seeded/room").json()["prompt"] == "r"


def test_import_collisions_and_bulk_skill_patch(api: httpx.Client) -> None:
    bundle = api.get("/api/instances/q/export").json()
    slugs = [api.post("/api/instances/import", json=bundle).json()["slug"] for _ in range(3)]
    assert slugs == ["q-imported", "q-imported-2", "q-imported-3"]
    api.post("/api/skills", json={"name": "k1", "content": "x", "requiredTools": ["curl"]})
    r = api.patch("/api/instances/q/skills", json={"enabled": ["k1", "ghost"]})
    assert r.status_code == 500  # the known slug is enabled anyway
    listed = api.get("/api/instances/q/skills").json()["skills"]
    assert [s["enabled"] for s in listed if s["name"] == "k1"] == [True]


def test_serve_blocks_and_answers(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "from reconciler.sandbox import serve;"
        "serve(host='127.0.0.1', port=0, static_token='tok', auth_secret=None, seed_file=None)"
    )
    # port=0 is resolved inside; find it from the log line instead of guessing.
    proc = subprocess.Popen(
        [sys.executable, "-c", "import logging; logging.basicConfig(level=logging.INFO);" + code],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = ""
        deadline = time.monotonic() + 10
        while "listening on" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        r = httpx.get(f"{url}/api/instances", headers={"Authorization": "Bearer tok"})
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_env_entries_carry_the_metadata_description_as_it_is(api: httpx.Client) -> None:
    # `description: entry.description` in the engine: null is kept, a missing one is left out.
    env = [
        {"name": "A", "sensitive": False, "description": None},
        {"name": "B", "sensitive": False},
        {"name": "C", "sensitive": True, "description": "c"},
    ]
    skill = {"name": "env-desc", "content": "x", "requiredEnv": env}
    assert api.post("/api/skills", json=skill).status_code == 201
    body = {"env": [{"key": "A", "value": "a", "sensitive": False}]}
    answer = api.put("/api/instances/q/skills/env-desc/env", json=body).json()["env"]
    assert answer == [
        {"key": "A", "value": "a", "sensitive": False, "configured": True, "description": None},
        {"key": "B", "value": "", "sensitive": False, "configured": False},
        {"key": "C", "value": "", "sensitive": True, "configured": False, "description": "c"},
    ]
