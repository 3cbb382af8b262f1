"""JSON Schemas of instance.yaml, SKILL.md front matter and polyant.yaml, for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.config.exportfiles import atomic_write
from reconciler.config.skillfile import FrontMatter
from reconciler.model.objects import Instance
from reconciler.model.project import Project

SCHEMA_DIR = ".schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Engine ids and live-only facts: never written by users, so not offered by editors.
_LIVE_ONLY = ("id", "autoDisabled", "archived", "version")
_ICON = {
    "anyOf": [{"type": "string"}, {"type": "null"}],
    "default": None,
    "description": "File name of a png, jpeg or webp image (at most 75 KB) in this folder.",
    "title": "Icon",
}


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for the three config file kinds."""
    instance = _schema(Instance, "Polyant instance (instances/<slug>/instance.yaml)")
    props = instance["properties"]
    for name in ("slug", "prompts"):
        props.pop(name, None)
    props["icon"] = _ICON
    instance["required"] = [r for r in instance.get("required", []) if r in props]
    return {
        "instance.json": instance,
        "skill.json": _schema(FrontMatter, "Polyant skill (skills/<slug>/SKILL.md front matter)"),
        "polyant.json": _schema(Project, "polyant-gitops project settings (polyant.yaml)"),
    }


def _schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    for definition in [schema, *schema.get("$defs", {}).values()]:
        for name in _LIVE_ONLY if definition is not schema else ():
            definition.get("properties", {}).pop(name, None)
    return {"$schema": DRAFT, **schema, "title": title}


def render(schema: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(root: Path) -> list[Path]:
    """Write the schemas into root/.schemas/ (only files whose bytes change are rewritten)."""
    folder = root / SCHEMA_DIR
    folder.mkdir(exist_ok=True)
    out = []
    for name, schema in schemas().items():
        path = folder / name
        data = render(schema).encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            atomic_write(path, data)
        out.append(path)
    return out
