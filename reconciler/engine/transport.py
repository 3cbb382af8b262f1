"""The engine's HTTP transport over urllib3: a shared keep-alive pool, a deadline, a size cap."""

from __future__ import annotations

import math
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import urllib3
from urllib3 import exceptions as u3

from reconciler import __version__

CHUNK = 64 * 1024  # one read of the answer: the deadline and the size cap are checked between


class TransportError(Exception):
    """No usable answer: the connection dropped after the request may have been sent."""


class ConnectFailed(TransportError):
    """The engine was not reached (refused, unresolved, TLS refused): nothing was sent."""


class ConnectTimedOut(ConnectFailed):
    """Connecting (or waiting for a pooled connection) took longer than the timeout."""


class ReadTimedOut(TransportError):
    """One read waited longer than the timeout; the request was sent."""


class DeadlinePassed(ReadTimedOut):
    """The answer kept coming, too slowly to finish within the request's deadline."""


class Unusable(TransportError):
    """The URL or the proxy cannot be used at all."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as read (the body capped); header names are case-insensitive."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    oversized: bool = False


@dataclass(frozen=True)
class Limits:
    """How long and how much: per read, per whole exchange, pool size, answer size."""

    timeout_s: float
    deadline_s: float
    pool_size: int
    max_bytes: int


class Transport:
    """Requests to one base URL over a connection pool that threads share; never redirects.

    Raises Unusable when the environment names a proxy of a scheme it cannot use.
    """

    def __init__(self, base_url: str, headers: Mapping[str, str], limits: Limits) -> None:
        # base_url carries no user:password (the caller strips it), so nothing is ever sent
        # as Basic auth; urllib3 would not do so anyway.
        self._base = base_url
        self._prefix = urlsplit(base_url).path
        self._limits = limits
        self._headers = {
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": f"polyant-gitops/{__version__}",
            **headers,
        }
        self._timeout = urllib3.Timeout(connect=limits.timeout_s, read=limits.timeout_s)
        self._pool = self._open()

    def _open(self) -> urllib3.HTTPConnectionPool | urllib3.ProxyManager:
        """A pool for the engine's host (sized for the threads), or a proxy manager."""
        scheme = urlsplit(self._base).scheme
        kw: dict[str, Any] = {"maxsize": self._limits.pool_size, "block": True}
        if scheme == "https":
            kw |= {"cert_reqs": "CERT_REQUIRED", "ssl_context": _tls_context()}
        proxy = _proxy_for(self._base)
        if proxy is None:
            return urllib3.connection_from_url(self._base, timeout=self._timeout, **kw)
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https"):
            raise Unusable(f"the proxy scheme {parts.scheme!r} is not supported")
        auth = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        extra = urllib3.make_headers(proxy_basic_auth=auth) if parts.username else None
        bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return urllib3.ProxyManager(bare, num_pools=1, proxy_headers=extra, **kw)

    def exchange(self, method: str, path: str, body: bytes | None) -> Answer:
        """Send one request and read its answer; failures raise a TransportError."""
        # The socket timeout is per read: an answer dripping a byte at a time never trips
        # it, so the whole exchange also has a deadline.
        deadline = time.monotonic() + self._limits.deadline_s
        proxied = isinstance(self._pool, urllib3.ProxyManager)
        try:
            resp = self._pool.urlopen(
                method,
                self._base + path if proxied else self._prefix + path,
                body=body,
                headers=self._headers,
                retries=False,
                redirect=False,
                timeout=self._timeout,
                pool_timeout=math.ceil(self._limits.timeout_s),  # typed as whole seconds
                preload_content=False,
                decode_content=True,
            )
        except u3.HTTPError as exc:
            raise _failure(exc) from exc
        try:
            return self._read(resp, deadline)
        except u3.HTTPError as exc:
            raise _failure(exc) from exc
        finally:
            resp.release_conn()

    def _read(self, resp: urllib3.BaseHTTPResponse, deadline: float) -> Answer:
        status, headers, cap = resp.status, resp.headers, self._limits.max_bytes
        declared = _number(headers.get("content-length"))
        if declared is not None and declared > cap:
            resp.close()  # not read: this connection cannot be reused
            return Answer(status, headers, b"", oversized=True)
        # Neither encoded nor chunked: the declared length tells the end without one more read.
        plain = declared is not None and "content-encoding" not in headers
        chunks: list[bytes] = []
        size = 0
        # read1: whatever one read brought (a drip's byte), not a full CHUNK.
        while chunk := resp.read1(CHUNK):
            size += len(chunk)
            if size > cap:
                resp.close()
                return Answer(status, headers, b"", oversized=True)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                resp.close()
                raise DeadlinePassed("the answer did not finish before the deadline")
            if plain and size == declared:
                break
        return Answer(status, headers, b"".join(chunks))

    def close(self) -> None:
        """Close every pooled connection."""
        if isinstance(self._pool, urllib3.ProxyManager):
            self._pool.clear()
        else:
            self._pool.close()


def _number(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _tls_context() -> ssl.SSLContext:
    # The trust store httpx used before: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's.
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _proxy_for(url: str) -> str | None:
    """The proxy the environment (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY) names for `url`."""
    proxies = getproxies()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(parts.netloc):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _failure(exc: u3.HTTPError) -> TransportError:
    """urllib3's error as one of ours, with the innermost cause as a one-line reason."""
    reason = _reason(exc)
    if isinstance(exc, u3.EmptyPoolError):
        return ConnectTimedOut(f"no free connection: {reason}")
    if isinstance(exc, u3.ProxyError | u3.LocationValueError | u3.ProxySchemeUnknown):
        return Unusable(reason)
    # NewConnectionError subclasses ConnectTimeoutError: refused is not a timeout. A TLS
    # error is "nothing sent" only when the certificate was refused: the same SSLError also
    # comes from a broken record while the answer is read, after the request went out.
    refused = isinstance(_innermost(exc), ssl.SSLCertVerificationError)
    if isinstance(exc, u3.NewConnectionError) or refused:
        return ConnectFailed(reason)
    if isinstance(exc, u3.ConnectTimeoutError):
        return ConnectTimedOut(reason)
    if isinstance(exc, u3.ReadTimeoutError):
        return ReadTimedOut(reason)
    if isinstance(exc, u3.DecodeError):
        return TransportError(f"the answer's content-encoding is corrupt: {reason}")
    return TransportError(reason)


def _reason(exc: BaseException) -> str:
    inner = _innermost(exc)
    return str(inner) or type(inner).__name__


def _innermost(exc: BaseException) -> BaseException:
    # urllib3 wraps the OS error (refused, reset) in one or two layers that name its pool.
    inner: BaseException | None = exc
    while inner is not None:
        exc = inner
        nested = (a for a in exc.args if isinstance(a, BaseException))
        inner = exc.__cause__ or next(nested, None)
    return exc
