"""What to do about a YAML or field mistake: hints added to the parser's and pydantic's words.

Most of these mistakes are indentation: a key dedented out of its mapping becomes an
"unknown field" one level up, and a mis-indented line makes the parser talk about block
ends and mapping values. The hint says which line to look at and what to check.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from reconciler.model.objects import Instance, Skill
from reconciler.model.project import Project

# Parser phrases (ruamel.yaml / PyYAML) that, in hand-written config, mean indentation.
_INDENT_PHRASES = (
    "mapping values are not allowed here",
    "expected <block end>",
    "did not find expected key",
    "could not find expected ':'",
    "while parsing a block mapping",
    "while parsing a block collection",
    "did not find expected '-' indicator",
)
INDENT_HINT = (
    "check the indentation of this line and the one before it: nested keys need more spaces "
    "than their parent, siblings the same number (spaces only)"
)


def yaml_hint(problem: str) -> str | None:
    """An indentation hint for a parser message that usually means one, else None."""
    lowered = problem.lower()
    return INDENT_HINT if any(p in lowered for p in _INDENT_PHRASES) else None


def unknown_field_hint(name: str, known: Iterable[str]) -> str:
    """'; did you mean …?', or where a known but misplaced field belongs (a dedented key)."""
    parents = owners().get(name)
    if parents:
        under = " or ".join(f"'{p}:'" for p in sorted(parents))
        return f"; {name!r} belongs under {under}: check its indentation"
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close and close[0] == name:  # a real field, at the wrong level
        return f"; {name!r} is a field of another mapping: check its indentation"
    return f"; did you mean {close[0]!r}?" if close else "; check the spelling"


@functools.cache
def owners() -> dict[str, frozenset[str]]:
    """Each nested field name → the names of the fields whose mapping holds it."""
    found: dict[str, set[str]] = {}
    seen: set[type[BaseModel]] = set()
    for model in (Instance, Skill, Project):
        for parent, child in _nested(model, seen):
            found.setdefault(child, set()).add(parent)
    top = {
        info.alias or n for m in (Instance, Skill, Project) for n, info in m.model_fields.items()
    }
    return {k: frozenset(v) for k, v in found.items() if k not in top}


def _nested(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, str]]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        parent = info.alias or name
        for sub in models_in(info.annotation):
            for sub_name, sub_info in sub.model_fields.items():
                yield parent, sub_info.alias or sub_name
            yield from _nested(sub, seen)


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation holds (through unions, lists and dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            yield from models_in(arg)
