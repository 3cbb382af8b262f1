"""Safe YAML 1.2 and text reading with file:line:col problems, node positions, and dumping."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarbool import ScalarBoolean

from reconciler.config import fastyaml
from reconciler.config.hints import yaml_hint
from reconciler.errors import Problem

MAX_FILE_BYTES = 1024 * 1024  # yaml and md files; larger ones are refused unread
MAX_DEPTH = 20
BOM = "\ufeff"
# C0 controls except \t \n \r, DEL and C1 controls: invisible in review, hostile in terminals.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Plain integers past 100 digits: Python refuses to convert very long ones (and none is valid).
_LONG_INT_RE = re.compile(r"^[-+]?(?:[0-9_]{101,}|0x[0-9a-fA-F_]{99,}|0o[0-7_]{99,}|0b[01_]{99,})$")
_TAB_MSG = "a tab is used for indentation; YAML needs spaces"


class Problems(list[Problem]):
    """The problems of one run, collected instead of raised so every one gets reported."""

    def add(self, file: str, line: int, col: int, message: str, severity: str = "error") -> None:
        """Record one problem (1-based line and column)."""
        self.append(Problem(file, line, col, message, severity))

    @property
    def errors(self) -> list[Problem]:
        """Only the problems that make the run fail."""
        return [p for p in self if p.severity == "error"]


def read_text(
    path: Path, rel: str, problems: Problems, *, limit: int = MAX_FILE_BYTES
) -> str | None:
    """The file's text as UTF-8 (a leading BOM dropped), or None after recording why not."""
    try:
        size = path.stat().st_size
        if size > limit:
            problems.add(rel, 1, 1, f"file is {size} bytes; the limit is {limit} bytes")
            return None
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(rel, 1, 1, f"cannot read the file: {exc.strerror or exc}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw[: exc.start].decode("utf-8", "replace"), len(raw[: exc.start]))
        problems.add(rel, line, col, "file is not valid UTF-8; save it as UTF-8")
        return None
    text = text.removeprefix(BOM)
    if match := CONTROL_RE.search(text):
        line, col = _line_col(text, match.start())
        code = f"U+{ord(match.group()):04X}"
        problems.add(rel, line, col, f"control character {code} is not allowed; remove it")
        return None
    return text


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps YAML timestamps as the strings the user wrote."""


def _timestamp_as_text(constructor: RoundTripConstructor, node: ScalarNode) -> str:
    return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


class _Representer(RoundTripRepresenter):
    """Round-trip representer that writes None as an explicit `null`."""


def _null(representer: RoundTripRepresenter, data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


_Representer.add_representer(type(None), _null)


class _Stop(Exception):
    """A hostile construct was found: the problem is recorded, parsing stops."""


class _Checker:
    """Sees every event the parser hands the composer: one pass both checks and loads."""

    def __init__(self, rel: str, problems: Problems, line_offset: int) -> None:
        self.rel, self.problems, self.line_offset = rel, problems, line_offset
        # One frame per open collection: [is_mapping, keys seen, expecting a key].
        self.stack: list[list[Any]] = []
        self.docs = 0
        self.found = False

    def report(self, event: Any, message: str, *, stop: bool = True) -> None:
        mark = event.start_mark
        self.problems.add(self.rel, mark.line + 1 + self.line_offset, mark.column + 1, message)
        self.found = True
        if stop:
            raise _Stop

    def see(self, event: Any) -> None:
        if isinstance(event, DocumentStartEvent):
            self.docs += 1
            if self.docs > 1:
                self.report(event, "only one YAML document is allowed; remove the '---'")
        if isinstance(event, NodeEvent):
            self._node(event)
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            self.stack.pop()
            self._after_value()

    def _node(self, event: NodeEvent) -> None:
        if isinstance(event, AliasEvent):
            self.report(event, "YAML aliases (*name) are not allowed; write the value out")
        if event.anchor:
            self.report(event, "YAML anchors (&name) are not allowed; write the value out")
        if tag := getattr(event, "tag", None):
            self.report(event, f"YAML tag {tag!r} is not allowed; remove it")
        if (
            isinstance(event, ScalarEvent)
            and event.style is None
            and _LONG_INT_RE.match(event.value)
        ):
            self.report(event, "a number this long is not allowed; quote it if it is text")
        frame = self.stack[-1] if self.stack else None
        if frame and frame[0] and frame[2]:
            self._key(event, frame)
        elif isinstance(event, ScalarEvent):
            self._after_value()
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            if len(self.stack) >= MAX_DEPTH:
                self.report(event, f"nesting deeper than {MAX_DEPTH} levels is not allowed")
            self.stack.append([isinstance(event, MappingStartEvent), set(), True])

    def _key(self, event: NodeEvent, frame: list[Any]) -> None:
        if not isinstance(event, ScalarEvent):
            self.report(event, "mapping keys must be plain strings, not lists or mappings")
            return
        if event.value == "<<":
            self.report(event, "YAML merge keys (<<) are not allowed; write the keys out")
        if event.value in frame[1]:
            self.report(event, f"duplicate key {event.value!r}; keep only one", stop=False)
        frame[1].add(event.value)
        frame[2] = False

    def _after_value(self) -> None:
        if self.stack and self.stack[-1][0]:
            self.stack[-1][2] = True


class _CheckedParser(RoundTripParser):
    """The round-trip parser with every event passed through the loader's checker."""

    def get_event(self) -> Any:
        event = super().get_event()
        checker = getattr(self.loader, "polyant_checker", None)
        if checker is not None and event is not None:
            checker.see(event)
        return event


def new_yaml() -> YAML:
    """A round-trip YAML 1.2 instance: no Python tags, stable block style, no line folding."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.Representer = _Representer
    yaml.Parser = _CheckedParser
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.allow_duplicate_keys = False
    yaml.preserve_quotes = True  # a rewrite keeps the user's quoting
    return yaml


def parse_yaml(text: str, rel: str, problems: Problems, *, line_offset: int = 0) -> Any:
    """Parse one YAML document, rejecting hostile input; None after recording problems."""
    checker = _Checker(rel, problems, line_offset)
    yaml = new_yaml()
    yaml.polyant_checker = checker  # type: ignore[attr-defined]
    try:
        data = yaml.load(text)
    except _Stop:
        return None
    except MarkedYAMLError as exc:
        if not checker.found:  # a duplicate key was already reported, with all the others
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problems.add(rel, line + line_offset, col, _yaml_message(exc))
        return None
    except (YAMLError, ValueError, RecursionError) as exc:  # unmarked: still one clear line
        problems.add(rel, 1 + line_offset, 1, f"invalid YAML: {str(exc)[:200]}")
        return None
    return None if checker.found else data


def load_yaml(text: str, rel: str, problems: Problems, *, line_offset: int = 0) -> Any:
    """Plain data of one YAML document (fast path), or None after recording problems."""
    data = fastyaml.load(text, max_depth=MAX_DEPTH, long_int=_LONG_INT_RE)
    if data is not fastyaml.FALLBACK:
        return data
    tree = parse_yaml(text, rel, problems, line_offset=line_offset)
    return None if tree is None else plain(tree)


def _yaml_message(exc: MarkedYAMLError) -> str:
    problem = str(exc.problem or exc.context or "invalid YAML")
    if "'\\t'" in problem:
        return _TAB_MSG
    hint = yaml_hint(f"{problem} {exc.context or ''}")
    return f"invalid YAML: {problem}" + (f"; {hint}" if hint else "")


def dump_yaml(data: Any, *, modeline: str | None = None) -> str:
    """YAML text for `data`, with the editor modeline as its first line when given."""
    buf = io.StringIO()
    new_yaml().dump(data, buf)
    text = buf.getvalue()
    if modeline and not text.startswith(modeline):
        text = f"{modeline}\n{text}"
    return text


def plain(node: Any) -> Any:
    """A ruamel tree as plain dicts, lists and scalars (str/int/float/bool subclasses undone)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, (bool, ScalarBoolean)):
        return bool(node)
    if node is None:
        return None
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node
