"""A corpus of hostile engine answers: each case spoils one answer of a valid fake engine."""

from __future__ import annotations

import copy
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.reliability.fake_engine import SLUG, Answer, FakeEngine

LIST = "/api/instances"
CATALOG = "/api/skills/catalog/export"
EXPORT = f"/api/instances/{SLUG}/export"
TASKS = f"/api/instances/{SLUG}/scheduled-tasks"
SOURCES = f"/api/instances/{SLUG}/event-sources"
ENV = f"/api/instances/{SLUG}/skills/faq-search/env"
MB = 1024 * 1024
Edit = Callable[[FakeEngine, dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    """One hostile engine: how to spoil the fake and what the error must name."""

    name: str
    apply: Edit
    names: str
    fails: tuple[str, ...] = ()  # commands that must stop with an error (exit 1)
    # For answers that could blow up (size, depth, long numbers): the exact refusal, which
    # shows a countable limit stopped the read before any unbounded work.
    says: str = ""


def _raw(path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Edit:
    def apply(fake: FakeEngine, base: dict[str, Any]) -> None:
        extra = headers or {}
        fake.answers[path] = Answer(status, body, {"content-type": "application/json", **extra})

    return apply


def _json(path: str, edit: Callable[[Any], Any]) -> Edit:
    """Answer `path` with edit(a copy of its base JSON) (edit may change it in place)."""

    def apply(fake: FakeEngine, base: dict[str, Any]) -> None:
        body = copy.deepcopy(base[path])
        result = edit(body)
        fake.set_json(path, body if result is None else result)

    return apply


def _slug(bad: str) -> Edit:
    """The instance list AND every per-instance route answer for a hostile slug."""

    def apply(fake: FakeEngine, base: dict[str, Any]) -> None:
        listing = copy.deepcopy(base[LIST])
        listing["instances"][0]["slug"] = bad
        fake.set_json(LIST, listing)
        bundle = copy.deepcopy(base[EXPORT])
        bundle["instance"]["slug"] = bad
        for path in (EXPORT, TASKS, SOURCES, ENV):
            moved = path.replace(f"/{SLUG}/", f"/{bad}/")
            fake.set_json(moved, bundle if path == EXPORT else base[path])

    return apply


def _inst(edit: Callable[[dict[str, Any]], Any]) -> Edit:
    return _json(EXPORT, lambda body: edit(body["instance"]))


def _skill(edit: Callable[[dict[str, Any]], Any]) -> Edit:
    return _json(CATALOG, lambda body: edit(body["skills"][0]))


def _version(edit: Callable[[dict[str, Any]], Any]) -> Edit:
    return _json(CATALOG, lambda body: edit(body["skills"][0]["versions"][0]))


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda obj: obj.__setitem__(key, value)


def _deep(depth: int) -> bytes:
    return b'{"instances": ' + b"[" * depth + b"]" * depth + b"}"


def _bomb() -> bytes:
    # 64 MB of spaces inside a JSON string, gzip-compressed to ~64 KB.
    return gzip.compress(b'{"instances": "' + b" " * (64 * MB) + b'"}', compresslevel=9)


CASES: list[Case] = [
    Case(
        "list: malformed JSON",
        _raw(LIST, b'{"instances": ['),
        "instance list",
        fails=("export", "plan"),
    ),
    Case(
        "list: HTML page",
        _raw(LIST, b"<html>login</html>", headers={"content-type": "text/html"}),
        "instance list",
        fails=("export", "plan"),
    ),
    Case("list: empty body", _raw(LIST, b""), "instance list", fails=("export", "plan")),
    Case(
        "list: instances is an object",
        _json(LIST, _set("instances", {"a": 1})),
        "instance list",
        fails=("export", "plan"),
    ),
    Case(
        "list: instances is a string",
        _json(LIST, _set("instances", "alpha")),
        "instance list",
        fails=("export", "plan"),
    ),
    Case(
        "list: top level is a list",
        _json(LIST, lambda body: [body]),
        "instance list",
        fails=("export", "plan"),
    ),
    Case(
        "list: 100k-deep nesting",
        _raw(LIST, _deep(100_000)),
        "instance list",
        fails=("export", "plan"),
        says="instance list: the engine answered 200 with malformed JSON (200015 bytes)",
    ),
    Case(
        "list: 5000-digit number",
        _raw(LIST, b'{"instances": [], "n": ' + b"9" * 5000 + b"}"),
        "instance list",
        fails=("export", "plan"),
        says="instance list: the engine answered 200 with malformed JSON (5024 bytes)",
    ),
    Case(
        "list: NaN literal",
        _raw(LIST, b'{"instances": NaN}'),
        "instance list",
        fails=("export", "plan"),
    ),
    Case(
        "list: 25 MB body",
        _raw(LIST, b'{"instances": "' + b"x" * (25 * MB) + b'"}'),
        "instance list",
        fails=("export", "plan"),
        says="error: instance list: the answer is over 20 MB; not read",
    ),
    Case(
        "list: gzip bomb",
        _raw(LIST, _bomb(), headers={"content-encoding": "gzip"}),
        "instance list",
        fails=("export", "plan"),
        says="error: instance list: the answer is over 20 MB; not read",
    ),
    Case(
        "list: 500",
        _raw(LIST, b'{"statusCode":500,"message":"Internal server error"}', 500),
        "instance list",
        fails=("export", "plan"),
    ),
    Case(
        "list: redirect",
        _raw(LIST, b"", 302, headers={"location": "http://elsewhere.example/api/instances"}),
        "instance list",
        fails=("export", "plan"),
    ),
    Case("slug '../evil'", _slug("../evil"), "../evil"),
    Case("slug '../../etc'", _slug("../../etc"), "../../etc"),
    Case("slug with a slash", _slug("a/b"), "a/b"),
    Case("absolute slug", _slug("/tmp/evil"), "/tmp/evil"),
    Case("slug with a NUL byte", _slug("al\x00pha"), "al"),
    Case("slug with upper case and spaces", _slug("Evil Slug"), "Evil Slug"),
    Case("export: not JSON", _raw(EXPORT, b"not json"), SLUG, fails=("export", "plan")),
    Case(
        "export: instance is a string",
        _json(EXPORT, _set("instance", "alpha")),
        SLUG,
        fails=("export", "plan"),
    ),
    Case("export: prompts is an object", _inst(_set("prompts", {"01-identity": "x"})), SLUG),
    Case(
        "export: prompt content is a number",
        _inst(lambda i: i["prompts"][0].__setitem__("content", 7)),
        SLUG,
    ),
    Case(
        "export: section key traversal",
        _inst(lambda i: i["prompts"][0].__setitem__("sectionKey", "../../x")),
        SLUG,
    ),
    Case(
        "export: name is a list",
        _inst(_set("name", ["Alpha"])),
        SLUG,
    ),
    Case("export: name with escape codes", _inst(_set("name", "\x1b[2J\x1b[31mAlpha")), SLUG),
    Case(
        "export: 1 MB description",
        _inst(_set("description", "d" * (MB + 4096))),
        SLUG,
    ),
    Case("export: icon traversal", _inst(_set("icon", "data:image/../../x;base64,AAAA")), SLUG),
    Case("export: icon not base64", _inst(_set("icon", "data:image/png;base64,!!!")), SLUG),
    Case(
        "export: skill slug traversal",
        _inst(lambda i: i["skills"][0].__setitem__("skillSlug", "../x")),
        SLUG,
    ),
    Case("export: booleans as strings", _inst(_set("memoryEnabled", "true")), SLUG),
    Case(
        "export: 404 (vanished)",
        _raw(EXPORT, b'{"message":"Not found","statusCode":404}', 404),
        SLUG,
    ),
    Case("catalog: not JSON", _raw(CATALOG, b"{{{"), "catalog", fails=("export", "plan")),
    Case(
        "catalog: skills is a string",
        _json(CATALOG, _set("skills", "all")),
        "catalog",
        fails=("export", "plan"),
    ),
    Case(
        "catalog: skill slug traversal",
        _skill(_set("slug", "../../evil")),
        "../../evil",
    ),
    Case("catalog: skill slug with slash", _skill(_set("slug", "a/b")), "a/b"),
    Case("catalog: versions is an object", _skill(_set("versions", {"0.1.0": {}})), "faq-search"),
    Case(
        "catalog: script name traversal",
        _version(lambda v: v["scripts"][0].__setitem__("file", "../../../evil.py")),
        "faq-search",
        fails=("export",),
    ),
    Case(
        "catalog: absolute script name",
        _version(lambda v: v["scripts"][0].__setitem__("file", "/tmp/evil.py")),
        "faq-search",
        fails=("export",),
    ),
    Case(
        "catalog: requiredEnv of numbers",
        _version(lambda v: v["metadata"].__setitem__("requiredEnv", [1, 2])),
        "faq-search",
    ),
    Case("catalog: content is null", _version(_set("content", None)), "faq-search"),
    Case(
        "tasks: tasks is an object",
        _json(TASKS, _set("tasks", {"x": 1})),
        SLUG,
        fails=("export", "plan"),
    ),
    Case(
        "tasks: schedule of unknown type",
        _json(TASKS, lambda b: b["tasks"][0].__setitem__("schedule", {"type": "lunar"})),
        SLUG,
    ),
    Case(
        "tasks: name is null", _json(TASKS, lambda b: b["tasks"][0].__setitem__("name", None)), SLUG
    ),
    Case(
        "sources: an object, not a list",
        _json(SOURCES, lambda b: {"sources": b}),
        SLUG,
        fails=("export", "plan"),
    ),
    Case(
        "sources: definitions is a string",
        _json(SOURCES, lambda b: b[0].__setitem__("definitions", "x")),
        SLUG,
    ),
    Case(
        "sources: name with a NUL byte",
        _json(SOURCES, lambda b: b[0].__setitem__("name", "Or\x00ders")),
        SLUG,
    ),
    Case(
        "env: value is an object",
        _json(ENV, lambda b: b["env"][0].__setitem__("value", {"a": 1})),
        SLUG,
    ),
    Case("env: env is missing", _json(ENV, lambda b: {}), SLUG, fails=("export", "plan")),
]
