"""Pydantic validation errors turned into one-line problems pointing at the offending YAML node."""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.config.hints import models_in, unknown_field_hint
from reconciler.errors import Problem
from reconciler.model.checks import SECRET_KEY_RE
from reconciler.model.objects import Instance, Skill
from reconciler.model.project import Project
from reconciler.model.secretenv import channel_var, secret_var

# Turns (path, point-at-key) into (file, line, col).
Locate = Callable[[tuple[Any, ...], bool], tuple[str, int, int]]

_QUOTED_RE = re.compile(r"'([^']+)'")
_DUPES_RE = re.compile(r"names must be unique: (.+)$")
_MARKERS = {"[key]", "function-after", "function-before", "function-wrap"}


def model_problems(exc: ValidationError, data: Any, locate: Locate) -> list[Problem]:
    """One problem per pydantic error, each at the most precise YAML position available."""
    out: list[Problem] = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "value_error" and _is_model_level(data, loc):
            for part in msg.split("; "):
                path = (*loc, *_refine(_walk(data, loc), part))
                out.append(_problem(locate, path, _label(data, loc), part, key=False))
            continue
        key = err["type"] == "extra_forbidden" or (bool(loc) and loc[-1] == "[key]")
        text = _message(err["type"], loc, msg, data)
        out.append(_problem(locate, loc, _label(data, loc), text, key=key))
    return out


def _problem(locate: Locate, path: tuple[Any, ...], label: str, msg: str, *, key: bool) -> Problem:
    file, line, col = locate(path, key)
    return Problem(file, line, col, f"{label}: {msg}" if label else msg)


def _is_model_level(data: Any, loc: tuple[Any, ...]) -> bool:
    # A model validator's error sits on the model itself (a mapping), not on a scalar field.
    return isinstance(_walk(data, loc), dict)


def _walk(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
    return node


def _refine(node: Any, message: str) -> tuple[Any, ...]:
    """The sub-path a model-level message is about: a quoted value, or a duplicated name."""
    if dupes := _DUPES_RE.search(message):
        first = dupes.group(1).split(", ")[0]
        hits = list(_find(node, first))
        return hits[1] if len(hits) > 1 else (hits[0] if hits else ())
    for token in _QUOTED_RE.findall(message):
        if hits := list(_find(node, token)):
            return hits[0]
    return ()


def _find(node: Any, value: str, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of scalars (or keys) equal to `value` in a plain tree, in document order."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == value:
                yield (*path, k)
            yield from _find(v, value, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _find(v, value, (*path, i))
    elif node == value:
        yield path


def _label(data: Any, loc: tuple[Any, ...]) -> str:
    """A readable field path, naming list items by their name: scheduledTasks[Digest].prompt."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            ident = item.get("name") or item.get("slug") if isinstance(item, dict) else None
            parts.append(f"[{ident}]" if isinstance(ident, str) else f"[{part}]")
            node = item
        elif part not in _MARKERS and isinstance(node, dict) and part in node:
            parts.append(f".{part}" if parts else str(part))
            node = node[part]
    return "".join(parts)


def _message(kind: str, loc: tuple[Any, ...], msg: str, data: Any) -> str:
    name = next((p for p in reversed(loc) if isinstance(p, str) and p not in _MARKERS), "")
    value = _walk(data, loc)
    if kind == "missing":
        return f"required field {name!r} is missing; add it"
    if kind == "extra_forbidden":
        return f"unknown field {name!r}{unknown_field_hint(name, KNOWN_FIELDS)}"
    if kind == "string_type" and isinstance(value, (int, float, bool)):
        return f"{msg}; put the value in quotes"
    if kind in {"bool_type", "bool_parsing"}:
        return f"{msg}; write true or false"
    if kind == "string_too_short" and name == "content":
        return "the SKILL.md body is empty; write the skill's instructions after the --- line"
    if kind == "union_tag_not_found":
        return "schedule needs a 'type': cron, interval or one-shot"
    return msg


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        yield info.alias or name
        for sub in models_in(info.annotation):
            yield from _field_names(sub, seen)


def known_fields(*models: type[BaseModel]) -> set[str]:
    """Every engine field name used anywhere in `models`, for 'did you mean' hints."""
    seen: set[type[BaseModel]] = set()
    return {n for m in models for n in _field_names(m, seen)}


def snake_case_keys(
    model: type[BaseModel], data: Any, path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Keys written in Python's snake_case where the engine name (camelCase) is required."""
    if not isinstance(data, dict):
        return
    by_name, by_engine = model.model_fields, _engine_names(model)
    for key, value in data.items():
        info = by_name.get(key)
        if info is not None and info.alias and info.alias != key:
            yield (*path, key), f"write {info.alias!r}, the engine's name, instead of {key!r}"
            continue
        field = by_engine.get(key)
        if field is not None:
            yield from _nested_snake(field.annotation, value, (*path, key))


@functools.cache
def _engine_names(model: type[BaseModel]) -> dict[str, Any]:
    """Engine name (alias, else field name) → field info; built once per model (hot path)."""
    return {(f.alias or n): f for n, f in model.model_fields.items()}


def _shape(annotation: Any) -> tuple[list[type[BaseModel]], bool]:
    """The models inside an annotation, and whether it is a mapping of them (cached)."""
    try:
        return _cached_shape(annotation)
    except TypeError:  # an unhashable annotation: work it out every time
        return _cached_shape.__wrapped__(annotation)


@functools.cache
def _cached_shape(annotation: Any) -> tuple[list[type[BaseModel]], bool]:
    is_dict = typing.get_origin(annotation) is dict or _is_dict_field(annotation)
    return list(models_in(annotation)), is_dict


def _nested_snake(
    annotation: Any, value: Any, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    subs, is_dict = _shape(annotation)
    if not subs:
        return
    items: list[tuple[Any, Any]] = []
    if isinstance(value, list):
        items = list(enumerate(value))
    elif isinstance(value, dict) and is_dict:
        items = list(value.items())
    else:
        items = [(None, value)]
    for idx, item in items:
        sub = _pick_model(subs, item)
        yield from snake_case_keys(sub, item, path if idx is None else (*path, idx))


def _is_dict_field(annotation: Any) -> bool:
    return any(typing.get_origin(a) is dict for a in typing.get_args(annotation))


def _pick_model(subs: list[type[BaseModel]], item: Any) -> type[BaseModel]:
    # A discriminated union (schedules): choose the member whose 'type' literal matches.
    if len(subs) > 1 and isinstance(item, dict):
        for sub in subs:
            tag = sub.model_fields.get("type")
            if tag is not None and item.get("type") in typing.get_args(tag.annotation):
                return sub
    return subs[0]


KNOWN_FIELDS: set[str] = known_fields(Instance, Skill, Project)
RESERVED = {
    "slug": "the folder name is the slug",
    "prompts": "prompt sections live in prompts/<section>.md files",
}


def _looks_like_value(item: str) -> bool:
    """A secrets entry that is probably a pasted credential rather than a key name."""
    has_upper, has_digit = any(c.isupper() for c in item), any(c.isdigit() for c in item)
    return len(item) > 40 or any(c in item for c in "=: /+") or (has_upper and has_digit)


def _good_key(item: Any) -> bool:
    return isinstance(item, str) and bool(SECRET_KEY_RE.match(item)) and len(item) <= 64


def secrets_problems(data: dict[str, Any], slug: str, locate: Locate) -> list[Problem]:
    """`secrets` must list key names; bad entries are reported (never quoted) and dropped."""
    secrets = data.get("secrets")
    var = secret_var(slug, "KEY").removesuffix("KEY") + "<KEY>"
    hint = f"list key names only; each value is supplied at apply time in {var}"
    if isinstance(secrets, dict):
        data.pop("secrets")
        msg = f"secrets must be a list of key names; {hint}"
        return [Problem(*locate(("secrets",), True), msg)]
    if not isinstance(secrets, list):
        return []
    out = []
    for i, item in enumerate(secrets):
        if isinstance(item, str) and not _good_key(item):
            if _looks_like_value(item):
                msg = f"secrets[{i}] looks like a secret value; remove it (and rotate it); {hint}"
            else:
                msg = f"secret key {item!r} must match ^[a-z0-9_]+$ and be at most 64 characters"
            out.append(Problem(*locate(("secrets", i), False), msg))
    data["secrets"] = [s for s in secrets if not isinstance(s, str) or _good_key(s)]
    return out


def channel_problems(data: dict[str, Any], slug: str, locate: Locate) -> list[Problem]:
    """Channel credentials written into the file: reported (never quoted) and dropped."""
    channels = data.get("channels")
    out: list[Problem] = []
    for ctype, conf in channels.items() if isinstance(channels, dict) else []:
        for key in [k for k in conf if k != "enabled"] if isinstance(conf, dict) else []:
            msg = (
                f"channels.{ctype}.{key}: channel credentials are secrets and never live in git; "
                f"remove it and supply them at apply time as JSON in "
                f"{channel_var(slug, str(ctype))}"
            )
            out.append(Problem(*locate(("channels", ctype, key), True), msg))
            conf.pop(key)
    return out
