"""Shared machinery of the apply steps: one change's call log and field helpers.

`ChangeRun.write` is the only place a write is sent: it records the redacted `Call`,
skips sending in a dry run, and settles an unknown outcome (maybe committed) by re-reading
instead of resending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from reconciler.engine.report import Call, ChangeResult, Status
from reconciler.engine.steps_context import RunContext, StepFailed
from reconciler.engine.steps_wire import (
    MAX_BODY_BYTES,
    batches,
    dump_value,
    inst_path,
    redact,
    reveal,
    seg,
)
from reconciler.errors import EngineError
from reconciler.model.objects import Definition, EventSource, ScheduledTask
from reconciler.plan.changes import Change

__all__ = [
    "MAX_BODY_BYTES",
    "ChangeRun",
    "RunContext",
    "StepFailed",
    "batches",
    "changed_fields",
    "dump_value",
    "find_named",
    "inst_path",
    "known_id",
    "seg",
]
T = TypeVar("T")


class ChangeRun:
    """The steps of one change: sends or records calls, collects failures and skips."""

    def __init__(self, ctx: RunContext, change: Change) -> None:
        self.ctx = ctx
        self.change = change
        self.key = change.key
        self.calls: list[Call] = []
        self.failures: list[str] = []
        self.skips: list[str] = []
        self.notes: list[str] = []
        self.failed_steps: set[str] = set()

    @property
    def slug(self) -> str:
        """Slug of the changed object."""
        return self.change.slug

    def write(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        what: str,
        confirm: Callable[[], Any] | None = None,
    ) -> Any:
        """Send one write (or only record it in a dry run); on an unknown outcome, re-read.

        `confirm` re-reads the object and returns what the write's answer would have
        carried when it landed, or None when it did not: writes are never resent blindly.
        """
        call = Call(method, path, redact(body), what)
        self.calls.append(call)
        self.ctx.progress(f"{self.key}: {method} {path}")
        if self.ctx.dry_run:
            return None
        self.ctx.count(write=True)
        try:
            return self.ctx.client.request(method, path, reveal(body), what=what)
        except EngineError as exc:
            if exc.maybe_committed and confirm is not None:
                found = self._confirm(confirm)
                if found is not None:
                    call.note = "no answer from the engine; a re-read shows the write landed"
                    return found
            raise StepFailed(self.ctx.scrub(str(exc))) from exc

    def _confirm(self, confirm: Callable[[], Any]) -> Any:
        try:
            return confirm()
        except (EngineError, StepFailed):
            return None

    def read(self, path: str, *, what: str) -> Any:
        """One GET (also in a dry run); failures become StepFailed."""
        self.ctx.count(write=False)
        try:
            return self.ctx.client.get(path, what=what)
        except EngineError as exc:
            raise StepFailed(self.ctx.scrub(str(exc))) from exc

    def new_id(self, answer: Any, what: str, *keys: str) -> str:
        """The id the engine gave a created object, or a placeholder in a dry run."""
        if self.ctx.dry_run:
            return f"<id of {what}>"
        value: Any = answer
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str) or not value:
            raise StepFailed(f"the engine created {what} but answered without its id")
        return value

    def step(self, name: str, fn: Callable[[], T]) -> T | None:
        """Run one independent step; a failure is recorded and the other steps go on."""
        try:
            return fn()
        except StepFailed as exc:
            self.failures.append(f"{name}: {exc}")
            self.failed_steps.add(name)
        except EngineError as exc:
            self.failures.append(f"{name}: {self.ctx.scrub(str(exc))}")
            self.failed_steps.add(name)
        return None

    def skip(self, part: str, reason: str) -> None:
        """Record a part that cannot be done (missing input or a failed dependency)."""
        self.skips.append(f"{part}: {reason}")

    def note(self, text: str) -> None:
        """Record something notable that was done (e.g. a replace)."""
        self.notes.append(text)

    def ignored(self, path: str) -> bool:
        """True when the project's ignore rules leave this field path to the engine."""
        root = "instances" if self.change.kind == "instance" else "skills"
        return self.ctx.project.is_ignored(f"{root}.{self.slug}.{path}")

    def removal_planned(self, path: str, *, allowed: bool | None = None) -> bool:
        """True when pruning is on and the reviewed plan removes the child at `path`.

        `allowed` is the project's prune policy for this kind of child (children by default).
        """
        policy = self.ctx.project.prune.children if allowed is None else allowed
        if not (self.ctx.prune and policy):
            return False
        return any(
            f.path == path or f.path.startswith((path + ".", path + "["))
            for f in self.change.fields
        )

    def result(self) -> ChangeResult:
        """The change's outcome: failed > skipped (nothing done) > applied > noop."""
        reason = "; ".join(self.failures + self.skips + self.notes)
        status: Status
        if self.failures:
            status = "failed"
        elif self.skips and not self.calls:
            status = "skipped"
        elif self.calls:
            status = "applied"
        else:
            status = "noop"
        result = ChangeResult(self.key, self.change.action, status, reason, list(self.calls))
        result.skipped_parts = list(self.skips)
        return result


def changed_fields(
    run: ChangeRun,
    desired: BaseModel,
    base: BaseModel | None,
    names: Iterable[str],
    prefix: str,
) -> dict[str, Any]:
    """Engine-named fields that `desired` manages and that differ from `base` (all if None)."""
    out: dict[str, Any] = {}
    for name in names:
        if name not in desired.model_fields_set:
            continue
        alias = to_camel(name)
        if run.ignored(prefix + alias):
            continue
        new = dump_value(getattr(desired, name))
        if base is not None and dump_value(getattr(base, name)) == new:
            continue
        out[alias] = new
    return out


def known_id(obj: EventSource | Definition | ScheduledTask) -> str:
    """The engine id of a live child (re-read by name when the plan carried none)."""
    if not obj.id:
        raise StepFailed(f"the engine no longer lists {obj.name!r}; re-run plan")
    return obj.id


def find_named(run: ChangeRun, path: str, name: str, list_key: str | None = None) -> Any:
    """After a create with no answer: the object of that name if it landed, else None.

    The result mimics both create answers: ``{"id"}`` (event sources, definitions) and
    ``{"task": {"id"}}`` (scheduled tasks).
    """
    answer = run.read(path, what=f"{path} (re-read)")
    rows = answer.get(list_key, []) if list_key and isinstance(answer, dict) else answer
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("name") == name:
            return {"id": row.get("id"), "task": row}
    return None
