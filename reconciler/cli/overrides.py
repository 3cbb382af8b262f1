"""Per-environment overrides survive export and bundle import: base files keep base values."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from reconciler.config.load import LoadedRepo
from reconciler.config.variables import substitute
from reconciler.model.objects import Instance
from reconciler.plan.changes import Notice


def keep_overrides(
    instances: dict[str, Instance], loaded: LoadedRepo, *, source: str = "engine"
) -> list[Notice]:
    """Put the base file's value back on every field the environment overrides (in place).

    Without this, exporting production would write production's override (say, its model)
    into the shared base file, and every other environment would inherit it.
    """
    env = loaded.project.environments.get(loaded.environment or "")
    notices: list[Notice] = []
    for slug, fields in (env.overrides if env else {}).items():
        inst, src = instances.get(slug), loaded.docs.get(f"instance/{slug}")
        current = loaded.state.instances.get(slug)
        if inst is None or src is None or current is None:
            continue
        update: dict[str, Any] = {}
        for alias in fields:
            name = _field_name(alias)
            if getattr(inst, name) != getattr(current, name):
                message = (
                    f"the {source}'s {alias} differs from environment {loaded.environment!r}'s "
                    "override, which was left as it is: update polyant.yaml by hand"
                )
                notices.append(Notice("warning", f"instance/{slug}", message))
            base = src.main.data()
            if isinstance(base, dict) and alias in base:
                update[name] = _base_value(name, base[alias], loaded)
        instances[slug] = inst.model_copy(update=update)
    return notices


def _field_name(alias: str) -> str:
    return next(n for n, f in Instance.model_fields.items() if (f.alias or n) == alias)


def _base_value(name: str, raw: Any, loaded: LoadedRepo) -> Any:
    value = substitute(raw, loaded.variables, lambda _path, _message: None)
    try:
        kind: Any = Instance.model_fields[name].annotation
        return TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return value  # the file loaded, so this does not happen; never block the write
