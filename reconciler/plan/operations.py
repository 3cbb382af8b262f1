"""Typed operations: the units of work a plan orders and apply executes (pure data).

An ``Operation`` is one engine write (or one small, fixed sequence of writes) the plan has
decided on: its ``type`` names the write, ``target`` the child it touches (a skill slug, a
channel type, a task name, ``source/definition``), ``fields`` the before/after values a
reviewer sees (secrets as presence only) and ``args`` the JSON-able inputs the executor
needs (never a secret value: secrets are named by key, their values come from the
environment when the operation runs). Engine ids known when the plan is made travel in
``args``; ids that exist only at run time (a source created a moment ago) are resolved by
name when the operation executes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

# How a field change shows a value the plan holds but cannot see (a secret, an encrypted
# env value): the diff writes it, the executor reads it back from the operation's fields.
CONFIGURED = "configured"

INSTANCE_CREATE: Final = "instance.create"
INSTANCE_DELETE: Final = "instance.delete"
SETTINGS_PATCH: Final = "settings.patch"
ICON_PUT: Final = "icon.put"
ICON_DELETE: Final = "icon.delete"
SECRETS_PUT: Final = "secrets.put"
SECRET_DELETE: Final = "secret.delete"
ASSIGNMENT_ENABLE: Final = "assignment.enable"
ASSIGNMENT_DISABLE: Final = "assignment.disable"
ASSIGNMENT_UPGRADE: Final = "assignment.upgrade"
ASSIGNMENT_ROLLBACK: Final = "assignment.rollback"
ASSIGNMENT_AUTO_LOAD: Final = "assignment.auto-load"
TOOLS_PATCH: Final = "tools.patch"
SKILL_ENV_PUT: Final = "skill-env.put"
SKILL_ENV_DELETE: Final = "skill-env.delete"
PROMPTS_PATCH: Final = "prompts.patch"
CHANNEL_PUT: Final = "channel.put"
CHANNEL_DELETE: Final = "channel.delete"
ROOM_PUT: Final = "room.put"
ROOM_DELETE: Final = "room.delete"
SOURCE_CREATE: Final = "event-source.create"
SOURCE_UPDATE: Final = "event-source.update"
SOURCE_DELETE: Final = "event-source.delete"
DEFINITION_CREATE: Final = "definition.create"
DEFINITION_UPDATE: Final = "definition.update"
DEFINITION_DELETE: Final = "definition.delete"
TASK_CREATE: Final = "task.create"
TASK_UPDATE: Final = "task.update"
TASK_DELETE: Final = "task.delete"
HOOK_CREATE: Final = "hook.create"
HOOK_UPDATE: Final = "hook.update"
HOOK_DELETE: Final = "hook.delete"
CATALOG_IMPORT: Final = "catalog.import"
CATALOG_ARCHIVE: Final = "catalog.archive"

# Execution rank inside one instance (contract §17.8): the plan sorts its operations by it
# (stably, so the diff's own order holds within a rank) and apply runs them in that order.
RANK: Final[Mapping[str, float]] = MappingProxyType(
    {
        INSTANCE_CREATE: 0,
        SECRETS_PUT: 1,
        SECRET_DELETE: 1.5,
        SETTINGS_PATCH: 2,
        ICON_PUT: 3,
        ICON_DELETE: 3,
        ASSIGNMENT_ENABLE: 4,
        ASSIGNMENT_DISABLE: 4,
        ASSIGNMENT_UPGRADE: 4,
        ASSIGNMENT_ROLLBACK: 4,
        ASSIGNMENT_AUTO_LOAD: 4,
        TOOLS_PATCH: 5,
        SKILL_ENV_PUT: 6,
        SKILL_ENV_DELETE: 6.5,
        PROMPTS_PATCH: 7,
        CHANNEL_PUT: 8,
        CHANNEL_DELETE: 8,
        ROOM_PUT: 9,
        ROOM_DELETE: 9,
        SOURCE_CREATE: 10,
        SOURCE_UPDATE: 10,
        SOURCE_DELETE: 10,
        DEFINITION_CREATE: 10,
        DEFINITION_UPDATE: 10,
        DEFINITION_DELETE: 10,
        TASK_CREATE: 11,
        TASK_UPDATE: 11,
        TASK_DELETE: 11,
        HOOK_CREATE: 12,
        HOOK_UPDATE: 12,
        HOOK_DELETE: 12,
        CATALOG_IMPORT: 0,
        CATALOG_ARCHIVE: 0,
        INSTANCE_DELETE: 0,
    }
)
# Operations whose write depends on what the engine says when they run (a GET decides):
# they may end with no write at all.
CONDITIONAL: Final = frozenset({TOOLS_PATCH})
# Operations that may need several calls (batches under the body limit, or a fixed pair).
MULTI_CALL: Final = frozenset({SECRETS_PUT, PROMPTS_PATCH, TASK_CREATE, INSTANCE_DELETE})


@dataclass(frozen=True)
class FieldChange:
    """One field of one object: a dotted path relative to the object, old and new value.

    Paths use engine names and identify list items by name, e.g. ``description``,
    ``prompts.01-identity``, ``scheduledTasks[Daily digest].schedule``,
    ``eventSources[Orders].definitions[New order].enabled``, ``secrets[openai_api_key]``.
    Values are JSON-able; secrets appear only as presence ("configured"/"missing").
    """

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Operation:
    """One typed unit of work of one object: what to write, what it changes, its inputs."""

    type: str
    target: str = ""
    fields: tuple[FieldChange, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def before(self) -> dict[str, Any]:
        """Path → value before the operation (secrets as presence only)."""
        return {f.path: f.old for f in self.fields}

    @property
    def after(self) -> dict[str, Any]:
        """Path → value after the operation (secrets as presence only)."""
        return {f.path: f.new for f in self.fields}

    def label(self) -> str:
        """Short human name, e.g. ``task.update 'Daily digest'``."""
        return f"{self.type} {self.target!r}" if self.target else self.type

    def record(self) -> dict[str, Any]:
        """JSON-able form (saved plans, the checksum, ``--json``)."""
        return {
            "type": self.type,
            "target": self.target,
            "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in self.fields],
            "args": dict(self.args),
        }


def operation_from(record: Mapping[str, Any]) -> Operation:
    """Rebuild an operation from its ``record()`` (saved plans)."""
    kind = str(record["type"])
    if kind not in RANK:
        raise ValueError(f"unknown operation {kind!r}")
    fields = tuple(FieldChange(f["path"], f["old"], f["new"]) for f in record["fields"])
    args = record["args"]
    if not isinstance(args, dict):
        raise TypeError("operation args must be an object")
    return Operation(kind, str(record["target"]), fields, args)


def ordered(operations: list[Operation]) -> tuple[Operation, ...]:
    """Operations in execution order (stable within a rank)."""
    return tuple(sorted(operations, key=lambda op: RANK[op.type]))
