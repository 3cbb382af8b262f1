"""The comparison of two environments (``compare``) as text, Markdown and JSON (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from reconciler.plan.changes import Plan
from reconciler.plan.planfile import plan_to_dict
from reconciler.render import text as render

COMPARISON_SCHEMA_VERSION = 1
_SAME = "No differences."
_MD_HEADER = "| field | engine | repository |"


@dataclass
class Comparison:
    """What promoting `source` to `target` would change, seen in the repo and/or live."""

    source: str
    target: str
    repo: Plan | None = None
    live: Plan | None = None

    @property
    def differ(self) -> bool:
        """True when any compared side shows a change."""
        return any(p is not None and p.has_changes for p in (self.repo, self.live))


def _titles(c: Comparison) -> list[tuple[str, Plan | None]]:
    return [
        (f"Repository resolved for {c.source} vs for {c.target}", c.repo),
        (f"Live: {c.source} engine vs {c.target} engine (designed differences left out)", c.live),
    ]


def to_text(c: Comparison, *, color: bool = False) -> str:
    """The comparison for a terminal: one plan block per compared side."""
    out = [f"Promotion {c.source} → {c.target}", ""]
    for title, plan in _titles(c):
        if plan is not None:
            body = render.to_text(plan, color=color).replace(render.NO_CHANGES, _SAME)
            out += [f"== {title} ==", body]
    return "\n".join(out)


def to_markdown(c: Comparison, *, marker: str | None = None) -> str:
    """The comparison as a pull-request comment: one plan section per compared side."""
    out = [marker] if marker else []
    out += [f"## Promotion {c.source} → {c.target}", ""]
    for title, plan in _titles(c):
        if plan is not None:
            text = render.to_markdown(plan, title=title, limit=30_000)
            text = text.replace("no changes. The engine matches the repository.", "same.")
            # The plan's columns are engine (old) and repository (new): here target and source.
            out.append(text.replace(_MD_HEADER, f"| field | {c.target} | {c.source} |"))
    return "\n".join(out)


def to_json(c: Comparison) -> str:
    """The comparison as JSON: both plans in the saved-plan schema, null when not compared."""
    data = {
        "schemaVersion": COMPARISON_SCHEMA_VERSION,
        "source": c.source,
        "target": c.target,
        "differ": c.differ,
        "repository": plan_to_dict(c.repo) if c.repo is not None else None,
        "live": plan_to_dict(c.live) if c.live is not None else None,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
