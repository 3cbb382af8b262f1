"""SandboxServer: the sandbox engine on loopback, in a background thread or blocking."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType

import uvicorn

from .app import Engine, RequestRecord, build_app, routes_for
from .auth import Authenticator, mint_token
from .develop_auth import KeyGuard
from .faults import FaultPlan
from .routing import Settings
from .seed import load_seed_file, seed_demo_agent
from .state import Store
from .throttle import Throttler

__all__ = ["RequestRecord", "SandboxServer", "serve"]
log = logging.getLogger("reconciler.sandbox")


class SandboxServer:
    """A Polyant-compatible engine with in-memory state, served by uvicorn.

    time_scale: engine time runs this many times faster than real time. It scales the
        throttle window (window_s / time_scale real seconds) and modelled engine waits
        (the Slack/Telegram adapter hang). Rate-limit header values (Retry-After,
        X-RateLimit-Reset) are real seconds. Fault delays are real seconds.
    channel_network / channel_hang_s: how Slack/Telegram adapter starts behave (see
        routing.Settings); changeable later through `settings`.
    throttle_freeze: model the engine's counter-freeze bug (contract §18.6); off by default.
    base_url: the webhook URL base (defaults to `url`).
    engine_line: "main" (172e0bc, the default) or "develop" (5e59498: develop's settings,
        models, paginated tasks, bundle 1.1, hooks, X-Polyant-Key management keys).
    api_keys: develop only: management key → its permissions (e.g. {"agent:read"}).
    authz_enforce: develop only: the permission guard denies instead of logging.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        static_token: str | None = None,
        auth_secret: str | None = None,
        limit: int = 30,
        window_s: float = 60.0,
        time_scale: float = 1.0,
        latency_s: float = 0.0,
        faults: FaultPlan | None = None,
        seed_demo: bool = True,
        seed_file: Path | None = None,
        channel_network: str = "unreachable",
        channel_hang_s: float = 5.0,
        throttle_freeze: bool = False,
        base_url: str | None = None,
        engine_line: str = "main",
        api_keys: Mapping[str, Iterable[str]] | None = None,
        authz_enforce: bool = False,
    ) -> None:
        if engine_line not in ("main", "develop"):
            raise ValueError(f"engine_line must be 'main' or 'develop', not {engine_line!r}")
        if static_token is None and auth_secret is None:
            static_token = secrets.token_urlsafe(24)
        self.host, self.port = host, port
        self.token: str = (
            static_token if static_token is not None else mint_token(auth_secret or "")
        )
        self.url = ""
        self._base_url = base_url
        store = Store()
        if seed_demo:
            seed_demo_agent(store)
        if seed_file is not None:
            load_seed_file(store, Path(seed_file))
        settings = Settings(
            time_scale=time_scale, channel_network=channel_network, channel_hang_s=channel_hang_s
        )
        throttler = Throttler(
            limit=limit, window_s=window_s, time_scale=time_scale, freeze_quirk=throttle_freeze
        )
        auth = Authenticator(static_token=static_token, auth_secret=auth_secret)
        self.engine = Engine(store, settings, throttler, auth, faults, latency_s)
        self.engine_line = engine_line
        if engine_line == "develop":
            self.engine.routes = routes_for(engine_line)
            keys = {k: frozenset(v) for k, v in (api_keys or {}).items()}
            self.engine.keys = KeyGuard(keys, enforce=authz_enforce)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- public API ------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """Every request seen so far (method, path, status, handler, fault)."""
        return self.engine.requests

    @property
    def settings(self) -> Settings:
        """Runtime knobs (channel behaviour, webhook base URL)."""
        return self.engine.settings

    @property
    def store(self) -> Store:
        """The in-memory database (read it from tests; write only through HTTP)."""
        return self.engine.store

    def set_faults(self, faults: FaultPlan | None) -> None:
        """Replace the fault plan (None disables fault injection)."""
        self.engine.faults = faults

    def reset_requests(self) -> None:
        """Forget the request log."""
        self.engine.requests.clear()

    def calls(self, handler: str) -> int:
        """How many requests reached the given handler name."""
        return sum(1 for r in self.engine.requests if r.handler == handler)

    def start(self) -> SandboxServer:
        """Serve in a background thread; returns once the socket is listening."""
        sock = self._bind()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name="polyant-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving; hanging requests are released first."""
        if self._server is None or self._thread is None:
            return
        stopping = self.engine.settings.stopping
        if self._loop is not None and stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(stopping.set)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------------
    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that say TCP, and
        # without it every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        # Listening now (uvicorn listens again, harmlessly): a client told the URL before the
        # server loop runs waits in the backlog instead of being refused.
        sock.listen(128)
        self.port = sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        self.engine.settings.base_url = self._base_url or self.url
        return sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            build_app(self.engine),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        asyncio.run(self._serve(server, sock))

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        self.engine.settings.stopping = asyncio.Event()
        await server.serve(sockets=[sock])


def serve(
    *,
    host: str,
    port: int,
    static_token: str | None,
    auth_secret: str | None,
    seed_file: Path | None,
    time_scale: float = 1.0,
    limit: int = 30,
    announce: Callable[[str, str | None], None] | None = None,
    engine_line: str = "main",
    latency_s: float = 0.0,
    faults: FaultPlan | None = None,
    api_keys: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Run the sandbox in the foreground until interrupted (for the CLI).

    ``announce(url, generated_token)`` is called once the socket listens; the token is
    None when the caller supplied one (static token or AUTH_SECRET). ``api_keys``: the
    develop line's management keys (X-Polyant-Key → permissions).
    """
    server = SandboxServer(
        engine_line=engine_line,
        host=host,
        port=port,
        static_token=static_token,
        auth_secret=auth_secret,
        seed_file=seed_file,
        time_scale=time_scale,
        limit=limit,
        latency_s=latency_s,
        faults=faults,
        api_keys=api_keys,
    )
    sock = server._bind()
    generated = server.token if static_token is None and auth_secret is None else None
    if announce is not None:
        announce(server.url, generated)
    else:
        log.info("sandbox engine listening on %s", server.url)
    uvicorn_server = uvicorn.Server(server._config())
    asyncio.run(server._serve(uvicorn_server, sock))
