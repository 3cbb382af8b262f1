"""The engine transport on the wire: TLS verification, no Basic auth, keep-alive, proxies, drips."""

from __future__ import annotations

import base64
import datetime
import gzip
import ipaddress
import json
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reconciler.engine import EngineClient, EngineConfig
from reconciler.errors import EngineError, EngineTimeout, EngineUnavailable, UsageError

LISTING = json.dumps({"instances": []}).encode()


@dataclass
class Seen:
    """What a loopback server saw: request lines, headers, client connections."""

    lines: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    peers: set[tuple[str, int]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


Reply = Callable[[BaseHTTPRequestHandler], None]


def _json(handler: BaseHTTPRequestHandler, *, may_gzip: bool = True) -> None:
    gzipped = may_gzip and "gzip" in handler.headers.get("Accept-Encoding", "")
    body = gzip.compress(LISTING) if gzipped else LISTING
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if gzipped:
        handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serve(reply: Reply = _json, tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, Seen]]:
    """A keep-alive HTTP/1.1 loopback server recording every request; yields (url, seen)."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

        def do_GET(self) -> None:
            with seen.lock:
                seen.lines.append(self.requestline)
                seen.headers.append({k.lower(): v for k, v in self.headers.items()})
                seen.peers.add(self.client_address[:2])
            reply(self)

        def do_POST(self) -> None:
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_url_password_is_never_sent_and_the_token_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    with serve() as (url, seen):
        with_user = url.replace("http://", "http://user:pa55word@")
        with EngineClient(EngineConfig(url=with_user, token="tok-1")) as client:
            assert client.get("/api/instances") == {"instances": []}  # gzip, decoded
    (headers,) = seen.headers
    assert headers["authorization"] == "Bearer tok-1"
    assert headers["accept-encoding"] == "gzip, deflate"
    assert "pa55word" not in json.dumps(headers) + seen.lines[0]
    basic = base64.b64encode(b"user:pa55word").decode()
    assert all(basic not in v and not v.startswith("Basic") for v in headers.values())


def _plain_json(handler: BaseHTTPRequestHandler) -> None:
    _json(handler, may_gzip=False)


@pytest.mark.parametrize("reply", [_json, _plain_json], ids=["gzip", "plain"])
def test_one_pool_sized_to_the_workers_keeps_connections_alive(reply: Reply) -> None:
    with serve(reply) as (url, seen):
        config = EngineConfig(url=url, token="t", max_workers=3)
        with EngineClient(config) as client:
            # /health is the one route the engine does not throttle: nothing paces these.
            for _ in range(10):
                client.get("/health")
            assert len(seen.peers) == 1  # one connection, kept alive
            client.parallel([lambda: client.get("/health") for _ in range(60)])
    assert len(seen.lines) == 70
    assert len(seen.peers) <= 3 + 2  # the threads shared a pool of max_workers + 2


def _self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "polyant test engine")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_tls_certificates_are_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tls, cert_file = _self_signed(tmp_path)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with serve(tls=tls) as (url, seen):
        with (
            EngineClient(EngineConfig(url=url, token="tok-2")) as client,
            pytest.raises(EngineUnavailable) as caught,
        ):
            client.get("/api/instances", what="instance list")
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) and "tok-2" not in str(caught.value)
        assert seen.lines == []  # nothing was sent to an unverified server
        # The trust store the environment names (as with httpx before): then it is trusted.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        with EngineClient(EngineConfig(url=url, token="tok-2")) as client:
            assert client.get("/api/instances") == {"instances": []}
    assert seen.lines == ["GET /api/instances HTTP/1.1"]


def _broken_tls_record(handler: BaseHTTPRequestHandler) -> None:
    handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
    # Raw bytes under the TLS layer: the client's read of the answer fails with an SSLError.
    os.write(handler.connection.fileno(), b"\x17\x03\x03\x00\x05junk!")
    handler.close_connection = True


def test_a_tls_error_after_a_write_was_sent_may_have_landed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a refused certificate means "nothing sent"; a TLS error while the answer is read
    # comes after the write went out, so it must not be reported as never sent.
    tls, cert_file = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        serve(_broken_tls_record, tls=tls) as (url, seen),
        EngineClient(EngineConfig(url=url, token="tok-3")) as client,
        pytest.raises(EngineError) as caught,
    ):
        client.request("POST", "/api/instances", {"slug": "x"}, what="instance 'x'")
    assert seen.lines == ["POST /api/instances HTTP/1.1"]
    assert caught.value.maybe_committed, str(caught.value)
    assert "may or may not have been applied" in str(caught.value), str(caught.value)


def test_the_environment_proxy_is_used_with_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    engine = "http://127.0.0.1:9"  # never reached: the proxy answers
    with serve() as (proxy, seen):
        monkeypatch.setenv("http_proxy", proxy.replace("http://", "http://pu:p%40ss@"))
        with EngineClient(EngineConfig(url=engine, token="tok-3")) as client:
            assert client.get("/api/instances") == {"instances": []}
        assert seen.lines == [f"GET {engine}/api/instances HTTP/1.1"]
        auth = base64.b64encode(b"pu:p@ss").decode()
        assert seen.headers[0]["proxy-authorization"] == f"Basic {auth}"
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        with EngineClient(EngineConfig(url=proxy, token="tok-3")) as client:
            assert client.get("/api/direct") == {"instances": []}
        assert seen.lines[1] == "GET /api/direct HTTP/1.1"


def test_a_socks_proxy_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("all_proxy", "socks5://127.0.0.1:1080")
    with pytest.raises(UsageError, match=r"cannot use https://engine\.example\.com: .*'socks5'"):
        EngineClient(EngineConfig(url="https://engine.example.com", token="t"))


DRIP = b'{"instances": [], "note": "' + b"x" * 200 + b'"}'


def _drip(sent: list[int]) -> Reply:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        # A declared length (not chunked): the body still arrives one byte at a time.
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(DRIP)))
        handler.end_headers()
        try:
            for i in range(len(DRIP)):
                handler.wfile.write(DRIP[i : i + 1])
                handler.wfile.flush()
                sent.append(i)
                time.sleep(0.05)
        except OSError:
            pass  # the client hung up: what the test wants

    return reply


def test_a_drip_with_a_declared_length_hits_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    sent: list[int] = []
    with serve(_drip(sent)) as (url, seen):
        config = EngineConfig(url=url, token="t", timeout_s=1.0)
        with EngineClient(config) as client, pytest.raises(EngineTimeout) as caught:
            client.get("/api/instances", what="instance list")
    # Each byte came well within the per-read timeout; the whole answer did not.
    assert str(caught.value) == "instance list: the engine at " + url + " did not answer within 3 s"
    assert len(seen.lines) == 1  # a timed-out read is not resent
    assert len(sent) < len(DRIP)  # cut off before the whole answer came
