"""Auth.js session tokens (JWE dir/A256CBC-HS512) and the static-token quick start."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reconciler.sandbox import SandboxServer, mint_token
from reconciler.sandbox.auth import SALTS, derive_key, encrypt

SECRET = "s" * 40
MISSING = {"message": "Missing authentication", "error": "Unauthorized", "statusCode": 401}
INVALID = {"message": "Invalid or expired session", "error": "Unauthorized", "statusCode": 401}


def _get(server: SandboxServer, token: str | None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(f"{server.url}/api/instances", headers=headers)


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "u-1", "email": "a@b", "role": "superadmin", "iat": now, **extra}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _gcm_token(secret: str) -> str:
    header = _b64(json.dumps({"alg": "dir", "enc": "A256GCM"}).encode())
    iv = os.urandom(12)
    key = derive_key(secret)[:32]  # the engine's key is 64 bytes: GCM cannot use it
    sealed = AESGCM(key).encrypt(iv, json.dumps(_claims()).encode(), header.encode())
    return ".".join([header, "", _b64(iv), _b64(sealed[:-16]), _b64(sealed[-16:])])


def test_minted_tokens_are_accepted(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(auth_secret=SECRET)
    assert _get(server, server.token).status_code == 200  # server.token is a minted JWE
    assert _get(server, mint_token(SECRET, role="user")).status_code == 200
    assert _get(server, mint_token(SECRET, ttl_s=None)).status_code == 200  # no exp: forever
    secure = encrypt(SECRET, _claims(), salt=SALTS[1])
    assert _get(server, secure).status_code == 200  # either salt works
    cookie = f"{SALTS[1]}={secure}"
    assert _get(server, None, Cookie=cookie).status_code == 200
    expired_within_tolerance = encrypt(SECRET, _claims(exp=int(time.time()) - 5))
    assert _get(server, expired_within_tolerance).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: mint_token("w" * 40), id="wrong-secret"),
        pytest.param(lambda: encrypt(SECRET, _claims(exp=int(time.time()) - 100)), id="expired"),
        pytest.param(lambda: _gcm_token(SECRET), id="A256GCM"),
        pytest.param(lambda: encrypt(SECRET, {"role": "superadmin"}), id="no-sub-or-email"),
        pytest.param(lambda: encrypt(SECRET, _claims(nbf=time.time() + 100)), id="not-yet"),
        pytest.param(lambda: "a.b.c", id="garbage"),
        pytest.param(lambda: mint_token(SECRET)[:-3] + "AAA", id="tampered"),
    ],
)
def test_bad_tokens_get_the_exact_401(
    make_server: Callable[..., SandboxServer], token: Callable[[], str]
) -> None:
    server = make_server(auth_secret=SECRET)
    r = _get(server, token())
    assert (r.status_code, r.json()) == (401, INVALID)


def test_missing_token_and_static_tokens(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server()  # no credentials configured: a random static token
    assert len(server.token) >= 24
    assert _get(server, server.token).status_code == 200
    r = _get(server, None)
    assert (r.status_code, r.json()) == (401, MISSING)
    r = _get(server, None, Authorization=f"bearer {server.token}")  # exactly "Bearer "
    assert (r.status_code, r.json()) == (401, MISSING)
    assert _get(server, server.token + "x").json() == INVALID
    both = make_server(static_token="quick-start", auth_secret=SECRET)
    assert _get(both, "quick-start").status_code == 200
    assert _get(both, mint_token(SECRET)).status_code == 200
    assert httpx.get(f"{server.url}/health").status_code == 200  # public


def test_short_auth_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        SandboxServer(auth_secret="too-short")
