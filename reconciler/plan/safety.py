"""Safety thresholds, the plan checksum and per-object live fingerprints (pure).

- ``check_safety`` refuses a plan (returns it with ``unsafe_reasons``; ``require_safe``
  then raises ``UnsafePlan``, exit 4) when
  deletes exceed ``safety.maxDeletePercent`` of the managed objects or updates + deletes
  exceed ``safety.maxUpdatePercent``, counted only from ``safety.minObjects`` managed
  objects up, and whenever an empty repository met ``--prune`` (``diff`` then plans no
  delete at all: an empty desired state never prunes). ``force`` clears every reason.
- ``fingerprint`` hashes the normalized live object including engine ids and live-only
  facts, so a saved plan can tell that an object moved since it was reviewed.
- ``checksum`` hashes what would be written (kind, action, slug, field changes, desired
  dumps, operations, wave), never timestamps, notices or fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from pydantic import BaseModel

from reconciler.errors import UnsafePlan
from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.managed import normalize_instance, normalize_skill
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project
from reconciler.plan.changes import Change, LiveSnapshot, Plan

# Notice key diff() uses to flag an empty repository planned with --prune.
EMPTY_DESIRED_KEY = "plan/empty-repository"
ABSENT = "absent"


def canonical_json(value: Any) -> str:
    """The one JSON spelling hashed everywhere: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


_LINE_FIELDS = frozenset({*NEWER_SETTINGS, "confirm_wipe", "hooks"})


def full_dump(value: Any) -> Any:
    """Dump a model with every field, the ``exclude=True`` ids and live-only facts included."""
    if isinstance(value, BaseModel):
        # Settings an engine line lacks (never read there) stay out, so a main-line
        # fingerprint does not change with fields only newer engines have.
        unread = _LINE_FIELDS - value.model_fields_set
        names = [n for n in type(value).model_fields if n not in unread]
        return {name: full_dump(getattr(value, name, None)) for name in names}
    if isinstance(value, list | tuple):
        return [full_dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): full_dump(v) for k, v in value.items()}
    return value


def fingerprint(obj: Instance | Skill | None) -> str:
    """sha256 of the normalized live object (ids included); 'absent' when there is none."""
    if obj is None:
        return ABSENT
    normal = normalize_instance(obj) if isinstance(obj, Instance) else normalize_skill(obj)
    return _sha256(full_dump(normal))


def desired_dump(change: Change) -> dict[str, Any] | None:
    """The desired object as a saved plan keeps it: only the fields the repo sets."""
    if change.desired is None:
        return None
    out: dict[str, Any] = change.desired.model_dump(mode="json", exclude_unset=True)
    return out


def change_record(change: Change) -> dict[str, Any]:
    """A change as plain JSON data (what the checksum covers)."""
    return {
        "kind": change.kind,
        "action": change.action,
        "slug": change.slug,
        "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in change.fields],
        "desired": desired_dump(change),
        "operations": [operation.record() for operation in change.operations],
        "wave": change.wave,
        "unsupplied": list(change.unsupplied),
    }


def checksum(plan: Plan) -> str:
    """sha256 over the canonical change set: equal for equal writes, whatever else differs."""
    return _sha256([change_record(c) for c in plan.changes])


def managed_count(
    live: LiveSnapshot, project: Project, env: str | None = None, desired: State | None = None
) -> int:
    """The safety denominator: objects this repo manages, in scope, live or desired.

    Thresholds count the whole managed fleet, not just a scoped read: deleting one of two
    scoped instances out of a hundred is 1 %, not 50 % (``instance_slugs`` lists every
    instance the engine has, even when only some were read).
    """
    scope = project.scope_for(env)
    seen = set(live.instance_slugs) | set(live.state.instances)
    instances = {s for s in seen if scope.has_instance(s)}
    skills = {s for s, k in live.state.skills.items() if scope.has_skill(s) and not k.archived}
    if desired is not None:
        instances |= set(desired.instances)
        skills |= set(desired.skills)
    return len(instances) + len(skills)


def check_safety(plan: Plan, project: Project, *, managed_count: int, force: bool = False) -> Plan:
    """The plan with the thresholds' verdict in ``unsafe_reasons`` (none when `force`)."""
    reasons = () if force else tuple(_reasons(plan, project, managed_count))
    return replace(plan, unsafe_reasons=reasons)


def require_safe(plan: Plan) -> None:
    """Refuse to go on with a plan a threshold refused: UnsafePlan, exit 4."""
    if plan.unsafe:
        raise UnsafePlan("the plan is refused as unsafe: " + "; ".join(plan.unsafe_reasons))


def _reasons(plan: Plan, project: Project, managed: int) -> list[str]:
    out: list[str] = []
    if any(n.key == EMPTY_DESIRED_KEY for n in plan.notices):
        out.append(
            "the repository declares no instance and no skill, yet --prune was asked for: "
            "nothing will be pruned; check that you run in the right folder and branch"
        )
    counts = plan.counts()
    return out + threshold_reasons(project, managed, counts["delete"], counts["update"])


def threshold_reasons(project: Project, managed: int, deletes: int, updates: int) -> list[str]:
    """Why `deletes` and `updates` of `managed` objects cross safety's thresholds (if they do).

    The pipelined apply calls it with the most the unread objects could still add, so it
    writes nothing before the thresholds cannot be crossed any more.
    """
    out: list[str] = []
    safety = project.safety
    if managed < max(safety.min_objects, 1):
        return out
    rewrites = deletes + updates
    if 100.0 * deletes / managed > safety.max_delete_percent:
        out.append(
            f"the plan deletes {deletes} of {managed} managed objects "
            f"({_pct(deletes, managed)}), above safety.maxDeletePercent "
            f"{safety.max_delete_percent:g}%; review it and re-run with --force"
        )
    if 100.0 * rewrites / managed > safety.max_update_percent:
        out.append(
            f"the plan updates or deletes {rewrites} of {managed} managed objects "
            f"({_pct(rewrites, managed)}), above safety.maxUpdatePercent "
            f"{safety.max_update_percent:g}%; review it and re-run with --force"
        )
    return out


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}%"


def check_fresh(plan: Plan, live: LiveSnapshot) -> list[str]:
    """Keys of planned objects whose live fingerprint moved since the plan was made."""
    stale = []
    for change in plan.changes:
        expected = plan.fingerprints.get(change.key)
        if expected is None:
            continue
        pool = live.state.instances if change.kind == "instance" else live.state.skills
        current = pool.get(change.slug)
        if fingerprint(current) != expected:
            stale.append(change.key)
    return stale


def moved_since_review(change: Change | None, reviewed: Change | None) -> bool:
    """True when an object's fresh change is not the reviewed one (or its live object moved).

    The per-object form of ``check_fresh`` and ``checksum``: a pipelined apply writes an
    object only when this is False, so each object gets exactly its reviewed change.
    """
    if change is None or reviewed is None:
        return change is not reviewed
    now = change.fingerprint or fingerprint(change.live)
    if reviewed.fingerprint is not None and now != reviewed.fingerprint:
        return True
    return change_record(change) != change_record(reviewed)
