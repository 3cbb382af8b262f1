"""The ASGI app: body parser, router, throttle, auth guard, faults, handlers, request log."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Mount

from . import (
    develop,
    develop_auth,
    develop_hooks,
    events,
    export,
    importer,
    instance_skills,
    instances,
    prompts_tools,
    room,
    secrets_channels,
    skills,
    tasks,
    users,
)
from .auth import Authenticator, TokenError
from .bodyparse import parse_body
from .cors import cors_headers, preflight_headers
from .errors import (
    BAD_AUTH_BODY,
    FORBIDDEN_ROLE_BODY,
    MISSING_AUTH_BODY,
    THROTTLED_BODY,
    HttpError,
    Reply,
    internal,
)
from .faults import FaultKind, FaultPlan, FaultRule, abort_connection
from .jsutil import dumps, iso, now
from .routing import Ctx, Route, Routes, Settings, resolve
from .state import Store
from .throttle import Throttler

log = logging.getLogger("reconciler.sandbox")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_health = Routes()


@_health.add("GET", "/health", "HealthController.check", public=True, throttled=False)
async def health(ctx: Ctx) -> Reply:
    return Reply({"status": "ok", "timestamp": iso(now()), "service": "polyant"})


# Registration order matters where templates overlap (models before :slug, runs before :id).
ROUTES: list[Route] = [
    *_health,
    *instances.routes,
    *export.routes,
    *importer.routes,
    *prompts_tools.routes,
    *instance_skills.routes,
    *secrets_channels.routes,
    *room.routes,
    *events.routes,
    *tasks.routes,
    *skills.routes,
    *users.routes,
]


def routes_for(line: str) -> list[Route]:
    """The route table of an engine line: develop's differences win over main's routes."""
    return [*develop_hooks.routes, *develop.routes, *ROUTES] if line == "develop" else ROUTES


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sandbox saw it; status 0 means the connection was dropped."""

    method: str
    path: str
    status: int
    handler: str | None
    fault: str | None = None
    created: str | None = (
        None  # the slug a POST /api/instances asked for (tests tell creates apart)
    )


@dataclass
class Engine:
    """The mutable state behind the app, shared with SandboxServer."""

    store: Store
    settings: Settings
    throttler: Throttler
    auth: Authenticator
    faults: FaultPlan | None = None
    latency_s: float = 0.0
    requests: list[RequestRecord] = field(default_factory=list)
    routes: list[Route] = field(default_factory=lambda: ROUTES)
    keys: develop_auth.KeyGuard | None = None  # develop: X-Polyant-Key and enforce mode
    background: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass
class _Exchange:
    """Per-request working state of the pipeline."""

    request: Request
    send: Send
    raw_path: str
    route: Route | None
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    rules: list[FaultRule] = field(default_factory=list)
    recorded: bool = False


def _response(reply: Reply, headers: dict[str, str]) -> Response:
    if reply.raw is not None:
        content, media = reply.raw, reply.media_type
    else:
        content, media = dumps(reply.body, pretty=reply.pretty).encode(), reply.media_type
    return Response(content, reply.status, {**headers, **reply.headers}, media_type=media)


def _error(err: HttpError) -> Reply:
    return Reply(err.body, status=err.status)


class Dispatcher:
    """Runs one request through the engine's pipeline, in the engine's order."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw_path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        found = resolve(self.engine.routes, request.method, raw_path)
        ex = _Exchange(request, send, raw_path, *(found or (None, {})))
        try:
            await self._pipeline(ex, scope)
        except ClientDisconnect:
            self._record(ex, 0, "client-disconnect")
        except Exception:  # never a traceback to the client
            log.exception("sandbox pipeline failed")
            if not ex.recorded:
                await self._send(ex, _error(internal()))

    def _record(self, ex: _Exchange, status: int, fault: str | None) -> None:
        # Recorded before the answer leaves, so a client never outruns the log.
        if not ex.recorded:
            ex.recorded = True
            name = ex.route.name if ex.route else None
            created = _created_slug(ex)
            record = RequestRecord(ex.request.method, ex.raw_path, status, name, fault, created)
            self.engine.requests.append(record)

    async def _send(self, ex: _Exchange, reply: Reply, fault: str | None = None) -> None:
        self._record(ex, reply.status, fault)
        await _response(reply, ex.headers)(ex.request.scope, ex.request.receive, ex.send)

    def _drop(self, ex: _Exchange, scope: Scope, rule: FaultRule) -> None:
        self._record(ex, 0, rule.kind.value)
        drop = scope.get("sandbox.drop")
        if drop is None or not drop(reset=rule.reset):
            raise RuntimeError("this server cannot drop connections (uvicorn is required)")

    async def _pipeline(self, ex: _Exchange, scope: Scope) -> None:
        req = ex.request
        # 0. The cors middleware (dev origins, credentials) runs before everything else and
        # answers every preflight itself: 204, no body parsing, no throttle, no auth.
        ex.headers.update(cors_headers(req.headers.get("origin")))
        if req.method == "OPTIONS":
            ex.headers.update(preflight_headers(req.headers))
            return await self._send(ex, Reply(None, status=204, raw=b"", media_type=None))
        # 1. Body parser (Express middleware): its rejections never reach the guards.
        has_body = "content-length" in req.headers or "transfer-encoding" in req.headers
        try:
            ctype, encoding = (req.headers.get(h, "") for h in ("content-type", "content-encoding"))
            body = parse_body(ctype, await req.body(), has_body, encoding or "identity")
        except HttpError as err:
            return await self._send(ex, _error(err))
        route = ex.route
        if route is None:
            qs = scope.get("query_string", b"").decode("latin-1")
            url = ex.raw_path + (f"?{qs}" if qs else "")
            return await self._send(ex, _error(_not_found(req.method, url)))
        # 2. Injected faults that act before the engine sees the request.
        if await self._early_faults(ex, scope):
            return None
        # 3. Throttler guard, then auth guard (rejected requests still use budget).
        refusal = self._throttle(ex) or self._authenticate(ex)
        if refusal is not None:
            return await self._send(ex, refusal)
        # 4. The handler, then the faults that act after the commit.
        ctx = Ctx(self.engine.store, self.engine.settings, ex.params, _query(scope), body)
        reply = await self._run(route, ctx)
        return await self._finish(ex, scope, reply, ctx)

    async def _early_faults(self, ex: _Exchange, scope: Scope) -> bool:
        plan, route = self.engine.faults, ex.route
        assert route is not None
        ex.rules = plan.decide(ex.request.method, route.template, route.name) if plan else []
        delay = self.engine.latency_s + sum(
            r.delay_s for r in ex.rules if r.kind == FaultKind.LATENCY
        )
        if delay > 0:
            await _real_sleep(self.engine.settings, delay)
        for rule in ex.rules:
            if rule.kind == FaultKind.ERROR:
                await self._send(ex, _fault_error(rule.status), "error")
                return True
            if rule.kind == FaultKind.THROTTLE:
                ex.headers["Retry-After"] = str(rule.retry_after_s)
                await self._send(ex, Reply(THROTTLED_BODY, status=429), "throttle")
                return True
            if rule.kind == FaultKind.DROP_BEFORE:
                self._drop(ex, scope, rule)
                return True
        return False

    def _throttle(self, ex: _Exchange) -> Reply | None:
        route = ex.route
        assert route is not None
        if not route.throttled:
            return None
        client = (ex.request.client.host if ex.request.client else None) or "unknown"
        verdict = self.engine.throttler.hit(client, route.name, limit=route.limit)
        if not verdict.allowed:
            ex.headers["Retry-After"] = str(verdict.retry_after_s)
            return Reply(THROTTLED_BODY, status=429)
        ex.headers.update(
            {
                "X-RateLimit-Limit": str(verdict.limit),
                "X-RateLimit-Remaining": str(verdict.remaining),
                "X-RateLimit-Reset": str(verdict.reset_s),
            }
        )
        return None

    def _authenticate(self, ex: _Exchange) -> Reply | None:
        assert ex.route is not None
        if ex.route.public:
            return None
        headers = dict(ex.request.headers)
        keys = self.engine.keys
        verdict = keys.check(ex.request.method, ex.route.template, headers) if keys else None
        if verdict is not None:
            return verdict.refusal
        found = self.engine.auth.extract(headers)
        if found is None:
            return Reply(MISSING_AUTH_BODY, status=401)
        try:
            session = self.engine.auth.check(*found)
        except TokenError:
            return Reply(BAD_AUTH_BODY, status=401)
        if ex.route.role is not None and session.role != ex.route.role:
            return Reply(FORBIDDEN_ROLE_BODY, status=403)  # the RoleGuard
        return keys.after_bearer(ex.request.method, ex.route.template) if keys else None

    async def _run(self, route: Route, ctx: Ctx) -> Reply:
        try:
            return await route.handler(ctx)
        except HttpError as err:
            return _error(err)
        except Exception:
            log.exception("sandbox handler %s failed", route.name)
            return _error(internal())

    async def _finish(self, ex: _Exchange, scope: Scope, reply: Reply, ctx: Ctx) -> None:
        self._spawn(ctx)
        fault = None
        for rule in ex.rules:
            if rule.kind == FaultKind.DROP_AFTER:
                return self._drop(ex, scope, rule)
            if rule.kind == FaultKind.SLOW:
                await _real_sleep(self.engine.settings, rule.delay_s)
                fault = "slow"
            if rule.kind == FaultKind.DRIP:
                return await self._drip(ex, reply, rule.delay_s)
        await self._send(ex, reply, fault)

    async def _drip(self, ex: _Exchange, reply: Reply, every_s: float) -> None:
        self._record(ex, reply.status, "drip")
        whole = _response(reply, ex.headers)
        content, settings = bytes(whole.body), self.engine.settings

        async def one_byte_at_a_time() -> AsyncIterator[bytes]:
            for i in range(len(content)):
                yield content[i : i + 1]
                await _real_sleep(settings, every_s)

        headers = {k: v for k, v in whole.headers.items() if k.lower() != "content-length"}
        stream = StreamingResponse(one_byte_at_a_time(), reply.status, headers)
        await stream(ex.request.scope, ex.request.receive, ex.send)

    def _spawn(self, ctx: Ctx) -> None:
        # The engine's fire-and-forget side effects: scheduled, never awaited by the request.
        for job in ctx.after:
            task: asyncio.Task[None] = asyncio.ensure_future(job())
            self.engine.background.add(task)
            task.add_done_callback(self.engine.background.discard)


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _not_found(method: str, url: str) -> HttpError:
    return HttpError(
        404, {"message": f"Cannot {method} {url}", "error": "Not Found", "statusCode": 404}
    )


def _fault_error(status: int) -> Reply:
    if status == 500:
        return _error(internal())
    return Reply({"statusCode": status, "message": "Injected fault"}, status=status)


async def _real_sleep(settings: Settings, seconds: float) -> None:
    await settings.engine_sleep(seconds * settings.time_scale)


class ConnectionControl:
    """Outermost ASGI layer: keeps the server's own `send` so a fault can drop the socket."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["sandbox.drop"] = functools.partial(abort_connection, send)
        await self.app(scope, receive, send)


def build_app(engine: Engine) -> ConnectionControl:
    """The Starlette application wrapped for connection control."""
    starlette = Starlette(routes=[Mount("/", app=Dispatcher(engine))])
    return ConnectionControl(starlette)


def _created_slug(ex: _Exchange) -> str | None:
    if ex.request.method != "POST" or ex.raw_path != "/api/instances":
        return None
    try:
        body = json.loads(getattr(ex.request, "_body", b"") or b"null")
    except ValueError:
        return None
    slug = body.get("slug") if isinstance(body, dict) else None
    return slug if isinstance(slug, str) else None
