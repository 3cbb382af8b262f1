"""Executor of skill operations: catalog import and archive, assignments, and tools.

Catalog: the plan's import entries of every changed skill travel in as few
``POST /api/skills/catalog/import`` calls as fit (the other skills of a batch record the
call as "sent in the same call"). Assignments: one call per operation; the version UUID of
a rollback and the current version are resolved when the operation runs (read once per
run). Tools: one ``GET …/tools`` shows the truth (manual vs skill-sourced rows); the
``PATCH`` of desired manual ∪ skill-sourced follows only when the manual set differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reconciler.engine.executor.change import ChangeRun, confirmer
from reconciler.engine.executor.context import RunContext, StepFailed
from reconciler.engine.executor.wire import MAX_BODY_BYTES, batches, inst_path, seg
from reconciler.engine.report import Call
from reconciler.plan import operations as op
from reconciler.plan.operations import Operation

IMPORT_PATH = "/api/skills/catalog/import"
HARMLESS_TOOL = "readSkill"  # kept when the desired tool set is empty: zero rows = ALL tools


def import_skills(ctx: RunContext, runs: list[ChangeRun]) -> None:
    """Create or update every changed catalog skill with as few import calls as fit."""
    entries: dict[str, tuple[ChangeRun, dict[str, Any]]] = {}
    for run in runs:
        for index, operation in enumerate(run.change.operations):
            if operation.type == op.CATALOG_IMPORT:
                run.op_index = index
                entries[run.slug] = (run, dict(operation.args))
    items = [entry for _, entry in entries.values()]
    for batch in batches(items, max_items=500, max_bytes=MAX_BODY_BYTES - 256):
        _import_batch(ctx, [entries[e["slug"]] for e in batch])


def _import_batch(ctx: RunContext, batch: list[tuple[ChangeRun, dict[str, Any]]]) -> None:
    lead = batch[0][0]
    envelope = {
        "version": "1.0",
        "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "type": "skills",
        "skills": [entry for _, entry in batch],
    }
    what = f"skills catalog import ({len(batch)} skill(s))"
    error: str | None = None
    answer: Any = None
    try:
        answer = lead.write("POST", IMPORT_PATH, envelope, what=what)
    except StepFailed as exc:
        error = str(exc)
    for run, entry in batch[1:]:
        note = f"sent in the same call as {lead.key}"
        body = {"skills": [entry["slug"]]}
        run.calls.append(Call("POST", IMPORT_PATH, body, what, note, op=run.op_index))
    for run, entry in batch:
        _import_outcome(ctx, run, entry, (answer, error))


def _import_outcome(
    ctx: RunContext, run: ChangeRun, entry: dict[str, Any], outcome: tuple[Any, str | None]
) -> None:
    answer, error = outcome
    if ctx.dry_run:
        ctx.changed_skills.add(run.slug)
        if run.change.action == "create":
            ctx.created_skills.add(run.slug)
        return
    if error is None and isinstance(answer, dict):
        if run.slug in (answer.get("created") or []) + (answer.get("updated") or []):
            ctx.changed_skills.add(run.slug)
            return
        if run.slug in (answer.get("skipped") or []):
            error = "the engine skipped it (its version string already exists there)"
        else:
            error = "the engine's answer does not list it"
    elif error is not None and _landed(run, entry):
        run.note(f"the import call failed ({error}) but a re-read shows this skill landed")
        ctx.changed_skills.add(run.slug)
        return
    run.failures.append(f"catalog import: {error or 'no answer'}")
    ctx.failed_skills.add(run.slug)


def _landed(run: ChangeRun, entry: dict[str, Any]) -> bool:
    # Import is not atomic across entries (§6.8): learn per skill what is true now.
    try:
        detail = run.read(f"/api/skills/{seg(run.slug)}", what=f"skill {run.slug!r}")
    except StepFailed:
        return False
    if not isinstance(detail, dict):
        return False
    version = entry["versions"][0]
    meta = version["metadata"]
    return (
        detail.get("content") == version["content"]
        and (detail.get("description") or "") == entry["description"]
        and _canonical(detail.get("requiredTools")) == _canonical(meta.get("requiredTools"))
        and _canonical(detail.get("requiredEnv")) == _canonical(meta.get("requiredEnv"))
    )


def _canonical(items: Any) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True) for i in items or [])


def archive(run: ChangeRun, operation: Operation) -> None:
    """Archive (the engine's only delete) a catalog skill."""
    del operation
    run.write("DELETE", f"/api/skills/{seg(run.slug)}", what=f"skill {run.slug!r}")


def _usable(run: ChangeRun, skill: str) -> bool:
    if skill in run.ctx.failed_skills:
        run.skip(f"skill {skill}", "its catalog import failed, so it is left as it is")
        return False
    return True


def enable(run: ChangeRun, operation: Operation) -> None:
    """Enable (POST) one assignment; a new row is pinned to the current version."""
    if _usable(run, operation.target):
        _switch(run, operation.target, on=True)


def disable(run: ChangeRun, operation: Operation) -> None:
    """Disable (DELETE) one assignment (assignments cannot be deleted)."""
    if _usable(run, operation.target):
        _switch(run, operation.target, on=False)


def _switch(run: ChangeRun, skill: str, *, on: bool) -> None:
    """Enable (POST) or disable (DELETE) one assignment; settle a lost answer by re-reading."""
    path = inst_path(run.slug, "skills", skill)

    def confirm() -> Any:
        answer = run.read(inst_path(run.slug, "skills"), what=f"skills of {run.slug!r}")
        rows = answer.get("skills", []) if isinstance(answer, dict) else []
        row = next((r for r in rows if isinstance(r, dict) and r.get("name") == skill), None)
        return answer if row is not None and row.get("enabled") is on else None

    verb = "enable" if on else "disable"
    what = f"{verb} skill {skill!r} on instance {run.slug!r}"
    run.moved_skills = True
    run.write("POST" if on else "DELETE", path, what=what, confirm=confirm)


def _what(run: ChangeRun, skill: str) -> str:
    return f"skill {skill!r} on instance {run.slug!r}"


def upgrade(run: ChangeRun, operation: Operation) -> None:
    """Move the assignment to the catalog's current version."""
    skill = operation.target
    if _usable(run, skill):
        run.moved_skills = True
        path = inst_path(run.slug, "skills", skill, "upgrade")
        run.write("POST", path, what=f"upgrade of {_what(run, skill)}")


def rollback(run: ChangeRun, operation: Operation) -> None:
    """Pin the assignment to an explicit version; its UUID is resolved now (by name)."""
    skill, pinned = operation.target, str(operation.args["version"])
    if not _usable(run, skill):
        return
    run.moved_skills = True
    versions = run.ctx.versions(skill)
    version_id = versions.get(pinned)
    if version_id is None:
        if run.ctx.dry_run and skill in run.ctx.changed_skills:
            version_id = f"<id of version {pinned!r} of skill {skill!r}>"
        else:
            raise StepFailed(
                f"skill {skill!r} has no version {pinned!r} on the engine; "
                f"known: {', '.join(versions) or 'none'}"
            )
    path = inst_path(run.slug, "skills", skill, "rollback")
    what = f"pin of {_what(run, skill)} to {pinned}"
    run.write("POST", path, {"versionId": version_id}, what=what)


def auto_load(run: ChangeRun, operation: Operation) -> None:
    """Switch the assignment's auto-load."""
    skill = operation.target
    if _usable(run, skill):
        run.moved_skills = True
        path = inst_path(run.slug, "skills", skill, "auto-load")
        body = {"autoLoad": bool(operation.args["value"])}
        run.write("POST", path, body, what=f"auto-load of {_what(run, skill)}")


def patch_tools(run: ChangeRun, operation: Operation) -> None:
    """PATCH desired manual ∪ current skill-sourced tools, only when the manual set differs.

    A GET shows the truth first: skill steps may have turned manual tools into skill ones
    (§5.2). When nothing moved and the plan's sets agree, no read is needed at all.
    """
    want, have = set(operation.args["manual"]), set(operation.args["live"])
    differs = any(f.path == "manualTools" for f in operation.fields)
    if not differs and not run.moved_skills and not operation.args.get("deferred"):
        return
    rows, registry = _tool_rows(run, sorted(have))
    from_skills = {name for name, source in rows.items() if source in ("skill", "global")}
    manual = {name for name, source in rows.items() if source == "manual"}
    visible = want & registry  # agent:<slug> and harness tools are not in the registry
    needed = (
        bool(visible - manual - from_skills)
        or bool(manual - visible)
        or (want - registry) != (have - registry)
    )
    if needed:
        _patch(run, want | from_skills, _tools_hold(want, have, _from_skills(operation)))


def _from_skills(operation: Operation) -> set[str]:
    """Desired manual tools the plan counts as skill-sourced (it subtracts those, §5.2)."""
    want = set(operation.args["manual"])
    for change in operation.fields:
        if change.path == "manualTools":
            return want - set(change.new or [])
    # Sets the plan found equal: a desired tool missing live can only be skill-sourced.
    return want - set(operation.args["live"])


def _tools_hold(want: set[str], have: set[str], skilled: set[str]) -> Callable[[Any], bool]:
    """Does a tool list (PATCH or GET answer) show the manual set the plan compares?"""

    def holds(answer: Any) -> bool:
        tools = answer.get("tools") if isinstance(answer, dict) else None
        if not isinstance(tools, list):
            return False
        rows = {
            t["name"]: (t.get("enabled") is True, t.get("source"))
            for t in tools
            if isinstance(t, dict) and isinstance(t.get("name"), str)
        }
        if not (want | have) <= rows.keys():
            return False  # agent:<slug> and harness tools are in no tool list (§5.3)
        for name, (enabled, source) in rows.items():
            if name in want and not (enabled and (source == "manual" or name in skilled)):
                return False
            if name not in want and enabled and source == "manual":
                return False
        return True

    return holds


def _patch(run: ChangeRun, names: set[str], holds: Callable[[Any], bool]) -> None:
    """One PATCH of the complete visible tool set (never empty: zero rows = ALL tools).

    The answer lists every registry tool after the write with its source (§5.4).
    """
    if not names:
        names = {HARMLESS_TOOL}
        run.ctx.notice(
            f"instance/{run.slug}: the desired tool set is empty, but an instance without "
            f"tool rows gets ALL tools (contract §5.2); kept {HARMLESS_TOOL!r} instead"
        )
    body = {"enabled": sorted(names)}
    path, what = inst_path(run.slug, "tools"), f"tools of {run.slug!r}"
    confirm = confirmer(run, path, what, holds)
    run.write("PATCH", path, body, what=what, confirm=confirm, expect=holds)


def _tool_rows(run: ChangeRun, live: list[str]) -> tuple[dict[str, str], set[str]]:
    """Enabled tool rows (name → source) and the registry's names, as the engine says now."""
    if run.change.action == "create" and run.ctx.dry_run:
        return dict.fromkeys(live, "manual"), set(live)
    answer = run.read(inst_path(run.slug, "tools"), what=f"tools of {run.slug!r}")
    tools = answer.get("tools", []) if isinstance(answer, dict) else []
    rows = {
        str(t["name"]): str(t.get("source"))
        for t in tools
        if isinstance(t, dict) and t.get("enabled") and "name" in t
    }
    return rows, {str(t["name"]) for t in tools if isinstance(t, dict) and "name" in t}
