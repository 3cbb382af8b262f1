"""Request sizes the engine refuses (bodies over 100 KB answer 500, contract §1.4), checked
offline for every write apply would send, so that apply of an object never starts when one
of its calls is known to fail half-way. Field lengths and ranges live on the models."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from reconciler.errors import Problem
from reconciler.model.objects import EventSource, Instance, Skill, State

# loaded.problem: (object key, field path, message) → a Problem positioned in its file.
Locate = Callable[[str, tuple[Any, ...], str], Problem]

MAX_BODY_BYTES = 102_400
# A credential supplied at apply time is not known offline: count a generous size for it.
SECRET_ALLOWANCE = 4_096


def size(body: Any) -> int:
    """Bytes of `body` as the client sends it (compact UTF-8 JSON)."""
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def limit_problems(state: State, problem: Locate) -> Iterator[Problem]:
    """A problem for every write of the repo whose body would be over the engine's limit."""
    for slug, inst in state.instances.items():
        for path, what, body in _instance_bodies(inst):
            yield from _check(problem, f"instance/{slug}", path, what, body)
    for slug, skill in state.skills.items():
        what = "its catalog import"
        yield from _check(problem, f"skill/{slug}", ("content",), what, _skill(skill))


def _check(
    problem: Locate, key: str, path: tuple[Any, ...], what: str, body: Any
) -> Iterator[Problem]:
    n = size(body)
    if n > MAX_BODY_BYTES:
        msg = (
            f"{what} would send a {n // 1024} KB request; the engine refuses bodies over "
            f"{MAX_BODY_BYTES // 1024} KB (500 Internal server error): shorten it"
        )
        yield problem(key, path, msg)


def _instance_bodies(inst: Instance) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    settings = inst.model_dump(
        by_alias=True, exclude={"prompts", "skills", "room", "event_sources", "scheduled_tasks"}
    )
    # The icon has its own route and limit (checked with the file).
    settings.pop("icon", None)
    yield ("description",), "the instance settings", settings
    for section, content in inst.prompts.items():
        body = {"sections": [{"sectionKey": section, "content": content}]}
        yield ("prompts", section), f"prompt section {section}", body
    if inst.room is not None:
        yield ("room",), "the room", inst.room.model_dump(by_alias=True)
    for task in inst.scheduled_tasks or []:
        path = ("scheduledTasks", ("name", task.name))
        yield path, f"scheduled task {task.name!r}", task.model_dump(by_alias=True)
    for source in inst.event_sources or []:
        yield from _source_bodies(source)
    for skill, values in (inst.skill_env or {}).items():
        env = [{"key": k, "value": v or "x" * SECRET_ALLOWANCE} for k, v in values.items()]
        yield ("skillEnv", skill), f"skill env of {skill!r}", env


def _source_bodies(source: EventSource) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    path = ("eventSources", ("name", source.name))
    config = {
        k: v if v is not None else "x" * SECRET_ALLOWANCE for k, v in (source.config or {}).items()
    }
    body = {**source.model_dump(by_alias=True, exclude={"definitions"}), "config": config}
    yield path, f"event source {source.name!r}", body
    for definition in source.definitions:
        where = (*path, "definitions", ("name", definition.name))
        yield where, f"definition {definition.name!r}", definition.model_dump(by_alias=True)


def _skill(skill: Skill) -> Any:
    return {"type": "skills", "skills": [skill.model_dump(by_alias=True)]}
