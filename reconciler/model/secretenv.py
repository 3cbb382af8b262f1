"""Names of the environment variables that carry secret values at apply time (never in git)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: objects.py does not need this module at all
    from reconciler.model.objects import State

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


def declared_vars(state: State) -> set[str]:
    """Names of every variable that could supply a credential `state` declares."""
    names: set[str] = set()
    for slug, inst in state.instances.items():
        names |= {secret_var(slug, key) for key in inst.secrets or []}
        names |= {channel_var(slug, kind) for kind in inst.channels or {}}
        for skill, values in (inst.skill_env or {}).items():
            names |= {skill_env_var(slug, skill, key) for key in values}
        for source in inst.event_sources or []:
            names |= {event_source_var(slug, source.name, k) for k in source.config or {}}
    return names


def supplied_vars(state: State, env: Mapping[str, str]) -> set[str]:
    """Names (never values) of the declared variables `env` sets: what a plan may count on.

    The one computation of it: the CLI, the tests and the benchmarks all plan with this.
    """
    return {name for name in declared_vars(state) if lookup(env, name)}
