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

# What develop (5e59498) offers beyond main: validate without an engine warns on a model in
# neither list (the engine decides); plan checks against the engine's own answer.
DEVELOP_PROVIDER_MODELS: dict[str, frozenset[str]] = {
    "openai": frozenset(
        """gpt-4o-mini gpt-4o gpt-4.1 gpt-4.1-mini gpt-5.4 gpt-5.4-mini gpt-5.4-nano o3""".split()
    ),
    "anthropic": frozenset(
        """claude-haiku-4-5-20251001 claude-sonnet-4-6 claude-sonnet-4-5-20250929 claude-
        opus-4-8 claude-opus-4-7 claude-opus-4-6""".split()
    ),
    "bedrock": frozenset(
        """eu.amazon.nova-micro-v1:0 eu.amazon.nova-lite-v1:0 eu.amazon.nova-2-lite-v1:0
        eu.amazon.nova-pro-v1:0 eu.anthropic.claude-haiku-4-5-20251001-v1:0
        eu.anthropic.claude-sonnet-4-20250514-v1:0 eu.anthropic.claude-
        sonnet-4-5-20250929-v1:0 eu.anthropic.claude-sonnet-4-6 eu.anthropic.claude-
        opus-4-5-20251101-v1:0 eu.anthropic.claude-opus-4-6-v1 eu.anthropic.claude-
        opus-4-7 eu.anthropic.claude-opus-4-8 eu.anthropic.claude-fable-5
        global.anthropic.claude-haiku-4-5-20251001-v1:0 global.anthropic.claude-
        sonnet-4-5-20250929-v1:0 global.anthropic.claude-sonnet-4-6
        global.anthropic.claude-opus-4-5-20251101-v1:0 global.anthropic.claude-
        opus-4-6-v1 global.anthropic.claude-opus-4-7 global.anthropic.claude-opus-4-8
        global.anthropic.claude-fable-5 qwen.qwen3-32b-v1:0
        qwen.qwen3-coder-30b-a3b-v1:0 qwen.qwen3-235b-a22b-2507-v1:0
        qwen.qwen3-next-80b-a3b nvidia.nemotron-super-3-120b openai.gpt-oss-20b-1:0
        openai.gpt-oss-120b-1:0 minimax.minimax-m2.5""".split()
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
    *(
        "temperature state_in_prompt_enabled tool_results_in_history_enabled debug_enabled "
        "optout_enabled optout_stop_keywords optout_resume_keywords optout_closing_message "
        "optout_resume_message optout_inject_prompt_hint embedding_provider"
    ).split(),
)
# Those of them that only engines newer than 172e0bc have (develop 5e59498 on).
NEWER_SETTINGS: tuple[str, ...] = INSTANCE_METADATA_FIELDS[12:]

SEEDED_TOOLS: tuple[str, ...] = ("readSkill", "spawnTask")  # what POST /api/instances seeds
# SHA-256 of the prompt sections a new instance is seeded with (contract §4.1): a desired
# section equal to the seeded default needs no PATCH after a create.
DEFAULT_PROMPT_SHA256: dict[str, str] = {
    "01-identity": "04405c17a20a6562ff00b82aa9ce676f843e7487b8d040871b6167e7e4aa0eb0",
    "02-soul": "b9502b26609f9c5a8c34d6b81009d4d8e892cfc7ac22b2762011890af52f28fe",
    "03-tooling": "37e7a096eb896346dda446fe802188deb8de9ec4c0119b37a58994a461eb4515",
    "04-safety": "1829da18483def59891e7a1540f7aa1bc791832ec1808b0aa7b4223b4eb8ae86",
    "05-skills": "1516d850f027b41852932c666914f30b1b308b38c447b3adc6cdaa813d382420",
    "06-memory": "41b5fc9d227f2dae681d82e3c8e9726016ae10105b3c301dfa2e6fa21d3340c7",
    "07-user-identity": "8f7c5ae8964d9139d5247b6f980396f2dbe9a48d4a22d7567bca808f6c80bc61",
    "08-datetime": "93ad58cb9f2de28f9073f4af0bb5ed9ac72d41e0e8626d865a4def05eb9c40a8",
}
FIRST_IMPORT_VERSION = (
    "0.1.0"  # import creates a new skill at 0.1.0 whatever the bundle says (§6.8)
)
