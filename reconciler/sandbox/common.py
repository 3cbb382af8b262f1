"""Helpers shared by the resource handlers: lookups, DTOs, column coercion, masking."""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request, instance_not_found, internal, invalid_body
from .jsutil import epoch_ms, iso, js_str
from .routing import Ctx
from .state import Instance, InstanceData
from .zod import MISSING

SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
MASK = "••••"
_CHANNEL_SECRET_KEY = re.compile(r"token|secret|password|key|credential", re.I)

# PostgreSQL `integer` columns (room interval, task retries): beyond them a 500.
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1


def check_slug(slug: Any) -> None:
    """The instances controller's path/body slug check (length first, then format)."""
    text = js_str(slug) if slug not in (None, MISSING, "") else ""
    if not text or len(text) > 100:
        raise bad_request("Invalid slug: must be 1-100 characters.")
    if not SLUG_RE.match(text):
        raise bad_request(
            "Invalid slug format. Use lowercase alphanumeric, hyphens, or underscores "
            '(e.g. "my-assistant").'
        )


def instance_or_404(ctx: Ctx, slug: str | None = None) -> tuple[Instance, InstanceData]:
    """The instance named by the path (or `slug`) and its cascaded data, or 404."""
    name = ctx.p("slug") if slug is None else slug
    inst = ctx.store.by_slug(name)
    if inst is None:
        raise instance_not_found(name)
    return inst, ctx.store.data[inst.id]


def body_obj(ctx: Ctx) -> dict[str, Any]:
    """The JSON object body; reading a field of a missing body is a TypeError (400)."""
    if not isinstance(ctx.body, dict):
        if ctx.body is MISSING or ctx.body is None:
            raise invalid_body()
        return {}
    return ctx.body


def instance_dto(inst: Instance) -> dict[str, Any]:
    """The instance shape of every instance response; icon is a cache-busted URL."""
    icon = f"/api/instances/{inst.slug}/icon?v={epoch_ms(inst.updated_at)}" if inst.icon else None
    return {
        "id": inst.id,
        "slug": inst.slug,
        "name": inst.name,
        "description": inst.description,
        "status": inst.status,
        "provider": inst.provider,
        "model": inst.model,
        "memoryEnabled": inst.memory_enabled,
        "knowledgeEnabled": inst.knowledge_enabled,
        "langsmithEnabled": inst.langsmith_enabled,
        "langsmithProject": inst.langsmith_project,
        "authEnabled": inst.auth_enabled,
        "thinkingEnabled": inst.thinking_enabled,
        "sttProvider": inst.stt_provider,
        "icon": icon,
        "createdAt": iso(inst.created_at),
        "updatedAt": iso(inst.updated_at),
    }


def text_col(value: Any, limit: int | None, *, nullable: bool) -> str | None:
    """What a text/varchar column stores for a JSON value (pg casts via String())."""
    if value is None:
        if not nullable:
            raise internal()  # NOT NULL violation
        return None
    text = js_str(value) if not isinstance(value, dict) else "[object Object]"
    if limit is not None and len(text) > limit:
        raise internal()  # value too long for type character varying(n)
    return text


def bool_col(value: Any) -> bool:
    """The engine stores any non-boolean value of a boolean column as false (§18.2)."""
    return value is True


def mask_channel(config: dict[str, Any]) -> dict[str, Any]:
    """Channel masking: non-empty strings under secret-looking keys become ••••+last4."""
    return {
        k: MASK + v[-4:] if isinstance(v, str) and v and _CHANNEL_SECRET_KEY.search(k) else v
        for k, v in config.items()
    }


def mask_source(config: dict[str, Any]) -> dict[str, Any]:
    """Event-source masking: every string longer than 4 characters becomes ••••+last4."""
    return {k: MASK + v[-4:] if isinstance(v, str) and len(v) > 4 else v for k, v in config.items()}


def unmasked(config: dict[str, Any]) -> dict[str, Any]:
    """Drop values echoed back masked (strings starting with ••••)."""
    return {k: v for k, v in config.items() if not (isinstance(v, str) and v.startswith(MASK))}


def jsonb(value: Any) -> Any:
    """PostgreSQL jsonb key order: shorter keys first, then bytewise (recursively)."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: jsonb(value[k]) for k in keys}
    if isinstance(value, list):
        return [jsonb(v) for v in value]
    return value
