"""Send the same operations to the real engine and the sandbox; compare answers and state."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.acceptance.diffops import Op
from tests.acceptance.engines import Paced
from tests.sandbox.replay import shape_diff, value_diff

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A value encrypted by the engine (base64 iv:tag:data) is random on both sides.
_CIPHER = re.compile(r"[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/=]*")
MISSING_UUID = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"
STATE_READS = (
    "",
    "/room",
    "/scheduled-tasks",
    "/event-sources",
    "/secrets",
    "/prompts",
    "/skills/{skill}/env",
    "/tools",
)


def setup(api: Paced, rid: str) -> dict[str, str]:
    """The run's base objects on one engine; returns the placeholder values for it."""
    ctx = {
        "rid": rid,
        "slug": f"dif-{rid}",
        "skill": f"difskill-{rid}",
        "missing": f"nope-{rid}",
        "missing_uuid": MISSING_UUID,
    }
    base = f"/api/instances/{ctx['slug']}"
    _ok(api.post("/api/instances", {"slug": ctx["slug"], "name": f"Dif {rid}"}))
    _ok(
        api.post(
            "/api/skills",
            {
                "name": ctx["skill"],
                "description": "d",
                "content": "# c",
                "requiredTools": [],
                "requiredEnv": [
                    {"name": "PLAIN", "sensitive": False},
                    {"name": "SECRET", "sensitive": True},
                ],
            },
        )
    )
    _ok(api.post(f"{base}/skills/{ctx['skill']}"))
    task = _ok(
        api.post(
            f"{base}/scheduled-tasks",
            {
                "name": f"base {rid}",
                "prompt": "p",
                "schedule": {"type": "cron", "expression": "0 9 * * *", "timezone": "UTC"},
            },
        )
    )["task"]["id"]
    src = _ok(
        api.post(
            f"{base}/event-sources", {"name": f"src {rid}", "sourceType": "webhook", "config": {}}
        )
    )
    src_id = (src.get("source") or src)["id"]
    ctx.update(_variants("task", task) | _variants("src", src_id))
    return ctx


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, f"setup {r.request.method} {r.request.url}: {r.text[:300]}"
    return r.json()


def _variants(key: str, value: str) -> dict[str, str]:
    return {
        key: value,
        f"{key}_upper": value.upper(),
        f"{key}_nohyphen": value.replace("-", ""),
        f"{key}_braced": "{" + value + "}",
    }


def fill(value: Any, ctx: dict[str, str]) -> Any:
    """Placeholders replaced by this engine's values."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: ctx.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {fill(k, ctx): fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    return value


def send(api: Paced, op: Op, ctx: dict[str, str]) -> httpx.Response:
    headers = dict(op.headers)
    content = op.raw
    if op.raw is None and op.body is not None:
        content = json.dumps(fill(op.body, ctx)).encode()
        headers.setdefault("Content-Type", "application/json")
    return api.request(
        op.method, fill(op.path, ctx), content=content, headers=headers, auth=op.auth
    )


def normalised(r: httpx.Response, ctx: dict[str, str]) -> Any:
    """The body with this engine's own ids written back as their placeholders."""
    text = r.text
    for key in sorted(ctx, key=lambda k: -len(ctx[k])):
        if key not in ("rid", "slug", "skill", "missing") and ctx[key]:
            text = text.replace(ctx[key], "{" + key + "}")
    text = _CIPHER.sub("<ciphertext>", text)
    try:
        return json.loads(text)
    except ValueError:
        return text


_CORS = (
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "allow",
)


def compare(real: httpx.Response, sand: httpx.Response, ctxs: tuple[dict[str, str], ...]) -> str:
    """'' when the sandbox answered like the real engine, else how it differs."""
    if real.status_code != sand.status_code:
        ours, theirs = sand.text[:200], real.text[:200]
        return f"status {sand.status_code} != real {real.status_code}: {ours!r} vs {theirs!r}"
    a, b = normalised(real, ctxs[0]), normalised(sand, ctxs[1])
    diff = shape_diff(a, b) or value_diff(a, b)
    if diff:
        return f"body: {diff}"
    for name in _CORS:
        if real.headers.get(name) != sand.headers.get(name):
            return f"header {name}: {sand.headers.get(name)!r} != real {real.headers.get(name)!r}"
    return ""


@dataclass
class Tally:
    """Exact matches over operations and over stored-state reads."""

    ops: int = 0
    ops_matched: int = 0
    states: int = 0
    states_matched: int = 0
    problems: list[str] = field(default_factory=list)

    def share(self) -> float:
        total = self.ops + self.states
        return 100.0 * (self.ops_matched + self.states_matched) / max(1, total)

    def line(self) -> str:
        return (
            f"differential: {self.ops_matched}/{self.ops} operations and "
            f"{self.states_matched}/{self.states} state reads matched exactly "
            f"({self.share():.1f} %)"
        )


def snapshot_diffs(
    apis: tuple[Paced, Paced], ctxs: tuple[dict[str, str], ...], tally: Tally, when: str
) -> None:
    """Compare the stored state of the run's objects on both engines."""
    for tail in STATE_READS:
        path = f"/api/instances/{{slug}}{tail}"
        real = apis[0].get(fill(path, ctxs[0]))
        sand = apis[1].get(fill(path, ctxs[1]))
        problem = compare(real, sand, ctxs)
        tally.states += 1
        if problem:
            tally.problems.append(f"state {path} ({when}): {problem}")
        else:
            tally.states_matched += 1
    mine = [_ours(a.get("/api/instances"), c["rid"]) for a, c in zip(apis, ctxs, strict=True)]
    tally.states += 1
    if mine[0] != mine[1]:
        tally.problems.append(f"state instance slugs ({when}): {mine[1]} != real {mine[0]}")
    else:
        tally.states_matched += 1


def _ours(r: httpx.Response, rid: str) -> list[str]:
    return sorted(i["slug"] for i in r.json()["instances"] if rid in i["slug"])


def new_uuid() -> str:
    return str(uuid.uuid4())
