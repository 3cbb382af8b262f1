"""The engine's CORS middleware (development settings): headers on every answer, preflights."""

from __future__ import annotations

from collections.abc import Mapping

# getCorsOptions() without CORS_ORIGINS outside production: these origins, with credentials.
DEV_ORIGINS = frozenset(
    {
        "http://localhost:3000",
        "http://localhost:3001",
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3001",
    }
)
METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"


def cors_headers(origin: str | None) -> dict[str, str]:
    """Headers the cors package adds to every response."""
    out = {"Vary": "Origin", "Access-Control-Allow-Credentials": "true"}
    if origin in DEV_ORIGINS:
        out["Access-Control-Allow-Origin"] = origin
    return out


def preflight_headers(request: Mapping[str, str]) -> dict[str, str]:
    """The extra headers of a preflight answer (any OPTIONS request, any path)."""
    out = {
        "Vary": "Origin, Access-Control-Request-Headers",
        "Access-Control-Allow-Methods": METHODS,
    }
    wanted = request.get("access-control-request-headers")
    if wanted:
        out["Access-Control-Allow-Headers"] = wanted
    return out
