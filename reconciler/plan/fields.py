"""Field-level comparison helpers: the per-object context, scalar fields, prompts and skills.

Pure: no I/O. Conventions shared by every field diff (see also ``reconciler.plan.diff``):

- Only managed fields are compared: the ones present in the desired model's fields set,
  recursively for nested models. A live object missing altogether (a create) compares
  against nothing, so every managed desired value shows up as ``old=None``.
- FieldChange values are JSON-able. ``new=None`` on a child path (``eventSources[X]``,
  ``channels.slack``, ``skillEnv.s.K`` …) means "remove that child"; such removals are only
  planned under ``--prune`` with ``prune.children`` (secrets: ``prune.secrets``), otherwise
  they become an info Notice.
- Nothing secret can enter a FieldChange: secrets, sensitive skill env values and event
  source configs are shown as presence only (``configured`` / ``missing``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from reconciler.model.managed import managed_fields
from reconciler.model.objects import Skill, SkillAssignment
from reconciler.model.project import Project
from reconciler.plan.changes import Kind, Notice
from reconciler.plan.operations import FieldChange, Operation

MISSING = "missing"
# Expected pin of an assignment that follows a skill which this very plan creates or updates:
# the engine picks the version string at apply time, so it cannot be known now.
NEW_VERSION = "(new version)"
SKILL_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "category",
    "content",
    "required_env",
    "required_tools",
    "metadata",
)
_ICON_V = re.compile(r"\?v=\d+$")


@dataclass
class DiffContext:
    """What one object's diff accumulates, plus the policy it is diffed under."""

    kind: Kind
    slug: str
    project: Project
    prune: bool = False
    supplied: frozenset[str] = frozenset()
    fields: list[FieldChange] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    drafts: list[OpDraft] = field(default_factory=list)
    wanted: set[str] = field(default_factory=set)  # variables the plan needs but lacks
    fresh: bool = False  # a create: operations are planned against a fresh instance

    @property
    def key(self) -> str:
        """The object key, e.g. 'instance/helpdesk'."""
        return f"{self.kind}/{self.slug}"

    def ignored(self, path: str) -> bool:
        """True when polyant.yaml `ignore` leaves this field path to the engine."""
        return self.project.is_ignored(f"{self.kind}s.{self.slug}.{path}")

    def begin(self, kind: str, target: str = "", *, keep: bool = False, **args: Any) -> OpDraft:
        """Open the operation the next field changes belong to (kept only if it gets one)."""
        draft = OpDraft(kind, target, keep=keep, args=dict(args))
        self.drafts.append(draft)
        return draft

    def add(self, path: str, old: Any, new: Any, *, into: OpDraft | None = None) -> bool:
        """Record a field change unless the values agree or the path is ignored.

        The change belongs to `into`, or else to the operation opened last.
        """
        if old == new or self.ignored(path):
            return False
        self._record(FieldChange(path, old, new), into)
        return True

    def _record(self, change: FieldChange, into: OpDraft | None = None) -> None:
        self.fields.append(change)
        target = into if into is not None else (self.drafts[-1] if self.drafts else None)
        if target is not None:
            target.fields.append(change)

    def fold(self, mark: int, into: OpDraft) -> None:
        """Move the fields of every operation opened since `mark` into `into`, dropping them."""
        for draft in self.drafts[mark:]:
            into.fields.extend(draft.fields)
        del self.drafts[mark:]

    def lacks(self, var: str, message: str, path: str | None = None) -> None:
        """A value apply needs is not supplied: warn (unless ignored) and remember `var`."""
        if path is not None and self.ignored(path):
            return
        self.note("warning", message)
        self.want(var)

    def want(self, var: str) -> None:
        """Remember a variable that would supply a value apply needs (it is not set)."""
        self.wanted.add(var)

    def operations(self) -> list[Operation]:
        """The operations that got a field change (or must run anyway), in diff order."""
        return [d.freeze() for d in self.drafts if d.fields or d.keep]

    def note(self, level: str, message: str, path: str | None = None) -> None:
        """Attach a notice to this object (dropped when it is about an ignored path)."""
        if path is not None and self.ignored(path):
            return
        self.notices.append(Notice("warning" if level == "warning" else "info", self.key, message))

    def removed(self, path: str, old: Any, what: str, *, switch: str = "children") -> None:
        """A child on the engine that the repo no longer has: prune it, or say why it stays.

        `switch` names the polyant.yaml prune setting that allows it (children / secrets).
        """
        if self.ignored(path):
            return
        allowed = bool(getattr(self.project.prune, switch))
        if self.prune and allowed:
            self._record(FieldChange(path, old, None))
            if self.drafts:
                self.drafts[-1].args["prune"] = True  # apply runs it only with --prune
            return
        why = "--prune would remove it" if allowed else f"polyant.yaml prune.{switch} is off"
        self.note("info", f"{what} is on the engine but not in the repository; {why}")


@dataclass
class OpDraft:
    """An operation while its object is being diffed: fields and args still growing."""

    kind: str
    target: str
    keep: bool = False
    args: dict[str, Any] = field(default_factory=dict)
    fields: list[FieldChange] = field(default_factory=list)

    def freeze(self) -> Operation:
        """The finished, immutable operation."""
        return Operation(self.kind, self.target, tuple(self.fields), self.args)


@dataclass(frozen=True)
class SkillWorld:
    """The catalog as this plan sees it: repo skills in scope, live skills, skills changing."""

    desired: Mapping[str, Skill]
    live: Mapping[str, Skill]
    changing: frozenset[str]

    def expected_pin(self, assignment: SkillAssignment) -> str | None:
        """The version an assignment should be pinned to after apply (None: unknown)."""
        if assignment.pinned_version:
            return assignment.pinned_version
        if assignment.slug in self.changing:
            return NEW_VERSION
        skill = self.live.get(assignment.slug)
        return skill.version if skill is not None else None

    def tools_for(self, assignment: SkillAssignment) -> set[str]:
        """Tools the assignment's pinned version requires (both candidates when unknown)."""
        want, have = self.desired.get(assignment.slug), self.live.get(assignment.slug)
        pin = assignment.pinned_version
        if pin is None:  # follows the current version: the repo's skill once applied
            chosen = want or have
            return set(chosen.required_tools) if chosen else set()
        if have is not None and pin == have.version:
            return set(have.required_tools)
        return set(want.required_tools if want else []) | set(have.required_tools if have else [])


def jsonable(value: Any) -> Any:
    """A JSON-able copy of a model value (models dumped by engine names, ids excluded)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def alias(model: BaseModel, name: str) -> str:
    """The engine (camelCase) name of a model field."""
    return _alias(type(model), name)


# Cached per model class: pydantic's class-level model_fields lookup is slow, and a plan
# of N instances asks it tens of thousands of times for the same few dozen fields.
@functools.cache
def _alias(cls: type[BaseModel], name: str) -> str:
    return cls.model_fields[name].alias or name


@functools.cache
def _field_names(cls: type[BaseModel]) -> tuple[str, ...]:
    return tuple(cls.model_fields)


def ordered_set_fields(model: BaseModel, skip: frozenset[str] = frozenset()) -> list[str]:
    """The fields a desired model manages, in declaration order (stable plans)."""
    managed = managed_fields(model)
    return [n for n in _field_names(type(model)) if n in managed and n not in skip]


def compare_set_fields(
    ctx: DiffContext,
    prefix: str,
    desired: BaseModel,
    live: BaseModel | None,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Compare every field set in `desired` with the same field of `live`."""
    for name in ordered_set_fields(desired, skip):
        old = jsonable(getattr(live, name, None)) if live is not None else None
        ctx.add(f"{prefix}.{alias(desired, name)}", old, jsonable(getattr(desired, name)))


def canonical_time(value: str | None) -> str | None:
    """An ISO time in one canonical UTC spelling ('Z' vs '+00:00' vs '.000Z' is no change)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    return parsed.astimezone(UTC).isoformat()


def icon_value(icon: str | None) -> str | None:
    """A short, stable stand-in for an icon: kind, size and hash instead of ~100 KB of base64."""
    if icon is None:
        return None
    icon = _ICON_V.sub("", icon)  # the URL form's ?v= changes on every instance update
    if not icon.startswith("data:"):
        return icon
    head = icon.split(",", 1)[0]
    digest = hashlib.sha256(icon.encode()).hexdigest()[:12]
    return f"{head} ({len(icon)} chars, sha256:{digest})"


def changed_body(draft: OpDraft, prefix: str, model: BaseModel) -> dict[str, Any]:
    """Request body of a partial update: each changed field of `draft` under `prefix`.

    Values come from the desired model (sub-models without null keys), keyed by engine name.
    """
    names = {alias(model, n): n for n in type(model).model_fields}
    out: dict[str, Any] = {}
    for change in draft.fields:
        key = change.path[len(prefix) + 1 :] if prefix else change.path
        if key in names:
            out[key] = dump_value(getattr(model, names[key]))
    return out


def dump_value(value: Any) -> Any:
    """JSON-able form of a model field value as a request carries it (no null keys)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def skill_fields(ctx: DiffContext, desired: Skill, live: Skill | None) -> None:
    """Compare a catalog skill's managed fields, scripts file by file."""
    managed = managed_fields(desired)
    for name in SKILL_FIELDS:
        if name in managed:
            old = jsonable(getattr(live, name)) if live is not None else None
            ctx.add(alias(desired, name), old, jsonable(getattr(desired, name)))
    if "scripts" in managed:
        _scripts(ctx, desired, live)


def _scripts(ctx: DiffContext, desired: Skill, live: Skill | None) -> None:
    have = {s.file: s for s in live.scripts} if live is not None else {}
    want = {s.file: s for s in desired.scripts}
    for name in sorted(want.keys() | have.keys()):
        new, old = want.get(name), have.get(name)
        path = f"scripts[{name}]"
        ctx.add(
            f"{path}.description",
            (old.description or None) if old else None,
            (new.description or None) if new else None,
        )
        ctx.add(f"{path}.content", old.content if old else None, new.content if new else None)
