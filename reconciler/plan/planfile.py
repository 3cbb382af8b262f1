"""The saved plan: Plan ⇄ versioned JSON text (pure, str in / str out).

Schema (``schemaVersion`` 2)::

    {"schemaVersion": 2, "environment", "engineUrl", "commit", "scope", "leftOut",
     "summary": {"create", "update", "delete"}, "unsafe", "unsafeReasons",
     "notices": [{"level", "key", "message"}],
     "changes": [{"kind", "action", "slug", "fields": [{"path", "old", "new"}],
                  "fingerprint", "desired", "wave", "unsupplied",
                  "operations": [{"type", "target", "fields", "args"}]}],
     "checksum"}

``operations`` are the work order apply executes; ``desired`` is the repo object dumped with
only the fields the repo sets. Live objects are not saved: apply re-reads the engine and
compares fingerprints instead. Keys are sorted; the order of ``changes``, ``fields``,
``operations`` and ``notices`` is meaningful and kept. Loading checks the version
and the checksum, so a hand-edited plan is refused.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from reconciler.errors import PlanError
from reconciler.model.objects import Instance, Skill
from reconciler.plan.changes import PLAN_SCHEMA_VERSION, WAVES, Change, Notice, Plan
from reconciler.plan.operations import FieldChange, operation_from
from reconciler.plan.safety import change_record, checksum


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON data (schemaVersion 2)."""
    changes = []
    for change in plan.changes:
        record = change_record(change)
        record["fingerprint"] = plan.fingerprints.get(change.key)
        changes.append(record)
    return {
        "schemaVersion": PLAN_SCHEMA_VERSION,
        "environment": plan.environment,
        "engineUrl": plan.engine_url,
        "commit": plan.commit,
        "scope": None if plan.scope is None else list(plan.scope),
        "leftOut": list(plan.left_out),
        **({"targets": plan.targets} if plan.targets is not None else {}),
        "summary": plan.counts(),
        "unsafe": plan.unsafe,
        "unsafeReasons": list(plan.unsafe_reasons),
        "notices": [{"level": n.level, "key": n.key, "message": n.message} for n in plan.notices],
        "changes": changes,
        "checksum": checksum(plan),
    } | ({"engineLine": plan.engine_line} if plan.engine_line else {})


def plan_to_json(plan: Plan) -> str:
    """The plan as deterministic JSON text (two-space indent, final newline).

    The plan's own keys are sorted; field values and desired dumps keep their model order,
    which is deterministic and survives a round trip (a loaded plan renders identically).
    """
    data = _sorted(plan_to_dict(plan))
    data["changes"] = [_sorted(c, fields=True) for c in data["changes"]]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _sorted(record: dict[str, Any], *, fields: bool = False) -> dict[str, Any]:
    out = dict(sorted(record.items()))
    if fields:
        out["fields"] = [dict(sorted(f.items())) for f in out["fields"]]
    return out


def plan_from_json(text: str) -> Plan:
    """Rebuild a saved plan; PlanError when it is not one, is too new, or was edited."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PlanError(f"the plan file is not JSON ({exc}): write it with `plan --out`") from exc
    if not isinstance(data, dict) or "schemaVersion" not in data:
        raise PlanError("the plan file is not a polyant-gitops plan: write it with `plan --out`")
    if data["schemaVersion"] != PLAN_SCHEMA_VERSION:
        raise PlanError(
            f"the plan file has schemaVersion {data['schemaVersion']!r}; this polyant-gitops "
            f"reads {PLAN_SCHEMA_VERSION}: run plan again with this version"
        )
    try:
        plan = _plan(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanError(f"the plan file is damaged ({_why(exc)}): run plan again") from exc
    if checksum(plan) != data.get("checksum"):
        raise PlanError(
            "the plan file was changed after plan wrote it (checksum mismatch): run plan again"
        )
    return plan


def _why(exc: Exception) -> str:
    # Only the location of a validation error: its input could be long repo text.
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"invalid desired object at {where}: {first['msg']}"
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return type(exc).__name__


def _plan(data: dict[str, Any]) -> Plan:
    return Plan(
        changes=tuple(_change(record) for record in data["changes"]),
        notices=tuple(Notice(n["level"], n["key"], n["message"]) for n in data["notices"]),
        unsafe_reasons=tuple(str(r) for r in data["unsafeReasons"]),
        environment=data["environment"],
        engine_url=data["engineUrl"],
        engine_line=data.get("engineLine"),
        commit=data["commit"],
        scope=None if data["scope"] is None else tuple(str(s) for s in data["scope"]),
        left_out=tuple(str(k) for k in data["leftOut"]),
        targets=None if data.get("targets") is None else tuple(str(t) for t in data["targets"]),
    )


def _change(record: dict[str, Any]) -> Change:
    kind, action = record["kind"], record["action"]
    if kind not in ("skill", "instance") or action not in ("create", "update", "delete"):
        raise ValueError(f"unknown change {kind!r}/{action!r}")
    model = Skill if kind == "skill" else Instance
    desired = None if record["desired"] is None else model.model_validate(record["desired"])
    fields = tuple(FieldChange(f["path"], f["old"], f["new"]) for f in record["fields"])
    operations = tuple(operation_from(o) for o in record["operations"])
    wave = record["wave"]
    if wave not in WAVES:
        raise ValueError(f"unknown wave {wave!r}")
    unsupplied = tuple(str(v) for v in record["unsupplied"])
    stamp = record.get("fingerprint")
    return Change(
        kind,
        action,
        str(record["slug"]),
        fields,
        desired,
        None,
        operations,
        wave,
        unsupplied,
        None if stamp is None else str(stamp),
    )
