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

_CRON_FIELD_RE = re.compile(r"^[A-Za-z0-9*?/,#LW-]+$")


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
    return None


def cron_problem(expression: str) -> str | None:
    """Why a croner expression would be rejected (5, 6 or 7 fields), or None."""
    fields = expression.split()
    if not 5 <= len(fields) <= 7:
        return f"cron expression {expression!r} has {len(fields)} fields (use 5, 6 or 7)"
    for field in fields:
        if not _CRON_FIELD_RE.match(field):
            return f"cron field {field!r} in {expression!r} is not valid cron syntax"
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
