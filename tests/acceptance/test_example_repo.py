"""The example repository on the real engine: validate, plan, apply, converge, re-apply idle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.acceptance.engines import require_tier
from tests.acceptance.examples import canaries, unique_examples
from tests.cli.helpers import all_files_text, cli

require_tier()


def _report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def _writes(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["method"], c["path"]) for r in report["results"] for c in r["calls"]]


def test_example_repo_applies_converges_and_reapplies_nothing(
    tmp_path: Path, cli_env: dict[str, str], rid: str, cleanup: None
) -> None:
    root = unique_examples(tmp_path / "repo", rid)
    env = {**cli_env, **canaries(rid)}
    assert cli(["validate", "--root", str(root)]).code == 0

    plan = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert plan.code == 3, plan.text
    assert f"instance/helpdesk-{rid}" in plan.out

    applied = cli(
        ["apply", "--auto-approve", "--root", str(root), "--report", str(tmp_path / "a.json")], env
    )
    assert applied.code == 0, applied.text
    first = _writes(_report(tmp_path / "a.json"))
    assert ("POST", "/api/instances") in first
    print(f"example repository applied from scratch in {len(first)} writes")

    again = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert again.code == 0, again.text

    second = cli(
        ["apply", "--auto-approve", "--root", str(root), "--report", str(tmp_path / "b.json")], env
    )
    assert second.code == 0, second.text
    assert _writes(_report(tmp_path / "b.json")) == [], "a second apply must write nothing"

    outputs = [plan.text, applied.text, again.text, second.text, all_files_text(tmp_path)]
    for value in canaries(rid).values():
        assert all(value not in text for text in outputs), f"secret {value!r} leaked"
