"""Executor of an instance's hook operations (develop 5e59498 on): POST, PATCH, DELETE.

Hooks have no name: a hook the plan could not give an id to is found again by its
event, position and tool when the operation runs.
"""

from __future__ import annotations

from typing import Any

from reconciler.engine.executor.change import ChangeRun
from reconciler.engine.executor.context import StepFailed
from reconciler.engine.executor.wire import inst_path
from reconciler.plan.operations import Operation


def _what(run: ChangeRun, key: str) -> str:
    return f"hook {key} of instance {run.slug!r}"


def create_hook(run: ChangeRun, operation: Operation) -> None:
    """POST one hook."""
    body = dict(operation.args["body"])
    run.write("POST", inst_path(run.slug, "hooks"), body, what=_what(run, operation.target))


def update_hook(run: ChangeRun, operation: Operation) -> None:
    """PATCH the changed keys of one hook."""
    path = inst_path(run.slug, "hooks", _hook_id(run, operation))
    body = dict(operation.args["body"])
    run.write("PATCH", path, body, what=_what(run, operation.target))


def delete_hook(run: ChangeRun, operation: Operation) -> None:
    """DELETE one hook the reviewed plan prunes."""
    path = inst_path(run.slug, "hooks", _hook_id(run, operation))
    run.write("DELETE", path, what=_what(run, operation.target))


def _hook_id(run: ChangeRun, operation: Operation) -> str:
    known = operation.args.get("id")
    if isinstance(known, str) and known:
        return known
    if run.ctx.dry_run:
        return f"<id of hook {operation.target}>"
    answer = run.read(inst_path(run.slug, "hooks"), what=f"instance {run.slug!r} hooks")
    rows: Any = answer.get("hooks") if isinstance(answer, dict) else None
    for row in rows if isinstance(rows, list) else []:
        config = row.get("actionConfig") if isinstance(row, dict) else None
        tool = config.get("toolName") if isinstance(config, dict) else None
        if f"{row.get('event')}#{row.get('position')}:{tool}" == operation.target:
            return str(row.get("id"))
    raise StepFailed(f"the engine no longer lists hook {operation.target}; re-run plan")
