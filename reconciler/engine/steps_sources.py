"""Apply steps of an instance's event sources and their definitions, matched by name.

Sources are updated in place with PUT, so their id, webhook token and backlog survive;
only a sourceType change (the engine cannot update it) replaces one — delete + create,
flagged in the report. Live configs are masked, so only keys missing live are sent: plain
values from the repo, credentials from the environment (`secretenv.event_source_var`).
Definitions: POST new, PUT only the changed fields, DELETE removed ones under prune.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.engine.steps_common import (
    ChangeRun,
    changed_fields,
    find_named,
    inst_path,
    known_id,
)
from reconciler.model import secretenv
from reconciler.model.objects import Definition, EventSource, Instance

DEFINITION_FIELDS = (
    "name",
    "matching_prompt",
    "interpretation_prompt",
    "action",
    "context_prompt",
    "outbound_channel",
    "outbound_target",
    "enabled",
)


def apply_event_sources(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """Match sources by name; PUT in place, POST new ones, replace only on a sourceType change."""
    if desired.event_sources is None:
        return
    have = {s.name: s for s in _with_ids(run, live.event_sources or [])}
    for source in desired.event_sources:
        if run.ignored(f"eventSources[{source.name}]"):
            continue
        current = have.get(source.name)
        run.step(f"event source {source.name!r}", partial(_sync_source, run, source, current))
    for name in sorted(set(have) - {s.name for s in desired.event_sources}):
        if run.removal_planned(f"eventSources[{name}]"):
            _delete_source(run, have[name])


def _with_ids(run: ChangeRun, sources: list[EventSource]) -> list[EventSource]:
    """Live sources with their engine ids; a saved plan carries none, so re-read then."""
    if all(s.id and all(d.id for d in s.definitions) for s in sources):
        return sources
    answer = run.read(
        inst_path(run.slug, "event-sources"), what=f"instance {run.slug!r} event sources"
    )
    rows = answer if isinstance(answer, list) else []
    by_name = {r.get("name"): r for r in rows if isinstance(r, dict)}
    out = []
    for source in sources:
        row = by_name.get(source.name) or {}
        defs = {d.get("name"): d.get("id") for d in row.get("definitions") or []}
        definitions = [d.model_copy(update={"id": defs.get(d.name)}) for d in source.definitions]
        out.append(source.model_copy(update={"id": row.get("id"), "definitions": definitions}))
    return out


def _sync_source(run: ChangeRun, source: EventSource, current: EventSource | None) -> None:
    if current is not None and current.source_type != source.source_type:
        run.note(
            f"event source {source.name!r} replaced: sourceType cannot change "
            f"({current.source_type} → {source.source_type}); its webhook token and backlog "
            "are new"
        )
        _delete_source(run, current)
        current = None
    if current is None:
        source_id = _create_source(run, source)
        if source_id is not None:
            _sync_definitions(run, source, source_id, [])
        return
    _update_source(run, source, current)
    _sync_definitions(run, source, known_id(current), current.definitions)


def _config(run: ChangeRun, source: EventSource, keys: set[str]) -> dict[str, Any]:
    """Plain values and env-supplied credentials for `keys` of the desired config."""
    out: dict[str, Any] = {}
    for key in sorted(keys):
        value = (source.config or {}).get(key)
        if value is not None:
            out[key] = value
            continue
        var = secretenv.event_source_var(run.slug, source.name, key)
        secret = run.ctx.secret(var)
        if secret is None:
            run.ctx.missing(var)
        else:
            out[key] = secret
    return out


def _create_source(run: ChangeRun, source: EventSource) -> str | None:
    config = _config(run, source, set(source.config or {}))
    if source.source_type == "hubspot" and "clientSecret" not in config:
        var = secretenv.event_source_var(run.slug, source.name, "clientSecret")
        run.skip(f"event source {source.name!r}", f"a hubspot source needs ${var} to be created")
        return None
    body = {
        "name": source.name,
        "sourceType": source.source_type,
        "config": config,
        "enabled": source.enabled,
    }
    path = inst_path(run.slug, "event-sources")
    what = f"event source {source.name!r} of instance {run.slug!r}"
    answer = run.write(
        "POST", path, body, what=what, confirm=lambda: find_named(run, path, source.name)
    )
    return run.new_id(answer, f"event source {source.name!r}", "id")


def _update_source(run: ChangeRun, source: EventSource, current: EventSource) -> None:
    prefix = f"eventSources[{source.name}]."
    body = changed_fields(run, source, current, ("enabled",), prefix)
    if source.config is not None and not run.ignored(prefix + "config"):
        # Live configs are masked: only keys missing live can be known to need a value.
        missing = set(source.config) - set(current.config or {})
        config = _config(run, source, missing)
        if config:
            body["config"] = config
    if body:
        path = inst_path(run.slug, "event-sources", known_id(current))
        run.write("PUT", path, body, what=f"event source {source.name!r} of {run.slug!r}")


def _delete_source(run: ChangeRun, source: EventSource) -> None:
    path = inst_path(run.slug, "event-sources", known_id(source))
    run.write("DELETE", path, what=f"event source {source.name!r} of instance {run.slug!r}")


def _sync_definitions(
    run: ChangeRun, source: EventSource, source_id: str, live_defs: list[Definition]
) -> None:
    have = {d.name: d for d in live_defs}
    base = inst_path(run.slug, "event-sources", source_id, "definitions")
    prefix = f"eventSources[{source.name}].definitions"
    for definition in source.definitions:
        path = f"{prefix}[{definition.name}]"
        if run.ignored(path):
            continue
        current = have.get(definition.name)
        what = f"definition {definition.name!r} of event source {source.name!r}"
        if current is None:
            body = definition.model_dump(exclude_none=True)
            run.write(
                "POST",
                base,
                body,
                what=what,
                confirm=partial(find_named, run, base, definition.name),
            )
            continue
        changes = changed_fields(run, definition, current, DEFINITION_FIELDS, path + ".")
        if changes:
            run.write("PUT", f"{base}/{known_id(current)}", changes, what=what)
    for name in sorted(set(have) - {d.name for d in source.definitions}):
        if run.removal_planned(f"{prefix}[{name}]"):
            what = f"definition {name!r} of event source {source.name!r}"
            run.write("DELETE", f"{base}/{known_id(have[name])}", what=what)
