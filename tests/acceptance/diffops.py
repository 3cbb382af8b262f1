"""Seeded random operations for the differential test: valid and invalid, many route handlers."""

from __future__ import annotations

import gzip
import json
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBg"
    "AAAABQABpfZFQAAAAABJRU5ErkJggg=="
)


@dataclass
class Op:
    """One request; `{name}` placeholders in path and body are filled per engine."""

    method: str
    path: str
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    label: str = ""


Factory = Callable[[random.Random], Op]
I = "/api/instances/{slug}"  # noqa: E741  (the base instance of the run)

WEIRD_BOOLS: list[Any] = [None, "true", "false", 1, 0, "yes", [], {}, True, False]
WEIRD_INTS: list[Any] = [0, 1, 5, -1, 1.5, "10", None, True, 2**31 - 1, 2**31, 2**32 + 7, 2**53]
CRONS = [
    "0 9 * * *",
    "@daily",
    "@hourly",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "@midnight",
    "@reboot",
    "0 0 12 ? * MON-FRI",
    "0 0 12 * * ?",
    "0 15 10 ? * 6L",
    "0 0 9 1W * ?",
    "0 0 9 ? * 2#1",
    "*/5 * * * *",
    "0 9 * * mon-fri",
    "0 9 * * 7",
    "0 0 0 1 1 * 2030",
    "0 9 * *",
    "61 * * * *",
    "0 9 L * *",
    "H 9 * * *",
    "0 9 * * * * * *",
]
ZONES = [
    "UTC",
    "utc",
    "Europe/Paris",
    "europe/paris",
    "EUROPE/PARIS",
    "Etc/GMT+2",
    "GMT",
    "Mars/Olympus",
    "",
    "America/New_York",
    "Z",
    "+02:00",
    "EST",
]
DATES = [
    "2031-01-01T10:00:00Z",
    "2031-01-01T10:00:00.000Z",
    "2031-01-01",
    "2031-01-01 10:00",
    "2031-01-01T10:00:00+02:00",
    "2031-01-01T10:00",
    "Jan 1 2031",
    "1 January 2031 10:00 GMT",
    "2031/01/01",
    "01/02/2031",
    "2031-13-01",
    "2031-02-30",
    "+5m",
    "+2h",
    "+1d",
    "+30s",
    "+0m",
    "+5x",
    "tomorrow",
    "",
    "2031",
    "Wed, 01 Jan 2031 10:00:00 GMT",
    "20310101T100000Z",
    "2031-01-01T10:00:00.123456Z",
    "  2031-01-01T10:00:00Z  ",
    "1999-01-01T00:00:00Z",
]


def _uuid_variants(key: str) -> list[str]:
    return [
        f"{{{key}}}",
        f"{{{key}_upper}}",
        f"{{{key}_nohyphen}}",
        f"{{{key}_braced}}",
        f"urn:uuid:{{{key}}}",
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        f"{{{key}}}%20",
        "12345",
    ]


def instance_create(r: random.Random) -> Op:
    # Every slug the engine could accept carries the run id (the real engine keeps them).
    slug = r.choice(
        [
            "{new}",
            "{new}",
            "Bad Slug",
            "UPPER{new}",
            "-lead",
            "x" * 101,
            "{slug}",
            "ok_{new}",
            "dots.{new}",
        ]
    )
    body: dict[str, Any] = {"slug": slug, "name": r.choice(["N {rid}", None, 7, "", "x" * 300])}
    if r.random() < 0.3:
        body.pop("name")
    if r.random() < 0.4:
        body["provider"], body["model"] = r.choice(
            [
                ("openai", "gpt-4.1"),
                ("anthropic", None),
                (None, "gpt-4.1"),
                ("nope", "m"),
                ("openai", "nope"),
                ("bedrock", "amazon.nova-pro-v1:0"),
            ]
        )
    if r.random() < 0.3:
        body[r.choice(["memoryEnabled", "authEnabled", "status", "description"])] = r.choice(
            WEIRD_BOOLS
        )
    return Op("POST", "/api/instances", body, label="instance create")


def instance_patch(r: random.Random) -> Op:
    field_ = r.choice(
        [
            "memoryEnabled",
            "knowledgeEnabled",
            "langsmithEnabled",
            "authEnabled",
            "thinkingEnabled",
            "status",
            "description",
            "name",
            "sttProvider",
            "langsmithProject",
            "model",
            "provider",
            "createdAt",
        ]
    )
    value = r.choice([*WEIRD_BOOLS, "x" * 21, "active", "openai", "deepgram", "2020-01-01"])
    return Op("PATCH", I, {field_: value}, label=f"instance patch {field_}")


def room_put(r: random.Random) -> Op:
    body: dict[str, Any] = {}
    for key, pool in (
        ("enabled", WEIRD_BOOLS),
        ("evalIntervalMinutes", WEIRD_INTS),
        ("prompt", ["watch", None, 5, ""]),
        ("outboundTarget", ["#x", None, 3]),
    ):
        if r.random() < 0.5:
            body[key] = r.choice(pool)
    return Op("PUT", f"{I}/room", body, label="room put")


def task_create(r: random.Random) -> Op:
    kind = r.choice(["cron", "cron", "one-shot", "one-shot", "interval", "weekly", None])
    schedule: dict[str, Any] = {"type": kind}
    if kind == "cron":
        schedule["expression"] = r.choice(CRONS)
        if r.random() < 0.8:
            schedule["timezone"] = r.choice(ZONES)
    elif kind == "one-shot":
        schedule["runAt"] = r.choice(DATES)
    elif kind == "interval":
        # Only values the engine survives: null, strings, fractions or an old anchor make
        # its next-run loop spin forever and wedge the whole engine (contract §17.7).
        schedule["everyMs"] = r.choice([60000, 3600000, 2**31, 2**53, 59999, 5_400_000])
    body: dict[str, Any] = {"name": "task {rid}", "prompt": "p", "schedule": schedule}
    for key, pool in (
        ("enabled", WEIRD_BOOLS),
        ("maxRetries", WEIRD_INTS),
        ("keepHistory", WEIRD_BOOLS),
        ("deleteAfterRun", WEIRD_BOOLS),
    ):
        if r.random() < 0.25:
            body[key] = r.choice(pool)
    return Op("POST", f"{I}/scheduled-tasks", body, label=f"task create {kind}")


def task_by_id(r: random.Random) -> Op:
    ref = r.choice(_uuid_variants("task"))
    method = r.choice(["GET", "GET", "PATCH"])
    body = {"enabled": r.choice(WEIRD_BOOLS)} if method == "PATCH" else None
    if method == "PATCH" and r.random() < 0.5:
        body = {
            "schedule": {"type": "cron", "expression": r.choice(CRONS), "timezone": r.choice(ZONES)}
        }
    return Op(method, f"{I}/scheduled-tasks/{ref}", body, label=f"task {method} by id")


def source_ops(r: random.Random) -> Op:
    ref = r.choice(_uuid_variants("src"))
    choice = r.random()
    if choice < 0.3:
        return Op("GET", f"{I}/event-sources/{ref}/definitions", label="definitions by source id")
    if choice < 0.6:
        body = {
            "name": "d {rid}",
            "matchingPrompt": "m",
            "action": r.choice(["backlog", "conversation", "nope", None]),
            "enabled": r.choice(WEIRD_BOOLS),
        }
        return Op("POST", f"{I}/event-sources/{{src}}/definitions", body, label="definition add")
    body = {
        "name": r.choice(["s {rid}", None, 5]),
        "sourceType": r.choice(["webhook", "hubspot", "nope", None]),
        "enabled": r.choice(WEIRD_BOOLS),
    }
    return Op("POST", f"{I}/event-sources", body, label="event source create")


def secrets_put(r: random.Random) -> Op:
    body: Any = r.choice(
        [
            [{"key": "openai_api_key", "value": "v-{rid}"}],
            [{"key": "Bad Key", "value": "v"}],
            [{"key": "custom_{rid}", "value": r.choice(["", None, 5, "x"])}],
            {"openai_api_key": "v"},
            [],
            None,
            [{"key": "k" * 65, "value": "v"}],
        ]
    )
    return Op("PUT", f"{I}/secrets", body, label="secrets put")


def prompts_patch(r: random.Random) -> Op:
    body: Any = {
        "sections": [
            {
                "key": r.choice(["01-identity", "99-bad", "04-safety"]),
                "content": r.choice(["hello {rid}", "", None, 5, "é ü 漢字"]),
            }
        ]
    }
    if r.random() < 0.2:
        body = r.choice([{"sections": []}, {}, None, {"sections": "x"}])
    return Op("PATCH", f"{I}/prompts", body, label="prompts patch")


def skill_env(r: random.Random) -> Op:
    body = {
        "env": [
            {
                "key": r.choice(["PLAIN", "SECRET", "UNDECLARED"]),
                "value": r.choice(["v", "", None, 5]),
                "sensitive": r.choice([True, False, None, "true", 1]),
            }
        ]
    }
    return Op("PUT", f"{I}/skills/{{skill}}/env", body, label="skill env put")


def encodings(r: random.Random) -> Op:
    text = json.dumps({"description": "café {rid} ☕"})
    kind = r.choice(
        [
            "latin1",
            "utf16",
            "utf8bom",
            "gzip",
            "deflate",
            "br",
            "identity",
            "charset-bogus",
            "json-suffix",
            "no-ctype",
            "utf-8-upper",
        ]
    )
    headers = {"Content-Type": "application/json"}
    raw = text.encode()
    if kind == "latin1":
        headers["Content-Type"] = "application/json; charset=latin1"
        raw = text.encode("latin-1", errors="replace")
    elif kind == "utf16":
        headers["Content-Type"] = "application/json; charset=utf-16"
        raw = text.encode("utf-16")
    elif kind == "utf8bom":
        raw = b"\xef\xbb\xbf" + raw
    elif kind == "gzip":
        headers["Content-Encoding"] = "gzip"
        raw = gzip.compress(raw)
    elif kind == "deflate":
        headers["Content-Encoding"] = "deflate"
        raw = zlib.compress(raw)
    elif kind == "br":
        headers["Content-Encoding"] = "br"
    elif kind == "identity":
        headers["Content-Encoding"] = "identity"
    elif kind == "charset-bogus":
        headers["Content-Type"] = "application/json; charset=klingon"
    elif kind == "json-suffix":
        headers["Content-Type"] = "application/merge-patch+json"
    elif kind == "no-ctype":
        headers.pop("Content-Type")
    else:
        headers["Content-Type"] = "application/json; charset=UTF-8"
    return Op("PATCH", I, raw=raw, headers=headers, label=f"encoding {kind}")


def preconditions(r: random.Random) -> Op:
    missing = "/api/instances/{missing}"
    return r.choice(
        [
            Op("PATCH", f"{missing}/prompts", {"sections": [{"key": "99-bad", "content": "x"}]}),
            Op("PUT", f"{missing}/secrets", [{"key": "Bad Key", "value": "v"}]),
            Op("PUT", f"{missing}/room", {"evalIntervalMinutes": 0}),
            Op(
                "POST",
                f"{missing}/scheduled-tasks",
                {"name": "n", "prompt": "p", "schedule": {"type": "nope"}},
            ),
            Op("POST", f"{missing}/event-sources", {"name": "s", "sourceType": "nope"}),
            Op("PATCH", f"{missing}/tools", {"enabled": "x"}),
            Op("PUT", f"{missing}/skills/{{skill}}/env", {"env": []}),
            Op("POST", f"{missing}/skills/{{skill}}"),
            Op("POST", f"{I}/skills/no-such-skill-{{rid}}"),
            Op("POST", f"{missing}/skills/no-such-skill-{{rid}}/rollback", {"versionId": "x"}),
            Op("PATCH", missing, {"name": None}),
            Op("PUT", f"{missing}/icon", {"icon": "nope"}),
            Op("PUT", f"{I}/icon", {"icon": r.choice([PNG, "nope", None, PNG.upper()])}),
        ]
    )


def imports(r: random.Random) -> Op:
    good = {
        "version": "1.0",
        "instance": {
            "slug": "imp-{new}",
            "name": "Imp {rid}",
            "prompts": [{"key": "01-identity", "content": "x"}],
        },
    }
    bad_prompt = json.loads(json.dumps(good))
    bad_prompt["instance"]["prompts"] = [{"key": "01-identity", "content": 5}]
    late_fail = json.loads(json.dumps(good))
    late_fail["instance"]["scheduledTasks"] = [
        {"name": "t", "prompt": "p", "schedule": {"type": "nope"}}
    ]
    late_fail["instance"]["skills"] = [{"slug": "no-such-{rid}", "enabled": True}]
    skill = {
        "slug": "imp-skill-{new}",
        "name": "imp-skill-{new}",
        "description": "d",
        "versions": [{"version": "0.1.0", "content": "# c"}],
    }
    broken = {"slug": "Bad Slug {new}", "name": "b", "versions": [{"version": "x"}]}
    return r.choice(
        [
            Op("POST", "/api/instances/import", good, label="import new"),
            Op("POST", "/api/instances/import", bad_prompt, label="import invalid"),
            Op("POST", "/api/instances/import", late_fail, label="import failing late"),
            Op(
                "POST",
                "/api/skills/catalog/import",
                {"skills": [skill, broken]},
                label="catalog import good+bad",
            ),
            Op("POST", "/api/skills/catalog/import", {"skills": [skill]}, label="catalog import"),
        ]
    )


def preflight(r: random.Random) -> Op:
    path = r.choice(["/api/instances", I, "/api/skills", "/health", "/api/users"])
    headers = {
        "Origin": r.choice(["http://localhost:3000", "https://evil.example"]),
        "Access-Control-Request-Method": r.choice(["PATCH", "DELETE", "GET"]),
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    return Op("OPTIONS", path, headers=headers, auth=r.random() < 0.5, label="preflight")


def users(r: random.Random) -> Op:
    return r.choice(
        [
            Op(
                "POST",
                "/api/users",
                {
                    "email": r.choice(["bad", None, 5]),
                    "name": "n",
                    "password": r.choice(["x", "longenough-{rid}"]),
                    "role": r.choice(["user", "superadmin", "root"]),
                },
                label="users create invalid",
            ),
            Op("GET", "/api/users/{missing_uuid}", label="user get missing"),
            Op("GET", "/api/users/not-a-uuid", label="user get bad id"),
            Op("PATCH", "/api/users/{missing_uuid}", {"role": "root"}, label="user patch"),
            Op("DELETE", "/api/users/not-a-uuid", label="user delete bad id"),
            Op("GET", "/api/users", auth=False, label="users no auth"),
        ]
    )


def reads(r: random.Random) -> Op:
    return r.choice(
        [
            Op("GET", f"{I}/room"),
            Op("GET", f"{I}/secrets"),
            Op("GET", f"{I}/scheduled-tasks"),
            Op("GET", f"{I}/event-sources"),
            Op("GET", f"{I}/skills/{{skill}}/env"),
            Op("GET", f"{I}/tools/required-secrets"),
            Op("GET", f"{I}/prompts"),
            Op("GET", f"{I}/room/backlog?limit={r.choice(['5', '0', 'x', '-1', '99999999999'])}"),
            Op("GET", f"/api/skills/{{skill}}/versions/{r.choice(['0.1.0', '9.9.9', '0.1'])}"),
            Op("GET", "/api/instances/{missing}"),
            Op("GET", f"{I}/channels"),
        ]
    )


FACTORIES: list[tuple[Factory, int]] = [
    (instance_create, 8),
    (instance_patch, 10),
    (room_put, 8),
    (task_create, 16),
    (task_by_id, 8),
    (source_ops, 8),
    (secrets_put, 5),
    (prompts_patch, 5),
    (skill_env, 5),
    (encodings, 10),
    (preconditions, 10),
    (imports, 6),
    (preflight, 5),
    (users, 6),
    (reads, 10),
]


def generate(seed: int, count: int) -> list[Op]:
    """`count` operations drawn with `seed` (the same list on every run with that seed)."""
    r = random.Random(seed)
    makers = [f for f, w in FACTORIES for _ in range(w)]
    ops = []
    for n in range(count):
        op = r.choice(makers)(r)
        op.label = op.label or f"{op.method} {op.path}"
        ops.append(_numbered(op, n))
    return ops


def _numbered(op: Op, n: int) -> Op:
    # `{new}` is a fresh slug per operation, the same on both engines.
    fill = f"n{n}-{{rid}}"
    op.path = op.path.replace("{new}", fill)
    op.body = _replace(op.body, "{new}", fill)
    return op


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return value
