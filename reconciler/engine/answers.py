"""Engine answers and failures, mapped once onto the project's error tree (bodies never shown)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from reconciler.engine.transport import (
    Answer,
    ConnectFailed,
    ConnectTimedOut,
    ReadTimedOut,
    TransportError,
    Unusable,
)
from reconciler.errors import (
    AuthRejected,
    EngineError,
    EngineRejected,
    EngineTimeout,
    EngineUnavailable,
    NotFound,
    RequestTooLarge,
)
from reconciler.model.checks import visible

MAX_BODY_BYTES = 102_400  # the engine's body-parser limit; over it the engine answers 500
_MAX_MESSAGE = 300
# Body keys whose string values may be credentials: they are blanked out of engine messages
# in case the engine echoes them (zod messages sometimes quote the received value).
_SENSITIVE_KEY = re.compile(r"token|secret|password|credential|api_?key|value|config", re.I)


@dataclass(frozen=True)
class TransportFailure:
    """A request that got no answer: the error to raise and whether a GET may be resent."""

    exception: EngineError
    retryable: bool


def error_for_status(
    answer: Answer, *, method: str, what: str, url: str, body_size: int, body: object | None
) -> EngineError:
    """The error for a 4xx/5xx answer, with the engine's message (secrets blanked)."""
    status = answer.status
    if status == 401:
        return AuthRejected(
            f"the engine rejected the token (or API key) for {url}: set POLYANT_TOKEN (or the "
            "environment's tokenEnv) to a valid session token, minted from the engine's "
            "AUTH_SECRET with `polyant-gitops token`, or POLYANT_API_KEY to a valid "
            "management API key"
        )
    message = _redact(engine_message(answer), _sensitive_strings(body))
    if status == 403:
        return AuthRejected(_forbidden(what, method, url, message))
    if status == 404:
        return NotFound(f"{what}: not found on the engine ({message})")
    if status == 500 and body_size > MAX_BODY_BYTES:
        return RequestTooLarge(
            f"{what}: the engine failed on a {body_size}-byte body (its limit is "
            f"{MAX_BODY_BYTES} bytes); split the change into smaller requests"
        )
    return EngineRejected(f"{what}: the engine refused {method} ({status}): {message}", status)


def _forbidden(what: str, method: str, url: str, message: str) -> str:
    # develop's permission guard (AUTHZ_ENFORCE=true): "Missing permission: agent:write",
    # or "Route declares no permission" for routes nobody may call in enforce mode.
    lead = f"{what}: the engine at {url} refused {method} (403: {message})"
    if message.startswith("Missing permission:"):
        perm = message.split(":", 1)[1].strip()
        return (
            f"{lead}; the credential lacks the permission {perm!r}: use a management API key "
            f"(POLYANT_API_KEY) issued with {perm}, or a token of a user whose role grants it "
            "(`polyant-gitops token --sub <user id>`)"
        )
    if "declares no permission" in message:
        return (
            f"{lead}; with AUTHZ_ENFORCE=true the engine answers 403 to everyone on routes "
            "that declare no permission (the skills catalog, skill enable/disable): manage "
            "skills with AUTHZ_ENFORCE off (see README, Engine versions)"
        )
    return f"{lead}; the credential is not allowed to do this: check its role or permissions"


def engine_message(answer: Answer) -> str:
    """The `message` of the engine's error envelope, or a short summary of what came back."""
    text = answer.content.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text) if text.strip() else None
    except ValueError:
        payload = None
    message: object = None
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("error")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    if not isinstance(message, str) or not message.strip():
        message = text if text.strip() and payload is None else _reason(answer.status)
    return _one_line(message)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _one_line(text: str) -> str:
    line = visible(" ".join(text.split()))
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"


def _sensitive_strings(body: object | None, sensitive: bool = False) -> set[str]:
    found: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            hot = sensitive or (key != "key" and bool(_SENSITIVE_KEY.search(str(key))))
            found |= _sensitive_strings(value, hot)
    elif isinstance(body, list):
        for item in body:
            found |= _sensitive_strings(item, sensitive)
    elif isinstance(body, str) and sensitive and len(body) >= 4:
        found.add(body)
    return found


def _redact(message: str, secrets: set[str]) -> str:
    # Longest first, so a secret that contains another is blanked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, "••••")
    return message


def error_for_transport(
    exc: TransportError, method: str, what: str, url: str, timeout_s: float
) -> TransportFailure:
    """The error for a request that got no answer; writes may have landed (maybe_committed)."""
    write = method != "GET"
    reason = _one_line(str(exc) or type(exc).__name__)
    if isinstance(exc, ConnectFailed):
        # Nothing was sent: safe to retry, and a write cannot have landed.
        error: EngineError = EngineUnavailable(
            f"{what}: cannot reach the engine at {url} ({reason}); check the URL and that "
            "the engine is running"
        )
        if isinstance(exc, ConnectTimedOut):
            error = EngineTimeout(f"{what}: connecting to the engine at {url} timed out")
        return TransportFailure(error, retryable=True)
    tail = "; the change may or may not have been applied: re-read before retrying" if write else ""
    if isinstance(exc, ReadTimedOut):
        error = EngineTimeout(
            f"{what}: the engine at {url} did not answer within {timeout_s:g} s{tail}"
        )
        error.maybe_committed = write
        return TransportFailure(error, retryable=False)
    if isinstance(exc, Unusable):
        return TransportFailure(EngineUnavailable(f"{what}: cannot use {url}: {reason}"), False)
    error = EngineUnavailable(
        f"{what}: the connection to the engine at {url} dropped before an answer ({reason}){tail}"
    )
    error.maybe_committed = write
    return TransportFailure(error, retryable=True)


def encode_body(body: object | None, what: str) -> bytes | None:
    """The JSON bytes of a request body; refused before sending when over the engine's limit."""
    if body is None:
        return None
    try:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise EngineError(f"{what}: the request body cannot be sent as JSON") from exc
    if len(data) > MAX_BODY_BYTES:
        raise RequestTooLarge(
            f"{what}: the request body is {len(data)} bytes, over the engine's "
            f"{MAX_BODY_BYTES}-byte limit; split it into smaller requests"
        )
    return data


def int_header(headers: Mapping[str, str], name: str) -> int | None:
    """A non-negative integer header, or None."""
    value = float_header(headers, name)
    return int(value) if value is not None else None


def float_header(headers: Mapping[str, str], name: str) -> float | None:
    """A non-negative number header (e.g. Retry-After in seconds), or None."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
