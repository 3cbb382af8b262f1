"""Engine behaviour the sandbox must share, asserted on the sandbox and the real engine alike."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SandboxServer
from tests.acceptance.engines import Paced, RealEngine, delete_instances, require_tier, sweep
from tests.sandbox.replay import Exchange, Replayer, load_index, samples_dir, shape_diff

require_tier()

INTERNAL = {"statusCode": 500, "message": "Internal server error"}
INVALID_BODY = {"statusCode": 400, "message": "Invalid request body", "error": "Bad Request"}
THROTTLED = {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
# Answers that list everything the engine holds (a shared real engine holds more): status,
# keys and the shape of one element are compared, not the values.
LISTS = {"/api/instances", "/api/skills", "/api/skills/catalog/export", "/api/tools"}


@dataclass
class Target:
    """One engine under test: the sandbox or the real one."""

    kind: str
    url: str
    token: str

    def client(self) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=auth, timeout=30)


@pytest.fixture(params=["sandbox", "real"])
def target(request: pytest.FixtureRequest, real: RealEngine, rid: str) -> Iterator[Target]:
    if request.param == "real":
        yield Target("real", real.url, real.token)
        api = Paced(real.url, real.token)
        for _ in sweep(api, rid):
            pass
        api.close()
        return
    # Time runs 30x faster in the sandbox: its throttle window lasts 2 s.
    line = "develop" if real.line == "develop" else "main"
    with SandboxServer(time_scale=30.0, seed_demo=True, engine_line=line) as server:
        yield Target("sandbox", server.url, server.token)


@pytest.fixture
def inst(target: Target, rid: str) -> Iterator[httpx.Client]:
    with target.client() as c:
        made = c.post("/api/instances", json={"slug": f"beh-{rid}", "name": f"Beh {rid}"})
        assert made.status_code == 201, made.text
        yield c


def test_body_limit_and_unparsed_bodies(target: Target, inst: httpx.Client, rid: str) -> None:
    big = {"sections": [{"key": "01-identity", "content": "x" * 102_400}]}
    r = inst.patch(f"/api/instances/beh-{rid}/prompts", json=big)
    assert (r.status_code, r.json()) == (500, INTERNAL)
    assert "x-ratelimit-limit" not in r.headers  # the parser refused it before the throttler
    plain = inst.post("/api/instances", content=b"{}", headers={"content-type": "text/plain"})
    assert plain.json() == INVALID_BODY
    form = inst.put(
        f"/api/instances/beh-{rid}/room",
        content=b"enabled=true",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.json()["message"] == "Expected boolean, received string"
    wrong = inst.put(f"/api/instances/beh-{rid}?x=1", json={})
    assert wrong.json()["message"] == f"Cannot PUT /api/instances/beh-{rid}?x=1"


def test_the_31st_call_to_a_handler_is_throttled(target: Target, inst: httpx.Client) -> None:
    # Room.activity: a handler no other test of the tier uses, so its budget is ours.
    first = inst.get("/api/instances/x/room/activity")
    remaining = int(first.headers["x-ratelimit-remaining"])
    seen = [remaining]
    while remaining > 0:
        remaining = int(inst.get("/api/instances/y/room/activity").headers["x-ratelimit-remaining"])
        seen.append(remaining)
    assert seen == list(range(seen[0], -1, -1))
    blocked = inst.get("/api/instances/z/room/activity")  # the key is the handler, not the path
    assert (blocked.status_code, blocked.json()) == (429, THROTTLED)
    assert int(blocked.headers["retry-after"]) >= 1
    assert "x-ratelimit-remaining" not in blocked.headers
    assert httpx.get(f"{target.url}/api/instances/x/room/activity").status_code == 429
    assert httpx.get(f"{target.url}/health").status_code == 200  # never throttled


def _renamed(value: Any, rid: str) -> Any:
    """The recorded exchange with its fixed names made unique to this run."""
    text = json.dumps(value)
    return json.loads(re.sub(r"\bdemo\b(?!-agent)", f"demo-{rid}", text))


def test_recorded_exchanges_replay_alike(target: Target, rid: str) -> None:
    replayer = Replayer(target.url, target.token, timeout_s=30)
    failures = []
    try:
        for recorded in load_index(samples_dir()):
            ex = replace(
                recorded,
                path=_renamed(recorded.path, rid),
                body=_renamed(recorded.body, rid),
                response=_renamed(recorded.response, rid),
                headers=_renamed(recorded.headers, rid),
            )
            if ex.seq == 36:
                _drain_tools(replayer)
            out = replayer.send(ex)
            while out.status == 429 and ex.status != 429:  # earlier traffic spent the budget
                time.sleep(float(out.headers.get("retry-after", 60)))
                out = replayer.send(ex)
            listed = ex.path in LISTS or ex.path.endswith(f"demo-{rid}/skills")
            problems = (
                _lists_checked(ex, out.status, out.body, rid)
                if listed and ex.status == 200
                else replayer.check(ex, out)
            )
            if problems:
                failures.append(f"#{ex.seq} {ex.method} {ex.path}: {problems}")
    finally:
        replayer.close()
    print(f"[{target.kind}] recorded exchanges: {36 - len(failures)}/36 matched")
    assert not failures, "\n".join(failures)


def _lists_checked(ex: Exchange, status: int | None, body: Any, rid: str) -> list[str]:
    if status != ex.status:
        return [f"status {status} != {ex.status}"]
    if not isinstance(body, dict) or body.keys() != ex.response.keys():
        return [f"keys {sorted(body) if isinstance(body, dict) else body!r}"]
    # Element shapes are compared on this run's own object, the others are anybody's.
    mine = [i for i in next(iter(body.values())) if _ours(i, rid)]
    want = [i for i in next(iter(ex.response.values())) if _ours(i, rid)]
    diff = shape_diff(want[:1], mine[:1]) if want and mine else None
    return [f"element shape: {diff}"] if diff else []


def _ours(item: Any, rid: str) -> bool:
    return isinstance(item, dict) and rid in str(item.get("slug", item.get("name", "")))


def _drain_tools(replayer: Replayer) -> None:
    # Sample 36 was recorded after the tool catalog's budget ran out.
    auth = {"Authorization": f"Bearer {replayer.token}"}
    for _ in range(40):
        r = replayer.client.get("/api/tools", headers=auth)
        if r.status_code == 429 or r.headers.get("x-ratelimit-remaining") == "0":
            return
    raise AssertionError("the tool catalog budget never ran out")


@pytest.fixture(autouse=True)
def _cleanup_sandbox_names(target: Target, rid: str) -> Iterator[None]:
    yield
    if target.kind == "real":
        api = Paced(target.url, target.token)
        delete_instances(api, rid)
        api.close()
