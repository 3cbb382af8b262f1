"""Plan → text (Terraform-like, optional ANSI colour), Markdown and JSON strings (pure).

The text form lists notices first, then one block per object (``+ create``, ``~ update``,
``- delete``) with ``path: old → new`` lines and unified diffs for long texts, then the
summary line, then the safety refusal if any. User text is shown with control characters
escaped, so a hostile name cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.plan.changes import Change, Plan
from reconciler.plan.operations import FieldChange
from reconciler.plan.planfile import plan_to_json
from reconciler.render.markdown import to_markdown
from reconciler.render.values import (
    clean,
    dict_delta,
    headline,
    listing,
    operations_line,
    ordered_notices,
    show,
    shows_as_diff,
    summary_line,
    symbol,
    text_diff,
    value_lines,
)

__all__ = ["NO_CHANGES", "to_json", "to_markdown", "to_text"]

NO_CHANGES = "No changes. The engine matches the repository."
_UNMANAGED = "on the engine but not in the repository"
_UNPLANNED = "outside the scope"
_ANSI = {
    "+": "\x1b[32m",
    "-": "\x1b[31m",
    "~": "\x1b[33m",
    "warning": "\x1b[33m",
    "info": "\x1b[2m",
    "bold": "\x1b[1m",
    "@": "\x1b[36m",
}
_RESET = "\x1b[0m"
_STYLE = {"create": "+", "update": "~", "delete": "-"}
Paint = Callable[[str, str], str]


def _painter(color: bool) -> Paint:
    def paint(style: str, text: str) -> str:
        return f"{_ANSI[style]}{text}{_RESET}" if color and style in _ANSI else text

    return paint


def to_json(plan: Plan) -> str:
    """The plan as versioned JSON (schemaVersion 1), desired objects included (a saved plan)."""
    return plan_to_json(plan)


def to_text(plan: Plan, *, color: bool = False) -> str:
    """The plan for a terminal or a CI log."""
    paint = _painter(color)
    out = _banner(plan) + _notices(plan, paint)
    if not plan.has_changes:
        out.append(no_changes_line(plan))
    for change in plan.changes:
        out += [*_change(change, paint), ""]
    for dupe in plan.duplicates:
        out += [paint("-", paint("bold", f"- delete {clean(dupe.describe())}")), ""]
    if plan.has_changes:
        extra = f", {len(plan.duplicates)} duplicate(s) to delete" if plan.duplicates else ""
        out.append(paint("bold", summary_line(plan) + extra))
    if plan.unsafe:
        out += ["", paint("-", "Unsafe plan: apply refuses it without --force, because")]
        out += [paint("-", f"  - {clean(reason)}") for reason in plan.unsafe_reasons]
    return "\n".join(out) + "\n"


def _banner(plan: Plan) -> list[str]:
    line = [f"Planned against engine line {clean(plan.engine_line)}."] if plan.engine_line else []
    if plan.scope is None:
        return [*line, ""] if line else []
    only = listing([clean(s) for s in plan.scope]) or "(none)"
    out = [*line, f"Scoped plan: only instance(s) {only}."]
    if plan.left_out:
        out.append(f"Left out: {listing([clean(k) for k in plan.left_out])}.")
    return [*out, ""]


def _notices(plan: Plan, paint: Paint) -> list[str]:
    out = []
    for notice in ordered_notices(plan.notices):
        label = "Warning" if notice.level == "warning" else "Note"
        out.append(paint(notice.level, f"{label}: {clean(notice.key)}: {clean(notice.message)}"))
    return [*out, ""] if out else []


def _change(change: Change, paint: Paint) -> list[str]:
    out = [paint(_STYLE[change.action], paint("bold", headline(change)))]
    for field in change.fields:
        out += ["    " + line for line in _field(field, paint)]
    if change.operations:
        out.append(f"    runs: {operations_line(change)}")
    return out


def _field(field: FieldChange, paint: Paint) -> list[str]:
    mark = symbol(field)
    path = clean(field.path)
    if shows_as_diff(field) and not isinstance(field.old, dict | list):
        old = field.old if isinstance(field.old, str) else None
        new = field.new if isinstance(field.new, str) else None
        lines = text_diff(old, new)
        return [paint(mark, f"{mark} {path}:")] + ["    " + _diff_line(x, paint) for x in lines]
    if mark == "+" and isinstance(field.new, dict | list):
        return [paint(mark, f"+ {path}:")] + ["    " + x for x in value_lines(field.new)]
    if mark == "+":
        return [paint(mark, f"+ {path} = {show(field.new)}")]
    if mark == "-":
        return [paint(mark, f"- {path} (was {show(field.old, 80)})")]
    delta = dict_delta(field.old, field.new)
    if delta is not None:
        before, after = delta
        lines = [f"    {clean(k)}: {show(before[k])} → {show(after[k])}" for k in after]
        return [paint(mark, f"~ {path}:"), *(paint(mark, x) for x in lines)]
    return [paint(mark, f"~ {path}: {show(field.old)} → {show(field.new)}")]


def _diff_line(line: str, paint: Paint) -> str:
    style = line[:1] if line[:1] in "+-@" else ""
    return paint(style, line) if style else line


def no_changes_line(plan: Plan) -> str:
    """ "No changes", saying so when the notes above list what the repository leaves alone.

    "The engine matches the repository" would be false beside notes about engine objects
    the repository does not manage: those are counted instead.
    """
    objects = {n.key for n in plan.notices if n.message.startswith(_UNMANAGED)}
    settings = [
        n for n in plan.notices if _UNMANAGED in n.message and not n.message.startswith(_UNMANAGED)
    ]
    skipped = {n.key for n in plan.notices if _UNPLANNED in n.message}
    extras = [f"{len(objects)} engine object(s) it does not manage"] if objects else []
    extras += [f"{len(settings)} engine setting(s) it does not manage"] if settings else []
    extras += [f"{len(skipped)} object(s) outside the scope"] if skipped else []
    if not extras:
        return NO_CHANGES
    return (
        "No changes to what this repository manages. Left as they are (noted above): "
        + ", ".join(extras)
        + "."
    )
