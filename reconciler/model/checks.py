"""Pure value checks the engine skips or turns into 500s: slugs, cron, time zones, ISO times."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
SKILL_SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
SECRET_KEY_RE = re.compile(r"^[a-z0-9_]+$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Strict ISO-8601 date-time with an explicit offset: the engine persists a "poison" task for
# anything JavaScript's Date cannot parse, so only unambiguous absolute times are allowed.
ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$",
)
RESERVED_INSTANCE_SLUGS = frozenset({"models", "import"})
RESERVED_SKILL_SLUGS = frozenset({"catalog"})
MIN_EVERY_MS = 60_000
# JavaScript dates end at 8.64e15 ms: a longer interval makes the engine's next run invalid.
MAX_EVERY_MS = 100 * 365 * 24 * 3600 * 1000
INT4_MAX = 2_147_483_647  # integer columns (room eval interval, task maxRetries)
# The apply lease lives on the engine as an instance under this prefix (engine/lease.py).
LEASE_PREFIX = "polyant-gitops-apply-lease"

_CRON_FIELD_RE = re.compile(r"^[A-Za-z0-9*?/,#LW-]+$")
# C0 and C1 control characters (ESC starts ANSI sequences; BEL, BS, CR rewrite a terminal
# line). Tab and newline are text.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """`text` with every control character spelled out (\\x1b): safe for any output."""
    return CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# What a repository value may not hold: the above except carriage return, which text from
# Windows carries harmlessly (outputs spell it out all the same).
_REPO_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_problem(text: str) -> str | None:
    """Why a repository value cannot hold `text` (a control character), or None."""
    found = _REPO_CONTROL_RE.search(text)
    if found is None:
        return None
    return (
        f"contains the control character \\x{ord(found.group()):02x} at position "
        f"{found.start() + 1}: terminal escapes and control characters are not allowed"
    )


def slug_problem(slug: str, *, skill: bool = False) -> str | None:
    """Why `slug` is not a usable instance (or skill) slug, or None when it is."""
    pattern, reserved = (
        (SKILL_SLUG_RE, RESERVED_SKILL_SLUGS) if skill else (SLUG_RE, RESERVED_INSTANCE_SLUGS)
    )
    kind = "skill" if skill else "instance"
    if not 1 <= len(slug) <= 100:
        return f"{kind} slug must be 1-100 characters"
    if not pattern.match(slug):
        allowed = "a-z 0-9 -" if skill else "a-z 0-9 _ -"
        return f"{kind} slug {slug!r} must use only {allowed} and start and end with a-z or 0-9"
    if slug in reserved:
        return f"{kind} slug {slug!r} is reserved by an engine route; choose another"
    if not skill and slug.startswith(LEASE_PREFIX):
        return f"instance slug {slug!r} is reserved for polyant-gitops's apply lease"
    return None


def cron_problem(expression: str) -> str | None:
    """Why a croner expression would be rejected (5, 6 or 7 fields), or None."""
    fields = expression.split()
    if not 5 <= len(fields) <= 7:
        return f"cron expression {expression!r} has {len(fields)} fields (use 5, 6 or 7)"
    for field in fields:
        if not _CRON_FIELD_RE.match(field):
            return f"cron field {field!r} in {expression!r} is not valid cron syntax"
    names = _CRON_NAMES[len(fields)]
    for field, name in zip(fields, names, strict=True):
        if (problem := _cron_range(field, name)) is not None:
            return f"cron {name} {field!r} in {expression!r}: {problem}"
    return None


_CRON_RANGES = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day of month": (1, 31),
    "month": (1, 12),
    "day of week": (0, 7),
    "year": (1970, 2099),
}
_FIVE = ("minute", "hour", "day of month", "month", "day of week")
_CRON_NAMES = {5: _FIVE, 6: ("second", *_FIVE), 7: ("second", *_FIVE, "year")}


def _cron_range(field: str, name: str) -> str | None:
    low, high = _CRON_RANGES[name]
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return f"step {step!r} must be a whole number of at least 1"
        for piece in base.split("-"):
            number = piece.split("#")[0].rstrip("LW")
            if number.isdigit() and not low <= int(number) <= high:
                return f"{number} is out of range {low}-{high}"
    return None


def timezone_problem(name: str) -> str | None:
    """Why `name` is not an IANA time zone, or None."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"time zone {name!r} is not an IANA name such as 'Europe/Paris' or 'UTC'"
    return None


def iso_problem(value: str) -> str | None:
    """Why `value` is not a strict absolute ISO-8601 date-time with offset, or None."""
    if not ISO_RE.match(value):
        return (
            f"{value!r} is not an absolute ISO-8601 time with an offset, e.g. 2027-01-01T09:00:00Z"
        )
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"{value!r} is not a real date and time"
    return None


def header_problem(value: str) -> str | None:
    """Where `value` cannot travel in an HTTP header (only visible ASCII can), never the
    value itself: tokens and keys are checked with this."""
    bad = next((i for i, ch in enumerate(value) if not "\x21" <= ch <= "\x7e"), None)
    if bad is None:
        return None
    return (
        f"has a character that cannot be sent in an HTTP header at position {bad + 1} "
        "(a space, a control or a non-ASCII character)"
    )


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses, where plain http is acceptable."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(url: str) -> str:
    """The URL without user:password, query, fragment or trailing slash: safe to show or store."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def keywords_problem(field: str, words: list[str]) -> str | None:
    """Why an opt-out keyword list would not round-trip (the engine trims and dedupes it)."""
    trimmed = [w.strip() for w in words]
    if not words or any(not w for w in trimmed):
        return f"{field} needs at least one keyword and no empty ones"
    if trimmed != words or len({w.lower() for w in words}) != len(words):
        return f"{field}: write each keyword once (case-insensitively), without outer spaces"
    return None


def engine_url_problem(url: str) -> str | None:
    """Why `url` cannot be an engine's base URL (scheme, host, port, no path), or None."""
    shown = public_url(url) if "://" in url else url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return f"engine URL {shown!r} has an invalid host or port"
    if parts.scheme not in ("http", "https"):
        return f"engine URL {shown!r} must start with https:// (or http:// for a local engine)"
    if not parts.hostname:
        return f"engine URL {shown!r} has no host; write it like https://polyant.example.com"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return (
            f"engine URL {shown!r} must have no path, query or fragment: the engine's routes "
            "start at its root (/api/...); write it like https://polyant.example.com"
        )
    return None
