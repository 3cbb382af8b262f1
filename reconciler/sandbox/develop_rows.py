"""develop-line columns of child rows in bundles: event-definition actions and hooks."""

from __future__ import annotations

from typing import Any

from .state import Instance, Store


def export_actions(store: Store, inst: Instance, sources: list[dict[str, Any]]) -> None:
    """Add develop's action columns to the exported event definitions, row by row."""
    rows = list(store.data[inst.id].sources.values())
    for out, src in zip(sources, rows, strict=True):
        for d_out, d in zip(out["definitions"], src.definitions.values(), strict=True):
            d_out |= {
                "action": d.action,
                "contextPrompt": d.context_prompt,
                "outboundChannel": d.outbound_channel,
                "outboundTarget": d.outbound_target,
            }


def hook_export(hook: dict[str, Any]) -> dict[str, Any]:
    """A hook as the 1.1 bundle carries it."""
    keys = ("event", "actionType", "actionConfig", "enabled", "position", "timeoutMs")
    return {k: hook[k] for k in keys}


def import_actions(store: Store, inst: Instance, raw: dict[str, Any]) -> None:
    """Apply the action columns of a 1.1 bundle's event definitions to the imported rows."""
    by_name = {s.name: s for s in store.data[inst.id].sources.values()}
    for src in raw.get("eventSources") or []:
        row = by_name.get(src.get("name"))
        defs = {d.name: d for d in row.definitions.values()} if row is not None else {}
        for d in src.get("definitions") or []:
            target = defs.get(d.get("name"))
            if target is not None and "action" in d:
                target.action = d["action"]
                target.context_prompt = d.get("contextPrompt")
                target.outbound_channel = d.get("outboundChannel")
                target.outbound_target = d.get("outboundTarget")
