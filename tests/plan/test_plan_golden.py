"""Golden files for rendered plans (text, Markdown, JSON); UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from reconciler.render.text import to_json, to_markdown, to_text

from .cases import CASES, MARKDOWN_LIMITS

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _render(case: str, suffix: str) -> str:
    plan = CASES[case]()
    if suffix == "txt":
        return to_text(plan)
    if suffix == "md":
        limit = MARKDOWN_LIMITS.get(case, 65_000)
        marker = f"<!-- polyant-gitops:plan:{plan.environment or 'default'} -->"
        return to_markdown(plan, limit=limit, marker=marker)
    return to_json(plan)


@pytest.mark.parametrize("suffix", ["txt", "md", "json"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, suffix: str) -> None:
    got = _render(case, suffix)
    path = GOLDEN / f"{case}.{suffix}"
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"missing golden file {path.name}: run with UPDATE_GOLDEN=1 and review it")
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = difflib.unified_diff(
            want.splitlines(), got.splitlines(), f"golden/{path.name}", "rendered", lineterm=""
        )
        pytest.fail("rendered plan differs from the golden file:\n" + "\n".join(diff))


def test_every_golden_file_belongs_to_a_case() -> None:
    stale = sorted(p.name for p in GOLDEN.iterdir() if p.stem not in CASES)
    assert stale == []
