"""Static engine data of this build: tool registry, model catalog, default prompts, key lists."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .errors import bad_request
from .jsutil import js_str, truthy

_DATA = Path(__file__).with_name("data")

SECTION_KEYS = (
    "01-identity",
    "02-soul",
    "03-tooling",
    "04-safety",
    "05-skills",
    "06-memory",
    "07-user-identity",
    "08-datetime",
)
DEFAULT_TOOL_NAMES = ("readSkill", "spawnTask")
HARNESS_TOOLS = (
    "compact_room_history",
    "mark_events_completed",
    "send_message_to_human",
    "send_outbound_message",
    "send_whatsapp_template",
)
WELL_KNOWN_SECRETS = (
    "openai_api_key",
    "anthropic_api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_region",
    "langsmith_api_key",
    "auth_api_key",
    "tavily_api_key",
    "github_token",
    "s3_bucket_name",
    "http_api_key",
    "deepgram_api_key",
)
CHANNEL_TYPES = ("telegram", "slack", "whatsapp", "agent")
PROVIDERS = ("openai", "anthropic", "bedrock")
DEMO_AGENT = {
    "slug": "demo-agent",
    "name": "Demo Agent",
    "description": "Generic Polyant demo assistant — replace or delete after first boot",
}


def _load(name: str) -> Any:
    return json.loads((_DATA / name).read_text(encoding="utf-8"))


@cache
def registry() -> tuple[dict[str, Any], ...]:
    """The tool registry in registry order (GET /api/tools)."""
    return tuple(_load("tools.json")["tools"])


@cache
def models() -> dict[str, Any]:
    """GET /api/instances/models, verbatim from the captured engine."""
    data: dict[str, Any] = _load("models.json")
    return data


@cache
def default_prompts() -> tuple[dict[str, str], ...]:
    """The 8 seeded sections: key, title, content."""
    return tuple(_load("default_prompts.json"))


def _valid_models(provider: str) -> list[str]:
    listed = models()["providers"][provider]["models"]
    by_tier = {m["tier"]: m["id"] for m in listed if m["tier"]}
    tiers = [by_tier[t] for t in ("fast", "standard", "heavy") if t in by_tier]
    return tiers + [m["id"] for m in listed]


def check_provider_model(body: dict[str, Any]) -> None:
    """Create/PATCH validation: provider enum, then model of that provider (or openai)."""
    provider = body.get("provider")
    if truthy(provider) and provider not in PROVIDERS:
        shown = js_str(provider)  # a template literal: {} shows as [object Object]
        raise bad_request(f'Invalid provider "{shown}". Valid providers: {", ".join(PROVIDERS)}')
    model = body.get("model")
    if not truthy(model):
        return
    # A model sent without a provider is checked against openai, whatever is stored.
    effective = str(provider) if truthy(provider) else "openai"
    valid = _valid_models(effective)
    if model not in valid:
        raise bad_request(
            f'Invalid model "{js_str(model)}" for provider "{effective}". '
            f"Valid models: {', '.join(valid)}"
        )
