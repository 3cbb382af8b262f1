"""zod issue lists as the engine's controllers print them in error messages."""

from __future__ import annotations

from typing import Any

from .jsutil import dumps


def with_paths(issues: list[dict[str, Any]]) -> str:
    """`path: message` joined by ", " (prompts and secrets controllers)."""
    return ", ".join(f"{'.'.join(str(p) for p in i['path'])}: {i['message']}" for i in issues)


def messages(issues: list[dict[str, Any]]) -> str:
    """Messages joined by ", " without paths (room, event sources)."""
    return ", ".join(str(i["message"]) for i in issues)


def pretty(issues: list[dict[str, Any]]) -> str:
    """ZodError.message: the issue array as 2-space JSON (import routes)."""
    return dumps(issues, pretty=True)
