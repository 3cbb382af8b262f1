"""Plan → Markdown for a pull-request comment, kept under a size limit (pure).

Layout: optional hidden marker line (so a bot can find and update its comment), title,
unsafe and scoped-plan banners, warnings (notes folded), a summary table by kind × action,
one ``<details>`` per object, then the summary line with the checksum. Nothing to do and
nothing to warn about gives a single line. Over ``limit`` characters, whole objects are cut
from the end and a note says how many and points to the plan.json artifact. User text is
escaped (HTML, Markdown, table pipes, @-mentions); code spans and fences are sized to
outlast any backticks in the text.
"""

from __future__ import annotations

import html
import re
from typing import Any

from reconciler.model.checks import visible
from reconciler.plan.changes import Change, Plan
from reconciler.plan.operations import FieldChange
from reconciler.plan.safety import checksum
from reconciler.render.values import (
    SYMBOLS,
    counts_by_kind,
    dict_delta,
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

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_TICKS = re.compile(r"`+")
_NOTICE_STEPS = (None, 50, 10, 0)


def md(text: str) -> str:
    """User text safe in Markdown prose: no HTML, no emphasis, no table breaks, no pings."""
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(visible(text), quote=False))
    return escaped.replace("@", "@&#8203;").replace("\n", " ")


def code(text: str, *, table: bool = False) -> str:
    """An inline code span that survives backticks (and pipes inside a table cell)."""
    text = visible(text.replace("\n", " "))
    ticks = "`" * (max((len(m) for m in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    span = f"{ticks}{pad}{text}{pad}{ticks}"
    return span.replace("|", "\\|") if table else span


def fence(lines: list[str], lang: str = "") -> list[str]:
    """A fenced block longer than any backtick run inside it."""
    longest = max((len(m) for line in lines for m in _TICKS.findall(line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [f"{ticks}{lang}", *lines, ticks]


def to_markdown(
    plan: Plan, *, title: str | None = None, limit: int = 65_000, marker: str | None = None
) -> str:
    """The plan as a pull-request comment of at most `limit` characters."""
    title = title or "Polyant plan" + (f" for {plan.environment}" if plan.environment else "")
    top = [marker] if marker else []
    warnings = [n for n in plan.notices if n.level == "warning"]
    if not plan.has_changes and not warnings and not plan.unsafe:
        line = f"**{md(title)}**: no changes. The engine matches the repository."
        return "\n".join([*top, line]) + "\n"
    footer = _footer(plan)
    for step in _NOTICE_STEPS:
        head = "\n".join([*top, *_head(plan, title, step)]) + "\n"
        if len(head) + len(footer) < limit // 2:
            break
    blocks = [_block(change, max(2_000, limit // 8)) for change in plan.changes]
    return _assemble(head, blocks, footer, limit)


def _assemble(head: str, blocks: list[str], footer: str, limit: int) -> str:
    reserve = 400  # room for the truncation note
    used, kept = len(head) + len(footer) + reserve, []
    for block in blocks:
        if used + len(block) > limit:
            break
        kept.append(block)
        used += len(block)
    cut = len(blocks) - len(kept)
    note = (
        f"> [!WARNING]\n> This comment is truncated: {cut} of {len(blocks)} object(s) are not "
        f"shown (limit {limit} characters). The complete plan is in the `plan.json` artifact "
        "of this run.\n\n"
        if cut
        else ""
    )
    text = head + "".join(kept) + note + footer
    if len(text) > limit:  # only when the head alone is huge: cut hard, say so
        tail = "\n\n… truncated: see the `plan.json` artifact.\n"
        text = text[: max(0, limit - len(tail))] + tail
    return text


def _head(plan: Plan, title: str, max_notices: int | None) -> list[str]:
    out = [f"### {md(title)}", ""]
    if plan.unsafe:
        out += ["> [!CAUTION]", "> **Unsafe plan**: apply refuses it without `--force`, because"]
        out += [f"> - {md(r)}" for r in plan.unsafe_reasons] + [""]
    if plan.scope is not None:
        only = listing([code(s) for s in plan.scope]) or "none"
        left = listing([code(k) for k in plan.left_out]) or "nothing"
        out += ["> [!NOTE]", f"> **Scoped plan**: only instance(s) {only}. Left out: {left}.", ""]
    out += _notice_lines(plan, max_notices)
    if plan.changes:
        out += _table(plan)
    if plan.duplicates:
        out += ["**Duplicates on the engine** (deleted by apply --prune)", ""]
        out += [f"- delete {md(d.describe())}" for d in plan.duplicates] + [""]
    return out


def _notice_lines(plan: Plan, max_notices: int | None) -> list[str]:
    notices = ordered_notices(plan.notices)
    shown = notices if max_notices is None else notices[:max_notices]
    warnings = [n for n in shown if n.level == "warning"]
    notes = [n for n in shown if n.level != "warning"]
    out: list[str] = []
    if warnings:
        out += ["**Warnings**", ""] + [f"- {code(n.key)}: {md(n.message)}" for n in warnings]
        out.append("")
    if notes:
        out += [f"<details><summary>Notes ({len(notes)})</summary>", ""]
        out += [f"- {code(n.key)}: {md(n.message)}" for n in notes] + ["", "</details>", ""]
    if len(shown) < len(notices):
        out += [f"_{len(notices) - len(shown)} more notice(s) in the `plan.json` artifact._", ""]
    return out


def _table(plan: Plan) -> list[str]:
    out = ["| | create | update | delete |", "|---|---:|---:|---:|"]
    for kind, counts in counts_by_kind(plan).items():
        if any(counts.values()):
            out.append(
                f"| {kind}s | {counts['create']} | {counts['update']} | {counts['delete']} |"
            )
    return [*out, ""]


def _footer(plan: Plan) -> str:
    parts = [f"**{summary_line(plan)}**"] if plan.changes else ["**No changes.**"]
    if plan.engine_url:
        parts.append(f"Engine {code(plan.engine_url)}")
    if plan.engine_line:
        parts.append(f"line {code(plan.engine_line)}")
    if plan.commit:
        parts.append(f"commit {code(plan.commit[:12])}")
    if plan.changes:
        parts.append(f"checksum {code(checksum(plan)[:16])}")
    return " · ".join(parts) + "\n"


def _block(change: Change, budget: int) -> str:
    mark = SYMBOLS[change.action]
    count = f" ({len(change.fields)} field(s))" if change.fields else ""
    summary = (
        f"<code>{mark} {change.action}</code> <b>{html.escape(change.key)}</b>{html.escape(count)}"
    )
    out = [f"<details><summary>{summary}</summary>", ""]
    if change.action == "delete":
        out += ["Deleted from the engine, with everything it holds.", ""]
    rows = [f for f in change.fields if not _is_block(f)]
    if rows:
        out += ["| field | engine | repository |", "|---|---|---|"]
        out += [_row(f) for f in rows]
        out.append("")
    for field in change.fields:
        if _is_block(field):
            out += _field_block(field, budget)
    if change.operations:
        out += [f"Runs: {html.escape(operations_line(change))}", ""]
    return "\n".join([*out, "</details>", "", ""])


def _is_block(field: FieldChange) -> bool:
    return shows_as_diff(field) or (field.old is None and isinstance(field.new, dict | list))


def _row(field: FieldChange) -> str:
    old, new = dict_delta(field.old, field.new) or (field.old, field.new)
    return f"| {code(field.path, table=True)} | {_cell(old)} | {_cell(new)} |"


def _cell(value: Any) -> str:
    return "—" if value is None else code(show(value, 120), table=True)


def _field_block(field: FieldChange, budget: int) -> list[str]:
    label = f"{symbol(field)} {field.path}"
    if isinstance(field.new, dict | list) and field.old is None:
        lines = value_lines(field.new)
        lang = ""
    else:
        old = field.old if isinstance(field.old, str) else None
        new = field.new if isinstance(field.new, str) else None
        lines, lang = text_diff(old, new), "diff"
    return [code(label), "", *fence(_capped(lines, budget), lang), ""]


def _capped(lines: list[str], budget: int) -> list[str]:
    out, used = [], 0
    for index, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            out.append(f"… {len(lines) - index} more line(s): see the plan.json artifact")
            break
        out.append(line)
    return out
