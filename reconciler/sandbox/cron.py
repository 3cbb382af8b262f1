"""Cron patterns as croner reads them: 5, 6 (leading seconds) or 7 (trailing year) fields."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

    def _day_ok(self, t: datetime) -> bool:
        last = calendar.monthrange(t.year, t.month)[1]
        dom = t.day in self.days or (self.last_day and t.day == last)
        dow = (t.isoweekday() % 7) in self.weekdays
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


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    lo, hi, names = _FIELDS[index]
    out: set[int] = set()
    last = False
    for part in text.split(","):
        if index == 3 and part.upper() == "L":
            last = True
            continue
        if not part:
            raise CronError("empty list item")
        out |= _part(part, lo, hi, names)
    if index == 5 and 7 in out:
        out = (out - {7}) | {0}
    return frozenset(out), last


def parse_cron(expression: object, timezone: object = None) -> Cron:
    """Parse a croner pattern; raises CronError for anything croner would reject."""
    if not isinstance(expression, str):
        raise CronError("pattern must be a string")
    parts = expression.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) == 6:
        parts.append("*")
    if len(parts) != 7:
        raise CronError("pattern needs 5, 6 or 7 fields")
    try:
        zone = ZoneInfo(timezone) if isinstance(timezone, str) and timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError("invalid timezone") from exc
    if timezone is not None and not isinstance(timezone, str):
        raise CronError("invalid timezone")
    fields = [_field(p, i) for i, p in enumerate(parts)]
    return Cron(
        seconds=fields[0][0],
        minutes=fields[1][0],
        hours=fields[2][0],
        days=fields[3][0],
        months=fields[4][0],
        weekdays=fields[5][0],
        years=fields[6][0],
        last_day=fields[3][1],
        dom_any=parts[3] in ("*", "?"),
        dow_any=parts[5] in ("*", "?"),
        zone=zone,
    )
