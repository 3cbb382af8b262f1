"""JavaScript-flavoured helpers: JSON output, truthiness, String(), dates, ids, collation."""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from .jsdate import parse_js_date

JsonObj = dict[str, Any]

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _normalise(value: Any) -> Any:
    """Integral floats print as JS integers (1.0 -> 1); NaN/Infinity print as null."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def dumps(value: Any, *, pretty: bool = False) -> str:
    """JSON.stringify: compact, or 2-space indented like the engine's exports."""
    norm = _normalise(value)
    if pretty:
        return json.dumps(norm, ensure_ascii=False, indent=2)
    return json.dumps(norm, ensure_ascii=False, separators=(",", ":"))


def truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def js_str(value: Any) -> str:
    """String(value) for JSON values (what pg receives when a column gets a non-string)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return dumps(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_str(v) for v in value)
    return "[object Object]"


def type_name(value: Any) -> str:
    """zod's parsed-type name of a JSON value (undefined is represented by MISSING upstream)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def now() -> datetime:
    """Current UTC time at millisecond precision (JavaScript Date resolution)."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def iso(value: datetime | None) -> str | None:
    """Date.prototype.toISOString (null stays null)."""
    if value is None:
        return None
    v = value.astimezone(UTC)
    return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch, as Date.getTime()."""
    return round(value.timestamp() * 1000)


def parse_date(text: Any) -> datetime | None:
    """new Date(text) for a string: V8's ISO format, then its legacy parser (jsdate)."""
    if not isinstance(text, str):
        return None
    return parse_js_date(text)


def new_id() -> str:
    """A random UUID (gen_random_uuid())."""
    return str(uuid.uuid4())


def new_token() -> str:
    """A 64-hex webhook token from 32 random bytes."""
    return secrets.token_hex(32)


def pg_uuid(value: str) -> str | None:
    """The canonical form of `value` as PostgreSQL's uuid_in reads it, None on a syntax error.

    uuid_in takes any case, optional surrounding braces, and a hyphen after any group of
    four hex digits (or none at all): `{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}` is valid.
    """
    src = value[1:-1] if value[:1] == "{" and value[-1:] == "}" else value
    out, i = [], 0
    for n in range(16):
        pair = src[i : i + 2]
        if len(pair) != 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            return None
        out.append(pair.lower())
        i += 2
        if src[i : i + 1] == "-" and n % 2 == 1 and n < 15:
            i += 1
    if i != len(src):
        return None
    h = "".join(out)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_uuid(value: str) -> bool:
    """True when PostgreSQL would accept the text as a uuid."""
    return bool(UUID_RE.match(value))


def _char_key(ch: str) -> tuple[int, str]:
    # ICU root collation puts punctuation and symbols before digits, digits before letters.
    if ch.isalpha():
        return (3, ch.lower())
    if ch.isdigit():
        return (2, ch)
    if ch.isspace():
        return (0, ch)
    return (1, ch)


def locale_key(text: str) -> tuple[tuple[tuple[int, str], ...], tuple[bool, ...]]:
    """Sort key approximating String.prototype.localeCompare / en_US collation."""
    return tuple(_char_key(c) for c in text), tuple(c.isupper() for c in text)


def fake_ciphertext(plain: str) -> str:
    """The shape of the engine's AES-GCM output: base64(iv):base64(tag):base64(data)."""
    size = len(plain.encode())
    parts = (secrets.token_bytes(12), secrets.token_bytes(16), secrets.token_bytes(size))
    return ":".join(base64.b64encode(p).decode() for p in parts)
