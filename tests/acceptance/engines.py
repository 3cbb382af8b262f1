"""The real engines of the acceptance tier: gate, start, a paced raw client, unique names."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.engine.routes import handler_for

REPO_ROOT = Path(__file__).resolve().parents[2]
START = REPO_ROOT.parent / "shared" / "real-engine" / "start"
PORTS = {"main": 4400, "develop": 4410}
SKIP_REASON = (
    "acceptance tier (real engine): run ./scripts/acceptance "
    "(needs ../shared/real-engine, or POLYANT_ACCEPTANCE_URL and POLYANT_ACCEPTANCE_TOKEN)"
)


def enabled() -> bool:
    """The tier runs only when asked: scripts/acceptance sets POLYANT_ACCEPTANCE=1."""
    if os.environ.get("POLYANT_ACCEPTANCE_URL") and os.environ.get("POLYANT_ACCEPTANCE_TOKEN"):
        return True
    return os.environ.get("POLYANT_ACCEPTANCE") == "1" and START.exists()


def require_tier() -> None:
    """Skip the calling module unless the tier is enabled (one folded skip line for all)."""
    if not enabled():
        pytest.skip(SKIP_REASON, allow_module_level=True)


def lines() -> list[str]:
    """The engine lines to test: POLYANT_ACCEPTANCE_LINES, default main; 'custom' for a URL."""
    if os.environ.get("POLYANT_ACCEPTANCE_URL"):
        return ["custom"]
    return os.environ.get("POLYANT_ACCEPTANCE_LINES", "main").split()


@dataclass(frozen=True)
class RealEngine:
    """A running real engine and an admin token for it."""

    line: str
    url: str
    token: str


def start_engine(line: str) -> RealEngine:
    """Start (or reuse) the line's engine through ../shared/real-engine/start."""
    if line == "custom":
        return RealEngine(
            "custom", os.environ["POLYANT_ACCEPTANCE_URL"], os.environ["POLYANT_ACCEPTANCE_TOKEN"]
        )
    env = {**os.environ, "POLYANT_ENGINE_LINE": line}
    done = subprocess.run(
        [str(START)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{START} ({line}) failed: {done.stderr.strip().splitlines()[-1:]}")
    token = done.stdout.strip().splitlines()[-1]
    return RealEngine(line, f"http://127.0.0.1:{PORTS[line]}", token)


def run_id() -> str:
    """A short random suffix: every object a run creates carries it (leftovers never clash)."""
    return "t" + secrets.token_hex(3)


@dataclass
class Paced:
    """A raw HTTP client that keeps within the engine's per-handler budget.

    It reads X-RateLimit-Remaining/Reset after every answer and waits out a spent budget
    before the next request to that handler; a 429 (sent before any side effect, the
    throttler runs first) is waited out for Retry-After and the request sent again.
    """

    url: str
    token: str
    timeout_s: float = 30.0
    blocked: dict[str, float] = field(default_factory=dict)
    throttled: int = 0
    sent: int = 0

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=self.timeout_s)

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        handler = handler_for(method, path) or ""
        hdrs = {"Authorization": f"Bearer {self.token}"} if auth else {}
        hdrs.update(headers or {})
        while True:
            wait = self.blocked.get(handler, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            r = self.client.request(method, path, json=json, content=content, headers=hdrs)
            self.sent += 1
            if r.status_code != 429:
                self._note(handler, r)
                return r
            self.throttled += 1
            self.blocked[handler] = time.monotonic() + float(r.headers.get("retry-after", 60))

    def _note(self, handler: str, r: httpx.Response) -> None:
        if r.headers.get("x-ratelimit-remaining") == "0":
            reset = float(r.headers.get("x-ratelimit-reset", 60))
            self.blocked[handler] = time.monotonic() + reset + 0.5

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return self.request("POST", path, json=json)

    def put(self, path: str, json: Any = None) -> httpx.Response:
        return self.request("PUT", path, json=json)

    def patch(self, path: str, json: Any = None) -> httpx.Response:
        return self.request("PATCH", path, json=json)

    def delete(self, path: str) -> httpx.Response:
        return self.request("DELETE", path)


def delete_instances(api: Paced, suffix: str) -> None:
    """Remove every instance (and its tasks first, §17.6) whose slug carries `suffix`."""
    for inst in api.get("/api/instances").json()["instances"]:
        slug = inst["slug"]
        if suffix not in slug:
            continue
        tasks = api.get(f"/api/instances/{slug}/scheduled-tasks")
        for task in tasks.json().get("tasks", []) if tasks.status_code == 200 else []:
            api.delete(f"/api/instances/{slug}/scheduled-tasks/{task['id']}")
        api.delete(f"/api/instances/{slug}")


def archive_skills(api: Paced, suffix: str) -> None:
    """Archive every catalog skill whose slug carries `suffix`."""
    for skill in api.get("/api/skills").json().get("skills", []):
        if suffix in skill.get("slug", skill["name"]):
            api.delete(f"/api/skills/{skill.get('slug', skill['name'])}")


def sweep(api: Paced, suffix: str) -> Iterator[None]:
    """Yield, then clean up what the run created (used by fixtures)."""
    try:
        yield
    finally:
        delete_instances(api, suffix)
        archive_skills(api, suffix)
