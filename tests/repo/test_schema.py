"""The generated JSON Schemas: well-formed, committed up to date, and matching the examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.config import skillfile
from reconciler.config.schema import render, schemas, write_schemas
from reconciler.config.yamlio import Problems, parse_yaml, plain

JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}
KEYWORDS = {
    "$schema", "$defs", "$ref", "title", "description", "type", "properties", "required",
    "additionalProperties", "items", "anyOf", "oneOf", "enum", "const", "default", "minLength",
    "maxLength", "minimum", "maximum", "exclusiveMinimum", "discriminator", "propertyNames",
}  # fmt: skip


def walk(node: Any) -> list[dict[str, Any]]:
    """Every schema object nested in `node`."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for key, value in node.items():
            if key in {"properties", "$defs"}:
                for sub in value.values():
                    out += walk(sub)
            elif key in {"items", "additionalProperties", "propertyNames"}:
                out += walk(value)
            elif key in {"anyOf", "oneOf"}:
                for sub in value:
                    out += walk(sub)
    return out


@pytest.mark.parametrize("name", ["instance.json", "skill.json", "polyant.json"])
def test_schema_is_structurally_valid(name: str) -> None:
    schema = schemas()[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    defs = schema.get("$defs", {})
    for node in walk(schema):
        assert set(node) <= KEYWORDS, set(node) - KEYWORDS
        types = node.get("type", "object")
        assert set(types if isinstance(types, list) else [types]) <= JSON_TYPES
        if "$ref" in node:
            assert node["$ref"].removeprefix("#/$defs/") in defs
        if "required" in node:
            assert set(node["required"]) <= set(node["properties"])
    for node in walk(schema):
        assert "id" not in node.get("properties", {})  # engine ids are never written


def test_instance_schema_matches_the_file_format() -> None:
    props = schemas()["instance.json"]["properties"]
    assert "slug" not in props and "prompts" not in props
    assert "memoryEnabled" in props and "memory_enabled" not in props
    assert props["icon"]["anyOf"][0] == {"type": "string"}
    assert schemas()["instance.json"]["required"] == ["name"]


def test_committed_schemas_are_current_and_deterministic(examples_root: Path) -> None:
    for name, schema in schemas().items():
        text = render(schema)
        assert text.endswith("}\n")
        assert text == render(json.loads(text))  # sorted keys: re-rendering is a no-op
        assert (examples_root / ".schemas" / name).read_text() == text, "run polyant-gitops schema"


def test_write_schemas_writes_three_files(tmp_path: Path) -> None:
    paths = write_schemas(tmp_path)
    assert sorted(p.name for p in paths) == ["instance.json", "polyant.json", "skill.json"]
    before = {p: p.stat().st_mtime_ns for p in paths}
    write_schemas(tmp_path)
    assert {p: p.stat().st_mtime_ns for p in paths} == before  # unchanged files not rewritten


def check(value: Any, schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    """A small JSON Schema checker for the keywords the generated schemas use."""
    if "$ref" in schema:
        return check(value, defs[schema["$ref"].removeprefix("#/$defs/")], defs, path)
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        ok = any(not check(value, s, defs, path) for s in options)
        return [] if ok else [f"{path}: matches no option"]
    errors: list[str] = []
    kind = schema.get("type")
    py = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return [f"{path}: not an integer"]
    if kind in py and not isinstance(value, py[kind]):
        return [f"{path}: not a {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: not {schema['const']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{path}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, sub in value.items():
            if key in props:
                errors += check(sub, props[key], defs, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}.{key}: not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += check(sub, schema["additionalProperties"], defs, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += check(item, schema["items"], defs, f"{path}[{i}]")
    return errors


def test_example_files_validate_against_their_schemas(examples_root: Path) -> None:
    files = {examples_root / "polyant.yaml": "polyant.json"}
    files |= dict.fromkeys(examples_root.glob("instances/*/instance.yaml"), "instance.json")
    for path, name in files.items():
        data = plain(parse_yaml(path.read_text(), path.name, Problems()))
        schema = schemas()[name]
        assert check(data, schema, schema.get("$defs", {}), path.name) == []
    schema = schemas()["skill.json"]
    for path in examples_root.glob("skills/*/SKILL.md"):
        parts = skillfile.split(path.read_text())
        assert not isinstance(parts, str)
        data = plain(parse_yaml(parts.front, path.name, Problems()))
        assert check(data, schema, schema.get("$defs", {}), path.name) == []


def test_schema_checker_rejects_a_wrong_file() -> None:
    schema = schemas()["instance.json"]
    bad = {"name": "A", "memoryEnabled": "yes", "bogus": 1, "scheduledTasks": [{"name": "T"}]}
    errors = check(bad, schema, schema["$defs"], "x")
    assert "x.memoryEnabled: not a boolean" in errors and "x.bogus: not allowed" in errors
