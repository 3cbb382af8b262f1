"""Event sources and definitions (§11): tokens, masking, merge, success-on-unknown, UUID 500s."""

from __future__ import annotations

from typing import Any

from .common import mask_source, unmasked
from .errors import Reply, bad_request, internal, not_found
from .jsutil import dumps, iso, new_id, new_token, now, pg_uuid
from .routing import Ctx, Routes
from .state import Definition, EventSource, InstanceData, check_len, touch
from .zod import Bool, Enum, Obj, Rec, Schema, Str, parse
from .zod_issues import messages as joined

routes = Routes()
_C = "WebhookSourcesController"
_RULE = (
    "action 'backlog' requires interpretationPrompt; "
    "action 'conversation' requires contextPrompt and outboundChannel"
)
_CHANNEL = Enum("telegram", "slack", "whatsapp", "agent")
_ACTION = Enum("backlog", "conversation")
_CREATE = Obj(
    {
        "name": Str(min_len=1),
        "sourceType": Str(min_len=1),
        "config": Rec().default({}),
        "enabled": Bool().optional(),
    }
)
_UPDATE = Obj(
    {"name": Str(min_len=1).optional(), "config": Rec().optional(), "enabled": Bool().optional()}
)


def _rule(d: dict[str, Any]) -> bool:
    if d.get("action", "backlog") == "backlog":
        return bool(d.get("interpretationPrompt"))
    return bool(d.get("contextPrompt")) and bool(d.get("outboundChannel"))


def _def_schema(*, create: bool) -> Obj:
    def opt(s: Schema, nullable: bool = False) -> Schema:
        if create:
            return s.optional()
        return (s.nullable() if nullable else s).optional()

    fields = {
        "name": Str(min_len=1) if create else Str(min_len=1).optional(),
        "matchingPrompt": Str(min_len=1) if create else Str(min_len=1).optional(),
        "interpretationPrompt": Str().default("") if create else Str().optional(),
        "action": _ACTION.default("backlog") if create else _ACTION.optional(),
        "contextPrompt": opt(Str(min_len=1), True),
        "outboundChannel": opt(_CHANNEL, True),
        "outboundTarget": opt(Str(min_len=1), True),
        "enabled": Bool().optional(),
    }
    return Obj(fields, refine=(_rule, _RULE) if create else None)


_DEF_CREATE = _def_schema(create=True)
_DEF_UPDATE = _def_schema(create=False)
_DEF_ATTRS = {
    "name": "name",
    "matchingPrompt": "matching_prompt",
    "interpretationPrompt": "interpretation_prompt",
    "action": "action",
    "contextPrompt": "context_prompt",
    "outboundChannel": "outbound_channel",
    "outboundTarget": "outbound_target",
    "enabled": "enabled",
}


def webhook_url(ctx: Ctx, token: str) -> str:
    """<BASE_URL>/webhooks/<token>."""
    return f"{ctx.settings.base_url}/webhooks/{token}"


def def_view(d: Definition) -> dict[str, Any]:
    """An event_definitions row."""
    return {
        "id": d.id,
        "eventSourceId": d.source_id,
        "name": d.name,
        "matchingPrompt": d.matching_prompt,
        "interpretationPrompt": d.interpretation_prompt,
        "action": d.action,
        "contextPrompt": d.context_prompt,
        "outboundChannel": d.outbound_channel,
        "outboundTarget": d.outbound_target,
        "enabled": d.enabled,
        "createdAt": iso(d.created_at),
        "updatedAt": iso(d.updated_at),
    }


def source_view(ctx: Ctx, s: EventSource) -> dict[str, Any]:
    """A source as the list returns it: config masked, token in clear."""
    return {
        "id": s.id,
        "instanceId": s.instance_id,
        "name": s.name,
        "sourceType": s.source_type,
        "config": mask_source(s.config),
        "enabled": s.enabled,
        "webhookToken": s.webhook_token,
        "createdAt": iso(s.created_at),
        "updatedAt": iso(s.updated_at),
        "definitions": [def_view(d) for d in s.definitions.values()],
        "webhookUrl": webhook_url(ctx, s.webhook_token),
    }


def _check_config(source_type: str, config: dict[str, Any]) -> None:
    secret = config.get("clientSecret")
    if source_type == "hubspot" and (not isinstance(secret, str) or not secret):
        raise internal()  # ZodError thrown from the store


def _data(ctx: Ctx) -> tuple[str, InstanceData]:
    inst = ctx.store.by_slug(ctx.p("slug"))
    if inst is None:
        raise not_found("Instance not found")
    return inst.id, ctx.store.data[inst.id]


def _uuid(value: str) -> str:
    key = pg_uuid(value)
    if key is None:
        raise internal()  # invalid input syntax for type uuid
    return key


def _valid(schema: Obj, body: Any) -> dict[str, Any]:
    value, issues = parse(schema, body)
    if issues:
        raise bad_request(joined(issues))
    out: dict[str, Any] = value
    return out


@routes.add("GET", "/api/instances/:slug/event-sources", f"{_C}.list")
async def list_sources(ctx: Ctx) -> Reply:
    inst = ctx.store.by_slug(ctx.p("slug"))
    if inst is None:
        return Reply([])  # an unknown instance is an empty list, not a 404
    return Reply([source_view(ctx, s) for s in ctx.store.data[inst.id].sources.values()])


@routes.add("POST", "/api/instances/:slug/event-sources", f"{_C}.create")
async def create_source(ctx: Ctx) -> Reply:
    value = _valid(_CREATE, ctx.body)
    inst_id, data = _data(ctx)
    _check_config(value["sourceType"], value["config"])
    check_len(value["name"], 255)
    check_len(value["sourceType"], 50)
    src = EventSource(
        new_id(),
        inst_id,
        value["name"],
        value["sourceType"],
        value["config"],
        value.get("enabled", True),
        new_token(),
    )
    data.sources[src.id] = src
    body = {"id": src.id, "webhookToken": src.webhook_token}
    return Reply({**body, "webhookUrl": webhook_url(ctx, src.webhook_token)}, status=201)


@routes.add("PUT", "/api/instances/:slug/event-sources/:id", f"{_C}.update")
async def update_source(ctx: Ctx) -> Reply:
    value = _valid(_UPDATE, ctx.body)
    _, data = _data(ctx)
    src = data.sources.get(_uuid(ctx.p("id")))
    if src is None:
        return Reply({"success": True})  # nothing matched: still a success
    if "name" in value:
        check_len(value["name"], 255)
        src.name = value["name"]
    changes = unmasked(value.get("config", {}))
    if changes:  # masked values are dropped; nothing left means untouched
        merged = {**src.config, **changes}
        _check_config(src.source_type, merged)
        src.config = merged
    if "enabled" in value:
        src.enabled = value["enabled"]
    src.updated_at = now()
    touch(data.sources, src.id)
    return Reply({"success": True})


@routes.add("DELETE", "/api/instances/:slug/event-sources/:id", f"{_C}.remove")
async def delete_source(ctx: Ctx) -> Reply:
    _, data = _data(ctx)
    data.sources.pop(_uuid(ctx.p("id")), None)
    return Reply({"deleted": True})


@routes.add("POST", "/api/instances/:slug/event-sources/:id/rotate-token", f"{_C}.rotateToken")
async def rotate_token(ctx: Ctx) -> Reply:
    _, data = _data(ctx)
    src = data.sources.get(_uuid(ctx.p("id")))
    token = new_token()  # returned even when no row matches (then it is stored nowhere)
    if src is not None:
        src.webhook_token, src.updated_at = token, now()
        touch(data.sources, src.id)
    return Reply({"webhookToken": token, "webhookUrl": webhook_url(ctx, token)}, status=201)


@routes.add("GET", "/api/instances/:slug/event-sources/:id/definitions", f"{_C}.listDefinitions")
async def list_definitions(ctx: Ctx) -> Reply:
    inst = ctx.store.by_slug(ctx.p("slug"))
    src_id = _uuid(ctx.p("id"))
    src = ctx.store.data[inst.id].sources.get(src_id) if inst else None
    return Reply([def_view(d) for d in src.definitions.values()] if src else [])


@routes.add("POST", "/api/instances/:slug/event-sources/:id/definitions", f"{_C}.createDefinition")
async def create_definition(ctx: Ctx) -> Reply:
    value = _valid(_DEF_CREATE, ctx.body)
    _, data = _data(ctx)
    src = data.sources.get(_uuid(ctx.p("id")))
    if src is None:
        raise internal()  # foreign-key violation
    check_len(value["name"], 255)
    d = Definition(new_id(), src.id, value["name"], value["matchingPrompt"])
    for key, attr in _DEF_ATTRS.items():
        if key in value:
            setattr(d, attr, value[key])
    src.definitions[d.id] = d
    return Reply({"id": d.id}, status=201)


@routes.add(
    "PUT", "/api/instances/:slug/event-sources/:id/definitions/:defId", f"{_C}.updateDefinition"
)
async def update_definition(ctx: Ctx) -> Reply:
    value = _valid(_DEF_UPDATE, ctx.body)  # the cross-field rule is not re-checked
    _, data = _data(ctx)
    src = data.sources.get(_uuid(ctx.p("id")))
    d = src.definitions.get(_uuid(ctx.p("defId"))) if src else None
    if src is not None and d is not None:
        check_len(value.get("name"), 255)
        for key, attr in _DEF_ATTRS.items():
            if key in value:
                setattr(d, attr, value[key])
        d.updated_at = now()
        touch(src.definitions, d.id)
    return Reply({"success": True})


@routes.add(
    "DELETE", "/api/instances/:slug/event-sources/:id/definitions/:defId", f"{_C}.removeDefinition"
)
async def delete_definition(ctx: Ctx) -> Reply:
    _, data = _data(ctx)
    src = data.sources.get(_uuid(ctx.p("id")))
    def_id = _uuid(ctx.p("defId"))
    if src is not None:
        src.definitions.pop(def_id, None)
    return Reply({"deleted": True})


@routes.add("POST", "/webhooks/:token", "WebhooksController.receive", public=True, limit=60)
async def receive_webhook(ctx: Ctx) -> Reply:
    # Always 200 {"ok":true}, unknown tokens included; inbound events are not modelled.
    payload = ctx.body if isinstance(ctx.body, dict | list) else {}
    if len(dumps(payload)) > 64 * 1024:
        return Reply({"ok": False, "error": "payload too large"})
    return Reply({"ok": True})
