"""Express-style route table: `:param` templates, registration order wins, no 405."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .errors import Reply
from .state import Store


@dataclass
class Settings:
    """Server-wide knobs handlers read (changeable at runtime from the owning thread)."""

    base_url: str = "http://127.0.0.1:4000"
    time_scale: float = 1.0
    # "unreachable": slack/telegram starts hang channel_hang_s (engine seconds) then answer;
    # "ok": they start at once; "invalid": they answer, then auto-disable the row.
    channel_network: str = "unreachable"
    channel_hang_s: float = 5.0
    stopping: asyncio.Event | None = None

    async def engine_sleep(self, engine_seconds: float) -> None:
        """Sleep for engine time scaled to real time; returns early when the server stops."""
        real = engine_seconds / self.time_scale
        if self.stopping is None:
            await asyncio.sleep(real)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=real)


@dataclass
class Ctx:
    """One request as a handler sees it."""

    store: Store
    settings: Settings
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    after: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def p(self, name: str) -> str:
        return self.params[name]


Handler = Callable[[Ctx], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """One route: method, template, handler name (the throttle key) and flags."""

    method: str
    template: str
    name: str
    handler: Handler
    public: bool = False
    throttled: bool = True
    limit: int | None = None  # a per-route throttle override (webhooks: 60)
    role: str | None = None  # @RequireRole: only /api/users/** (superadmin)
    pattern: re.Pattern[str] = field(default=re.compile(""), compare=False)

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        m = self.pattern.match(raw_path)
        if m is None:
            return None
        return {k: unquote(v) for k, v in m.groupdict().items()}


def _compile(template: str) -> re.Pattern[str]:
    parts = []
    for seg in template.strip("/").split("/"):
        if seg.startswith(":"):
            parts.append(f"(?P<{seg[1:].replace('-', '_')}>[^/]+?)")
        else:
            parts.append(re.escape(seg))
    # Express routing is case-insensitive and tolerates one trailing slash by default.
    return re.compile("^/" + "/".join(parts) + "/?$", re.IGNORECASE)


class Routes(list[Route]):
    """A list of routes filled by the `add` decorator in registration order."""

    def add(
        self,
        method: str,
        template: str,
        name: str,
        *,
        public: bool = False,
        throttled: bool = True,
        limit: int | None = None,
        role: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            pattern = _compile(template)
            route = Route(method, template, name, fn, public, throttled, limit, role, pattern)
            self.append(route)
            return fn

        return deco


def resolve(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The first route matching method and path, with decoded params."""
    for r in routes:
        params = r.match(method, raw_path)
        if params is not None:
            return r, params
    return None
