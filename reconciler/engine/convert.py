"""Engine JSON → live models; what cannot be read cleanly becomes a Notice, never a crash."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from reconciler.errors import EngineRejected
from reconciler.model.checks import visible
from reconciler.model.objects import (
    CronSchedule,
    Definition,
    EventSource,
    Hook,
    IntervalSchedule,
    OneShotSchedule,
    ScheduledTask,
)
from reconciler.plan.changes import Notice

M = TypeVar("M", bound=BaseModel)
AUTO_DISABLE_ERRORS = 5  # the engine switches a task off after 5 consecutive errors (§12.4)


@dataclass
class Notes:
    """Notices collected during one read (thread-safe: fetch jobs add to it too)."""

    items: list[Notice] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def warn(self, key: str, message: str) -> None:
        """Record something the user must fix on the engine."""
        with self._lock:
            self.items.append(Notice(level="warning", key=visible(key), message=visible(message)))

    def info(self, key: str, message: str) -> None:
        """Record something the read dropped on purpose."""
        with self._lock:
            self.items.append(Notice(level="info", key=visible(key), message=visible(message)))

    def sorted(self) -> list[Notice]:
        """The notices grouped by object, in a stable order whatever the thread timing."""
        with self._lock:
            return sorted(self.items, key=lambda n: (n.key, n.level, n.message))


def expect_dict(value: Any, what: str) -> dict[str, Any]:
    """`value` when it is a JSON object, else a clear EngineRejected."""
    if not isinstance(value, dict):
        raise EngineRejected(f"{what}: expected a JSON object, got {_kind(value)}", 200)
    return value


def expect_list(value: Any, what: str) -> list[Any]:
    """`value` when it is a JSON array, else a clear EngineRejected."""
    if not isinstance(value, list):
        raise EngineRejected(f"{what}: expected a JSON array, got {_kind(value)}", 200)
    return value


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def problems(exc: ValidationError, skip: frozenset[str] = frozenset()) -> str:
    """A ValidationError as one line, without the offending values (they may be long)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        if err["loc"] and str(err["loc"][0]) in skip:
            continue
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def build(model: type[M], data: dict[str, Any], notes: Notes, key: str, label: str) -> M:
    """Validate `data`; when our stricter rules refuse it, keep it as read and warn."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Pydantic re-runs the validators of nested models; those items were built (and
        # reported) on their own, so only this object's own problems are reported here.
        nested = frozenset(n for k, v in data.items() if _holds_model(v) for n in (k, to_camel(k)))
        _refuse_wrong_types(exc, nested, key, label)
        found = problems(exc, nested)
        if found:
            notes.warn(
                key,
                f"{label} breaks a rule of this tool ({found}); fix it on the engine "
                "or in the repo, the plan will show it as it is",
            )
        return model.model_construct(**data)


def _refuse_wrong_types(exc: ValidationError, nested: frozenset[str], key: str, label: str) -> None:
    # A value of the wrong JSON type is a broken answer, not a stricter rule of ours: keeping
    # it would write nonsense into the repo, so it is one clear error naming the field.
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if error["type"].endswith("_type") and loc and loc[0] not in nested:
            field = ".".join(loc)
            raise EngineRejected(
                f"the engine's answer for {key} ({label}) has {field} of the wrong type "
                f"({error['type'].removesuffix('_type')} expected); check the engine's version",
                502,
            )


def _holds_model(value: Any) -> bool:
    if isinstance(value, BaseModel):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, list) and any(isinstance(v, BaseModel) for v in value)


def unique_by_name(
    items: Iterable[M],
    name: Callable[[M], str],
    notes: Notes,
    key: str,
    label: str,
    *,
    extras: list[M] | None = None,
) -> list[M]:
    """Keep the first item of each name; the engine allows duplicates, we match by name.

    With `extras`, the dropped copies go there (to be planned as deletes) instead of
    becoming a warning.
    """
    seen: dict[str, M] = {}
    dupes: set[str] = set()
    for item in items:
        if name(item) in seen:
            dupes.add(name(item))
            if extras is not None:
                extras.append(item)
        else:
            seen[name(item)] = item
    for dupe in sorted(dupes) if extras is None else ():
        notes.warn(
            key,
            f"{label} {dupe!r} exists more than once on the engine; only the first is "
            "managed: rename or delete the others there",
        )
    return list(seen.values())


def task_from(raw: Any, notes: Notes, key: str) -> ScheduledTask | None:
    """One scheduled task of `GET …/scheduled-tasks`; run state dropped, id kept."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        notes.warn(key, "a scheduled task without a name cannot be managed; delete it")
        return None
    label = f"scheduled task {raw['name']!r}"
    enabled = raw.get("enabled") is not False
    data = {
        "name": raw["name"],
        "description": raw.get("description"),
        "enabled": enabled,
        "schedule": schedule_from(raw.get("schedule"), notes, key, label),
        "prompt": raw.get("prompt") or "",
        "outbound_channel": raw.get("outboundChannel"),
        "outbound_target": raw.get("outboundTarget"),
        "keep_history": bool(raw.get("keepHistory")),
        "delete_after_run": bool(raw.get("deleteAfterRun")),
        "max_retries": raw.get("maxRetries", 3),
        "id": raw.get("id"),
        "auto_disabled": not enabled and _int(raw.get("consecutiveErrors")) >= AUTO_DISABLE_ERRORS,
    }
    return build(ScheduledTask, data, notes, key, label)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_SCHEDULE_FIELDS: dict[str, tuple[type[BaseModel], dict[str, str]]] = {
    "cron": (CronSchedule, {"expression": "expression", "timezone": "timezone"}),
    "interval": (IntervalSchedule, {"everyMs": "every_ms", "anchorAt": "anchor_at"}),
    "one-shot": (OneShotSchedule, {"runAt": "run_at"}),
}


def schedule_from(raw: Any, notes: Notes, key: str, label: str) -> BaseModel:
    """A task's schedule; extra keys dropped, unknown types kept as a visible placeholder."""
    raw = raw if isinstance(raw, dict) else {}
    kind = raw.get("type")
    if kind not in _SCHEDULE_FIELDS:
        notes.warn(
            key,
            f"{label} has schedule type {kind!r}, which the engine never runs (stored through "
            "PATCH): give it a cron, interval or one-shot schedule, or delete it",
        )
        # A plain dict would make every model dump warn; a cron placeholder names the problem.
        text = f"unsupported schedule type {kind!r}"
        return CronSchedule.model_construct(type="cron", expression=text, timezone=None)
    model, names = _SCHEDULE_FIELDS[kind]
    extra = sorted(set(raw) - set(names) - {"type"})
    if extra:
        notes.info(key, f"{label}: ignored extra schedule keys stored on the engine: {extra}")
    data = {"type": kind} | {snake: raw.get(camel) for camel, snake in names.items()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        notes.warn(key, f"{label} has a schedule this tool refuses ({problems(exc)}); fix it")
        return model.model_construct(**data)


def source_from(raw: Any, notes: Notes, key: str) -> EventSource | None:
    """One event source of `GET …/event-sources`: masked config → key set, token dropped."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        notes.warn(key, "an event source without a name cannot be managed; delete it")
        return None
    label = f"event source {raw['name']!r}"
    config = raw.get("config")
    defs = [definition_from(d, notes, key, label) for d in raw.get("definitions") or []]
    data = {
        "name": raw["name"],
        "source_type": raw.get("sourceType") or "",
        "enabled": raw.get("enabled") is not False,
        # Values are masked by the engine: only which keys are set can be compared.
        "config": {str(k): None for k in sorted(config)}
        if isinstance(config, dict) and config
        else None,
        "definitions": unique_by_name(
            [d for d in defs if d is not None], lambda d: d.name, notes, key, f"{label} definition"
        ),
        "id": raw.get("id"),
    }
    return build(EventSource, data, notes, key, label)


def definition_from(raw: Any, notes: Notes, key: str, source: str) -> Definition | None:
    """One definition of an event source, with the fields the export drops."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        notes.warn(key, f"{source} has a definition without a name; delete it")
        return None
    data = {
        "name": raw["name"],
        "matching_prompt": raw.get("matchingPrompt") or "",
        "interpretation_prompt": raw.get("interpretationPrompt") or "",
        "action": raw.get("action") or "backlog",
        "context_prompt": raw.get("contextPrompt"),
        "outbound_channel": raw.get("outboundChannel"),
        "outbound_target": raw.get("outboundTarget"),
        "enabled": raw.get("enabled") is not False,
        "id": raw.get("id"),
    }
    return build(Definition, data, notes, key, f"{source} definition {raw['name']!r}")


def hooks_from(raw: Any, notes: Notes, key: str) -> list[Hook]:
    """Hooks from `GET …/hooks` (with ids) or a 1.1 bundle (without)."""
    out: list[Hook] = []
    for row in raw if isinstance(raw, list) else []:
        if not isinstance(row, dict):
            continue
        found = row.get("actionConfig")
        config: dict[str, Any] = found if isinstance(found, dict) else {}
        data = {
            "event": row.get("event"),
            "action_type": row.get("actionType") or "tool",
            "action_config": {
                "tool_name": config.get("toolName"),
                "args": config.get("args") or {},
            },
            "enabled": row.get("enabled") is not False,
            "position": row.get("position", 0),
            "timeout_ms": row.get("timeoutMs", 10_000),
            "id": row.get("id"),
        }
        hook = build(Hook, data, notes, key, f"hook on {row.get('event')!r}")
        if hook is not None:
            out.append(hook)
    return out
