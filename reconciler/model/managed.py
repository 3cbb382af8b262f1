"""Which fields a model manages, and copies that keep it: normalisation for the diff.

A field present in a desired model's ``model_fields_set`` is managed (it is in the repo's
file); an omitted one is left to the engine. ``model_copy(update=...)`` would mark updated
fields as set, so every copy here goes through ``with_managed``, which rebuilds the model
with the original set through pydantic's public ``model_construct(_fields_set=...)``.
Nothing writes pydantic's internals.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from reconciler.model.objects import Instance, Skill, State


def normalize_instance(inst: Instance) -> Instance:
    """Sort every unordered collection (the engine has no defined order, contract §17.4)."""
    update: dict[str, Any] = {"prompts": dict(sorted(inst.prompts.items()))}
    if inst.skills is not None:
        update["skills"] = sorted(inst.skills, key=lambda a: a.slug)
    if inst.manual_tools is not None:
        update["manual_tools"] = sorted(inst.manual_tools)
    if inst.secrets is not None:
        update["secrets"] = sorted(inst.secrets)
    if inst.channels is not None:
        update["channels"] = dict(sorted(inst.channels.items()))
    if inst.skill_env is not None:
        env = sorted(inst.skill_env.items())
        update["skill_env"] = {k: dict(sorted(v.items())) for k, v in env}
    if inst.event_sources is not None:
        update["event_sources"] = [
            _copy_keep_fields_set(s, {"definitions": sorted(s.definitions, key=lambda d: d.name)})
            for s in sorted(inst.event_sources, key=lambda s: s.name)
        ]
    if inst.scheduled_tasks is not None:
        update["scheduled_tasks"] = sorted(inst.scheduled_tasks, key=lambda t: t.name)
    if inst.hooks is not None:
        update["hooks"] = sorted(inst.hooks, key=lambda h: h.key)
    return _copy_keep_fields_set(inst, update)


def normalize_skill(skill: Skill) -> Skill:
    """Sort a skill's set-like lists so their order never shows as a change."""
    update = {
        "required_env": sorted(skill.required_env, key=lambda e: e.name),
        "required_tools": sorted(skill.required_tools),
        "scripts": sorted(skill.scripts, key=lambda s: s.file),
    }
    return _copy_keep_fields_set(skill, update)


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
