"""Formatting shared by the text and Markdown renderers: values, text diffs, counts (pure)."""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import Sequence
from typing import Any

from reconciler.model.checks import visible
from reconciler.plan.changes import Change, Notice, Plan
from reconciler.plan.operations import CONDITIONAL, FieldChange

SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
LONG_TEXT = 120  # longer single-line strings read better as a diff than as a cut cell


def clean(text: str) -> str:
    """Make control characters visible: user text must not drive the terminal (ANSI etc.)."""
    return visible(text)


def show(value: Any, limit: int | None = None) -> str:
    """A value on one line: JSON spelling, control characters escaped, optionally shortened."""
    text = clean(json.dumps(value, ensure_ascii=False, sort_keys=True))
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def is_text(value: Any) -> bool:
    """Long or multi-line strings are shown as line diffs, not as quoted values."""
    return isinstance(value, str) and ("\n" in value or len(value) > LONG_TEXT)


def shows_as_diff(change: FieldChange) -> bool:
    """True when a field change is best read as a unified diff."""
    return is_text(change.old) or is_text(change.new)


def symbol(change: FieldChange) -> str:
    """'+' for a value or child that appears, '-' for one that goes, '~' otherwise."""
    if change.old is None:
        return "+"
    return "-" if change.new is None else "~"


def text_diff(old: str | None, new: str | None) -> list[str]:
    """Unified diff lines (hunks only) between two texts; None is the empty text."""
    before = (old or "").splitlines()
    after = (new or "").splitlines()
    lines = difflib.unified_diff(before, after, lineterm="", n=2)
    return [clean(line) for line in list(lines)[2:]]


def value_lines(value: Any) -> list[str]:
    """A dict or list as indented 'key: value' lines; long strings as indented blocks."""
    if isinstance(value, dict):
        out: list[str] = []
        for key, item in value.items():
            out += _entry(f"{clean(str(key))}:", item)
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            out += _entry("-", item)
        return out
    if is_text(value):
        return [clean(line) for line in str(value).splitlines()] or [""]
    return [show(value)]


def _entry(head: str, item: Any) -> list[str]:
    if head == "-" and isinstance(item, dict) and item:  # YAML style: "- key: value"
        first, *rest = value_lines(item)
        return [f"- {first}"] + ["  " + line for line in rest]
    if isinstance(item, dict | list) and item:
        return [head] + ["  " + line for line in value_lines(item)]
    if is_text(item):
        return [f"{head} |"] + ["  " + line for line in value_lines(item)]
    return [f"{head} {show(item)}"]


def dict_delta(old: Any, new: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """For a dict replaced by a dict, only the keys whose values differ (None otherwise)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    keys = [k for k in new if old.get(k) != new[k]] + [k for k in old if k not in new]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


def ordered_notices(notices: Sequence[Notice]) -> list[Notice]:
    """Warnings first, then notes, each in plan order."""
    return [n for n in notices if n.level == "warning"] + [
        n for n in notices if n.level != "warning"
    ]


def summary_line(plan: Plan) -> str:
    """'Plan: 1 to create, 2 to update, 0 to delete.'"""
    counts = plan.counts()
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete."
    )


def counts_by_kind(plan: Plan) -> dict[str, dict[str, int]]:
    """Change counts by kind (skill, instance) and action."""
    out = {k: {"create": 0, "update": 0, "delete": 0} for k in ("skill", "instance")}
    for change in plan.changes:
        out[change.kind][change.action] += 1
    return out


def headline(change: Change) -> str:
    """'+ create instance/helpdesk'."""
    return f"{SYMBOLS[change.action]} {change.action} {clean(change.key)}"


def listing(names: list[str], show: int = 10) -> str:
    """Up to `show` names, then how many more: large fleets keep their banners short."""
    head = ", ".join(names[:show])
    more = len(names) - show
    return f"{head} and {more} more" if more > 0 else head


def operations_line(change: Change) -> str:
    """The change's work order in one line, e.g. ``settings.patch, assignment.enable ×2``.

    These are the operations apply runs, in its order; a conditional one (a GET decides
    when it runs whether a write is needed) says so.
    """
    parts = []
    for kind, group in itertools.groupby(o.type for o in change.operations):
        count = len(list(group))
        parts.append(
            kind
            + (" (if needed)" if kind in CONDITIONAL else "")
            + (f" ×{count}" if count > 1 else "")
        )
    return ", ".join(parts)
