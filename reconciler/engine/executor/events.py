"""Executor of event source and definition operations.

A source created by this run gets its id from the create's answer; definitions of it (and
any id the plan could not carry) are resolved by the source's name when they run. A
replaced source (sourceType change) is deleted, then created, and the report says so.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.engine.executor.change import (
    ChangeRun,
    appeared_since_plan,
    find_named,
    id_by_name,
)
from reconciler.engine.executor.wire import inst_path
from reconciler.model import secretenv
from reconciler.plan.operations import Operation


def _what(run: ChangeRun, name: str) -> str:
    return f"event source {name!r} of instance {run.slug!r}"


def _config(run: ChangeRun, name: str, args: Any) -> dict[str, Any]:
    """Plain values of the plan plus credentials from the environment (missing: listed)."""
    out: dict[str, Any] = dict(args.get("config") or {})
    for key in args.get("credentials") or []:
        var = secretenv.event_source_var(run.slug, name, key)
        secret = run.ctx.secret(var)
        if secret is None:
            run.ctx.missing(var)
        else:
            out[key] = secret
    return dict(sorted(out.items()))


def create_source(run: ChangeRun, operation: Operation) -> None:
    """POST a new source; its id is kept for its definitions."""
    name, args = operation.target, operation.args
    run.ids[name] = None
    config = _config(run, name, args)
    if args["sourceType"] == "hubspot" and "clientSecret" not in config:
        var = secretenv.event_source_var(run.slug, name, "clientSecret")
        run.skip(f"event source {name!r}", f"a hubspot source needs ${var} to be created")
        return
    body = {"name": name, "sourceType": args["sourceType"], "config": config}
    body["enabled"] = args["enabled"]
    path = inst_path(run.slug, "event-sources")
    if appeared_since_plan(run, path, name):
        return
    answer = run.write(
        "POST", path, body, what=_what(run, name), confirm=lambda: find_named(run, path, name)
    )
    run.ids[name] = run.new_id(answer, f"event source {name!r}", "id")


def update_source(run: ChangeRun, operation: Operation) -> None:
    """PUT the changed fields and the config keys missing live, in place."""
    name = operation.target
    body = dict(operation.args["body"])
    config = _config(run, name, operation.args)
    if config:
        body["config"] = config
    if body:
        path = inst_path(run.slug, "event-sources", _own_id(run, operation))
        run.write("PUT", path, body, what=f"event source {name!r} of {run.slug!r}")


def delete_source(run: ChangeRun, operation: Operation) -> None:
    """DELETE a source (pruned, or the first half of a sourceType replace)."""
    name, replaced_by = operation.target, operation.args.get("replacedBy")
    if replaced_by:
        run.note(
            f"event source {name!r} replaced: sourceType cannot change "
            f"({operation.args.get('was')} → {replaced_by}); its webhook token and backlog "
            "are new"
        )
    path = inst_path(run.slug, "event-sources", _own_id(run, operation))
    run.write("DELETE", path, what=_what(run, name))


def _own_id(run: ChangeRun, operation: Operation) -> str:
    """A live source's id: the plan's, or the engine's list by name (a saved plan lacks it)."""
    known = operation.args.get("id")
    if isinstance(known, str) and known:
        return known
    return id_by_name(run, inst_path(run.slug, "event-sources"), operation.target)


def _definition_id(run: ChangeRun, operation: Operation, base: str) -> str:
    known = operation.args.get("id")
    if isinstance(known, str) and known:
        return known
    return id_by_name(run, base, operation.target.split("/", 1)[1])


def _source_id(run: ChangeRun, operation: Operation) -> str | None:
    """The source's id: the plan's, this run's create, or the engine's list by name."""
    name = str(operation.args["source"])
    if name in run.ids:
        return run.ids[name]  # None: its create was skipped or failed (already reported)
    known = operation.args.get("sourceId")
    if isinstance(known, str) and known:
        return known
    return id_by_name(run, inst_path(run.slug, "event-sources"), name)


def _definitions(run: ChangeRun, source_id: str) -> str:
    return inst_path(run.slug, "event-sources", source_id, "definitions")


def create_definition(run: ChangeRun, operation: Operation) -> None:
    """POST a new definition under its source."""
    source_id = _source_id(run, operation)
    if source_id is None:
        return
    name = operation.target.split("/", 1)[1]
    base = _definitions(run, source_id)
    what = f"definition {name!r} of event source {operation.args['source']!r}"
    confirm = partial(find_named, run, base, name)
    run.write("POST", base, dict(operation.args["body"]), what=what, confirm=confirm)


def update_definition(run: ChangeRun, operation: Operation) -> None:
    """PUT only the changed fields of a definition."""
    found = _existing_definition(run, operation)
    if found is not None:
        path, what = found
        run.write("PUT", path, dict(operation.args["body"]), what=what)


def delete_definition(run: ChangeRun, operation: Operation) -> None:
    """DELETE a definition the reviewed plan prunes."""
    found = _existing_definition(run, operation)
    if found is not None:
        path, what = found
        run.write("DELETE", path, what=what)


def _existing_definition(run: ChangeRun, operation: Operation) -> tuple[str, str] | None:
    """The path and description of an existing definition (None: its source is missing)."""
    source_id = _source_id(run, operation)
    if source_id is None:
        return None
    name = operation.target.split("/", 1)[1]
    base = _definitions(run, source_id)
    path = f"{base}/{_definition_id(run, operation, base)}"
    return path, f"definition {name!r} of event source {operation.args['source']!r}"
