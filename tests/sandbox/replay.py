"""Replay of captured engine traffic: request rebuilding, id mapping, shape comparison."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

_HERE = Path(__file__).resolve().parent
_ELIDED = re.compile(r"^<<elided string of (\d+) chars, sha256 ([0-9a-f]{64})>>$")
_BINARY = re.compile(r"^<<binary (\d+) bytes, sha256 ([0-9a-f]{64})")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
# Arrays the engine returns in no defined order (contract §5.1, §17.4; transcripts README).
_UNORDERED = {"tools", "manualTools", "channels", "skillEnv", "eventSources", "definitions"}
_EXPORT_UNORDERED = {"skills", "secrets"}
_VOLATILE = (
    (_TIMESTAMP, "<time>"),
    (re.compile(r"icon\?v=\d+"), "icon?v=<ms>"),
    (re.compile(r"https?://[^/\s\"]+/webhooks/"), "<base>/webhooks/"),
    (_ID, "<id>"),
)
INVALID_TOKEN = "not-a-session-token"


def samples_dir() -> Path:
    """The recorded engine exchanges vendored beside these tests (samples/README.md)."""
    return _HERE / "samples"


@dataclass
class Exchange:
    """One recorded request/response pair."""

    scenario: str
    seq: int
    step: str
    method: str
    path: str
    body: Any = None
    raw: bool = False
    content_type: str | None = None
    auth: str | None = None  # None: a valid token; "none"; "invalid"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    response: Any = None
    timeout: bool = False


def load_transcript(path: Path) -> list[Exchange]:
    """A transcripts/*.jsonl file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        out.append(
            Exchange(
                scenario=e["scenario"],
                seq=e["seq"],
                step=e["step"],
                method=e["method"],
                path=e["path"],
                body=e.get("request_body"),
                raw=bool(e.get("request_raw")),
                content_type=e.get("request_content_type"),
                auth=e.get("auth"),
                status=e["status"],
                headers={k.lower(): v for k, v in e["headers"].items()},
                response=e["body"],
                timeout=e.get("error") == "timeout",
            )
        )
    return out


def _headers_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out


def load_index(root: Path) -> list[Exchange]:
    """The 36 single calls of INDEX.tsv (auth inferred from the file names)."""
    rows = (root / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    out = []
    for row in rows:
        nn, method, path, status, _ctype, body_file, req_file = row.split("\t")
        auth = (
            "none" if "no-token" in body_file else "invalid" if "bad-token" in body_file else None
        )
        stem = body_file.removesuffix(".json")
        req = None if req_file == "-" else json.loads((root / req_file).read_text())
        out.append(
            Exchange(
                scenario="INDEX",
                seq=int(nn),
                step=stem,
                method=method,
                path=path,
                body=req,
                auth=auth,
                status=int(status),
                headers=_headers_file(root / f"{stem}.headers"),
                response=json.loads((root / body_file).read_text()),
            )
        )
    return out


def _reconstruct(n: int, digest: str) -> str:
    """Rebuild an elided request string from its length and hash (fills seen in the run)."""
    candidates = [c * n for c in string.printable if not c.isspace()]
    for raw_len in range((n - 22) * 3 // 4 - 2, (n - 22) * 3 // 4 + 1):
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * max(0, raw_len - 8)
        candidates.append("data:image/png;base64," + base64.b64encode(png).decode())
    for c in candidates:
        if len(c) == n and hashlib.sha256(c.encode()).hexdigest() == digest:
            return c
    raise AssertionError(f"cannot rebuild an elided string of {n} chars ({digest[:12]})")


def unelide(value: Any) -> Any:
    """Replace `<<elided string ...>>` markers by the original strings."""
    if isinstance(value, str):
        m = _ELIDED.match(value)
        return _reconstruct(int(m.group(1)), m.group(2)) if m else value
    if isinstance(value, dict):
        return {k: unelide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unelide(v) for v in value]
    return value


class IdMap:
    """Recorded server-generated ids/tokens -> the ids the sandbox returned."""

    def __init__(self) -> None:
        self.map: dict[str, str] = {}

    def learn(self, recorded: Any, actual: Any) -> None:
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for k in recorded.keys() & actual.keys():
                self.learn(recorded[k], actual[k])
        elif isinstance(recorded, list) and isinstance(actual, list):
            if len(recorded) == len(actual):
                for r, a in zip(recorded, actual, strict=True):
                    self.learn(r, a)
        elif isinstance(recorded, str) and isinstance(actual, str) and recorded != actual:
            for r, a in zip(_ID.findall(recorded), _ID.findall(actual), strict=False):
                if r != a:
                    self.map.setdefault(r, a)

    def apply(self, value: Any) -> Any:
        if isinstance(value, str):
            return _ID.sub(lambda m: self.map.get(m.group(0), m.group(0)), value)
        if isinstance(value, dict):
            return {k: self.apply(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.apply(v) for v in value]
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def signature(value: Any) -> Hashable:
    """Keys and value types, recursively; an array is the SET of its element shapes."""
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, signature(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("array", frozenset(signature(v) for v in value))
    return _kind(value)


def shape_diff(expected: Any, actual: Any, path: str = "$") -> str | None:
    """None when the shapes match, else where they first differ."""
    if signature(expected) == signature(actual):
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
            return f"{path}: missing keys {sorted(missing)}, extra keys {sorted(extra)}"
        for k in expected:
            diff = shape_diff(expected[k], actual[k], f"{path}.{k}")
            if diff:
                return diff
    if isinstance(expected, list) and isinstance(actual, list):
        want = {signature(v): v for v in expected}
        got = {signature(v): v for v in actual}
        lost = [v for s, v in want.items() if s not in got]
        new = [v for s, v in got.items() if s not in want]
        if lost and new:
            return shape_diff(lost[0], new[0], f"{path}[]")
        what = f"no element shaped like {lost[0]!r:.200}" if lost else f"unexpected {new[0]!r:.200}"
        return f"{path}: {what}"
    return f"{path}: expected {_kind(expected)}, got {_kind(actual)}"


def _volatile_free(value: Any) -> Any:
    """Values with server-generated ids, tokens, times and hosts replaced by markers."""
    if isinstance(value, str):
        if _ELIDED.match(value):
            return value
        if len(value) > 4096:  # the capture elided long strings; compare by length and hash
            return f"<<elided string of {len(value)} chars, sha256 {_sha(value)}>>"
        for pattern, marker in _VOLATILE:
            value = pattern.sub(marker, value)
        return value
    if isinstance(value, dict):
        out = {k: _volatile_free(v) for k, v in value.items()}
        unordered = _UNORDERED | (_EXPORT_UNORDERED if "manualTools" in out else set())
        for key in unordered & out.keys():
            if isinstance(out[key], list):
                out[key] = _canonical_order(out[key])
        return out
    if isinstance(value, list):
        items = [_volatile_free(v) for v in value]
        if items and all(isinstance(v, dict) and "webhookToken" in v for v in items):
            return _canonical_order(items)  # GET …/event-sources has no ORDER BY
        return items
    return value


def _canonical_order(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def value_diff(expected: Any, actual: Any, path: str = "$") -> str | None:
    """None when equal apart from volatile values, else where they first differ."""
    exp, act = _volatile_free(expected), _volatile_free(actual)
    return _first_difference(exp, act, path)


def _first_difference(exp: Any, act: Any, path: str) -> str | None:
    if isinstance(exp, dict) and isinstance(act, dict):
        for k in exp:
            diff = _first_difference(exp[k], act.get(k), f"{path}.{k}")
            if diff:
                return diff
        return None
    if isinstance(exp, list) and isinstance(act, list) and len(exp) == len(act):
        for i, (e, a) in enumerate(zip(exp, act, strict=True)):
            diff = _first_difference(e, a, f"{path}[{i}]")
            if diff:
                return diff
        return None
    return None if exp == act else f"{path}: {act!r:.160} != recorded {exp!r:.160}"


@dataclass
class Outcome:
    """What the sandbox answered."""

    status: int | None
    headers: httpx.Headers
    body: Any
    raw: bytes
    timed_out: bool = False


class Replayer:
    """Sends recorded requests to a sandbox and compares the answers."""

    def __init__(self, url: str, token: str, timeout_s: float) -> None:
        self.client = httpx.Client(base_url=url, timeout=timeout_s)
        self.token = token
        self.ids = IdMap()

    def close(self) -> None:
        self.client.close()

    def send(self, ex: Exchange) -> Outcome:
        headers = {}
        if ex.auth is None:
            headers["Authorization"] = f"Bearer {self.token}"
        elif ex.auth == "invalid":
            headers["Authorization"] = f"Bearer {INVALID_TOKEN}"
        content = None
        if ex.body is not None:
            if ex.raw:
                content = str(ex.body).encode()
                headers["Content-Type"] = ex.content_type or "text/plain"
            else:
                content = json.dumps(self.ids.apply(unelide(ex.body))).encode()
                headers["Content-Type"] = "application/json"
        path = self.ids.apply(ex.path)
        try:
            r = self.client.request(ex.method, path, content=content, headers=headers)
        except httpx.TimeoutException:
            return Outcome(None, httpx.Headers(), None, b"", timed_out=True)
        try:
            body = r.json()
        except ValueError:
            body = None
        return Outcome(r.status_code, r.headers, body, r.content)

    def check(self, ex: Exchange, out: Outcome, *, exact_remaining: bool = False) -> list[str]:
        """Every way the sandbox's answer differs from the recorded one."""
        if ex.timeout:
            return [] if out.timed_out else [f"answered {out.status} where the engine hung"]
        if out.timed_out:
            return ["no answer within the client timeout"]
        problems = []
        if out.status != ex.status:
            problems.append(f"status {out.status} != {ex.status}: {out.raw[:300]!r}")
        problems += self._body(ex, out)
        problems += self._headers(ex, out, exact_remaining)
        self.ids.learn(ex.response, out.body)
        return problems

    def _body(self, ex: Exchange, out: Outcome) -> list[str]:
        rec = ex.response
        if isinstance(rec, str) and (m := _BINARY.match(rec)):
            size, digest = int(m.group(1)), m.group(2)
            if len(out.raw) != size or hashlib.sha256(out.raw).hexdigest() != digest:
                return [f"binary body differs ({len(out.raw)} bytes)"]
            return []
        diff = shape_diff(rec, out.body)
        if diff:
            return [f"shape: {diff}"]
        # Beyond the shape: the same values, apart from ids, tokens, times and hosts.
        diff = value_diff(rec, out.body)
        return [f"value: {diff}"] if diff else []

    def _headers(self, ex: Exchange, out: Outcome, exact_remaining: bool) -> list[str]:
        problems = []
        for name in ("x-ratelimit-limit", "retry-after", "content-disposition"):
            if (name in ex.headers) != (name in out.headers):
                problems.append(f"header {name} presence differs")
        disp, got = ex.headers.get("content-disposition"), out.headers.get("content-disposition")
        if disp and _DATE.sub("D", disp) != _DATE.sub("D", got or ""):
            problems.append(f"content-disposition {got!r}")
        rec_type = ex.headers.get("content-type", "").split(";")[0]
        got_type = out.headers.get("content-type", "").split(";")[0]
        if rec_type and rec_type != got_type:
            problems.append(f"content-type {got_type} != {rec_type}")
        remaining = ex.headers.get("x-ratelimit-remaining")
        if exact_remaining and remaining != out.headers.get("x-ratelimit-remaining"):
            problems.append(f"remaining {out.headers.get('x-ratelimit-remaining')} != {remaining}")
        return problems
