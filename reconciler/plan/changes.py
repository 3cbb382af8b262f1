"""Typed changes and the Plan that carries them (pure data, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from reconciler.model.engineline import Capabilities
from reconciler.model.objects import Instance, Skill, State
from reconciler.plan.operations import FieldChange, Operation

Kind = Literal["skill", "instance"]
Action = Literal["create", "update", "delete"]
# When apply runs a change (decided by the plan): catalog skills first, then instances that
# switch their agent channel (callees, contract §9.5), then the other instances, then
# instance deletes, then skill archives (reverse dependency).
Wave = Literal["catalog", "callees", "instances", "deletes", "archives"]
WAVES: tuple[Wave, ...] = ("catalog", "callees", "instances", "deletes", "archives")
PLAN_SCHEMA_VERSION = 2  # 2: changes carry their typed operations


@dataclass(frozen=True)
class Change:
    """A create, update or delete of one instance or catalog skill."""

    kind: Kind
    action: Action
    slug: str
    fields: tuple[FieldChange, ...] = ()
    desired: Instance | Skill | None = None
    live: Instance | Skill | None = None
    operations: tuple[Operation, ...] = ()
    wave: Wave = "instances"
    # Variables that would supply a value this change needs, not set when it was planned.
    unsupplied: tuple[str, ...] = ()
    # sha256 of the live object when planned ('absent' for a create): a saved plan refuses
    # to run once it moved. Stamped once, by the diff.
    fingerprint: str | None = None

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


@dataclass(frozen=True)
class Duplicate:
    """An extra copy of a named child on the engine (names are not unique there, §17.5).

    Only the first copy of a name is managed; the others are a change of their own: apply
    --prune deletes them (a scheduled task would run twice, a webhook would live on).
    """

    instance: str
    label: str  # "scheduled task" or "event source"
    name: str
    path: str  # the extra copy's DELETE path

    @property
    def key(self) -> str:
        """The instance the copy belongs to, e.g. 'instance/helpdesk'."""
        return f"instance/{self.instance}"

    def describe(self) -> str:
        """One line for plans and errors."""
        ident = self.path.rsplit("/", 1)[-1]
        return f"extra {self.label} {self.name!r} of {self.key} (id {ident})"


def duplicates_line(found: Sequence[Duplicate]) -> str:
    """'duplicates on the engine: …; names must be unique per instance' (first five named)."""
    listed = "; ".join(d.describe() for d in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return f"duplicates on the engine: {listed}{more}; names must be unique per instance"


@dataclass(frozen=True)
class Plan:
    """Everything apply would do, plus what the user must know before it does.

    Immutable once made: a step that adds to it (safety, stamping, sharding) returns a new
    plan (``dataclasses.replace``), so the plan a reviewer saw is the plan that runs.
    """

    changes: tuple[Change, ...] = ()
    notices: tuple[Notice, ...] = ()
    unsafe_reasons: tuple[str, ...] = ()
    environment: str | None = None
    engine_url: str | None = None
    engine_line: str | None = None  # e.g. "develop (5e59498)": what the plan was made against
    commit: str | None = None
    scope: tuple[str, ...] | None = None
    left_out: tuple[str, ...] = ()
    targets: tuple[str, ...] | None = None  # --instance/--skill patterns of a targeted plan
    duplicates: tuple[Duplicate, ...] = ()

    @property
    def fingerprints(self) -> Mapping[str, str]:
        """Change key → fingerprint of its live object when the plan was made."""
        return {c.key: c.fingerprint for c in self.changes if c.fingerprint is not None}

    @property
    def has_changes(self) -> bool:
        """True when apply would write anything."""
        return bool(self.changes or self.duplicates)

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
    engine: Capabilities = field(default_factory=Capabilities)
    duplicates: list[Duplicate] = field(default_factory=list)
