"""Apply steps about skills: catalog import and archive, instance assignments, and tools.

Catalog: ONE ``POST /api/skills/catalog/import`` carries every new or changed skill
(batches under the body limit) because it is the only route that sets display name,
category, extra metadata and scripts. Each entry has a single version string that cannot
exist on the engine (``gitops-<hash>``), so the engine creates or updates it instead of
skipping it (§6.8). A skill is imported only when the plan says it differs, because every
import of an existing skill adds a version.

Assignments: enable / disable one at a time (the bulk PATCH races, §7.4), then the pin
(``upgrade`` to follow the current version, ``rollback`` by version UUID for an explicit
pin), then ``auto-load`` only when it differs.

Tools: after the skill steps, one ``GET …/tools`` shows the truth (which rows are manual,
which skill-sourced); a ``PATCH`` of desired manual ∪ skill-sourced follows only when the
manual set differs.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

from reconciler.engine.report import Call
from reconciler.engine.steps_common import (
    MAX_BODY_BYTES,
    ChangeRun,
    RunContext,
    StepFailed,
    batches,
    inst_path,
    seg,
)
from reconciler.model.objects import Instance, Skill, SkillAssignment

IMPORT_PATH = "/api/skills/catalog/import"
SKILL_FIELDS = ("name", "description", "category", "required_env", "required_tools", "metadata")
HARMLESS_TOOL = "readSkill"  # kept when the desired tool set is empty: zero rows = ALL tools


def catalog_entry(desired: Skill, live: Skill | None) -> dict[str, Any]:
    """One import entry; fields the repo leaves unmanaged keep their live values."""
    fields = desired.model_fields_set
    src = {
        n: getattr(live if live is not None and n not in fields else desired, n)
        for n in (*SKILL_FIELDS, "scripts")
    }
    meta = dict(src["metadata"])
    if src["required_env"]:
        meta["requiredEnv"] = [e.model_dump(exclude_none=True) for e in src["required_env"]]
    if src["required_tools"]:
        meta["requiredTools"] = list(src["required_tools"])
    version = {
        "content": desired.content,
        "metadata": meta,
        "scripts": [s.model_dump() for s in src["scripts"]],
    }
    head = {"name": src["name"], "description": src["description"], "category": src["category"]}
    digest = hashlib.sha256(json.dumps([head, version], sort_keys=True).encode()).hexdigest()
    version |= {"version": f"gitops-{digest[:12]}", "changelog": "Applied by polyant-gitops"}
    return {"slug": desired.slug, **head, "isDefault": False, "versions": [version]}


def import_skills(ctx: RunContext, runs: list[ChangeRun]) -> None:
    """Create or update every changed catalog skill with as few import calls as fit."""
    entries: dict[str, tuple[ChangeRun, dict[str, Any]]] = {}
    for run in runs:
        desired, live = run.change.desired, run.change.live
        if not isinstance(desired, Skill):
            run.failures.append("the plan carries no desired skill")
            ctx.failed_skills.add(run.slug)
            continue
        entries[run.slug] = (run, catalog_entry(desired, live if isinstance(live, Skill) else None))
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
        run.calls.append(Call("POST", IMPORT_PATH, {"skills": [entry["slug"]]}, what, note))
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


def archive_skill(run: ChangeRun) -> None:
    """Archive (the engine's only delete) a catalog skill, under prune only."""
    if not (run.ctx.prune and run.ctx.project.prune.skills):
        run.skip("archive", "archiving a skill needs --prune (and prune.skills)")
        return
    run.write("DELETE", f"/api/skills/{seg(run.slug)}", what=f"skill {run.slug!r}")


def apply_assignments(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """Enable / disable, pin and auto-load each assignment, one skill at a time."""
    if desired.skills is None:
        return
    have = {a.slug: a for a in live.skills or []}
    for want in desired.skills:
        if run.ignored(f"skills[{want.slug}]"):
            continue
        if want.slug in run.ctx.failed_skills:
            run.skip(f"skill {want.slug}", "its catalog import failed, so it is left as it is")
            continue
        run.step(f"skill {want.slug}", partial(_sync_assignment, run, want, have.get(want.slug)))
    for slug, current in sorted(have.items()):
        listed = any(a.slug == slug for a in desired.skills)
        if not listed and current.enabled and run.removal_planned(f"skills[{slug}]"):
            _switch(run, slug, on=False)


def _sync_assignment(
    run: ChangeRun, want: SkillAssignment, current: SkillAssignment | None
) -> None:
    prefix = f"skills[{want.slug}]."
    enable = None if run.ignored(prefix + "enabled") else want.enabled
    if current is None:
        _switch(run, want.slug, on=True)  # a new row is pinned to the current version
        pin, auto = run.ctx.current_version(want.slug), False
    else:
        pin, auto = current.pinned_version, current.auto_load
        if enable is not None and enable != current.enabled:
            _switch(run, want.slug, on=enable)
    what = f"skill {want.slug!r} on instance {run.slug!r}"
    if not run.ignored(prefix + "pinnedVersion"):
        _sync_pin(run, want, pin, what, fresh=current is None)
    auto_managed = "auto_load" in want.model_fields_set and not run.ignored(prefix + "autoLoad")
    if auto_managed and want.auto_load != auto:
        path = inst_path(run.slug, "skills", want.slug, "auto-load")
        run.write("POST", path, {"autoLoad": want.auto_load}, what=f"auto-load of {what}")
    if current is None and enable is False:
        # A disabled assignment exists only as enable then disable (§17.1).
        _switch(run, want.slug, on=False)


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
    run.write("POST" if on else "DELETE", path, what=what, confirm=confirm)


def _sync_pin(
    run: ChangeRun, want: SkillAssignment, pin: str | None, what: str, *, fresh: bool
) -> None:
    path = inst_path(run.slug, "skills", want.slug)
    if want.pinned_version is None:
        if fresh:
            return  # enable pinned the new row to the current version already
        current = run.ctx.current_version(want.slug)
        if current is None or pin != current:
            run.write("POST", f"{path}/upgrade", what=f"upgrade of {what}")
        return
    if want.pinned_version == pin:
        return
    versions = run.ctx.versions(want.slug)
    version_id = versions.get(want.pinned_version)
    if version_id is None:
        if run.ctx.dry_run and want.slug in run.ctx.changed_skills:
            version_id = f"<id of version {want.pinned_version!r} of skill {want.slug!r}>"
        else:
            raise StepFailed(
                f"skill {want.slug!r} has no version {want.pinned_version!r} on the engine; "
                f"known: {', '.join(versions) or 'none'}"
            )
    body = {"versionId": version_id}
    run.write("POST", f"{path}/rollback", body, what=f"pin of {what} to {want.pinned_version}")


def apply_tools(
    run: ChangeRun, desired: Instance, live: Instance, *, recheck: bool, force: bool = False
) -> None:
    """PATCH desired manual ∪ current skill-sourced tools, only when the manual set differs.

    `recheck` reads the tools even when the models agree (skill steps ran and may have
    turned manual tools into skill ones, §5.2); `force` PATCHes anyway (a callee's agent
    channel just appeared, so `agent:<callee>` can now be added, §17.6).
    """
    if desired.manual_tools is None or run.ignored("manualTools"):
        return
    want = set(desired.manual_tools)
    if not (recheck or force) and want == set(live.manual_tools or []):
        return
    rows, registry = _tool_rows(run, live)
    from_skills = {name for name, source in rows.items() if source in ("skill", "global")}
    manual = {name for name, source in rows.items() if source == "manual"}
    hidden_want = want - registry  # agent:<slug> and harness tools are not in the registry
    hidden_have = set(live.manual_tools or []) - registry
    visible = want & registry
    needed = (
        force
        or bool(visible - manual - from_skills)
        or bool(manual - visible)
        or hidden_want != hidden_have
    )
    if needed:
        patch_tools(run, want | from_skills)


def patch_tools(run: ChangeRun, names: set[str]) -> None:
    """One PATCH of the complete visible tool set (never empty: zero rows = ALL tools)."""
    if not names:
        names = {HARMLESS_TOOL}
        run.ctx.notice(
            f"instance/{run.slug}: the desired tool set is empty, but an instance without "
            f"tool rows gets ALL tools (contract §5.2); kept {HARMLESS_TOOL!r} instead"
        )
    body = {"enabled": sorted(names)}
    run.write("PATCH", inst_path(run.slug, "tools"), body, what=f"tools of {run.slug!r}")


def _tool_rows(run: ChangeRun, live: Instance) -> tuple[dict[str, str], set[str]]:
    """Enabled tool rows (name → source) and the registry's names, as the engine says now."""
    if run.change.action == "create" and run.ctx.dry_run:
        seeded = dict.fromkeys(live.manual_tools or [], "manual")
        return seeded, set(live.manual_tools or [])
    answer = run.read(inst_path(run.slug, "tools"), what=f"tools of {run.slug!r}")
    tools = answer.get("tools", []) if isinstance(answer, dict) else []
    rows = {
        str(t["name"]): str(t.get("source"))
        for t in tools
        if isinstance(t, dict) and t.get("enabled") and "name" in t
    }
    return rows, {str(t["name"]) for t in tools if isinstance(t, dict) and "name" in t}
