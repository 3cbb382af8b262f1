"""The fast read path: YAML 1.2 on libyaml events into plain data, or None to ask ruamel.

Reading a repository only needs the values; positions are rebuilt from the text when a
message needs one. libyaml (through PyYAML's C parser) produces the events, this module
builds plain dicts, lists and scalars from them with ruamel.yaml's YAML 1.2 resolution
rules (`no`, `on`, `yes` stay strings; `0o17` is octal, `1:30` is text). Anything the
strict loader refuses or words itself (an alias, an anchor, a tag, a duplicate or complex
key, deep nesting, a huge number, several documents, a libyaml error) makes `load` return
FALLBACK, and the caller parses the text with the checked round-trip parser instead, so
refusals and their messages stay exactly those of the slow path.
"""

from __future__ import annotations

import re
from typing import Any, Final, cast

from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import implicit_resolvers
from yaml import YAMLError
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

try:
    from yaml._yaml import CParser  # PyYAML's binding of libyaml

    HAVE_LIBYAML = True
except ImportError:  # a PyYAML built without libyaml: every document takes the slow path
    HAVE_LIBYAML = False

FALLBACK: Final = object()  # "parse this text with the slow, positioned path"

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DIGITS_RE = re.compile(r"[0-9]+")
_NUMERIC_START = frozenset("-+0123456789")  # what a huge plain number can start with


def _resolvers_1_2() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """ruamel.yaml's own YAML 1.2 implicit resolvers, indexed by first character."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for ch in first:
                # ruamel compiles these lazily; `.match` is all they are used for here
                table.setdefault(ch, []).append((tag, cast(re.Pattern[str], regexp)))
    return table


_RESOLVERS: Final = _resolvers_1_2()
_NUMBERS: dict[tuple[str, str], Any] = {}  # (tag, text) → value, for the rare odd spellings


def _plain_scalar(value: str) -> Any:
    """The value of a plain (unquoted) scalar under YAML 1.2, as the slow path builds it."""
    candidates = _RESOLVERS.get(value[0])
    if candidates is None:  # most text: no implicit type starts with this character
        return value
    tag = _first_match(candidates, value)
    if tag is None:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value in ("true", "True", "TRUE")
    if tag == _TIMESTAMP:
        return value  # the slow path keeps timestamps as the text written
    if tag == _INT and _DIGITS_RE.fullmatch(value):
        return int(value)
    if tag in (_INT, _FLOAT):
        return _number(tag, value)
    return FALLBACK  # merge keys, `=` and other oddities: let the slow path decide


def _first_match(candidates: list[tuple[str, re.Pattern[str]]], value: str) -> str | None:
    for tag, regexp in candidates:
        if regexp.match(value):
            return tag
    return None


def _number(tag: str, value: str) -> Any:
    """0x1F, 0o17, 1_000, .inf…: built by ruamel's own round-trip constructor, remembered."""
    key = (tag, value)
    if key not in _NUMBERS:
        from ruamel.yaml import YAML

        built = YAML(typ="rt").constructor.construct_object(ScalarNode(tag, value))
        _NUMBERS[key] = int(built) if tag == _INT else float(built)  # plain, like yamlio.plain
    return _NUMBERS[key]


class _Builder:
    """Builds plain data from an event stream, refusing what the slow path must word."""

    def __init__(self, max_depth: int, long_int: re.Pattern[str]) -> None:
        self.max_depth, self.long_int = max_depth, long_int
        # Open collections, innermost last: [container, pending key or _NO_KEY].
        self.stack: list[list[Any]] = []
        self.result: Any = None

    def scalar(self, event: ScalarEvent) -> bool:
        if event.anchor is not None or event.tag is not None:
            return False
        if event.style:  # quoted or block: always a string
            return self.add(event.value)
        value = event.value
        if not value:
            return self.add(None)
        if value[0] in _NUMERIC_START and self.long_int.match(value):
            return False
        built = _plain_scalar(value)
        return built is not FALLBACK and self.add(built)

    def start(self, event: MappingStartEvent | SequenceStartEvent) -> bool:
        if event.anchor is not None or event.tag is not None:
            return False
        if len(self.stack) >= self.max_depth:
            return False
        container: Any = {} if isinstance(event, MappingStartEvent) else []
        if not self.add(container):
            return False
        self.stack.append([container, _NO_KEY])
        return True

    def end(self) -> None:
        self.stack.pop()

    def add(self, value: Any) -> bool:
        """Put a value where the stream is: a key, a mapping value, an item, or the root."""
        if not self.stack:
            self.result = value
            return True
        frame = self.stack[-1]
        container = frame[0]
        if type(container) is list:
            container.append(value)
            return True
        if frame[1] is _NO_KEY:
            # Only text keys: `1:`, `true:` or a mapping as a key are left to the slow path.
            if type(value) is not str or value == "<<" or value in container:
                return False
            frame[1] = value
            return True
        container[frame[1]] = value
        frame[1] = _NO_KEY
        return True


_NO_KEY: Final = object()


def load(text: str, *, max_depth: int, long_int: re.Pattern[str]) -> Any:
    """Plain data of one YAML document, or FALLBACK when the slow path must look at it."""
    if not HAVE_LIBYAML:
        return FALLBACK
    parser = CParser(text)
    builder = _Builder(max_depth, long_int)
    documents = 0
    try:
        while True:
            event = parser.get_event()
            if isinstance(event, ScalarEvent):
                ok = builder.scalar(event)
            elif isinstance(event, MappingStartEvent | SequenceStartEvent):
                ok = builder.start(event)
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                builder.end()
                ok = True
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                ok = documents == 1
            elif isinstance(event, StreamEndEvent):
                return builder.result
            else:
                ok = not isinstance(event, AliasEvent)
            if not ok:
                return FALLBACK
    except (YAMLError, ValueError, RecursionError, UnicodeError):
        return FALLBACK
    finally:
        parser.dispose()
