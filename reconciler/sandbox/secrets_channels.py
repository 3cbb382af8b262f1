"""Secrets (§8) and channels (§9): array PUT, masking, merge, adapters, agent:<slug> tools."""

from __future__ import annotations

import re
from typing import Any

from . import catalog
from .common import body_obj, instance_or_404, mask_channel, unmasked
from .errors import Reply, bad_request, internal, invalid_body
from .jsutil import truthy
from .routing import Ctx, Routes
from .state import Channel, Instance, InstanceData, Store, ToolRow
from .zod import Arr, Obj, Str, parse
from .zod_issues import with_paths

routes = Routes()
_PUT_SECRETS = Obj(
    {
        "secrets": Arr(
            Obj({"key": Str(max_len=64, regex=r"^[a-z0-9_]+$"), "value": Str(max_len=8192)}),
            min_len=1,
            max_len=64,
        )
    }
)
_REQUIRED = {
    "telegram": ("botToken",),
    "slack": ("botToken", "appToken", "signingSecret"),
    "whatsapp": ("accountSid", "authToken", "whatsappNumber"),
    "agent": (),
}


def secrets_list(data: InstanceData) -> list[dict[str, Any]]:
    """The 12 well-known keys (configured or not), then the other stored keys."""
    out = [{"key": k, "configured": k in data.secrets} for k in catalog.WELL_KNOWN_SECRETS]
    extra = sorted(k for k in data.secrets if k not in catalog.WELL_KNOWN_SECRETS)
    return out + [{"key": k, "configured": True} for k in extra]


@routes.add("GET", "/api/instances/:slug/secrets", "InstanceSecretsController.list")
async def get_secrets(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    return Reply({"secrets": secrets_list(data)})


@routes.add("PUT", "/api/instances/:slug/secrets", "InstanceSecretsController.upsert")
async def put_secrets(ctx: Ctx) -> Reply:
    value, issues = parse(_PUT_SECRETS, ctx.body)
    if issues:
        raise bad_request(with_paths(issues))
    _, data = instance_or_404(ctx)
    for item in value["secrets"]:
        if item["value"] != "":  # an empty value is skipped, it does not delete
            data.secrets[item["key"]] = item["value"]
    return Reply({"secrets": secrets_list(data)})


@routes.add("DELETE", "/api/instances/:slug/secrets/:key", "InstanceSecretsController.remove")
async def delete_secret(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    data.secrets.pop(ctx.p("key"), None)
    return Reply({"deleted": True})


def channel_view(ctype: str, ch: Channel) -> dict[str, Any]:
    """A channel as GET/PUT show it (config masked)."""
    return {"channelType": ctype, "enabled": ch.enabled, "config": mask_channel(ch.config)}


@routes.add("GET", "/api/instances/:slug/channels", "InstanceChannelsController.list")
async def get_channels(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    return Reply({"channels": [channel_view(t, c) for t, c in data.channels.items()]})


def _valid(ctype: str, config: dict[str, Any]) -> bool:
    for key in _REQUIRED[ctype]:
        value = config.get(key)
        if not isinstance(value, str) or value == "":
            return False
    if ctype == "whatsapp":
        number = str(config["whatsappNumber"])
        return bool(re.fullmatch(r"\+[0-9]+", number))
    allowed = config.get("allowedUserIds")
    return not (ctype == "telegram" and allowed is not None and not isinstance(allowed, str))


def sync_agent_tool(store: Store, inst: Instance, enabled: bool) -> None:
    """Upsert or delete the catalog row agent:<slug>; deleting cascades to every caller."""
    name = f"agent:{inst.slug}"
    if not enabled:
        store.delete_tool(name)
        return
    desc = inst.description or f"Delegate a task to the {inst.name} agent ({inst.slug})."
    store.tools[name] = ToolRow(name, {"name": name, "description": desc, "category": "agent"})


@routes.add("PUT", "/api/instances/:slug/channels/:type", "InstanceChannelsController.upsert")
async def put_channel(ctx: Ctx) -> Reply:
    ctype = ctx.p("type")
    if ctype not in catalog.CHANNEL_TYPES:
        raise bad_request(
            f'Invalid channel type "{ctype}". Valid: {", ".join(catalog.CHANNEL_TYPES)}'
        )
    inst, data = instance_or_404(ctx)
    body = body_obj(ctx)
    config = body.get("config")
    if config is None:
        raise invalid_body()
    if not isinstance(config, dict):
        raise internal()  # a non-object config fails the schema of the merged object
    existing = data.channels.get(ctype)
    merged = {**(existing.config if existing else {}), **unmasked(config)}
    if not _valid(ctype, merged):
        raise internal()  # the ZodError is not mapped to 400
    enabled = truthy(body.get("enabled"))
    if "enabled" in body or existing is None:
        row = Channel(enabled=enabled, config=merged)
    else:
        row = Channel(enabled=existing.enabled, config=merged)
    data.channels.pop(ctype, None)  # an upsert's update moves the row to the end
    data.channels[ctype] = row
    if ctype == "agent":
        sync_agent_tool(ctx.store, inst, enabled)
    if enabled:
        await _start_adapter(ctx, ctype, row)
    return Reply({"channel": channel_view(ctype, row)})


async def _start_adapter(ctx: Ctx, ctype: str, row: Channel) -> None:
    """WhatsApp and agent start locally; Slack/Telegram need a network the sandbox lacks."""
    if ctype not in ("slack", "telegram"):
        return
    mode = ctx.settings.channel_network
    if mode == "unreachable":
        # The engine awaits the adapter start, which retries network errors for a long
        # time; the row already says enabled:true while the request hangs.
        await ctx.settings.engine_sleep(ctx.settings.channel_hang_s)
    elif mode == "invalid":

        async def auto_disable() -> None:
            await ctx.settings.engine_sleep(0.5)
            row.enabled = False  # a fast start failure auto-disables the row afterwards

        ctx.after.append(auto_disable)


@routes.add("DELETE", "/api/instances/:slug/channels/:type", "InstanceChannelsController.remove")
async def delete_channel(ctx: Ctx) -> Reply:
    inst, data = instance_or_404(ctx)
    ctype = ctx.p("type")  # no type validation
    data.channels.pop(ctype, None)
    if ctype == "agent":
        sync_agent_tool(ctx.store, inst, False)
    return Reply({"deleted": True})
