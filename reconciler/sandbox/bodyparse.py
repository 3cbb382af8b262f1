"""Express body parsing: json/urlencoded only, 100 KB limit, V8 JSON.parse error messages."""

from __future__ import annotations

import codecs
import json
import zlib
from typing import Any
from urllib.parse import parse_qsl

from .errors import HttpError, bad_request, internal
from .zod import MISSING

BODY_LIMIT = 102_400
_CTX = 10  # V8 shows ten characters of context either side of a bad token
_SPECIAL = {"NaN", "Infinity", "-Infinity", "undefined", "[object Object]"}


def parse_body(
    content_type: str, raw: bytes, has_body: bool, content_encoding: str = "identity"
) -> Any:
    """req.body as Nest sees it: MISSING unless a parser matched (errors raise HttpError).

    body-parser 2 inflates gzip/deflate/br bodies and decodes the declared charset (JSON:
    any `utf-*` codec, BOM stripped; urlencoded: utf-8 or iso-8859-1). Its 415s (unknown
    encoding or charset) and stream errors are not HttpExceptions, so the engine says 500.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if not has_body or media not in ("application/json", "application/x-www-form-urlencoded"):
        return MISSING
    charset = _charset(content_type) or "utf-8"
    form = media == "application/x-www-form-urlencoded"
    if not _charset_ok(charset, form=form):
        raise internal()
    data = _inflate(raw, content_encoding.strip().lower() or "identity")
    if len(data) > BODY_LIMIT:
        # PayloadTooLargeError is not an HttpException: the engine answers 500, not 413.
        raise internal()
    text = _decode(data, charset)
    if form:
        return dict(parse_qsl(text, keep_blank_values=True))
    return parse_json(text)


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _charset_ok(charset: str, *, form: bool) -> bool:
    if form:
        return charset in ("utf-8", "iso-8859-1")
    if not charset.startswith("utf-"):
        return False
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def _inflate(raw: bytes, encoding: str) -> bytes:
    if encoding == "identity":
        return raw
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding)
    if wbits is None:  # br needs a decoder the sandbox does not ship; the rest are 415s
        raise internal()
    try:
        return zlib.decompress(raw, wbits)
    except zlib.error:
        raise internal() from None


def _decode(data: bytes, charset: str) -> str:
    text = data.decode(charset, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text  # iconv-lite strips the BOM


def parse_json(text: str) -> Any:
    """body-parser's strict JSON parse (objects and arrays only)."""
    if text == "":
        return {}  # body-parser special-cases an empty JSON body
    stripped = text.lstrip(" \t\n\r")
    if not stripped or stripped[0] not in "{[":
        raise _strict_violation(text, len(text) - len(stripped))
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _syntax_error(v8_message(text)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _syntax_error(message: str) -> HttpError:
    return bad_request(message)


def _strict_violation(text: str, index: int) -> HttpError:
    if index >= len(text):
        return _syntax_error("Unexpected end of JSON input")
    return _syntax_error(_unexpected_token(text, index))


def _unexpected_token(text: str, pos: int) -> str:
    if text in _SPECIAL:
        return f'"{text}" is not valid JSON'
    tok = text[pos]
    if len(text) < 2 * _CTX + 1:
        return f"Unexpected token '{tok}', \"{text}\" is not valid JSON"
    if pos < _CTX:
        return f"Unexpected token '{tok}', \"{text[: pos + _CTX]}\"... is not valid JSON"
    if pos < len(text) - _CTX:
        ctx = text[pos - _CTX : pos + _CTX]
        return f"Unexpected token '{tok}', ...\"{ctx}\"... is not valid JSON"
    return f"Unexpected token '{tok}', ...\"{text[pos - _CTX :]}\" is not valid JSON"


class _Fail(Exception):
    pass


class _V8Scanner:
    """Walks malformed JSON the way V8's JsonParser does, to name the same error."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def peek(self) -> str | None:
        return self.s[self.i] if self.i < len(self.s) else None

    def ws(self) -> None:
        while self.peek() in (" ", "\t", "\n", "\r"):
            self.i += 1

    def fail(self, template: str | None = None) -> None:
        if template is not None:
            raise _Fail(template.format(self.i))
        c = self.peek()
        if c is None:
            raise _Fail("Unexpected end of JSON input")
        if c == '"':
            raise _Fail(f"Unexpected string in JSON at position {self.i}")
        if c.isdigit() or c == "-":
            raise _Fail(f"Unexpected number in JSON at position {self.i}")
        raise _Fail(_unexpected_token(self.s, self.i))

    def value(self) -> None:
        c = self.peek()
        if c == "{":
            self.obj()
        elif c == "[":
            self.arr()
        elif c == '"':
            self.string()
        elif c is not None and (c == "-" or c.isdigit()):
            self.number()
        elif c in ("t", "f", "n"):
            self.literal({"t": "true", "f": "false", "n": "null"}[c])
        else:
            self.fail()

    def obj(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "}":
            self.i += 1
            return
        first = True
        while True:
            self.member(first)
            if self.peek() == ",":
                self.i += 1
                self.ws()
                first = False
                continue
            if self.peek() == "}":
                self.i += 1
                return
            self.fail("Expected ',' or '}' after property value in JSON at position {}")

    def member(self, first: bool) -> None:
        """One `"name": value` pair of an object, and the whitespace after it."""
        if self.peek() != '"':
            self.fail(
                "Expected property name or '}' in JSON at position {}"
                if first
                else "Expected double-quoted property name in JSON at position {}"
            )
        self.string()
        self.ws()
        if self.peek() != ":":
            self.fail("Expected ':' after property name in JSON at position {}")
        self.i += 1
        self.ws()
        self.value()
        self.ws()

    def arr(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "]":
            self.i += 1
            return
        while True:
            self.value()
            self.ws()
            if self.peek() == ",":
                self.i += 1
                self.ws()
                continue
            if self.peek() == "]":
                self.i += 1
                return
            self.fail("Expected ',' or ']' after array element in JSON at position {}")

    def string(self) -> None:
        self.i += 1
        while True:
            c = self.peek()
            if c is None:
                self.fail("Unterminated string in JSON at position {}")
            elif c == '"':
                self.i += 1
                return
            elif c == "\\":
                self.escape()
            elif ord(c) < 0x20:
                self.fail("Bad control character in string literal in JSON at position {}")
            else:
                self.i += 1

    def escape(self) -> None:
        self.i += 1
        c = self.peek()
        if c is not None and c in '"\\/bfnrt':
            self.i += 1
            return
        if c == "u":
            hexpart = self.s[self.i + 1 : self.i + 5]
            if len(hexpart) == 4 and all(h in "0123456789abcdefABCDEF" for h in hexpart):
                self.i += 5
                return
            self.fail("Bad Unicode escape in JSON at position {}")
        self.fail("Bad escaped character in JSON at position {}")

    def digits(self) -> int:
        start = self.i
        while (c := self.peek()) is not None and c.isdigit():
            self.i += 1
        return self.i - start

    def number(self) -> None:
        if self.peek() == "-":
            self.i += 1
            if not (self.peek() or "").isdigit():
                self.fail("No number after minus sign in JSON at position {}")
        if self.peek() == "0":
            self.i += 1
        else:
            self.digits()
        if self.peek() == ".":
            self.i += 1
            if self.digits() == 0:
                self.fail("Unterminated fractional number in JSON at position {}")
        if self.peek() in ("e", "E"):
            self.i += 1
            if self.peek() in ("+", "-"):
                self.i += 1
            if self.digits() == 0:
                self.fail("Exponent part is missing a number in JSON at position {}")

    def literal(self, word: str) -> None:
        for ch in word:
            if self.peek() != ch:
                self.fail()
            self.i += 1


def v8_message(text: str) -> str:
    """The message JSON.parse(text) throws in Node 22."""
    sc = _V8Scanner(text)
    try:
        sc.ws()
        sc.value()
        sc.ws()
        if sc.peek() is not None:
            sc.fail("Unexpected non-whitespace character after JSON at position {}")
    except _Fail as exc:
        return str(exc)
    return "Unexpected end of JSON input"
