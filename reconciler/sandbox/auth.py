"""Auth.js session tokens (JWE dir + A256CBC-HS512, HKDF key) and the engine's auth guard."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from http.cookies import CookieError, SimpleCookie
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALTS = ("authjs.session-token", "__Secure-authjs.session-token")
CLOCK_TOLERANCE_S = 15
_HEADER = {"alg": "dir", "enc": "A256CBC-HS512"}
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class TokenError(Exception):
    """Any reason a session token is refused (the engine answers one 401 for all)."""


@dataclass(frozen=True)
class Session:
    """The authenticated caller."""

    user_id: str
    email: str | None
    role: str  # "superadmin" or "user"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if not set(text) <= _B64URL:
        raise TokenError("bad base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise TokenError("bad base64url") from exc


@cache
def derive_key(secret: str, salt: str = SALTS[0]) -> bytes:
    """The 64-byte Auth.js encryption key: HKDF-SHA256 over the UTF-8 secret."""
    info = f"Auth.js Generated Encryption Key ({salt})".encode()
    return HKDF(hashes.SHA256(), 64, salt.encode(), info).derive(secret.encode("utf-8"))


def _tag(mac_key: bytes, aad: bytes, iv: bytes, ct: bytes) -> bytes:
    al = (len(aad) * 8).to_bytes(8, "big")
    return hmac.new(mac_key, aad + iv + ct + al, hashlib.sha512).digest()[:32]


def encrypt(secret: str, claims: Mapping[str, Any], salt: str = SALTS[0]) -> str:
    """Compact JWE (RFC 7516) of the claims with alg dir, enc A256CBC-HS512."""
    key = derive_key(secret, salt)
    mac_key, enc_key = key[:32], key[32:]
    protected = _b64url(json.dumps(_HEADER, separators=(",", ":")).encode())
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plaintext = padder.update(json.dumps(dict(claims)).encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ct = enc.update(plaintext) + enc.finalize()
    tag = _tag(mac_key, protected.encode("ascii"), iv, ct)
    return ".".join([protected, "", _b64url(iv), _b64url(ct), _b64url(tag)])


def mint_token(
    secret: str,
    *,
    email: str = "gitops@localhost",
    role: str = "superadmin",
    ttl_s: int | None = 3600,
    sub: str | None = None,
) -> str:
    """An Auth.js session token the engine accepts as `Authorization: Bearer <token>`.

    `ttl_s=None` omits `exp`: the engine then never expires the token. `sub` names a real
    user (engines with a permission guard look the user up); a random one otherwise.
    """
    issued = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub or str(uuid.uuid4()),
        "email": email,
        "name": email.split("@", 1)[0],
        "role": role,
        "iat": issued,
        "jti": str(uuid.uuid4()),
    }
    if ttl_s is not None:
        claims["exp"] = issued + ttl_s
    return encrypt(secret, claims)


def _decrypt(token: str, key: bytes) -> bytes:
    parts = token.split(".")
    if len(parts) != 5:
        raise TokenError("not a compact JWE")
    protected, enc_key, iv_b64, ct_b64, tag_b64 = parts
    try:
        header = json.loads(_unb64url(protected))
    except ValueError as exc:
        raise TokenError("bad header") from exc
    if not isinstance(header, dict) or header.get("alg") != "dir" or enc_key:
        raise TokenError("unsupported key management")
    if header.get("enc") != "A256CBC-HS512" or "zip" in header:
        # A256GCM is allowed by the engine but needs a 32-byte key; the derived key has 64.
        raise TokenError("unsupported content encryption")
    iv, ct, tag = _unb64url(iv_b64), _unb64url(ct_b64), _unb64url(tag_b64)
    if len(iv) != 16 or not ct or len(ct) % 16:
        raise TokenError("bad iv or ciphertext")
    if not hmac.compare_digest(tag, _tag(key[:32], protected.encode("ascii"), iv, ct)):
        raise TokenError("bad tag")
    dec = Cipher(algorithms.AES(key[32:]), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(dec.update(ct) + dec.finalize()) + unpadder.finalize()
    except ValueError as exc:
        raise TokenError("bad padding") from exc


def _check_claims(claims: Any, now: float) -> Session:
    if not isinstance(claims, dict):
        raise TokenError("claims are not an object")
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenError(f"{name} must be a number")
    if claims.get("exp") is not None and claims["exp"] <= now - CLOCK_TOLERANCE_S:
        raise TokenError("expired")
    if claims.get("nbf") is not None and claims["nbf"] > now + CLOCK_TOLERANCE_S:
        raise TokenError("not yet valid")
    sub, email = claims.get("sub"), claims.get("email")
    if not sub and not email:
        raise TokenError("no subject")
    role = "superadmin" if claims.get("role") == "superadmin" else "user"
    user_id = str(sub or claims.get("id") or email)
    return Session(user_id=user_id, email=email if isinstance(email, str) else None, role=role)


def verify_token(token: str, secret: str, *, salts: tuple[str, ...] = SALTS) -> Session:
    """Validate a session token as the engine does; raises TokenError."""
    last: TokenError = TokenError("no salt tried")
    for salt in salts:
        try:
            plaintext = _decrypt(token, derive_key(secret, salt))
        except TokenError as exc:
            last = exc
            continue
        try:
            claims = json.loads(plaintext)
        except ValueError as exc:
            raise TokenError("claims are not JSON") from exc
        return _check_claims(claims, time.time())
    raise last


class Authenticator:
    """The AuthGuard: Bearer header first, then the Auth.js cookies; static token optional."""

    def __init__(self, *, static_token: str | None, auth_secret: str | None) -> None:
        if auth_secret is not None and len(auth_secret) < 32:
            raise ValueError("AUTH_SECRET must be at least 32 characters (the engine refuses)")
        self.static_token = static_token
        self.auth_secret = auth_secret

    def extract(self, headers: Mapping[str, str]) -> tuple[str, tuple[str, ...]] | None:
        """The token and the salt order to try, or None when no credential was sent."""
        authz = headers.get("authorization", "")
        if authz.startswith("Bearer ") and authz[len("Bearer ") :]:
            return authz[len("Bearer ") :], SALTS
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except CookieError:
            return None
        for name in SALTS:
            if name in cookie:
                others = tuple(s for s in SALTS if s != name)
                return cookie[name].value, (name, *others)
        return None

    def check(self, token: str, salts: tuple[str, ...]) -> Session:
        """Accept the static token or a valid JWE; raises TokenError."""
        if self.static_token is not None and hmac.compare_digest(
            token.encode(), self.static_token.encode()
        ):
            return Session(user_id="static-token", email=None, role="superadmin")
        if self.auth_secret is None:
            raise TokenError("not the static token")
        return verify_token(token, self.auth_secret, salts=salts)
