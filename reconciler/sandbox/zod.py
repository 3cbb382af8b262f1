"""A small zod-3 work-alike: the engine's validation issues, messages and their order."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from .jsutil import dumps, type_name


class _Missing:
    """JavaScript `undefined`: an absent key or an unparsed body."""

    def __repr__(self) -> str:
        return "undefined"


MISSING: Any = _Missing()
Path = tuple[str | int, ...]


class St(IntEnum):
    """zod parse status: dirty keeps the value, aborted drops it."""

    OK = 0
    DIRTY = 1
    ABORTED = 2


class Ctx:
    """Collects issues in the order zod reports them."""

    def __init__(self) -> None:
        self.issues: list[dict[str, Any]] = []

    def add(self, path: Path, issue: dict[str, Any], message: str) -> None:
        self.issues.append({**issue, "path": list(path), "message": message})


def _received(value: Any) -> str:
    return "undefined" if value is MISSING else type_name(value)


def _bad_type(ctx: Ctx, path: Path, expected: str, value: Any) -> tuple[St, Any]:
    received = _received(value)
    msg = "Required" if value is MISSING else f"Expected {expected}, received {received}"
    ctx.add(path, {"code": "invalid_type", "expected": expected, "received": received}, msg)
    return St.ABORTED, MISSING


class Schema:
    """Base schema: `run` returns (status, parsed value)."""

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        raise NotImplementedError

    def optional(self) -> Schema:
        return Optional(self)

    def nullable(self) -> Schema:
        return Nullable(self)

    def default(self, value: Any) -> Schema:
        return Default(self, value)


class Str(Schema):
    """z.string() with min/max/regex checks (all reported, non-fatal)."""

    def __init__(
        self, min_len: int | None = None, max_len: int | None = None, regex: str | None = None
    ) -> None:
        self.min_len, self.max_len, self.regex = min_len, max_len, regex

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if not isinstance(value, str):
            return _bad_type(ctx, path, "string", value)
        st = St.OK
        if self.regex is not None and not re.search(self.regex, value):
            issue = {"validation": "regex", "code": "invalid_string"}
            ctx.add(path, issue, f"must match /{self.regex}/")
            st = St.DIRTY
        n = len(value.encode("utf-16-le")) // 2  # JS string length counts UTF-16 units
        if self.min_len is not None and n < self.min_len:
            issue = _size("too_small", "minimum", self.min_len, "string")
            ctx.add(path, issue, f"String must contain at least {self.min_len} character(s)")
            st = St.DIRTY
        if self.max_len is not None and n > self.max_len:
            issue = _size("too_big", "maximum", self.max_len, "string")
            ctx.add(path, issue, f"String must contain at most {self.max_len} character(s)")
            st = St.DIRTY
        return st, value


def _size(code: str, bound: str, limit: float, kind: str) -> dict[str, Any]:
    return {"code": code, bound: limit, "type": kind, "inclusive": True, "exact": False}


class Num(Schema):
    """z.number() (optionally coerced from a query string) with int/gte/lte checks."""

    def __init__(
        self,
        *,
        integer: bool = False,
        gte: float | None = None,
        lte: float | None = None,
        coerce: bool = False,
    ) -> None:
        self.integer, self.gte, self.lte, self.coerce = integer, gte, lte, coerce

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if self.coerce and value is not MISSING:
            value = _to_number(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            return _bad_type(ctx, path, "number", value)
        st = St.OK
        if self.integer and not float(value).is_integer():
            issue = {"code": "invalid_type", "expected": "integer", "received": "float"}
            ctx.add(path, issue, "Expected integer, received float")
            st = St.DIRTY
        if self.gte is not None and value < self.gte:
            issue = _size("too_small", "minimum", self.gte, "number")
            ctx.add(path, issue, f"Number must be greater than or equal to {dumps(self.gte)}")
            st = St.DIRTY
        if self.lte is not None and value > self.lte:
            issue = _size("too_big", "maximum", self.lte, "number")
            ctx.add(path, issue, f"Number must be less than or equal to {dumps(self.lte)}")
            st = St.DIRTY
        return st, value


def _to_number(value: Any) -> Any:
    """Number(value) for query-string input."""
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0
        try:
            return float(text) if not text.lower().startswith(("0x", "inf", "nan")) else math.nan
        except ValueError:
            return math.nan
    return value


class Bool(Schema):
    """z.boolean()."""

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if not isinstance(value, bool):
            return _bad_type(ctx, path, "boolean", value)
        return St.OK, value


class Lit(Schema):
    """z.literal(value)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if value != self.value:
            # JSON.stringify drops an undefined "received".
            issue: dict[str, Any] = {} if value is MISSING else {"received": value}
            issue.update({"code": "invalid_literal", "expected": self.value})
            ctx.add(path, issue, f"Invalid literal value, expected {json.dumps(self.value)}")
            return St.ABORTED, MISSING
        return St.OK, value


class Enum(Schema):
    """z.enum([...])."""

    def __init__(self, *options: str) -> None:
        self.options = list(options)

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        joined = " | ".join(f"'{o}'" for o in self.options)
        if not isinstance(value, str):
            return _bad_type(ctx, path, joined, value)
        if value not in self.options:
            issue = {"received": value, "code": "invalid_enum_value", "options": self.options}
            ctx.add(path, issue, f"Invalid enum value. Expected {joined}, received '{value}'")
            return St.ABORTED, MISSING
        return St.OK, value


class Arr(Schema):
    """z.array(item) with min/max length (length checked before the items)."""

    def __init__(self, item: Schema, min_len: int | None = None, max_len: int | None = None):
        self.item, self.min_len, self.max_len = item, min_len, max_len

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if not isinstance(value, list):
            return _bad_type(ctx, path, "array", value)
        st = St.OK
        if self.min_len is not None and len(value) < self.min_len:
            issue = _size("too_small", "minimum", self.min_len, "array")
            ctx.add(path, issue, f"Array must contain at least {self.min_len} element(s)")
            st = St.DIRTY
        if self.max_len is not None and len(value) > self.max_len:
            issue = _size("too_big", "maximum", self.max_len, "array")
            ctx.add(path, issue, f"Array must contain at most {self.max_len} element(s)")
            st = St.DIRTY
        out = []
        for i, v in enumerate(value):
            s, parsed = self.item.run(v, (*path, i), ctx)
            st = max(st, s)
            out.append(parsed)
        return st, out


class Obj(Schema):
    """z.object({...}) (unknown keys stripped unless passthrough) with an optional refine."""

    def __init__(
        self,
        fields: dict[str, Schema],
        *,
        passthrough: bool = False,
        refine: tuple[Callable[[dict[str, Any]], bool], str] | None = None,
    ) -> None:
        self.fields, self.passthrough, self.refine = fields, passthrough, refine

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if not isinstance(value, dict):
            return _bad_type(ctx, path, "object", value)
        st, out = St.OK, {}
        for key, schema in self.fields.items():
            s, parsed = schema.run(value.get(key, MISSING), (*path, key), ctx)
            st = max(st, s)
            if parsed is not MISSING:
                out[key] = parsed
        if self.passthrough:
            out.update({k: v for k, v in value.items() if k not in self.fields})
        if st == St.ABORTED:
            return st, MISSING
        # Refinements run on valid and dirty objects, never on aborted ones.
        if self.refine is not None and not self.refine[0](out):
            ctx.add(path, {"code": "custom"}, self.refine[1])
            st = St.DIRTY
        return st, out


class Rec(Schema):
    """z.record(z.unknown()): any plain object."""

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if not isinstance(value, dict):
            return _bad_type(ctx, path, "object", value)
        return St.OK, value


class Optional(Schema):
    """.optional(): undefined passes and stays absent."""

    def __init__(self, inner: Schema) -> None:
        self.inner = inner

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if value is MISSING:
            return St.OK, MISSING
        return self.inner.run(value, path, ctx)


class Nullable(Schema):
    """.nullable(): null passes."""

    def __init__(self, inner: Schema) -> None:
        self.inner = inner

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if value is None:
            return St.OK, None
        return self.inner.run(value, path, ctx)


class Default(Schema):
    """.default(v): undefined becomes v."""

    def __init__(self, inner: Schema, value: Any) -> None:
        self.inner, self.value = inner, value

    def run(self, value: Any, path: Path, ctx: Ctx) -> tuple[St, Any]:
        if value is MISSING:
            value = json.loads(json.dumps(self.value))
        return self.inner.run(value, path, ctx)


def parse(schema: Schema, value: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Run a schema; returns (value, issues). The value is MISSING when it was aborted."""
    ctx = Ctx()
    status, out = schema.run(value, (), ctx)
    return (MISSING if status == St.ABORTED else out), ctx.issues
