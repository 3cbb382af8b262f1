"""Differences the differential test (tests/acceptance) found against the real engine, fixed."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from reconciler.sandbox import SandboxServer
from reconciler.sandbox.cron import CronError, parse_cron
from reconciler.sandbox.jsdate import parse_js_date
from reconciler.sandbox.jsutil import pg_uuid

INTERNAL = {"statusCode": 500, "message": "Internal server error"}
INVALID_BODY = {"statusCode": 400, "message": "Invalid request body", "error": "Bad Request"}
MONDAY = datetime(2026, 11, 23, 8, 40, 24, tzinfo=UTC)


@pytest.fixture
def api(make_server: Callable[..., SandboxServer]) -> Iterator[httpx.Client]:
    server = make_server(limit=1000, time_scale=100)
    auth = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=5) as c:
        assert c.post("/api/instances", json={"slug": "q", "name": "Q"}).status_code == 201
        yield c


def _patch_raw(api: httpx.Client, raw: bytes, **headers: str) -> httpx.Response:
    return api.patch("/api/instances/q", content=raw, headers=headers)


def test_every_answer_carries_the_cors_headers_and_preflights_are_204(api: httpx.Client) -> None:
    r = api.get("/api/instances/q", headers={"Origin": "http://localhost:3000"})
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in api.get("/api/instances/q").headers
    pre = httpx.options(
        f"{api.base_url}/api/users",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Headers": "x-a"},
    )
    assert (pre.status_code, pre.content) == (204, b"")
    assert pre.headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert pre.headers["access-control-allow-headers"] == "x-a"
    assert "x-ratelimit-limit" not in pre.headers  # answered before the throttler


def test_compressed_and_recoded_bodies_are_decoded_like_body_parser(api: httpx.Client) -> None:
    body = '{"description": "café ☕"}'
    js = "application/json"
    assert (
        _patch_raw(
            api, gzip.compress(body.encode()), **{"content-type": js, "content-encoding": "gzip"}
        ).json()["instance"]["description"]
        == "café ☕"
    )
    assert (
        _patch_raw(
            api,
            zlib.compress(b'{"description": "d"}'),
            **{"content-type": js, "content-encoding": "deflate"},
        ).status_code
        == 200
    )
    utf16 = _patch_raw(api, body.encode("utf-16"), **{"content-type": f"{js}; charset=utf-16"})
    assert utf16.json()["instance"]["description"] == "café ☕"
    bom = _patch_raw(api, b"\xef\xbb\xbf" + body.encode(), **{"content-type": js})
    assert bom.status_code == 200
    for headers in (
        {"content-encoding": "br"},
        {"content-encoding": "compress"},
        {"content-type": f"{js}; charset=latin1"},
        {"content-type": f"{js}; charset=utf-9"},
    ):
        r = _patch_raw(api, body.encode(), **{"content-type": js, **headers})
        assert (r.status_code, r.json()) == (500, INTERNAL), headers
    form = api.put(
        "/api/instances/q/room",
        content=b"enabled=true",
        headers={"content-type": "application/x-www-form-urlencoded; charset=latin1"},
    )
    assert form.json() == INTERNAL  # urlencoded takes utf-8 or iso-8859-1 only


def test_croner_macros_quartz_fields_and_zone_spellings() -> None:
    nxt = {
        e: parse_cron(e, "UTC").next_after(MONDAY)
        for e in (
            "@yearly",
            "@DAILY",
            "@midnight",
            "0 9 * * 5L",
            "0 9 * * 1#5",
            "0 9 LW * *",
            "0 9 15W * *",
            "0 15 10 ? * 6L",
        )
    }
    assert nxt["@yearly"] == datetime(2027, 1, 1, tzinfo=UTC)
    assert nxt["@DAILY"] == nxt["@midnight"] == datetime(2026, 11, 24, tzinfo=UTC)
    assert nxt["0 9 * * 5L"] == datetime(2026, 11, 27, 9, tzinfo=UTC)  # the last Friday
    assert nxt["0 9 * * 1#5"] == datetime(2026, 11, 30, 9, tzinfo=UTC)  # the fifth Monday
    assert nxt["0 9 LW * *"] == datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert nxt["0 9 15W * *"] == datetime(2026, 12, 15, 9, tzinfo=UTC)
    assert nxt["0 15 10 ? * 6L"] == datetime(2026, 11, 23, 10, 15, tzinfo=UTC)  # "?" is no "*"
    paris = parse_cron("0 9 * * *", "europe/PARIS").next_after(MONDAY)
    assert paris == datetime(2026, 11, 24, 8, tzinfo=UTC)
    assert parse_cron("0 9 * * *", "").next_after(MONDAY) == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert parse_cron("0 9 * * *", "us/eastern").next_after(MONDAY).hour == 14
    for bad in ("@reboot", "0 9 L-2 * *", "@every 5m"):
        with pytest.raises(CronError):
            parse_cron(bad, "UTC")


def test_dates_are_read_as_loosely_as_v8_does() -> None:
    def at(text: str) -> str | None:
        d = parse_js_date(text)
        return d.isoformat() if d else None

    assert at("Jan 1 2031") == at("2031/01/01") == at("2031.01.01") == "2031-01-01T00:00:00+00:00"
    assert at("01/02/2031") == at("1/2/31") == "2031-01-02T00:00:00+00:00"
    assert at("2031-02-30") == "2031-03-02T00:00:00+00:00"  # the day overflows
    assert at("12 Dec 2031 11:00 pm") == "2031-12-12T23:00:00+00:00"
    assert at("2031-01-01 10:00:00 +0200") == "2031-01-01T08:00:00+00:00"
    assert at("2031-01-01t10:00:00z") == "2031-01-01T10:00:00+00:00"
    assert at("foo 2031") == "2031-01-01T00:00:00+00:00"
    for bad in (
        "  2031-01-01T10:00:00Z  ",
        "2031-13-01",
        "tomorrow",
        "2031-01-01garbage",
        "20310101T100000Z",
        "2031-01-01T25:00:00Z",
    ):
        assert at(bad) is None, bad


def test_a_padded_run_at_is_a_poison_task(api: httpx.Client) -> None:
    r = api.post(
        "/api/instances/q/scheduled-tasks",
        json={
            "name": "n",
            "prompt": "p",
            "schedule": {"type": "one-shot", "runAt": "  2031-01-01T10:00:00Z  "},
        },
    )
    assert r.json() == INVALID_BODY
    assert api.get("/api/instances/q/scheduled-tasks").json() == INVALID_BODY


def test_uuids_in_any_spelling_postgres_reads() -> None:
    canonical = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    for spelling in (
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11",
    ):
        assert pg_uuid(spelling) == canonical
    for bad in ("urn:uuid:" + canonical, canonical + " ", "{" + canonical, "12345"):
        assert pg_uuid(bad) is None


def test_tasks_by_unusual_uuid_spellings_and_column_limits(api: httpx.Client) -> None:
    made = api.post(
        "/api/instances/q/scheduled-tasks",
        json={"name": "n", "prompt": "p", "schedule": {"type": "cron", "expression": "@hourly"}},
    )
    tid = made.json()["task"]["id"]
    for spelling in (tid.upper(), tid.replace("-", ""), "{" + tid + "}"):
        got = api.get(f"/api/instances/q/scheduled-tasks/{spelling}")
        assert got.json()["task"]["id"] == tid
    url = f"/api/instances/q/scheduled-tasks/{tid}"
    assert api.patch(url, json={"enabled": None}).json() == INTERNAL  # NOT NULL
    assert api.patch(url, json={"maxRetries": 2**31}).json() == INTERNAL  # int4
    both_bad = {
        "name": "n",
        "prompt": "p",
        "maxRetries": 2**31,
        "schedule": {"type": "cron", "expression": "61 * * * *"},
    }
    assert api.post("/api/instances/q/scheduled-tasks", json=both_bad).json() == INVALID_BODY
    room = api.put("/api/instances/q/room", json={"evalIntervalMinutes": 2**32 + 7})
    assert room.json() == INTERNAL


def test_messages_show_values_as_javascript_strings(api: httpx.Client) -> None:
    def msg(r: httpx.Response) -> str:
        return str(r.json()["message"])

    null_type = {"name": "n", "prompt": "p", "schedule": {"type": None}}
    assert msg(api.post("/api/instances/q/scheduled-tasks", json=null_type)) == (
        'Invalid schedule type: "null"'
    )
    assert msg(api.patch("/api/instances/q", json={"provider": {}})).startswith(
        'Invalid provider "[object Object]"'
    )
    assert msg(api.patch("/api/instances/q", json={"model": True})).startswith(
        'Invalid model "true"'
    )
    every = {"name": "n", "prompt": "p", "schedule": {"type": "interval", "everyMs": 5_400_000}}
    task = api.post("/api/instances/q/scheduled-tasks", json=every).json()["task"]
    assert task["scheduleHuman"] == "Every 2h"  # Math.round(1.5) of the largest unit


def test_truthy_non_boolean_sensitive_stores_readable_ciphertext(api: httpx.Client) -> None:
    skill = {
        "name": "sk",
        "description": "d",
        "content": "c",
        "requiredTools": [],
        "requiredEnv": [{"name": "PLAIN", "sensitive": False}],
    }
    assert api.post("/api/skills", json=skill).status_code == 201
    assert api.post("/api/instances/q/skills/sk").status_code == 201
    url = "/api/instances/q/skills/sk/env"

    def put(sensitive: object, value: object = "v") -> httpx.Response:
        return api.put(
            url, json={"env": [{"key": "PLAIN", "value": value, "sensitive": sensitive}]}
        )

    for truthy in ("true", 1, {}):
        shown = put(truthy).json()["env"][0]["value"]
        assert shown != "v" and len(shown.split(":")) == 3  # iv:tag:data, base64
    assert put(0).json()["env"][0]["value"] == "v"
    assert put(True).json()["env"][0]["value"] == "v"
    assert put(None).json() == INTERNAL
    assert put(True, 5).json() == INVALID_BODY


def test_the_user_routes(api: httpx.Client, make_server: Callable[..., SandboxServer]) -> None:
    assert api.get("/api/users").json() == {"users": []}
    missing = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"
    assert api.get(f"/api/users/{missing}").json()["message"] == f"User {missing} not found"
    assert api.get("/api/users/not-a-uuid").json() == INTERNAL
    assert api.post("/api/users", json={"email": 5}).json() == INVALID_BODY
    assert api.post("/api/users", json={"email": "bad"}).json()["message"] == "Invalid email"
    weak = api.post("/api/users", json={"email": "a@b.co", "password": "short"})
    assert weak.json()["message"] == "Password must be at least 8 characters"
    made = api.post("/api/users", json={"email": " A@B.co ", "role": "user"})
    assert made.status_code == 201 and made.json()["user"]["email"] == "a@b.co"
    assert len(made.json()["generatedPassword"]) == 18
    assert api.post("/api/users", json={"email": "a@b.co"}).status_code == 409
    assert httpx.get(f"{api.base_url}/api/users").status_code == 401
