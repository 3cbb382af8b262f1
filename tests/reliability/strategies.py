"""Hypothesis strategies for desired instances (engine field names), with their credentials."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from reconciler.model import secretenv
from reconciler.model.enginefacts import SECTION_IDS

SKILLS = ("faq-search", "notes")
TOOLS = ("readSkill", "spawnTask", "webSearch", "searchMemory", "httpRequest")
SECRETS = ("openai_api_key", "tavily_api_key")
MODELS = (("openai", "gpt-4.1-mini"), ("anthropic", "claude-haiku-4-5-20251001"))
CRONS = ("0 9 * * 1-5", "*/15 * * * *", "30 8 1 * *")
_serial = itertools.count(1)

# Text a person would type into a config file: letters, digits, punctuation, inner newlines.
words = (
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789 .,:;!?-'éü"),
        min_size=1,
        max_size=24,
    )
    .map(str.strip)
    .filter(bool)
)
prose = st.lists(words, min_size=1, max_size=4).map("\n".join)


def fresh_slugs(count: int) -> list[str]:
    """Slugs never used before in this process (one sandbox serves many examples)."""
    n = next(_serial)
    return [f"p{n}-{i}" for i in range(count)]


@st.composite
def _task(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["interval", "cron", "one-shot"]))
    if kind == "interval":
        schedule: dict[str, Any] = {"type": kind, "everyMs": 60_000 * draw(st.integers(1, 600))}
    elif kind == "cron":
        schedule = {
            "type": kind,
            "expression": draw(st.sampled_from(CRONS)),
            "timezone": draw(st.sampled_from(["UTC", "Europe/Paris"])),
        }
    else:
        schedule = {"type": kind, "runAt": f"{draw(st.integers(2031, 2039))}-01-01T09:00:00Z"}
    task: dict[str, Any] = {"name": name, "schedule": schedule, "prompt": draw(prose)}
    optional = {
        "enabled": st.booleans(),
        "description": prose,
        "maxRetries": st.integers(0, 5),
        "keepHistory": st.booleans(),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            task[key] = draw(strategy)
    return task


@st.composite
def _source(draw: st.DrawFn, name: str) -> dict[str, Any]:
    config: dict[str, Any] = {"region": draw(st.sampled_from(["eu", "us"]))}
    if draw(st.booleans()):
        config["signingSecret"] = None  # a credential supplied at apply time
    names = draw(st.lists(st.sampled_from(["New", "Urgent", "Closed"]), max_size=2, unique=True))
    definitions = [
        {
            "name": n,
            "matchingPrompt": draw(prose),
            "interpretationPrompt": draw(prose),
            "enabled": draw(st.booleans()),
        }
        for n in names
    ]
    return {
        "name": name,
        "sourceType": "webhook",
        "enabled": draw(st.booleans()),
        "config": config,
        "definitions": definitions,
    }


_FIELDS: dict[str, Any] = {
    "description": st.one_of(st.none(), prose),
    "status": st.sampled_from(["active", "inactive"]),
    "memoryEnabled": st.booleans(),
    "knowledgeEnabled": st.booleans(),
    "langsmithEnabled": st.booleans(),
    "thinkingEnabled": st.booleans(),
    "sttProvider": st.sampled_from(["openai", "aws", "deepgram"]),
    # min_size=1: validate refuses `manualTools: []` (zero tool rows = all tools).
    "manualTools": st.lists(st.sampled_from(TOOLS), min_size=1, unique=True).map(sorted),
    "secrets": st.lists(st.sampled_from(SECRETS), unique=True).map(sorted),
}


@st.composite
def instance_doc(draw: st.DrawFn, slug: str) -> dict[str, Any]:
    """One instance as its files would say it; every optional field drawn in or left out."""
    doc: dict[str, Any] = {"slug": slug, "name": draw(words)}
    for key, strategy in _FIELDS.items():
        if draw(st.booleans()):
            doc[key] = draw(strategy)
    if draw(st.booleans()):
        doc["provider"], doc["model"] = draw(st.sampled_from(MODELS))
    if draw(st.booleans()):
        sections = draw(st.lists(st.sampled_from(SECTION_IDS), max_size=3, unique=True))
        doc["prompts"] = {s: draw(prose) for s in sections}
    if draw(st.booleans()):
        doc["skills"] = [
            {"slug": s, "enabled": draw(st.booleans()), "autoLoad": draw(st.booleans())}
            for s in draw(st.lists(st.sampled_from(SKILLS), unique=True))
        ]
    if draw(st.booleans()):
        doc["skillEnv"] = {
            "faq-search": {
                "FAQ_INDEX": draw(words),
                **({"FAQ_API_KEY": None} if draw(st.booleans()) else {}),
            }
        }
    if draw(st.booleans()):
        doc["room"] = draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        "enabled": st.booleans(),
                        "prompt": prose,
                        "evalIntervalMinutes": st.integers(1, 60),
                    }
                ),
            )
        )
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(["Orders", "Tickets"]), unique=True))
        doc["eventSources"] = [draw(_source(n)) for n in names]
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(["Daily", "Sweep", "Once"]), unique=True))
        doc["scheduledTasks"] = [draw(_task(n)) for n in names]
    return doc


def fleet(slugs: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """One drawn instance per slug."""
    return st.tuples(*(instance_doc(s) for s in slugs)).map(list)


def credentials(docs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A value for every credential the documents declare (variables named by secretenv)."""
    env: dict[str, str] = {}
    for doc in docs:
        slug = doc["slug"]
        env.update({secretenv.secret_var(slug, k): f"v-{slug}-{k}" for k in doc.get("secrets", [])})
        for skill, values in (doc.get("skillEnv") or {}).items():
            for key in (k for k, v in values.items() if v is None):
                env[secretenv.skill_env_var(slug, skill, key)] = f"e-{slug}-{key}"
        for source in doc.get("eventSources") or []:
            for key in (k for k, v in source["config"].items() if v is None):
                env[secretenv.event_source_var(slug, source["name"], key)] = f"c-{slug}-{key}"
    return env
