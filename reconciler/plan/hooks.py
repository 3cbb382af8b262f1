"""Diff of an instance's hooks (develop 5e59498 on) into operations, by event#position:tool.

Pure. A hook has no name on the engine; its event, position and tool make its identity,
so changing one of them is a removal plus a creation. Args, enabled and timeoutMs are
updated in place (one PATCH of the changed keys).
"""

from __future__ import annotations

from typing import Any

from reconciler.model.objects import Hook, Instance
from reconciler.plan import operations as op
from reconciler.plan.fields import DiffContext


def _dump(hook: Hook) -> dict[str, Any]:
    out: dict[str, Any] = hook.model_dump(mode="json")
    return out


def hooks(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    """Compare the managed list of hooks."""
    if desired.hooks is None or (live is not None and live.hooks is None and not ctx.fresh):
        return
    have = {h.key: h for h in live.hooks or []} if live is not None else {}
    for hook in desired.hooks:
        path, cur = f"hooks[{hook.key}]", have.get(hook.key)
        if cur is None:
            ctx.begin(op.HOOK_CREATE, hook.key, body=_dump(hook))
            ctx.add(path, None, _dump(hook))
            continue
        draft = ctx.begin(op.HOOK_UPDATE, hook.key, id=cur.id)
        ctx.add(f"{path}.actionConfig", _dump(cur)["actionConfig"], _dump(hook)["actionConfig"])
        ctx.add(f"{path}.enabled", cur.enabled, hook.enabled)
        ctx.add(f"{path}.timeoutMs", cur.timeout_ms, hook.timeout_ms)
        new, old = _dump(hook), _dump(cur)
        keys = ("actionConfig", "enabled", "timeoutMs")
        draft.args["body"] = {k: new[k] for k in keys if new[k] != old[k]}
    wanted = {h.key for h in desired.hooks}
    for key, gone in sorted(have.items()):
        if key not in wanted:
            ctx.begin(op.HOOK_DELETE, key, id=gone.id)
            ctx.removed(f"hooks[{key}]", _dump(gone), f"hook {key}")
