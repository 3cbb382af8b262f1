"""A loopback recording proxy: the CLI talks to the real engine through it, we count requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Seen:
    """One request the proxy forwarded."""

    method: str
    path: str
    status: int
    lease: bool = False  # a call about the apply lease (engine/lease.py), not about config


LEASE = b"polyant-gitops-apply-lease"


class RecordingProxy:
    """Forwards every request to `target` and records (method, path, status)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()

    def writes(self) -> list[tuple[str, str]]:
        """Configuration writes: the apply lease's own calls (one per apply) left out."""
        return [(s.method, s.path) for s in self.seen if s.method != "GET" and not s.lease]

    def lease_calls(self) -> int:
        return sum(1 for s in self.seen if s.lease)

    def throttled(self) -> int:
        return sum(1 for s in self.seen if s.status == 429)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        client = httpx.Client(base_url=self.target, timeout=120)

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                r = client.request(self.command, self.path, content=body, headers=headers)
                with proxy._lock:
                    lease = LEASE in self.path.encode() or LEASE in (body or b"")
                    proxy.seen.append(Seen(self.command, self.path, r.status_code, lease))
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in _HOP and k.lower() != "content-encoding":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
