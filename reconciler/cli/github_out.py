"""What the CLI hands to GitHub Actions: $GITHUB_OUTPUT values and the job summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.cli import context
from reconciler.plan import safety
from reconciler.plan.changes import Plan

if TYPE_CHECKING:
    from reconciler.engine.report import ApplyReport

# reconciler.github.api (and httpx with it) is imported only inside GitHub Actions, where
# these files are set: a local plan or apply does not pay for loading it.


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
        from reconciler.github.api import write_outputs

        write_outputs(out, values)
    if summary := context.github_file("GITHUB_STEP_SUMMARY"):
        from reconciler.github.api import append_summary

        append_summary(summary, markdown)


def apply_outputs(report: ApplyReport) -> None:
    """applied / failed / skipped counts for later steps, and a summary table."""
    tally = {"applied": 0, "failed": 0, "skipped": 0, "noop": 0}
    for result in report.results:
        tally[result.status] = tally.get(result.status, 0) + 1
    if out := context.github_file("GITHUB_OUTPUT"):
        from reconciler.github.api import write_outputs

        write_outputs(out, {k: str(v) for k, v in tally.items()})
    if summary := context.github_file("GITHUB_STEP_SUMMARY"):
        from reconciler.github.api import append_summary

        rows = "\n".join(
            f"| `{r.key}` | {r.action} | {r.status} | {r.reason} |" for r in report.results
        )
        append_summary(
            summary,
            "## polyant-gitops apply\n\n| object | action | status | reason |\n|---|---|---|---|\n"
            + rows,
        )
