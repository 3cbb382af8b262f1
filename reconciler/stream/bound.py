"""What lets a pipelined apply write before its last read: the safety bound's parts, pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.model.objects import Instance
from reconciler.model.project import Project
from reconciler.plan import diff, safety
from reconciler.plan.changes import Change


def within_thresholds(
    project: Project, managed: int, known: Sequence[Change], unread: int, deletes_to_come: int
) -> bool:
    """No threshold can be crossed: the changes known so far, every unread instance counted
    as an update and every live instance the repo lacks as a delete, stay under them."""
    deletes = sum(c.action == "delete" for c in known) + deletes_to_come
    updates = sum(c.action == "update" for c in known) + unread
    return not safety.threshold_reasons(project, managed, deletes, updates)


def independent(change: Change) -> bool:
    """A change that may run as soon as it is diffed: no other instance must go first."""
    if change.action == "delete" or diff.wave_of(change) != "instances":
        return False
    desired = change.desired
    tools = desired.manual_tools or [] if isinstance(desired, Instance) else []
    return not any(t.startswith("agent:") for t in tools)


def may_wipe(inst: Instance) -> bool:
    """Whether this desired instance could ask to wipe memories (it may, until read)."""
    # Only a change of embeddingProvider wipes, and only confirmWipe allows it.
    return "embedding_provider" in inst.model_fields_set and not inst.confirm_wipe


def stamped(change: Change) -> Change:
    """The change with its live object's fingerprint instead of the object: a fleet's
    worth of live copies is not kept until the end (the fingerprint is all that reads it)."""
    return replace(change, fingerprint=safety.fingerprint(change.live), live=None)
