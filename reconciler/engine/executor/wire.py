"""Request bodies on the wire: secret values kept apart, redaction, size-aware batching, paths.

Secret values travel inside request bodies as `SecretValue` objects: `reveal` turns them into
the real value only at the moment of sending, `redact` into ``<from $VARNAME>`` for the
recorded call, so no report, log or error can carry one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

T = TypeVar("T")
# The engine's parser limit is 102 400 bytes (contract §1.4); keep headroom for envelopes.
MAX_BODY_BYTES = 100_000


@dataclass(frozen=True)
class SecretValue:
    """A value from the environment that must reach the engine and nothing else."""

    var: str
    value: Any = field(repr=False)

    def __str__(self) -> str:
        return f"<from ${self.var}>"


def redact(obj: Any) -> Any:
    """A copy of a request body with every secret replaced by ``<from $VAR>``."""
    if isinstance(obj, SecretValue):
        return str(obj)
    if isinstance(obj, dict):
        return {k: redact(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    return obj


def reveal(obj: Any) -> Any:
    """A copy of a request body with the real secret values, to hand to the client only."""
    if isinstance(obj, SecretValue):
        return obj.value
    if isinstance(obj, dict):
        return {k: reveal(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [reveal(v) for v in obj]
    return obj


def body_size(obj: Any) -> int:
    """Bytes of `obj` as the client encodes it (compact UTF-8 JSON)."""
    text = json.dumps(reveal(obj), ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8"))


def batches(items: Sequence[T], *, max_items: int, max_bytes: int) -> list[list[T]]:
    """Greedy split keeping each batch ≤ max_items and ≤ max_bytes (an oversized item alone)."""
    out: list[list[T]] = []
    current: list[T] = []
    size = 0
    for item in items:
        item_size = body_size(item) + 1
        if current and (len(current) >= max_items or size + item_size > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        out.append(current)
    return out


def seg(*parts: str) -> str:
    """URL path segments, each percent-encoded (dry-run placeholders like <id of …> kept)."""
    return "/".join(p if _placeholder(p) else quote(p, safe="") for p in parts)


def _placeholder(part: str) -> bool:
    # Engine ids, slugs, keys and channel types never contain angle brackets.
    return part.startswith("<id of ") and part.endswith(">")


def inst_path(slug: str, *parts: str) -> str:
    """Path of an instance (sub-)resource."""
    return "/api/instances/" + seg(slug, *parts)
