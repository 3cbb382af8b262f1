"""Engine error bodies (Nest exception filter shapes) and the handler reply type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ERROR_NAMES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
}


@dataclass
class Reply:
    """What a handler returns: a JSON body (or raw bytes) with status and extra headers."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    media_type: str | None = "application/json; charset=utf-8"
    pretty: bool = False


class HttpError(Exception):
    """An error answered with an exact engine body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def http(status: int, message: str) -> HttpError:
    """A Nest HttpException: {"message","error","statusCode"}."""
    return HttpError(
        status, {"message": message, "error": _ERROR_NAMES[status], "statusCode": status}
    )


def bad_request(message: str) -> HttpError:
    """400 with the given message."""
    return http(400, message)


def not_found(message: str) -> HttpError:
    """404 with the given message."""
    return http(404, message)


def conflict(message: str) -> HttpError:
    """409 with the given message."""
    return http(409, message)


def invalid_body() -> HttpError:
    """The filter's answer to a TypeError/RangeError (a body missing a nested object, bad date)."""
    return HttpError(
        400, {"statusCode": 400, "message": "Invalid request body", "error": "Bad Request"}
    )


def internal() -> HttpError:
    """The filter's answer to anything else (ZodError, SQL error, plain Error)."""
    return HttpError(500, {"statusCode": 500, "message": "Internal server error"})


def instance_not_found(slug: str) -> HttpError:
    """404 `Instance "<slug>" not found`."""
    return not_found(f'Instance "{slug}" not found')


def skill_not_found(name: str) -> HttpError:
    """404 `Skill "<name>" not found`."""
    return not_found(f'Skill "{name}" not found')


THROTTLED_BODY = {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
FORBIDDEN_ROLE_BODY = {"message": "Insufficient role", "error": "Forbidden", "statusCode": 403}
MISSING_AUTH_BODY = {
    "message": "Missing authentication",
    "error": "Unauthorized",
    "statusCode": 401,
}
BAD_AUTH_BODY = {
    "message": "Invalid or expired session",
    "error": "Unauthorized",
    "statusCode": 401,
}
