"""Names of the environment variables that carry secret values at apply time (never in git)."""

from __future__ import annotations

import re
from collections.abc import Mapping

PREFIX = "POLYANT"


def _part(text: str) -> str:
    # Env var names allow only [A-Z0-9_]; slugs, names and keys are folded onto that.
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def secret_var(slug: str, key: str) -> str:
    """Variable holding instance secret `key`, e.g. POLYANT_SECRET__HELPDESK__OPENAI_API_KEY."""
    return f"{PREFIX}_SECRET__{_part(slug)}__{_part(key)}"


def skill_env_var(slug: str, skill: str, key: str) -> str:
    """Variable holding a sensitive skill env value of `skill` on instance `slug`."""
    return f"{PREFIX}_SKILLENV__{_part(slug)}__{_part(skill)}__{_part(key)}"


def channel_var(slug: str, channel_type: str) -> str:
    """Variable holding a channel's credentials as a JSON object, e.g. Slack's three tokens."""
    return f"{PREFIX}_CHANNEL__{_part(slug)}__{_part(channel_type)}"


def event_source_var(slug: str, source: str, key: str) -> str:
    """Variable holding a credential of an event source's config (declared as null)."""
    return f"{PREFIX}_EVENTSOURCE__{_part(slug)}__{_part(source)}__{_part(key)}"


def lookup(env: Mapping[str, str], name: str) -> str | None:
    """The value of `name` in `env`, treating an empty value as absent."""
    value = env.get(name)
    return value if value else None
