"""`new Date(string)` as V8 reads it: the ES ISO format first, then its lenient legacy parser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# The engine runs with TZ=UTC: local times are UTC.
_ISO = re.compile(
    r"^(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:[Tt](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<z>[Zz]|[+-]\d{2}:\d{2})?)?$"
)
# An ISO date that V8 hands over to the legacy parser when the rest does not fit ES.
_ISO_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?=$|\s)")
_TOKEN = re.compile(r"\d+|[A-Za-z]+|[:+\-/.,()]|\s+")
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
_UTC_WORDS = {"utc", "ut", "gmt", "z"}


def parse_js_date(text: str) -> datetime | None:
    """The instant `new Date(text)` gives, or None for an Invalid Date."""
    m = _ISO.match(text)
    if m:
        return _iso(m)
    return _legacy(text)


def _iso(m: re.Match[str]) -> datetime | None:
    g = m.groupdict()
    if g["y"] == "-000000":
        return None
    month, day = int(g["mo"] or 1), int(g["d"] or 1)
    hour, minute, sec = int(g["h"] or 0), int(g["mi"] or 0), int(g["s"] or 0)
    if not (1 <= month <= 12 and hour <= 24 and minute < 60 and sec < 60):
        return None
    if hour == 24 and (minute or sec or int(g["f"] or 0)):
        return None
    ms = int((g["f"] or "0")[:3].ljust(3, "0"))
    try:
        base = datetime(int(g["y"]), month, day, tzinfo=UTC)
    except ValueError:
        return _legacy_iso_date(g)  # V8 retries "2031-02-30" in the legacy parser
    at = base + timedelta(hours=hour, minutes=minute, seconds=sec, milliseconds=ms)
    zone = g["z"]
    if zone and zone not in "Zz":
        sign = 1 if zone[0] == "+" else -1
        at -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return at


def _legacy_iso_date(g: dict[str, str | None]) -> datetime | None:
    if g["h"] is not None or g["d"] is None or int(g["d"] or 0) > 31:
        return None
    return _compose(int(g["y"] or 0), int(g["mo"] or 0), int(g["d"] or 0), (0, 0, 0, 0), 0)


def _compose(
    year: int, month: int, day: int, clock: tuple[int, int, int, int], offset_min: int
) -> datetime | None:
    """MakeDay/MakeTime: the day may overflow its month (Feb 30 is Mar 2)."""
    hour, minute, sec, ms = clock
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute < 60 and sec < 60):
        return None
    try:
        first = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        return None
    at = first + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=sec, milliseconds=ms)
    return at - timedelta(minutes=offset_min)


class _Legacy:
    """V8's legacy date parser: numbers, month and day names, a time, a zone, any order."""

    def __init__(self) -> None:
        self.numbers: list[tuple[int, int]] = []  # (value, digits)
        self.month: int | None = None
        self.clock: list[int] = []
        self.ms = 0
        self.pm: bool | None = None
        self.offset: int | None = None

    def run(self, tokens: list[str]) -> bool:
        i = 0
        while i < len(tokens):
            tok = tokens[i].lower()
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if tok.isdigit():
                i = self._number(tokens, i)
                if i < 0:
                    return False
                continue
            if tok.isalpha() and not self._word(tok):
                return False
            if tok in "+-" and (self.clock or self.offset == 0) and nxt.isdigit():
                self.offset = self._zone(tok, tokens[i + 1 : i + 4])
                i += 4 if len(tokens) > i + 2 and tokens[i + 2] == ":" else 2
                continue
            if tok == "(":
                close = tokens.index(")", i) if ")" in tokens[i:] else len(tokens)
                i = close + 1
                continue
            i += 1
        return True

    def _number(self, tokens: list[str], i: int) -> int:
        value, digits = int(tokens[i]), len(tokens[i])
        if i + 1 < len(tokens) and tokens[i + 1] == ":" and not self.clock:
            j = i
            while j < len(tokens) and tokens[j].isdigit() and len(self.clock) < 3:
                self.clock.append(int(tokens[j]))
                j += 1
                if j < len(tokens) and tokens[j] == ":":
                    j += 1
                elif j < len(tokens) and tokens[j] == "." and len(self.clock) == 3:
                    self.ms = int(tokens[j + 1][:3].ljust(3, "0")) if j + 1 < len(tokens) else 0
                    j += 2
                    break
                else:
                    break
            return j
        if (
            i + 1 < len(tokens)
            and tokens[i + 1].isalpha()
            and tokens[i + 1].lower() not in ("am", "pm", "z", "utc", "gmt", "ut", "t")
            and tokens[i + 1].lower()[:3] not in _MONTHS
        ):
            return -1
        self.numbers.append((value, digits))
        return i + 1

    def _word(self, word: str) -> bool:
        if word in ("am", "pm"):
            self.pm = word == "pm"
        elif word in _UTC_WORDS:
            self.offset = 0
        elif len(word) >= 3 and word[:3] in _MONTHS:
            self.month = _MONTHS.index(word[:3]) + 1
        elif word[:3] in _DAYS or word == "t":
            pass
        elif self.numbers or self.clock:
            return False  # an unknown word after the first number
        return True

    def _zone(self, sign: str, rest: list[str]) -> int:
        digits = rest[0]
        if len(rest) >= 3 and rest[1] == ":":
            hours, minutes = int(digits), int(rest[2])
        elif len(digits) > 2:
            hours, minutes = int(digits[:-2]), int(digits[-2:])
        else:
            hours, minutes = int(digits), 0
        return (1 if sign == "+" else -1) * (hours * 60 + minutes)

    def result(self) -> datetime | None:
        ymd = self._ymd()
        if ymd is None:
            return None
        hour, minute, sec = [*self.clock, 0, 0, 0][:3]
        if self.pm is not None:
            if hour > 12:
                return None
            hour = hour % 12 + (12 if self.pm else 0)
        return _compose(*ymd, (hour, minute, sec, self.ms), self.offset or 0)

    def _ymd(self) -> tuple[int, int, int] | None:
        nums = self.numbers
        if self.month is not None:
            if not nums or len(nums) > 2:
                return None
            if len(nums) == 1:
                return (_year(nums[0]), self.month, 1) if nums[0][1] >= 3 else None
            a, b = nums
            if a[1] >= 3 or a[0] > 31:
                return _year(a), self.month, b[0]
            return _year(b), self.month, a[0]
        if len(nums) == 1:
            return (_year(nums[0]), 1, 1) if nums[0][1] >= 3 else None
        if len(nums) != 3:
            return None
        a, b, c = nums
        if a[1] >= 3 or a[0] > 31:
            return _year(a), b[0], c[0]
        return _year(c), a[0], b[0]


def _year(num: tuple[int, int]) -> int:
    value, digits = num
    if digits <= 2:
        return value + (2000 if value < 50 else 1900)
    return value


def _legacy(text: str) -> datetime | None:
    if _ISO_DATE_PREFIX.match(text) is None and re.search(r"\d[Tt]\d", text):
        return None  # an ES date-time that did not fit: V8 does not guess
    tokens = [t for t in _TOKEN.findall(text) if not t.isspace()]
    if "".join(_TOKEN.findall(text)) != text:
        return None  # characters the legacy parser does not know
    parser = _Legacy()
    if not parser.run(tokens) or not (parser.numbers or parser.month):
        return None
    return parser.result()
