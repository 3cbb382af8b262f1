"""Facts about the engine this build talks to: section ids, channel types, provider models."""

from __future__ import annotations

SECTION_IDS: tuple[str, ...] = (
    "01-identity",
    "02-soul",
    "03-tooling",
    "04-safety",
    "05-skills",
    "06-memory",
    "07-user-identity",
    "08-datetime",
)
AGENT_OWNED_SECTIONS: tuple[str, ...] = ("02-soul", "07-user-identity")
CHANNEL_TYPES: tuple[str, ...] = ("telegram", "slack", "whatsapp", "agent")
STT_PROVIDERS: tuple[str, ...] = ("openai", "aws", "deepgram")
PROVIDER_MODELS: dict[str, frozenset[str]] = {
    "openai": frozenset(
        "gpt-4o-mini gpt-4o gpt-4.1 gpt-4.1-mini gpt-5.4 gpt-5.4-mini gpt-5.4-nano o3".split()
    ),
    "anthropic": frozenset(
        "claude-haiku-4-5-20251001 claude-sonnet-4-5-20250929 claude-opus-4-6".split()
    ),
    "bedrock": frozenset(
        """amazon.nova-micro-v1:0 amazon.nova-lite-v1:0 amazon.nova-pro-v1:0
        anthropic.claude-3-5-haiku-20241022-v1:0 anthropic.claude-sonnet-4-20250514-v1:0
        anthropic.claude-opus-4-20250514-v1:0 meta.llama4-scout-17b-instruct-v1:0
        meta.llama4-maverick-17b-instruct-v1:0 us.meta.llama3-3-70b-instruct-v1:0
        meta.llama3-1-70b-instruct-v1:0 meta.llama3-1-405b-instruct-v1:0 qwen.qwen3-32b-v1:0
        qwen.qwen3-235b-a22b-2507-v1:0 qwen.qwen3-coder-30b-a3b-v1:0
        qwen.qwen3-coder-480b-a35b-v1:0 moonshotai.kimi-k2.5 us.deepseek.r1-v1:0
        us.deepseek.deepseek-v3-2-v1:0 mistral.mistral-large-2402-v1:0""".split()
    ),
}

# The instance row's writable settings, in engine order (PATCH /api/instances/:slug).
INSTANCE_METADATA_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "status",
    "provider",
    "model",
    "memory_enabled",
    "knowledge_enabled",
    "langsmith_enabled",
    "langsmith_project",
    "auth_enabled",
    "thinking_enabled",
    "stt_provider",
)
