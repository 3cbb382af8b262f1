"""A Plan read as drift: where the engine differs from a branch, and who moved (pure).

Drift is a plan of the default branch against the engine, told from the engine's side:
an object to create is *missing on the engine*, an update *differs on the engine*, a delete
is *only on the engine*. Two facts say who moved, when the caller knows them:

- the repository moved when HEAD is not the last applied commit (merged, not applied yet);
- the engine moved when the plan of the last applied commit is not empty (someone changed
  the engine outside git). Without that second plan it is only known when the repository
  did not move: then this plan *is* the plan of the last applied commit.

The per-object details reuse the pull-request renderer (``render_markdown.to_markdown``).
Nothing here reads files, the clock or the network; no secret value is ever in a Plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from reconciler.model import checks
from reconciler.plan.changes import Change, Plan
from reconciler.plan.safety import checksum
from reconciler.render.markdown import code, md, to_markdown

SCHEMA_VERSION = 1
DRIFT = {"create": "missing", "update": "changed", "delete": "extra"}
WORDS = {
    "missing": "missing on the engine",
    "changed": "changed on the engine",
    "extra": "only on the engine (not in the repository)",
}
MAX_FIELDS_LISTED = 8


@dataclass(frozen=True)
class _Facts:
    env: str
    ref: str
    drifted: bool
    repo_moved: bool | None
    engine_moved: bool | None


def _facts(
    plan: Plan, branch: str, commit: str | None, last_applied: str | None, applied: Plan | None
) -> _Facts:
    repo_moved = None if commit is None or last_applied is None else not _same(commit, last_applied)
    if applied is not None:
        engine_moved: bool | None = applied.has_changes
    else:
        engine_moved = plan.has_changes if repo_moved is False else None
    ref = f"{branch}@{commit[:12]}" if commit else branch
    return _Facts(plan.environment or "default", ref, plan.has_changes, repo_moved, engine_moved)


def _same(a: str, b: str) -> bool:
    # Either side may be abbreviated; a 7+ character prefix identifies a commit.
    short, long_ = sorted((a.lower(), b.lower()), key=len)
    return len(short) >= 7 and long_.startswith(short)


def drift_markdown(
    plan: Plan,
    *,
    branch: str,
    commit: str | None,
    last_applied: str | None,
    marker: str | None = None,
    applied_plan: Plan | None = None,
    limit: int = 60_000,
) -> str:
    """The drift report as Markdown (issue body, job summary), at most `limit` characters."""
    facts = _facts(plan, branch, commit, last_applied, applied_plan)
    top = [marker] if marker else []
    title = f"### Polyant drift: {md(facts.env)}"
    if not facts.drifted:
        line = f"**No drift**: the engine {code(facts.env)} matches {code(facts.ref)}."
        return "\n".join([*top, title, "", line, *_where(plan)]) + "\n"
    head = [*top, title, "", *_headline(plan, facts), "", *_causes(facts, last_applied)]
    head += ["", *_objects_table(plan, limit // 2), "", *_what_to_do(facts.env), ""]
    text = "\n".join(head) + "\n"
    details = to_markdown(
        replace(plan, engine_url=public_url(plan.engine_url)),
        title=f"What apply would change on {facts.env}",
        limit=max(2_000, limit - len(text) - 100),
    )
    return text + "<details><summary>Details</summary>\n\n" + details + "\n</details>\n"


def _headline(plan: Plan, facts: _Facts) -> list[str]:
    tally = _tally(plan)
    counts = ", ".join(f"{tally[k]} {WORDS[k].split(' (')[0]}" for k in WORDS if tally[k])
    return [
        "> [!WARNING]",
        f"> **The engine {code(facts.env)} differs from {code(facts.ref)}** in "
        f"{len(plan.changes)} object(s): {counts}.",
        *_where(plan, prefix="> "),
    ]


def _where(plan: Plan, prefix: str = "") -> list[str]:
    url = public_url(plan.engine_url)
    return [f"{prefix}", f"{prefix}Engine: {code(url)}"] if url else []


def _causes(facts: _Facts, last_applied: str | None) -> list[str]:
    out: list[str] = []
    applied = code(last_applied[:12]) if last_applied else ""
    if last_applied is None:
        out.append(
            f"- **No applied commit is recorded** for {code(facts.env)} "
            f"(tag {code('polyant-applied/' + facts.env)}): who moved cannot be told."
        )
    elif facts.repo_moved is None:
        out.append("- **The repository's commit is unknown** (not a git checkout).")
    elif facts.repo_moved:
        out.append(
            f"- **The repository moved**: {code(facts.ref)} is not applied yet; the last "
            f"commit applied to {code(facts.env)} is {applied}."
        )
    else:
        out.append(f"- **The repository did not move**: {applied} is the last applied commit.")
    if facts.engine_moved:
        out.append(
            "- **The engine moved**: it no longer matches the last applied commit; someone "
            "changed it outside git (admin panel, API, or the agent itself)."
        )
    elif facts.engine_moved is False:
        out.append("- **The engine did not move**: it still matches the last applied commit.")
    return out


def _objects_table(plan: Plan, budget: int) -> list[str]:
    rows = ["| object | drift | fields |", "|---|---|---|"]
    used = 0
    for index, change in enumerate(plan.changes):
        row = (
            f"| {code(change.key, table=True)} | {WORDS[DRIFT[change.action]]} | "
            f"{_field_names(change)} |"
        )
        used += len(row) + 1
        if used > budget:
            rest = len(plan.changes) - index
            return [*rows, "", f"_… and {rest} more object(s): see `drift --format json`._"]
        rows.append(row)
    return rows


def _field_names(change: Change) -> str:
    paths = [code(f.path, table=True) for f in change.fields[:MAX_FIELDS_LISTED]]
    more = len(change.fields) - len(paths)
    text = ", ".join(paths) + (f" and {more} more" if more > 0 else "")
    return text or "—"


def _what_to_do(env: str) -> list[str]:
    return [
        "**What to do**",
        "",
        f"- To restore the repository's state, run the apply workflow for {code(env)} "
        f"(or {code(f'polyant-gitops apply --env {env}')}).",
        f"- To keep the engine's changes, run {code(f'polyant-gitops export --env {env}')}, "
        "commit the result and open a pull request.",
    ]


def _tally(plan: Plan) -> dict[str, int]:
    tally = dict.fromkeys(WORDS, 0)
    for change in plan.changes:
        tally[DRIFT[change.action]] += 1
    return tally


def public_url(url: str | None) -> str | None:
    """The engine URL without credentials, query or fragment (safe to publish)."""
    return checks.public_url(url) if url else None


def drift_json(
    plan: Plan,
    *,
    branch: str,
    commit: str | None,
    last_applied: str | None,
    applied_plan: Plan | None = None,
) -> str:
    """The drift report as versioned JSON (schemaVersion 1) for machines and artifacts."""
    facts = _facts(plan, branch, commit, last_applied, applied_plan)
    document = {
        "schemaVersion": SCHEMA_VERSION,
        "kind": "polyant-gitops/drift",
        "environment": plan.environment,
        "engineUrl": public_url(plan.engine_url),
        "branch": branch,
        "commit": commit,
        "lastApplied": last_applied,
        "drifted": facts.drifted,
        "repoMoved": facts.repo_moved,
        "engineMoved": facts.engine_moved,
        "summary": _tally(plan),
        "objects": [_object(change) for change in plan.changes],
        "notices": [{"level": n.level, "key": n.key, "message": n.message} for n in plan.notices],
        "checksum": checksum(plan),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def _object(change: Change) -> dict[str, Any]:
    return {
        "key": change.key,
        "kind": change.kind,
        "slug": change.slug,
        "drift": DRIFT[change.action],
        "action": change.action,
        "fields": [{"path": f.path, "engine": f.old, "repository": f.new} for f in change.fields],
    }
