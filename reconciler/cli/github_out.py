"""What the CLI hands to GitHub Actions: $GITHUB_OUTPUT values and the job summary."""

from __future__ import annotations

from reconciler.cli import context
from reconciler.engine.report import ApplyReport
from reconciler.github.api import append_summary, write_outputs
from reconciler.plan import safety
from reconciler.plan.changes import Plan


def plan_outputs(plan: Plan, markdown: str) -> None:
    """has_changes, unsafe, counts and checksum for later steps; the plan in the summary."""
    counts = plan.counts()
    values = {
        "has_changes": str(plan.has_changes).lower(),
        "unsafe": str(plan.unsafe).lower(),
        "creates": str(counts["create"]),
        "updates": str(counts["update"]),
        "deletes": str(counts["delete"]),
        "checksum": safety.checksum(plan),
    }
    if out := context.github_file("GITHUB_OUTPUT"):
        write_outputs(out, values)
    if summary := context.github_file("GITHUB_STEP_SUMMARY"):
        append_summary(summary, markdown)


def apply_outputs(report: ApplyReport) -> None:
    """applied / failed / skipped counts for later steps, and a summary table."""
    tally = {"applied": 0, "failed": 0, "skipped": 0, "noop": 0}
    for result in report.results:
        tally[result.status] = tally.get(result.status, 0) + 1
    if out := context.github_file("GITHUB_OUTPUT"):
        write_outputs(out, {k: str(v) for k, v in tally.items()})
    if summary := context.github_file("GITHUB_STEP_SUMMARY"):
        rows = "\n".join(
            f"| `{r.key}` | {r.action} | {r.status} | {r.reason} |" for r in report.results
        )
        append_summary(
            summary,
            "## polyant-gitops apply\n\n| object | action | status | reason |\n|---|---|---|---|\n"
            + rows,
        )
