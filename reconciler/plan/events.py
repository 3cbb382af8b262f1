"""Diff of an instance's event sources and their definitions into operations (pure).

Children are matched by name (contract §17.5). Sources are updated in place (PUT), so
their id, webhook token and backlog survive; only a sourceType change, which the engine
cannot update, replaces one: delete, create, then every definition. Configs are compared
as key sets only: the engine masks values, so a value can never be compared and never
shown; only keys missing live are sent — plain values from the repo, credentials (null in
the repo) from the environment (``secretenv.event_source_var``) when apply runs.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import secretenv
from reconciler.model.managed import managed_fields
from reconciler.model.objects import Definition, EventSource, Instance
from reconciler.plan import operations as op
from reconciler.plan.children import duplicates
from reconciler.plan.fields import (
    MISSING,
    DiffContext,
    OpDraft,
    changed_body,
    compare_set_fields,
)
from reconciler.plan.operations import CONFIGURED

VALUE = "(value)"
CREDENTIAL = "(credential)"


def source_dump(source: EventSource) -> dict[str, Any]:
    """An event source as a plan shows it: config reduced to key names, never values."""
    out: dict[str, Any] = source.model_dump(mode="json", exclude_none=True)
    if source.config is not None:
        out["config"] = {k: CREDENTIAL if v is None else VALUE for k, v in source.config.items()}
    return out


def definition_dump(definition: Definition) -> dict[str, Any]:
    """A definition as a plan shows it and a create sends it (engine names, no nulls)."""
    out: dict[str, Any] = definition.model_dump(mode="json", exclude_none=True)
    return out


def event_sources(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    """Compare the managed list of event sources by name."""
    if desired.event_sources is None:
        return
    live_list = (live.event_sources or []) if live is not None else []
    duplicates(ctx, "event sources", [s.name for s in live_list])
    have = {s.name: s for s in live_list}
    for source in desired.event_sources:
        path, cur = f"eventSources[{source.name}]", have.get(source.name)
        if cur is None:
            if not ctx.ignored(path):
                draft = _create(ctx, source, keep=False)
                ctx.add(path, None, source_dump(source), into=draft)
                _credentials(ctx, path, source, None)
        elif cur.source_type != source.source_type:
            _replace(ctx, path, source, cur)
        else:
            _update(ctx, path, source, cur)
    wanted = {s.name for s in desired.event_sources}
    for name, cur in sorted(have.items()):
        if name not in wanted:
            ctx.begin(op.SOURCE_DELETE, name, id=cur.id)
            ctx.removed(f"eventSources[{name}]", source_dump(cur), f"event source {name!r}")


def _create(ctx: DiffContext, source: EventSource, *, keep: bool) -> OpDraft:
    """The create operation, then one create per definition (run after the source)."""
    config = source.config or {}
    draft = ctx.begin(
        op.SOURCE_CREATE,
        source.name,
        keep=keep,
        sourceType=source.source_type,
        enabled=source.enabled,
        config={k: v for k, v in config.items() if v is not None},
        credentials=sorted(k for k, v in config.items() if v is None),
    )
    for definition in source.definitions:
        if not ctx.ignored(f"eventSources[{source.name}].definitions[{definition.name}]"):
            ctx.begin(
                op.DEFINITION_CREATE,
                f"{source.name}/{definition.name}",
                keep=True,
                source=source.name,
                sourceId=None,
                body=definition_dump(definition),
            )
    return draft


def _replace(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    mark = len(ctx.drafts)
    shown = ctx.begin(op.SOURCE_UPDATE, source.name)
    ctx.add(f"{path}.sourceType", cur.source_type, source.source_type)
    ctx.note(
        "warning",
        f"event source {source.name!r} changes sourceType, which the engine "
        "cannot update: apply must delete and re-create it, which gives it a new "
        "webhook URL",
        f"{path}.sourceType",
    )
    _compare(ctx, path, source, cur)
    ctx.fold(mark + 1, into=shown)
    del ctx.drafts[mark:]
    ctx.begin(
        op.SOURCE_DELETE,
        source.name,
        keep=True,
        id=cur.id,
        was=cur.source_type,
        replacedBy=source.source_type,
    )
    _create(ctx, source, keep=True).fields.extend(shown.fields)


def _update(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    draft = ctx.begin(op.SOURCE_UPDATE, source.name, id=cur.id)
    compare_set_fields(ctx, path, source, cur, _SKIP)
    config = _config_keys(ctx, path, source, cur) if "config" in managed_fields(source) else {}
    draft.args.update(body=changed_body(draft, path, source), **config)
    if "definitions" in managed_fields(source):
        _definitions(ctx, path, source, cur)


_SKIP = frozenset({"name", "source_type", "config", "definitions"})


def _compare(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    """The display diff of a source being replaced (its operations are folded away)."""
    compare_set_fields(ctx, path, source, cur, _SKIP)
    if "config" in managed_fields(source):
        _config_keys(ctx, path, source, cur)
    if "definitions" in managed_fields(source):
        _definitions(ctx, path, source, cur)


def _config_keys(
    ctx: DiffContext, path: str, source: EventSource, cur: EventSource
) -> dict[str, Any]:
    """Config keys missing live: plain values to send and credentials to read at apply."""
    have = set(cur.config or {})
    _credentials(ctx, path, source, have)
    for key in sorted(have - set(source.config or {})):
        ctx.note(
            "info",
            f"event source {source.name!r} has config key {key} on the engine but "
            "not in the repository; the engine cannot remove config keys",
            f"{path}.config.{key}",
        )
    if ctx.ignored(f"{path}.config"):
        return {}
    missing = {k: v for k, v in (source.config or {}).items() if k not in have}
    return {
        "config": {k: v for k, v in missing.items() if v is not None},
        "credentials": sorted(k for k, v in missing.items() if v is None),
    }


def _credentials(ctx: DiffContext, path: str, source: EventSource, have: set[str] | None) -> None:
    """Config keys the engine lacks (`have` None: a new source, whose dump already lists them).

    Repo values are simply set; a credential (null) needs its variable at apply time.
    """
    for key, value in sorted((source.config or {}).items()):
        if have is not None and key in have:
            continue
        key_path = f"{path}.config.{key}"
        var = secretenv.event_source_var(ctx.slug, source.name, key)
        if value is not None or var in ctx.supplied:
            if have is not None:
                ctx.add(key_path, MISSING, CONFIGURED)
            continue
        ctx.lacks(
            var,
            f"event source {source.name!r} needs credential {key} at apply time: "
            f"set {var} to supply it",
            key_path,
        )


def _definitions(ctx: DiffContext, path: str, source: EventSource, cur: EventSource) -> None:
    duplicates(
        ctx, f"definitions in event source {source.name!r}", [d.name for d in cur.definitions]
    )
    have = {d.name: d for d in cur.definitions}
    ids: dict[str, Any] = {"source": source.name, "sourceId": cur.id}
    for definition in source.definitions:
        def_path, old = f"{path}.definitions[{definition.name}]", have.get(definition.name)
        target = f"{source.name}/{definition.name}"
        if old is None:
            body = definition_dump(definition)
            ctx.begin(op.DEFINITION_CREATE, target, body=body, **ids)
            ctx.add(def_path, None, body)
        else:
            draft = ctx.begin(op.DEFINITION_UPDATE, target, id=old.id, **ids)
            compare_set_fields(ctx, def_path, definition, old, frozenset({"name"}))
            draft.args["body"] = changed_body(draft, def_path, definition)
    wanted = {d.name for d in source.definitions}
    for name, old in sorted(have.items()):
        if name not in wanted:
            what = f"definition {name!r} of event source {source.name!r}"
            ctx.begin(op.DEFINITION_DELETE, f"{source.name}/{name}", id=old.id, **ids)
            ctx.removed(f"{path}.definitions[{name}]", definition_dump(old), what)
