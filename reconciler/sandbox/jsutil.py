"""JavaScript-flavoured helpers: JSON output, truthiness, String(), dates, ids, collation."""

from __future__ import annotations

import json
import math
import re
import secrets
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

JsonObj = dict[str, Any]

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ISO_RE = re.compile(
    r"^([+-]\d{6}|\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.I,
)


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
    """new Date(text): ISO-8601 forms and RFC 2822 dates; anything else is an invalid Date."""
    if not isinstance(text, str):
        return None
    m = _ISO_RE.match(text.strip())
    if m:
        return _from_iso_match(m)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_iso_match(m: re.Match[str]) -> datetime | None:
    year, month, day, hh, mi, ss, frac, zone = m.groups()
    try:
        ms = int((frac or "0")[:3].ljust(3, "0"))
        base = datetime(int(year), int(month or 1), int(day or 1), int(hh or 0), int(mi or 0))
        base = base.replace(second=int(ss or 0), microsecond=ms * 1000)
    except ValueError:
        return None
    if not zone or zone.upper() == "Z":
        # The engine runs with TZ=UTC, so a date-time without an offset is UTC as well.
        return base.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
    return datetime.fromtimestamp(base.replace(tzinfo=UTC).timestamp() - offset * 60, UTC)


def new_id() -> str:
    """A random UUID (gen_random_uuid())."""
    return str(uuid.uuid4())


def new_token() -> str:
    """A 64-hex webhook token from 32 random bytes."""
    return secrets.token_hex(32)


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
