"""The reviewed-plan gate of a pipelined apply: what each object must match before it is written."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.engine.report import ChangeResult
from reconciler.errors import PlanError
from reconciler.plan import safety
from reconciler.plan.changes import Change, Duplicate, Plan, duplicates_line

MOVED = (
    "changed since the plan was reviewed: nothing was written for it; run plan again and review it"
)


@dataclass(frozen=True)
class Review:
    """What each object's change must match before it is written."""

    plan: Plan | None = None  # a reviewed plan: per object, its change and live fingerprint
    checksum: str | None = None  # --expect-checksum alone: only the whole set can tell

    @property
    def whole_only(self) -> bool:
        """Only the whole change set can be checked: nothing may run before the last read."""
        return self.checksum is not None and self.plan is None


NO_REVIEW = Review()


@dataclass
class Gate:
    """Checks changes against the review and keeps the objects it left unwritten."""

    review: Review
    lock: threading.Lock = field(default_factory=threading.Lock)
    failed: list[ChangeResult] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one error line per object
    by_key: dict[str, Change] | None = None  # the reviewed changes by key, built once

    def allowed(self, change: Change) -> bool:
        """False (and the object reported) when it moved since the reviewed plan."""
        reviewed = self.review.plan
        if reviewed is None:
            return True
        mine = self._reviewed().get(change.key)
        if safety.moved_since_review(change, mine):
            self.refuse(change.key, change.action, MOVED)
            return False
        return True

    def refused_key(self, key: str) -> bool:
        """Whether this object was left unwritten already."""
        with self.lock:
            return any(r.key == key for r in self.failed)

    def _reviewed(self) -> dict[str, Change]:
        if self.by_key is None:
            reviewed = self.review.plan
            self.by_key = {c.key: c for c in reviewed.changes} if reviewed else {}
        return self.by_key

    def check_whole(self, plan: Plan) -> None:
        """What only the whole plan can tell: an expected checksum, reviewed objects unseen."""
        reviewed, expected = self.review.plan, self.review.checksum
        if reviewed is None:
            if expected and safety.checksum(plan) != expected:
                raise PlanError(
                    "the change set differs from the reviewed plan (reviewed "
                    f"{expected[:12]}, now {safety.checksum(plan)[:12]}): nothing was written; "
                    "the repo or the engine moved since the review; plan again and review it"
                )
            return
        fresh = {c.key for c in plan.changes}
        for change in reviewed.changes:
            if change.key not in fresh:
                self.refuse(change.key, change.action, MOVED)

    def refuse_duplicates(self, slug: str, action: str, dupes: Sequence[Duplicate]) -> None:
        """Extra copies would run or live on unseen: the instance waits for --prune."""
        reason = (
            f"{duplicates_line(dupes)}: not written; "
            "run with --prune to delete the extra copies, or delete them on the engine"
        )
        self.refuse(f"instance/{slug}", action, reason, line=reason)  # the line names the key

    def refuse(self, key: str, action: str, reason: str, *, line: str | None = None) -> None:
        """An object left unwritten: a failed result and one error line (`key reason`)."""
        with self.lock:
            if key not in {r.key for r in self.failed}:
                self.failed.append(ChangeResult(key, action, "failed", reason))
                self.refused.append(line or f"{key} {reason}")
