"""Room (§10): partial upsert, unconfigured view, delete, backlog and activity reads."""

from __future__ import annotations

from typing import Any

from .common import INT4_MAX
from .errors import Reply, bad_request, internal, not_found
from .jsutil import iso, new_id, now
from .routing import Ctx, Routes
from .state import InstanceData, Room, check_len
from .zod import Bool, Enum, Num, Obj, Str, parse
from .zod_issues import messages as joined

routes = Routes()
_C = "RoomController"
_PUT = Obj(
    {
        "enabled": Bool().optional(),
        "prompt": Str().optional(),
        "outboundChannel": Str().nullable().optional(),
        "outboundTarget": Str().nullable().optional(),
        "evalIntervalMinutes": Num(integer=True, gte=1).optional(),
    }
)
_PAGE = {
    "limit": Num(coerce=True, integer=True, gte=1, lte=200).optional(),
    "offset": Num(coerce=True, integer=True, gte=0).optional(),
}
_BACKLOG = Obj({"status": Str().optional(), **_PAGE})
_ACTIVITY = Obj({"logType": Enum("daily", "weekly", "monthly").optional(), **_PAGE})
_FIELDS = {
    "enabled": "enabled",
    "prompt": "prompt",
    "outboundChannel": "outbound_channel",
    "outboundTarget": "outbound_target",
    "evalIntervalMinutes": "eval_interval",
}


def room_view(room: Room, instance_id: str) -> dict[str, Any]:
    """GET room when a row exists."""
    return {
        "configured": True,
        "id": room.id,
        "instanceId": instance_id,
        "enabled": room.enabled,
        "prompt": room.prompt,
        "outboundChannel": room.outbound_channel,
        "outboundTarget": room.outbound_target,
        "evalIntervalMinutes": room.eval_interval,
        "conversationId": room.conversation_id,
        "createdAt": iso(room.created_at),
        "updatedAt": iso(room.updated_at),
        "pendingEventCount": 0,
    }


def room_export(room: Room | None) -> dict[str, Any] | None:
    """The export's room: five fields, or null."""
    if room is None:
        return None
    return {
        "enabled": room.enabled,
        "prompt": room.prompt,
        "outboundChannel": room.outbound_channel,
        "outboundTarget": room.outbound_target,
        "evalIntervalMinutes": room.eval_interval,
    }


@routes.add("GET", "/api/instances/:slug/room", f"{_C}.get")
async def get_room(ctx: Ctx) -> Reply:
    inst = ctx.store.by_slug(ctx.p("slug"))
    room = ctx.store.data[inst.id].room if inst else None
    if inst is None or room is None:
        return Reply({"configured": False})  # an unknown instance is not a 404 here
    return Reply(room_view(room, inst.id))


def apply_room(data: InstanceData, values: dict[str, Any]) -> None:
    """Insert with defaults, or update only the provided fields (null clears)."""
    check_len(values.get("outboundChannel"), 50)
    interval = values.get("evalIntervalMinutes")
    if isinstance(interval, int | float) and interval > INT4_MAX:
        raise internal()  # an integer column: value out of range for type integer
    room = data.room
    if room is None:
        room = data.room = Room(id=new_id())
    for key, attr in _FIELDS.items():
        if key in values:
            setattr(room, attr, values[key])
    room.updated_at = now()


@routes.add("PUT", "/api/instances/:slug/room", f"{_C}.upsert")
async def put_room(ctx: Ctx) -> Reply:
    value, issues = parse(_PUT, ctx.body)
    if issues:
        raise bad_request(joined(issues))
    inst = ctx.store.by_slug(ctx.p("slug"))
    if inst is None:
        raise not_found("Instance not found")
    apply_room(ctx.store.data[inst.id], value)
    return Reply({"success": True})


@routes.add("DELETE", "/api/instances/:slug/room", f"{_C}.remove")
async def delete_room(ctx: Ctx) -> Reply:
    inst = ctx.store.by_slug(ctx.p("slug"))
    if inst is None:
        raise not_found("Instance not found")
    ctx.store.data[inst.id].room = None  # the backlog belongs to the definitions and stays
    return Reply({"deleted": True})


def _query(ctx: Ctx, schema: Obj) -> None:
    _, issues = parse(schema, dict(ctx.query))
    if issues:
        raise bad_request(joined(issues))


@routes.add("GET", "/api/instances/:slug/room/backlog", f"{_C}.backlog")
async def get_backlog(ctx: Ctx) -> Reply:
    _query(ctx, _BACKLOG)
    return Reply({"events": [], "total": 0})  # no inbound events reach the sandbox


@routes.add("GET", "/api/instances/:slug/room/activity", f"{_C}.activity")
async def get_activity(ctx: Ctx) -> Reply:
    _query(ctx, _ACTIVITY)
    return Reply([])
