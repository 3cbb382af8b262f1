"""Cron patterns as croner reads them: 5, 6 (leading seconds) or 7 (trailing year) fields."""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_MONTH_NAMES = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
# (low, high, names) per field: second, minute, hour, day of month, month, weekday, year
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 7, _DAYS),
    (1970, 2099, {}),
)


# croner's nicknames (case-insensitive); @reboot is refused with a TypeError.
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """An invalid pattern or timezone (croner throws TypeError/RangeError: a 400)."""


@dataclass(frozen=True)
class Cron:
    """A parsed pattern; `next_after` finds the next matching instant."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    years: frozenset[int]
    last_day: bool
    dom_any: bool
    dow_any: bool
    zone: ZoneInfo
    # Quartz-style extras croner reads: LW, NW (day of month); NL, N#k (weekday).
    last_weekday: bool = False
    nearest: frozenset[int] = field(default_factory=frozenset)
    nth: frozenset[tuple[int, int]] = field(default_factory=frozenset)  # (weekday, k); k=-1: last

    def _day_ok(self, t: datetime) -> bool:
        last = calendar.monthrange(t.year, t.month)[1]
        dom = t.day in self.days or (self.last_day and t.day == last)
        dom = dom or (self.last_weekday and t.day == _weekday_near(t, last, last_only=True))
        dom = dom or any(t.day == _weekday_near(t, n) for n in self.nearest)
        wd = t.isoweekday() % 7
        k = (t.day - 1) // 7 + 1
        dow = wd in self.weekdays or (wd, k) in self.nth
        dow = dow or ((wd, -1) in self.nth and t.day + 7 > last)
        if self.dom_any and self.dow_any:
            return True
        if self.dom_any:
            return dow
        if self.dow_any:
            return dom
        return dom or dow  # both restricted: either matches (croner's legacy mode)

    def next_after(self, start: datetime) -> datetime | None:
        """The first matching second strictly after `start` (None within no horizon)."""
        t = start.astimezone(self.zone).replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
        for _ in range(200_000):
            if t.year > 2099:
                return None
            if t.year not in self.years:
                t = datetime(t.year + 1, 1, 1)
            elif t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(
                    day=1
                )
            elif not self._day_ok(t):
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
            elif t.second not in self.seconds:
                t += timedelta(seconds=1)
            else:
                return t.replace(tzinfo=self.zone).astimezone(UTC)
        return None


def _weekday_near(t: datetime, day: int, *, last_only: bool = False) -> int:
    """The weekday (Mon-Fri) nearest to `day` of t's month, within the month (W)."""
    last = calendar.monthrange(t.year, t.month)[1]
    if day > last:
        return -1
    wd = datetime(t.year, t.month, day).weekday()  # Monday 0
    if wd == 5:
        return day - 1 if day > 1 else day + 2
    if wd == 6:
        return day + 1 if day < last and not last_only else day - 2
    return day


def _value(token: str, lo: int, hi: int, names: dict[str, int]) -> int:
    token = token.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise CronError(f"bad value {token!r}")
    n = int(token)
    if not lo <= n <= hi:
        raise CronError(f"value {n} out of range")
    return n


def _part(part: str, lo: int, hi: int, names: dict[str, int]) -> set[int]:
    rng, _, step_s = part.partition("/")
    step = 1
    if step_s:
        if not step_s.isdigit() or int(step_s) == 0:
            raise CronError("bad step")
        step = int(step_s)
    if rng in ("*", "?"):
        start, end = lo, hi
    elif "-" in rng:
        a, b = rng.split("-", 1)
        start, end = _value(a, lo, hi, names), _value(b, lo, hi, names)
        if start > end:
            raise CronError("reversed range")
    else:
        start = _value(rng, lo, hi, names)
        end = hi if step_s else start  # "N/S" runs from N to the top of the range
    return set(range(start, end + 1, step))


@dataclass
class _Extras:
    last: bool = False
    last_weekday: bool = False
    nearest: set[int] = field(default_factory=set)
    nth: set[tuple[int, int]] = field(default_factory=set)


def _special(part: str, index: int, extras: _Extras) -> bool:
    """Record L, LW, NW (day of month) and NL, N#k (weekday); False when `part` is plain."""
    up = part.upper()
    if index == 3 and up in ("L", "LW"):
        extras.last, extras.last_weekday = up == "L", up == "LW"
        return True
    if index == 3 and up.endswith("W") and up[:-1].isdigit():
        extras.nearest.add(_value(up[:-1], 1, 31, {}))
        return True
    if index == 5 and up.endswith("L") and len(up) > 1:
        extras.nth.add((_value(up[:-1], 0, 7, _DAYS) % 7, -1))
        return True
    if index == 5 and "#" in up:
        day, _, k = up.partition("#")
        extras.nth.add((_value(day, 0, 7, _DAYS) % 7, _value(k, 1, 5, {})))
        return True
    return False


def _field(text: str, index: int, extras: _Extras) -> frozenset[int]:
    lo, hi, names = _FIELDS[index]
    out: set[int] = set()
    for part in text.split(","):
        if _special(part, index, extras):
            continue
        if not part:
            raise CronError("empty list item")
        out |= _part(part, lo, hi, names)
    if index == 5 and 7 in out:
        out = (out - {7}) | {0}
    return frozenset(out)


@functools.cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()} | {"utc": "UTC"}


def zone_for(timezone: object) -> ZoneInfo:
    """Intl's reading of an IANA name: any case, links included; empty or absent is UTC."""
    if timezone is None or timezone == "":
        return ZoneInfo("UTC")
    name = _zones().get(timezone.lower()) if isinstance(timezone, str) else None
    if name is None:
        raise CronError("invalid timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError("invalid timezone") from exc


def parse_cron(expression: object, timezone: object = None) -> Cron:
    """Parse a croner pattern; raises CronError for anything croner would reject."""
    parts = _seven_fields(expression)
    zone = zone_for(timezone)
    extras = _Extras()
    fields = [_field(p, i, extras) for i, p in enumerate(parts)]
    return Cron(
        seconds=fields[0],
        minutes=fields[1],
        hours=fields[2],
        days=fields[3],
        months=fields[4],
        weekdays=fields[5],
        years=fields[6],
        last_day=extras.last,
        # Only a literal "*" is a wildcard for croner's OR rule; "?" means every value.
        dom_any=parts[3] == "*",
        dow_any=parts[5] == "*",
        zone=zone,
        last_weekday=extras.last_weekday,
        nearest=frozenset(extras.nearest),
        nth=frozenset(extras.nth),
    )


def _seven_fields(expression: object) -> list[str]:
    """The pattern's fields, macros expanded, padded to seconds … years."""
    if not isinstance(expression, str):
        raise CronError("pattern must be a string")
    text = expression.strip()
    text = _MACROS.get(text.lower(), text)
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) == 6:
        parts.append("*")
    if len(parts) != 7:
        raise CronError("pattern needs 5, 6 or 7 fields")
    return parts
