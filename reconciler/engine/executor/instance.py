"""Executor of an instance's own operations: create, delete, secrets, settings, icon, prompts.

Each handler sends exactly what its operation says; values of secrets are looked up in the
environment only now. A lost answer is settled by re-reading (``confirm``), never resent.
"""

from __future__ import annotations

from typing import Any

from reconciler.engine.executor.change import ChangeRun, confirmer
from reconciler.engine.executor.wire import MAX_BODY_BYTES, batches, inst_path
from reconciler.errors import EngineError, NotFound
from reconciler.model import secretenv
from reconciler.plan.operations import Operation

AUTH_KEY = "auth_api_key"


def create(run: ChangeRun, operation: Operation) -> None:
    """POST the instance with the few fields create reads (contract §3.5).

    Its answer is the new row only: the plan of a new instance also counts on what the
    engine does beside it (default prompts and tools seeded, no slug-keyed leftovers,
    §3.5, §3.7), which no answer shows, so the instance is read again after apply.
    """
    body = dict(operation.args["body"])
    path = inst_path(run.slug)
    run.write(
        "POST",
        "/api/instances",
        body,
        what=f"instance {run.slug!r}",
        confirm=lambda: run.read(path, what=f"instance {run.slug!r}"),
    )


def delete(run: ChangeRun, operation: Operation) -> None:
    """Delete the instance's scheduled tasks (they would resurrect, §17.6), then the instance."""
    del operation
    tasks_path = inst_path(run.slug, "scheduled-tasks")
    answer = run.read(tasks_path, what=f"instance {run.slug!r} scheduled tasks")
    tasks = answer.get("tasks", []) if isinstance(answer, dict) else []
    for task in tasks:
        if isinstance(task, dict) and isinstance(task.get("id"), str):
            what = f"scheduled task {task.get('name')!r} of instance {run.slug!r}"
            run.write("DELETE", inst_path(run.slug, "scheduled-tasks", task["id"]), what=what)
    path = inst_path(run.slug)
    run.write(
        "DELETE", path, what=f"instance {run.slug!r}", confirm=lambda: _gone(run, path) or None
    )


def _gone(run: ChangeRun, path: str) -> bool:
    run.ctx.count(write=False)
    try:
        run.ctx.client.get(path, what=f"instance {run.slug!r}")
    except NotFound:
        return True
    except EngineError:
        return False
    return False


def put_secrets(run: ChangeRun, operation: Operation) -> None:
    """PUT every supplied declared value (re-PUT is harmless and enforces the value)."""
    keys, missing = operation.args["keys"], set(operation.args["missing"])
    values = {k: run.ctx.secret(secretenv.secret_var(run.slug, k)) for k in keys}
    for key in sorted(missing):
        if values[key] is None:
            run.ctx.missing(secretenv.secret_var(run.slug, key))
    if not any(values[k] is not None for k in missing):
        return
    items = [{"key": k, "value": v} for k, v in values.items() if v is not None]
    for batch in batches(items, max_items=64, max_bytes=MAX_BODY_BYTES - 64):
        _put_secrets(run, batch)
    run.configured |= {k for k, v in values.items() if v is not None}


def _put_secrets(run: ChangeRun, batch: list[dict[str, Any]]) -> None:
    path = inst_path(run.slug, "secrets")
    keys = {item["key"] for item in batch}

    def holds(answer: Any) -> bool:
        rows = answer.get("secrets", []) if isinstance(answer, dict) else []
        done = {r.get("key") for r in rows if isinstance(r, dict) and r.get("configured")}
        return keys <= done

    what = f"instance {run.slug!r} secrets"
    confirm = confirmer(run, path, what, holds)
    run.write("PUT", path, {"secrets": batch}, what=what, confirm=confirm, expect=holds)


def delete_secret(run: ChangeRun, operation: Operation) -> None:
    """DELETE one secret the reviewed plan prunes."""
    what = f"secret {operation.target!r} of instance {run.slug!r}"
    run.write("DELETE", inst_path(run.slug, "secrets", operation.target), what=what)


def patch_settings(run: ChangeRun, operation: Operation) -> None:
    """One PATCH of the changed settings; ``authEnabled`` only once its key is configured."""
    body = dict(operation.args["body"])
    live_key = bool(operation.args.get("authKeyLive"))
    if body.get("authEnabled") is True and not live_key and AUTH_KEY not in run.configured:
        del body["authEnabled"]
        var = secretenv.secret_var(run.slug, AUTH_KEY)
        run.skip(
            "authEnabled",
            f"not turned on: auth_api_key is not configured on the engine; set ${var} "
            "(turning it on without the key would lock every chat request out)",
        )
    if not body:
        return
    path = inst_path(run.slug)
    sent = {k: v for k, v in body.items() if k != "confirmWipe"}  # not a column

    def holds(answer: Any) -> bool:
        # The answer is the instance row after the write (§3.6).
        row = answer.get("instance") if isinstance(answer, dict) else None
        return isinstance(row, dict) and all(row.get(k) == v for k, v in sent.items())

    confirm = confirmer(run, path, f"instance {run.slug!r}", holds)
    what = f"instance {run.slug!r} settings"
    run.write("PATCH", path, body, what=what, confirm=confirm, expect=holds)


def put_icon(run: ChangeRun, operation: Operation) -> None:
    """PUT the icon data URI.

    Not confirmed by its answer: the DTO shows the icon as a URL (§3.1), not the data the
    plan compares, so the instance is read again after apply.
    """
    body = {"icon": operation.args["icon"]}
    run.write("PUT", inst_path(run.slug, "icon"), body, what=f"instance {run.slug!r} icon")


def delete_icon(run: ChangeRun, operation: Operation) -> None:
    """DELETE the icon (the repo says no icon)."""
    del operation
    run.write("DELETE", inst_path(run.slug, "icon"), what=f"instance {run.slug!r} icon")


def patch_prompts(run: ChangeRun, operation: Operation) -> None:
    """PATCH the planned sections, in batches under the body limit (≤ 8 each)."""
    sections = operation.args["sections"]
    changed = [{"key": key, "content": sections[key]} for key in sorted(sections)]
    path = inst_path(run.slug, "prompts")
    what = f"instance {run.slug!r} prompts"
    for batch in batches(changed, max_items=8, max_bytes=MAX_BODY_BYTES - 64):
        wanted = {item["key"]: item["content"] for item in batch}

        def holds(answer: Any, wanted: dict[str, str] = wanted) -> bool:
            # The answer is every section after the write (§4.3).
            rows = answer.get("prompts", []) if isinstance(answer, dict) else []
            have = {r.get("key"): r.get("content") for r in rows if isinstance(r, dict)}
            return all(have.get(k) == v for k, v in wanted.items())

        confirm = confirmer(run, path, what, holds)
        run.write("PATCH", path, {"sections": batch}, what=what, confirm=confirm, expect=holds)
