"""One change while apply runs its operations: the call log, failures, skips, run-time ids.

`ChangeRun.write` is the only place a write is sent: it records the redacted `Call`,
skips sending in a dry run, and settles an unknown outcome (maybe committed) by re-reading
instead of resending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from reconciler.engine.executor.context import RunContext, StepFailed
from reconciler.engine.executor.wire import redact, reveal
from reconciler.engine.report import Call, ChangeResult, Status
from reconciler.errors import EngineError
from reconciler.plan.changes import Change

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
        self.op_index = -1  # the operation whose calls are being made
        self.configured: set[str] = set()  # secret keys this run put
        self.ids: dict[str, str | None] = {}  # source name → id of a source created now
        self.moved_skills = False  # an assignment call was made or failed
        self.listed: dict[str, set[str]] = {}  # list path → names on the engine before creates

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
        expect: Callable[[Any], bool] | None = None,
    ) -> Any:
        """Send one write (or only record it in a dry run); on an unknown outcome, re-read.

        `confirm` re-reads the object and returns what the write's answer would have
        carried when it landed, or None when it did not: writes are never resent blindly.
        `expect` tells whether an answer (or that re-read) shows the state the write asked
        for; a confirmed write needs no verification re-read. Without `expect`, a DELETE's
        success confirms itself and nothing else does.
        """
        call = Call(method, path, redact(body), what, op=self.op_index)
        self.calls.append(call)
        self.ctx.progress(f"{self.key}: {method} {path}")
        if self.ctx.dry_run:
            return None
        self.ctx.count(write=True)
        try:
            answer = self.ctx.client.request(method, path, reveal(body), what=what)
        except EngineError as exc:
            if exc.maybe_committed and confirm is not None:
                found = self._confirm(confirm)
                if found is not None:
                    call.note = "no answer from the engine; a re-read shows the write landed"
                    call.confirmed = _confirms(method, expect, found)
                    return found
            raise StepFailed(self.ctx.scrub(str(exc))) from exc
        call.confirmed = _confirms(method, expect, answer)
        return answer

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
        entry = f"{part}: {reason}"
        if entry not in self.skips:
            self.skips.append(entry)

    def note(self, text: str) -> None:
        """Record something notable that was done (e.g. a replace)."""
        self.notes.append(text)

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


def _confirms(method: str, expect: Callable[[Any], bool] | None, answer: Any) -> bool:
    if expect is not None:
        return expect(answer)
    return method == "DELETE"


def confirmer(
    run: ChangeRun, path: str, what: str, holds: Callable[[Any], bool]
) -> Callable[[], Any]:
    """A `confirm` for `write`: re-read `path`; its answer when `holds` says the write
    landed, else None (the GET answers in the shape of the write's own answer)."""

    def confirm() -> Any:
        answer = run.read(path, what=what)
        return answer if holds(answer) else None

    return confirm


def known_id(value: str | None, what: str) -> str:
    """An engine id the plan carried; a missing one means the object is gone."""
    if not value:
        raise StepFailed(f"the engine no longer lists {what}; re-run plan")
    return value


def appeared_since_plan(run: ChangeRun, path: str, name: str, list_key: str | None = None) -> bool:
    """True (and a skip recorded) when `name`, about to be created, exists on the engine now.

    Names are not unique on the engine (§17.5): a create that another writer beat since
    the plan would leave a duplicate for good, so creates re-check right before writing.
    The list is read once per run and path, before this run's first create there.
    """
    if run.ctx.dry_run:
        return False
    if path not in run.listed:
        answer = run.read(path, what=f"{path} (re-check before create)")
        rows = answer.get(list_key, []) if list_key and isinstance(answer, dict) else answer
        found = (
            [r.get("name") for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
        )
        run.listed[path] = {n for n in found if isinstance(n, str)}
    if name not in run.listed[path]:
        return False
    run.skip(
        repr(name),
        "appeared on the engine since the plan (another apply?): not created twice; plan again",
    )
    return True


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


def id_by_name(run: ChangeRun, path: str, name: str, list_key: str | None = None) -> str:
    """The id of the child named `name` as the engine lists it now (run-time resolution)."""
    if run.ctx.dry_run:
        return f"<id of {name!r}>"
    found = find_named(run, path, name, list_key)
    value = found.get("id") if isinstance(found, dict) else None
    if not isinstance(value, str) or not value:
        raise StepFailed(f"the engine no longer lists {name!r}; re-run plan")
    return value
