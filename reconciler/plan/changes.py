"""Typed changes and the Plan that carries them (pure data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.model.objects import Instance, Skill, State

Kind = Literal["skill", "instance"]
Action = Literal["create", "update", "delete"]
PLAN_SCHEMA_VERSION = 1


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
class Change:
    """A create, update or delete of one instance or catalog skill."""

    kind: Kind
    action: Action
    slug: str
    fields: tuple[FieldChange, ...] = ()
    desired: Instance | Skill | None = None
    live: Instance | Skill | None = None

    @property
    def key(self) -> str:
        """Stable identity of the object, e.g. 'instance/helpdesk'."""
        return f"{self.kind}/{self.slug}"


@dataclass(frozen=True)
class Notice:
    """A warning or note attached to a plan (missing secret, unsafe flag, skipped object)."""

    level: Literal["warning", "info"]
    key: str
    message: str


@dataclass
class Plan:
    """Everything apply would do, plus what the user must know before it does."""

    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    unsafe_reasons: list[str] = field(default_factory=list)
    environment: str | None = None
    engine_url: str | None = None
    commit: str | None = None
    scope: list[str] | None = None
    left_out: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        """True when apply would write anything."""
        return bool(self.changes)

    @property
    def unsafe(self) -> bool:
        """True when a safety threshold refused the plan."""
        return bool(self.unsafe_reasons)

    def counts(self) -> dict[str, int]:
        """Number of changes by action: create / update / delete."""
        out = {"create": 0, "update": 0, "delete": 0}
        for change in self.changes:
            out[change.action] += 1
        return out


@dataclass
class LiveSnapshot:
    """What a read of the engine returns: the live State plus what could not be read cleanly.

    ``state.skills`` holds every catalog skill the read saw, archived ones flagged, so that
    validation can tell a known engine skill from a typo.
    """

    state: State
    notices: list[Notice] = field(default_factory=list)
    instance_slugs: list[str] = field(default_factory=list)
