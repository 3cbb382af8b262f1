"""Executor of an instance's hook operations (develop 5e59498 on): POST, PATCH, DELETE.

Hooks have no name: a hook the plan could not give an id to is found again by its
event, position and tool when the operation runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from reconciler.engine.convert import Notes, hooks_from
from reconciler.engine.executor.change import ChangeRun
from reconciler.engine.executor.context import StepFailed
from reconciler.engine.executor.wire import inst_path
from reconciler.errors import EngineError
from reconciler.plan.operations import Operation


def _what(run: ChangeRun, key: str) -> str:
    return f"hook {key} of instance {run.slug!r}"


def create_hook(run: ChangeRun, operation: Operation) -> None:
    """POST one hook; the answer is the row as stored (``{"hook": …}``)."""
    body, key = dict(operation.args["body"]), operation.target
    holds = partial(_hook_holds, key, body)
    confirm = partial(_hook_found, run, lambda row: _key(row) == key, holds)
    what = _what(run, key)
    run.write("POST", inst_path(run.slug, "hooks"), body, what=what, confirm=confirm, expect=holds)


def update_hook(run: ChangeRun, operation: Operation) -> None:
    """PATCH the changed keys of one hook; the answer is the row after the write."""
    hook_id, key = _hook_id(run, operation), operation.target
    path = inst_path(run.slug, "hooks", hook_id)
    body = dict(operation.args["body"])
    holds = partial(_hook_holds, key, body)
    confirm = partial(_hook_found, run, lambda row: row.get("id") == hook_id, holds)
    run.write("PATCH", path, body, what=_what(run, key), confirm=confirm, expect=holds)


def _hook_holds(key: str, body: dict[str, Any], answer: Any) -> bool:
    """Does the answer's hook, read as the live read reads it, carry `body` under `key`?"""
    row = answer.get("hook") if isinstance(answer, dict) else None
    if not isinstance(row, dict):
        return False
    try:
        found = hooks_from([row], Notes(), "hook")
    except EngineError:
        return False
    if len(found) != 1 or found[0].key != key:
        return False
    dump = found[0].model_dump(mode="json")
    return all(k in dump and dump[k] == v for k, v in body.items())


def _hook_found(
    run: ChangeRun, match: Callable[[dict[str, Any]], bool], holds: Callable[[Any], bool]
) -> Any:
    """After a lost answer: the hook the write aimed at as ``{"hook": row}``, if it landed."""
    for row in _rows(run):
        if match(row) and holds({"hook": row}):
            return {"hook": row}
    return None


def _rows(run: ChangeRun) -> list[dict[str, Any]]:
    answer = run.read(inst_path(run.slug, "hooks"), what=f"instance {run.slug!r} hooks")
    rows: Any = answer.get("hooks") if isinstance(answer, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _key(row: dict[str, Any]) -> str:
    config = row.get("actionConfig")
    tool = config.get("toolName") if isinstance(config, dict) else None
    return f"{row.get('event')}#{row.get('position')}:{tool}"


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
    for row in _rows(run):
        if _key(row) == operation.target:
            return str(row.get("id"))
    raise StepFailed(f"the engine no longer lists hook {operation.target}; re-run plan")
