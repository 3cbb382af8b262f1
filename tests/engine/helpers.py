"""Shared helpers for the engine tests: a client for a sandbox and a richly configured instance."""

from __future__ import annotations

import base64
import time
from typing import Any

from reconciler.engine import EngineClient, EngineConfig
from reconciler.sandbox.server import RequestRecord, SandboxServer
from tests.conftest import RATE_WINDOW_SECONDS

# Secret values that must never appear in anything the read produces.
CANARIES = {
    "openai": "sk-canary-openai-7f3a9c",
    "auth": "canary-auth-key-51be",
    "skill": "canary-skill-secret-90ad",
    "slack_bot": "xoxb-canary-slack-bot-11",
    "slack_app": "xapp-canary-slack-app-22",
    "slack_signing": "canary-slack-signing-33",
    "wa_token": "canary-whatsapp-token-44",
    "hook": "canary-hook-signing-55",
    "hubspot": "canary-hubspot-secret-66",
}
PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
        )
    ).decode()
)


def settled(server: SandboxServer, quiet_s: float = 0.05) -> list[RequestRecord]:
    """The sandbox's request log once it stops growing (it logs after answering)."""
    count = -1
    while count != len(server.requests):
        count = len(server.requests)
        time.sleep(quiet_s)
    return list(server.requests)


def make_client(
    server: SandboxServer, window_s: float = RATE_WINDOW_SECONDS, **over: Any
) -> EngineClient:
    """A client for `server`, paced for its time-scaled window."""
    config = EngineConfig(url=server.url, token=server.token, rate_window_s=window_s, **over)
    return EngineClient(config)


def create_skill(client: EngineClient) -> None:
    """A catalog skill with one plain and one sensitive env var."""
    client.post(
        "/api/skills",
        {
            "name": "faq-search",
            "description": "Search the FAQ",
            "content": "# FAQ\n\nSearch the index.",
            "requiredEnv": [
                {"name": "FAQ_INDEX", "sensitive": False, "description": "index name"},
                {"name": "FAQ_API_KEY", "sensitive": True},
            ],
            "requiredTools": ["httpRequest"],
        },
    )


def create_rich_instance(client: EngineClient, slug: str = "helpdesk") -> dict[str, str]:
    """Every field set through the granular API; returns the engine ids and webhook tokens."""
    base = f"/api/instances/{slug}"
    client.post(
        "/api/instances",
        {
            "slug": slug,
            "name": "Helpdesk",
            "description": "FAQ desk",
            "provider": "anthropic",
            "model": "claude-opus-4-6",
        },
    )
    client.patch(
        base,
        {
            "status": "inactive",
            "memoryEnabled": False,
            "knowledgeEnabled": True,
            "langsmithEnabled": True,
            "langsmithProject": "hd",
            "authEnabled": True,
            "thinkingEnabled": True,
            "sttProvider": "deepgram",
        },
    )
    client.put(f"{base}/icon", {"icon": PNG})
    client.patch(
        f"{base}/prompts",
        {
            "sections": [
                {"key": "01-identity", "content": "You are the helpdesk."},
                {"key": "04-safety", "content": "Never share secrets."},
            ]
        },
    )
    client.put(
        f"{base}/secrets",
        {
            "secrets": [
                {"key": "openai_api_key", "value": CANARIES["openai"]},
                {"key": "auth_api_key", "value": CANARIES["auth"]},
            ]
        },
    )
    client.post(f"{base}/skills/faq-search")
    client.post(f"{base}/skills/faq-search/auto-load", {"autoLoad": True})
    client.patch(f"{base}/tools", {"enabled": ["readSkill", "curl", "httpRequest"]})
    client.put(
        f"{base}/skills/faq-search/env",
        {
            "env": [
                {"key": "FAQ_INDEX", "value": "helpdesk-v2", "sensitive": False},
                {"key": "FAQ_API_KEY", "value": CANARIES["skill"], "sensitive": True},
            ]
        },
    )
    _channels(client, base)
    client.put(
        f"{base}/room",
        {
            "enabled": True,
            "prompt": "Watch the queue.",
            "outboundChannel": "slack",
            "outboundTarget": "#ops",
            "evalIntervalMinutes": 10,
        },
    )
    ids = _event_sources(client, base)
    ids |= _tasks(client, base)
    return ids


def _channels(client: EngineClient, base: str) -> None:
    client.put(f"{base}/channels/agent", {"config": {}, "enabled": True})
    client.put(
        f"{base}/channels/slack",
        {
            "enabled": False,
            "config": {
                "botToken": CANARIES["slack_bot"],
                "appToken": CANARIES["slack_app"],
                "signingSecret": CANARIES["slack_signing"],
            },
        },
    )
    client.put(
        f"{base}/channels/whatsapp",
        {
            "enabled": False,
            "config": {
                "accountSid": "AC0001",
                "authToken": CANARIES["wa_token"],
                "whatsappNumber": "+15550001",
            },
        },
    )


def _event_sources(client: EngineClient, base: str) -> dict[str, str]:
    orders = client.post(
        f"{base}/event-sources",
        {
            "name": "Orders",
            "sourceType": "webhook",
            "enabled": True,
            "config": {"signingSecret": CANARIES["hook"], "region": "eu"},
        },
    )
    hubspot = client.post(
        f"{base}/event-sources",
        {
            "name": "CRM",
            "sourceType": "hubspot",
            "enabled": False,
            "config": {"clientSecret": CANARIES["hubspot"]},
        },
    )
    defs = f"{base}/event-sources/{orders['id']}/definitions"
    paid = client.post(
        defs,
        {"name": "Paid", "matchingPrompt": "payment events", "interpretationPrompt": "summarise"},
    )
    esc = client.post(
        defs,
        {
            "name": "Escalate",
            "matchingPrompt": "angry customers",
            "action": "conversation",
            "contextPrompt": "be kind",
            "outboundChannel": "slack",
            "outboundTarget": "#esc",
            "enabled": False,
        },
    )
    return {
        "orders": orders["id"],
        "crm": hubspot["id"],
        "paid": paid["id"],
        "esc": esc["id"],
        "orders_token": orders["webhookToken"],
        "crm_token": hubspot["webhookToken"],
    }


def _tasks(client: EngineClient, base: str) -> dict[str, str]:
    tasks = f"{base}/scheduled-tasks"
    cron = client.post(
        tasks,
        {
            "name": "Digest",
            "prompt": "Summarise the day",
            "description": "weekday digest",
            "maxRetries": 2,
            "schedule": {"type": "cron", "expression": "0 9 * * 1-5", "timezone": "Europe/Paris"},
            "outboundChannel": "slack",
            "outboundTarget": "#daily",
            "keepHistory": True,
        },
    )
    every = client.post(
        tasks,
        {
            "name": "Sweep",
            "prompt": "Sweep the backlog",
            "schedule": {
                "type": "interval",
                "everyMs": 3600000,
                "anchorAt": "2026-01-01T00:00:00.000Z",
            },
        },
    )
    once = client.post(
        tasks,
        {
            "name": "Launch",
            "prompt": "Announce the launch",
            "deleteAfterRun": True,
            "schedule": {"type": "one-shot", "runAt": "2099-01-01T09:00:00.000Z"},
        },
    )
    client.patch(f"{tasks}/{every['task']['id']}", {"enabled": False})
    return {
        "digest": cron["task"]["id"],
        "sweep": every["task"]["id"],
        "launch": once["task"]["id"],
    }
