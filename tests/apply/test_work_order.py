"""The plan is the work order: apply runs its operations one to one, and nothing decides twice.

- The engine package (client, reads, executor) imports none of the plan's diff modules, so
  no engine-side code can compare desired with live state on its own.
- For every golden plan case, ``apply --dry-run`` makes calls that correspond one to one to
  the plan's operations: every call belongs to an operation, and every operation made its
  call(s) — one for a single-call type — unless it is conditional (a GET decides) or a read
  it needs cannot be answered by an engine that does not hold the case's live objects.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

import reconciler
from reconciler import core
from reconciler.engine.client import EngineClient
from reconciler.engine.executor.dispatch import HANDLERS, step_name
from reconciler.errors import UnsafePlan
from reconciler.plan import operations as op
from tests.plan.cases import CASES

ROOT = Path(reconciler.__file__).parent
DIFF_MODULES = {
    f"reconciler.plan.{name}"
    for name in ("diff", "fields", "instance", "children", "events", "assignments", "catalog")
}
# Reads a dry run needs from the engine that the golden cases' engine does not hold.
NEEDS_LIVE_READ = {op.ASSIGNMENT_ROLLBACK, op.INSTANCE_DELETE}


class EveryVariable(Mapping[str, str]):
    """An environment that supplies every variable (channel credentials as a JSON object)."""

    def __getitem__(self, name: str) -> str:
        return '{"botToken": "x"}' if name.startswith("POLYANT_CHANNEL__") else "value"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_engine_package_imports_no_diff_module() -> None:
    files = sorted((ROOT / "engine").rglob("*.py"))
    assert any(p.parent.name == "executor" for p in files)
    offenders = {
        f"{p.relative_to(ROOT)} imports {m}" for p in files for m in _imported(p) & DIFF_MODULES
    }
    assert offenders == set()


def test_every_operation_type_has_a_handler() -> None:
    assert set(op.RANK) == set(HANDLERS) | {op.CATALOG_IMPORT}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dry_run_calls_are_the_plan_operations(case: str, client: EngineClient) -> None:
    plan = CASES[case]()
    if plan.unsafe:  # apply refuses it before any call; the operations still map one to one
        with pytest.raises(UnsafePlan):
            core.apply(client, plan, secrets=EveryVariable(), dry_run=True, prune=True)
        plan = replace(plan, unsafe_reasons=())
    report = core.apply(client, plan, secrets=EveryVariable(), dry_run=True, prune=True)
    assert report.calls_made == 0
    for change, result in zip(plan.changes, report.results, strict=True):
        assert result.key == change.key
        ops = change.operations
        assert all(0 <= call.op < len(ops) for call in result.calls), result.calls
        for index, operation in enumerate(ops):
            made = [c for c in result.calls if c.op == index]
            step = step_name(operation)
            excused = any(p.startswith(f"{step}: ") for p in result.skipped_parts) or (
                operation.type in NEEDS_LIVE_READ and result.status == "failed"
            )
            if operation.type in op.CONDITIONAL or excused:
                assert len(made) <= 1, (operation, made)
            elif operation.type in op.MULTI_CALL:
                assert made, (case, operation)
            else:
                assert len(made) == 1, (case, operation, made)
