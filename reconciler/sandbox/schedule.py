"""Task schedules (§12.1): relative runAt, next-run computation, human labels, hazards."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .cron import CronError, parse_cron
from .errors import HttpError, internal, invalid_body
from .jsutil import dumps, iso, parse_date

TYPES = ("cron", "interval", "one-shot")
_RELATIVE = re.compile(r"^\+(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LABEL_UNITS = ((86_400_000, "d"), (3_600_000, "h"), (60_000, "m"))


class Wedged(HttpError):
    """everyMs <= 0 with an anchor in the past loops forever inside the engine.

    A wedged event loop would stop the whole sandbox (and every test using it), so the
    sandbox answers 500 instead; that is the one deliberate deviation from the engine.
    """

    def __init__(self) -> None:
        err = internal()
        super().__init__(err.status, err.body)


def normalize(schedule: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Store a relative one-shot runAt ("+2h") as an absolute ISO string."""
    if schedule.get("type") != "one-shot":
        return schedule
    run_at = schedule.get("runAt")
    if not isinstance(run_at, str):
        raise invalid_body()  # runAt.startsWith is not a function
    if not run_at.startswith("+"):
        return schedule
    m = _RELATIVE.match(run_at)
    if m is None:
        raise internal()  # a plain Error: "Invalid relative time"
    delta = timedelta(seconds=int(m.group(1)) * _UNIT_S[m.group(2)])
    try:
        return {**schedule, "runAt": iso(now + delta)}
    except OverflowError:
        raise invalid_body() from None


def _ms(value: datetime) -> float:
    return value.timestamp() * 1000


def _from_ms(ms: float) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, ValueError, OSError):
        raise invalid_body() from None  # an invalid Date reaching toISOString


def _interval_next(schedule: dict[str, Any], now: datetime, last: datetime | None) -> datetime:
    every = schedule.get("everyMs")
    if isinstance(every, bool) or not isinstance(every, int | float) or math.isnan(every):
        raise invalid_body()  # anchor + "60000" is not a date
    anchor_at = schedule.get("anchorAt")
    if anchor_at:
        anchor = parse_date(anchor_at)
        if anchor is None:
            raise invalid_body()
    else:
        anchor = last or now
    nxt, now_ms = _ms(anchor) + every, _ms(now)
    if nxt <= now_ms:
        if every <= 0:
            raise Wedged()
        # Same result as the engine's "add everyMs until in the future" loop, in O(1).
        nxt += math.ceil((now_ms - nxt) / every) * every
        if nxt <= now_ms:
            nxt += every
    return _from_ms(nxt)


def next_run(
    schedule: dict[str, Any], now: datetime, last: datetime | None = None
) -> datetime | None:
    """nextRunAt for a known schedule type (HttpError for invalid input)."""
    kind = schedule.get("type")
    if kind == "cron":
        try:
            cron = parse_cron(schedule.get("expression"), schedule.get("timezone"))
        except CronError:
            raise invalid_body() from None
        return cron.next_after(now)
    if kind == "interval":
        return _interval_next(schedule, now, last)
    if kind == "one-shot":
        at = parse_date(schedule.get("runAt"))
        return None if at is None or at <= now else at
    raise ValueError(f"unknown schedule type {kind!r}")


def label(schedule: dict[str, Any]) -> str | None:
    """scheduleHuman; None (omitted) for an unknown type. Raises 400 for a bad one-shot."""
    kind = schedule.get("type")
    if kind == "cron":
        return str(schedule.get("expression"))
    if kind == "interval":
        every = schedule.get("everyMs")
        if not isinstance(every, int | float):
            return None
        # formatScheduleHuman: the largest unit reached, Math.round of the count.
        for unit_ms, unit in _LABEL_UNITS:
            if every >= unit_ms:
                return f"Every {dumps(math.floor(every / unit_ms + 0.5))}{unit}"
        return f"Every {dumps(math.floor(every / 1000 + 0.5))}s"
    if kind == "one-shot":
        at = parse_date(schedule.get("runAt"))
        if at is None:
            raise invalid_body()  # RangeError: Invalid time value (the poison pill)
        return f"Once at {iso(at)}"
    return None
