"""Delete the extra copies of named children that the plan found on the engine (--prune)."""

from __future__ import annotations

from reconciler.engine.client import EngineClient
from reconciler.engine.report import Call, ChangeResult
from reconciler.errors import EngineError, NotFound
from reconciler.plan.changes import Duplicate


def delete_duplicates(
    client: EngineClient, dupes: list[Duplicate], *, dry_run: bool
) -> list[ChangeResult]:
    """One DELETE per extra copy; each reported as a change of its own."""
    results = []
    for dupe in dupes:
        call = Call("DELETE", dupe.path, None, f"delete {dupe.describe()}")
        result = ChangeResult(dupe.key, "delete duplicate", "applied", dupe.describe(), [call])
        if dry_run:
            results.append(result)
            continue
        try:
            client.delete(dupe.path, what=call.what)
        except NotFound:
            result.reason += " (already gone)"
        except EngineError as exc:
            result.status = "failed"
            result.reason = str(exc)
        results.append(result)
    return results
