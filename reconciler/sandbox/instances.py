"""Instances (§3): list, models, get, create, PATCH (raw column writes), DELETE, icon routes."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Any

from . import catalog
from .common import (
    body_obj,
    bool_col,
    check_slug,
    instance_dto,
    instance_or_404,
    text_col,
)
from .errors import Reply, bad_request, conflict, internal, invalid_body, not_found
from .jsutil import locale_key, now, truthy
from .routing import Ctx, Routes
from .state import InstanceData, Prompt, Store, new_instance, touch

routes = Routes()
_C = "InstancesController"
_DATA_URI = re.compile(r"^data:([^;]+);base64,(.+)$", re.S)
_SERVED_URI = re.compile(r"^data:(image/(?:png|jpeg|jpg|webp));base64,(.+)$", re.S)
_MAGIC = {"image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff", "image/webp": b"RIFF"}
# PATCH writes every body key that is a column: name -> (attribute, kind, limit, nullable).
_COLUMNS: dict[str, tuple[str, str, int | None, bool]] = {
    "slug": ("slug", "text", 100, False),
    "name": ("name", "text", 255, False),
    "description": ("description", "text", None, True),
    "status": ("status", "text", 20, False),
    "provider": ("provider", "text", 50, True),
    "model": ("model", "text", 100, True),
    "memoryEnabled": ("memory_enabled", "bool", None, False),
    "knowledgeEnabled": ("knowledge_enabled", "bool", None, False),
    "langsmithEnabled": ("langsmith_enabled", "bool", None, False),
    "langsmithProject": ("langsmith_project", "text", 255, True),
    "authEnabled": ("auth_enabled", "bool", None, False),
    "thinkingEnabled": ("thinking_enabled", "bool", None, False),
    "icon": ("icon", "text", None, True),
    "sttProvider": ("stt_provider", "text", None, False),
}


def seed_defaults(data: InstanceData, store: Store, *, tools: bool = True) -> None:
    """Create side effects: the 8 default prompt sections and the default manual tools."""
    for p in catalog.default_prompts():
        data.prompts[p["key"]] = Prompt(title=p["title"], content=p["content"])
    if tools:
        for name in catalog.DEFAULT_TOOL_NAMES:
            if name in store.tools:
                data.tools[name] = "manual"


@routes.add("GET", "/api/instances", f"{_C}.findAll")
async def list_instances(ctx: Ctx) -> Reply:
    rows = sorted(ctx.store.instances.values(), key=lambda i: locale_key(i.name))
    return Reply({"instances": [instance_dto(i) for i in rows]})


@routes.add("GET", "/api/instances/models", f"{_C}.getModels")
async def get_models(ctx: Ctx) -> Reply:
    return Reply(catalog.models())


@routes.add("GET", "/api/instances/:slug", f"{_C}.findOne")
async def get_instance(ctx: Ctx) -> Reply:
    check_slug(ctx.p("slug"))
    inst, _ = instance_or_404(ctx)
    return Reply({"instance": instance_dto(inst)})


@routes.add("POST", "/api/instances", f"{_C}.create")
async def create_instance(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    check_slug(body.get("slug"))
    catalog.check_provider_model(body)
    slug = text_col(body["slug"], 100, nullable=False) or ""
    name = text_col(body.get("name"), 255, nullable=False)  # missing name: NOT NULL -> 500
    desc = text_col(body.get("description"), None, nullable=True)
    if ctx.store.by_slug(slug) is not None:
        raise conflict(f'Slug "{slug}" already exists')
    inst = new_instance(slug, name or "", desc)
    for key in ("provider", "model"):
        if truthy(body.get(key)):
            setattr(inst, key, text_col(body[key], 50 if key == "provider" else 100, nullable=True))
    seed_defaults(ctx.store.add_instance(inst), ctx.store)
    return Reply({"instance": instance_dto(inst)}, status=201)


def _write_column(ctx: Ctx, inst: Any, key: str, value: Any) -> None:
    attr, kind, limit, nullable = _COLUMNS[key]
    if kind == "bool":
        setattr(inst, attr, bool_col(value))
        return
    text = text_col(value, limit, nullable=nullable)
    if key == "slug" and text != inst.slug and ctx.store.by_slug(text or "") is not None:
        raise internal()  # unique violation: only create maps it to 409
    setattr(inst, attr, text)


@routes.add("PATCH", "/api/instances/:slug", f"{_C}.update")
async def patch_instance(ctx: Ctx) -> Reply:
    check_slug(ctx.p("slug"))
    body = body_obj(ctx)
    catalog.check_provider_model(body)
    inst, _ = instance_or_404(ctx)
    if "createdAt" in body:
        # Drizzle calls toISOString() on the value: a TypeError unless it is a Date.
        raise internal() if body["createdAt"] is None else invalid_body()
    if "id" in body and body["id"] != inst.id:
        raise internal()  # invalid uuid or a foreign-key violation
    staged = dataclasses.replace(inst)
    for key, value in body.items():
        if key in _COLUMNS:
            _write_column(ctx, staged, key, value)
    staged.updated_at = now()
    inst.__dict__.update(staged.__dict__)
    touch(ctx.store.instances, inst.id)
    return Reply({"instance": instance_dto(inst)})


@routes.add("DELETE", "/api/instances/:slug", f"{_C}.remove")
async def delete_instance(ctx: Ctx) -> Reply:
    check_slug(ctx.p("slug"))
    inst, _ = instance_or_404(ctx)
    ctx.store.delete_instance(inst)
    return Reply({"deleted": True})


@routes.add("GET", "/api/instances/:slug/icon", f"{_C}.getIcon")
async def get_icon(ctx: Ctx) -> Reply:
    inst, _ = instance_or_404(ctx)
    slug = ctx.p("slug")
    if not inst.icon:
        raise not_found(f'Icon not found for instance "{slug}"')
    m = _SERVED_URI.match(inst.icon)
    if m is None:
        raise not_found(f'Icon for instance "{slug}" is not a valid data URI')
    try:
        raw = base64.b64decode(m.group(2))
    except (binascii.Error, ValueError):
        raise not_found(f'Icon for instance "{slug}" is not a valid data URI') from None
    headers = {"Cache-Control": "private, max-age=3600"}
    return Reply(raw=raw, media_type=m.group(1), headers=headers)


def _validate_icon(icon: Any) -> str:
    if not truthy(icon):
        raise bad_request("icon is required")
    text = icon if isinstance(icon, str) else str(icon)
    m = _DATA_URI.match(text)
    if m is None:
        raise bad_request("Invalid data URI format. Expected data:image/<type>;base64,...")
    mime = m.group(1)
    if mime not in _MAGIC:
        raise bad_request(
            f'Unsupported image type "{mime}". Allowed: image/png, image/jpeg, image/webp'
        )
    try:
        raw = base64.b64decode(m.group(2))
    except (binascii.Error, ValueError):
        raise bad_request("Invalid base64 payload") from None
    if len(raw) > 102_400:
        raise bad_request("Icon too large")
    if not raw.startswith(_MAGIC[mime]):
        raise bad_request("File content does not match declared MIME type")
    return text


@routes.add("PUT", "/api/instances/:slug/icon", f"{_C}.uploadIcon")
async def put_icon(ctx: Ctx) -> Reply:
    icon = _validate_icon(body_obj(ctx).get("icon"))
    inst, _ = instance_or_404(ctx)
    inst.icon = icon
    inst.updated_at = now()
    touch(ctx.store.instances, inst.id)
    return Reply({"instance": instance_dto(inst)})


@routes.add("DELETE", "/api/instances/:slug/icon", f"{_C}.deleteIcon")
async def delete_icon(ctx: Ctx) -> Reply:
    inst, _ = instance_or_404(ctx)
    inst.icon = None
    inst.updated_at = now()
    touch(ctx.store.instances, inst.id)
    return Reply({"instance": instance_dto(inst)})
