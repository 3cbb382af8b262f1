"""Which fields a model manages, and copies that keep it: normalisation for the diff.

A field present in a desired model's ``model_fields_set`` is managed (it is in the repo's
file); an omitted one is left to the engine. ``model_copy(update=...)`` would mark updated
fields as set, so every copy here goes through ``with_managed``, which rebuilds the model
with the original set through pydantic's public ``model_construct(_fields_set=...)``.
Nothing writes pydantic's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from reconciler.model.objects import EventSource, Instance, Skill, State


def normalize_instance(inst: Instance) -> Instance:
    """Sort every unordered collection (the engine has no defined order, contract §17.4).

    An instance already in order is returned as it is: both sides of a diff were normalised
    when read, and rebuilding them again was most of the diff's cost.
    """
    update: dict[str, Any] = {}
    _put(update, "prompts", _sorted_dict(inst.prompts))
    if inst.skills is not None:
        _put(update, "skills", _sorted_list(inst.skills, lambda a: a.slug))
    if inst.manual_tools is not None:
        _put(update, "manual_tools", _sorted_list(inst.manual_tools, _same))
    if inst.secrets is not None:
        _put(update, "secrets", _sorted_list(inst.secrets, _same))
    if inst.channels is not None:
        _put(update, "channels", _sorted_dict(inst.channels))
    if inst.skill_env is not None:
        _put(update, "skill_env", _sorted_env(inst.skill_env))
    if inst.event_sources is not None:
        _put(update, "event_sources", _sorted_sources(inst.event_sources))
    if inst.scheduled_tasks is not None:
        _put(update, "scheduled_tasks", _sorted_list(inst.scheduled_tasks, lambda t: t.name))
    if inst.hooks is not None:
        _put(update, "hooks", _sorted_list(inst.hooks, lambda h: h.key))
    return _copy_keep_fields_set(inst, update) if update else inst


def normalize_skill(skill: Skill) -> Skill:
    """Sort a skill's set-like lists so their order never shows as a change."""
    update: dict[str, Any] = {}
    _put(update, "required_env", _sorted_list(skill.required_env, lambda e: e.name))
    _put(update, "required_tools", _sorted_list(skill.required_tools, _same))
    _put(update, "scripts", _sorted_list(skill.scripts, lambda s: s.file))
    return _copy_keep_fields_set(skill, update) if update else skill


T = TypeVar("T")
K = TypeVar("K", bound=str)
V = TypeVar("V")


def _same(value: str) -> str:
    return value


def _put(update: dict[str, Any], name: str, value: object | None) -> None:
    if value is not None:
        update[name] = value


def _sorted_list(items: list[T], key: Callable[[T], Any]) -> list[T] | None:
    """`items` sorted by `key` (stable), or None when they already are."""
    keys = [key(i) for i in items]
    return None if keys == sorted(keys) else sorted(items, key=key)


def _sorted_dict(items: dict[K, V]) -> dict[K, V] | None:
    """`items` with sorted keys, or None when they already are."""
    keys = list(items)
    return None if keys == sorted(keys) else dict(sorted(items.items()))


def _sorted_env(env: dict[str, dict[str, V]]) -> dict[str, dict[str, V]] | None:
    inner = {k: _sorted_dict(v) for k, v in env.items()}
    if _sorted_dict(env) is None and all(v is None for v in inner.values()):
        return None
    return {k: dict(sorted(env[k].items())) for k in sorted(env)}


def _sorted_sources(sources: list[EventSource]) -> list[EventSource] | None:
    defs = [_sorted_list(s.definitions, lambda d: d.name) for s in sources]
    kept = [
        s if d is None else _copy_keep_fields_set(s, {"definitions": d})
        for s, d in zip(sources, defs, strict=True)
    ]
    ordered = _sorted_list(kept, lambda s: s.name)
    if ordered is None and all(d is None for d in defs):
        return None
    return ordered if ordered is not None else kept


def normalize(state: State) -> State:
    """Both sides of a diff go through this, so only real differences remain."""
    # model_construct: the parts are already validated, and live data may hold what our
    # stricter rules reject (the engine allows duplicate names); re-validating would crash.
    return State.model_construct(
        instances={k: normalize_instance(v) for k, v in sorted(state.instances.items())},
        skills={k: normalize_skill(v) for k, v in sorted(state.skills.items())},
    )


M = TypeVar("M", bound=BaseModel)


def _copy_keep_fields_set(model: M, update: dict[str, Any]) -> M:
    # model_copy(update=...) would mark every updated field as set, turning unmanaged
    # fields into managed ones: rebuild with the original set instead.
    return with_managed(model, update)


def with_managed(
    model: M, update: dict[str, Any] | None = None, *, managed: set[str] | None = None
) -> M:
    """A copy with `update` applied that manages `managed` (default: what `model` manages).

    The one way to change values or managed fields of a model without touching pydantic's
    internals (``model_construct(_fields_set=...)`` is its public API for that).
    """
    values = {name: getattr(model, name) for name in type(model).model_fields}
    values.update(update or {})
    fields_set = set(model.model_fields_set) if managed is None else set(managed)
    return type(model).model_construct(_fields_set=fields_set, **values)


def managed_fields(model: BaseModel) -> set[str]:
    """Names of the fields a desired model manages (present in its file)."""
    return set(model.model_fields_set)
