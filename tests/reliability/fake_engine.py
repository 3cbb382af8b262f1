"""A tiny hostile engine on loopback: serves canned answers per path, each one replaceable.

The base answers are recorded from the real sandbox (so an unmodified fake is a valid
engine); a hostile case then replaces one answer with malformed, mistyped, oversized or
path-traversing content.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from reconciler.sandbox.server import SandboxServer
from tests.reliability.states import FAQ

SLUG = "alpha"
BASE_PATHS = (
    "/api/instances",
    "/api/skills/catalog/export",
    f"/api/instances/{SLUG}/export",
    f"/api/instances/{SLUG}/scheduled-tasks",
    f"/api/instances/{SLUG}/event-sources",
    f"/api/instances/{SLUG}/skills/faq-search/env",
)
SEED: dict[str, Any] = {
    "skills": {
        "skills": [
            {
                "slug": FAQ["slug"],
                "name": FAQ["name"],
                "description": FAQ["description"],
                "category": "general",
                "versions": [
                    {
                        "version": "0.1.0",
                        "content": FAQ["content"],
                        "metadata": {"requiredEnv": FAQ["requiredEnv"], "requiredTools": ["curl"]},
                        "scripts": [{"file": "run.py", "description": "", "content": "print(1)\n"}],
                    }
                ],
            }
        ]
    },
    "instances": [
        {
            "slug": SLUG,
            "name": "Alpha",
            "description": "The base instance",
            "prompts": [{"sectionKey": "01-identity", "title": "Identity", "content": "Hi."}],
            "skills": [{"skillSlug": "faq-search", "enabled": True, "autoLoad": False}],
            "manualTools": ["readSkill", "spawnTask"],
            "skillEnv": [
                {"skillSlug": "faq-search", "key": "FAQ_INDEX", "encrypted": False, "value": "v1"}
            ],
            "eventSources": [
                {
                    "name": "Orders",
                    "sourceType": "webhook",
                    "enabled": True,
                    "config": {"region": "eu"},
                    "definitions": [
                        {
                            "name": "New",
                            "matchingPrompt": "m",
                            "interpretationPrompt": "i",
                            "enabled": True,
                        }
                    ],
                }
            ],
            "scheduledTasks": [
                {
                    "name": "Daily",
                    "enabled": True,
                    "prompt": "p",
                    "schedule": {"type": "interval", "everyMs": 3600000},
                }
            ],
        }
    ],
}


@dataclass
class Answer:
    """One canned HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})


def record_base() -> dict[str, Any]:
    """The JSON bodies a real (sandbox) engine answers on the routes export and plan read."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.json"
        seed.write_text(json.dumps(SEED), encoding="utf-8")
        with SandboxServer(seed_file=seed, seed_demo=False) as server:
            headers = {"Authorization": f"Bearer {server.token}"}
            with httpx.Client(base_url=server.url, headers=headers) as client:
                return {path: client.get(path).json() for path in BASE_PATHS}


class FakeEngine:
    """Serves `answers[path]` (404 otherwise); replace answers between runs."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self.answers: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()  # requests served per path since the last reset
        self.reset()
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def reset(self) -> dict[str, Any]:
        """Back to the valid base answers; returns a deep copy of the base JSON to edit."""
        self.answers = {p: Answer(body=json.dumps(b).encode()) for p, b in self.base.items()}
        self.hits = Counter()
        return copy.deepcopy(self.base)

    def set_json(self, path: str, body: Any, status: int = 200) -> None:
        """Answer `path` with `body` as JSON."""
        self.answers[path] = Answer(status, json.dumps(body).encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        self.hits[request.url.path] += 1
        answer = self.answers.get(request.url.path)
        if answer is None:
            answer = Answer(404, b'{"message":"Not Found","statusCode":404}')
        response = Response(answer.body, answer.status, answer.headers)
        await response(scope, receive, send)

    def start(self) -> FakeEngine:
        """Serve on a free loopback port in a background thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
