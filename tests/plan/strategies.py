"""Hypothesis strategies for valid desired/live states (instances and catalog skills)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from reconciler.model.enginefacts import SECTION_IDS
from reconciler.model.objects import Instance, Skill, State

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
SLUG = st.builds(
    lambda head, body: head + (body + head if body else ""),
    st.sampled_from(_ALNUM),
    st.text(alphabet=_ALNUM + "-", max_size=8),
)
NAME = st.text(min_size=1, max_size=12)  # any Unicode: names are free text on the engine
TEXT = st.text(max_size=80)
BODY = st.text(min_size=1, max_size=200)
KEY = st.builds(str.__add__, st.sampled_from("abcxyz"), st.text(alphabet="abz09_", max_size=8))
ENV_KEY = st.builds(str.__add__, st.sampled_from("ABXY"), st.text(alphabet="ABZ09_", max_size=6))
ISO = st.sampled_from(["2027-01-01T09:00:00Z", "2030-06-15T12:30:00+02:00", "2028-02-29T00:00:00Z"])
TOOLS = st.lists(
    st.sampled_from(["curl", "webSearch", "readSkill", "spawnTask", "httpRequest", "agent:other"]),
    unique=True,
    max_size=4,
)

CRON = st.fixed_dictionaries(
    {
        "type": st.just("cron"),
        "expression": st.sampled_from(["0 9 * * *", "*/5 * * * *", "0 30 9 * * 1-5"]),
    },
    optional={"timezone": st.sampled_from(["UTC", "Europe/Paris", "America/New_York"])},
)
INTERVAL = st.fixed_dictionaries(
    {"type": st.just("interval"), "everyMs": st.integers(60_000, 10**9)}, optional={"anchorAt": ISO}
)
ONE_SHOT = st.fixed_dictionaries({"type": st.just("one-shot"), "runAt": ISO})


def _optional(**fields: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    return fields


BACKLOG = st.fixed_dictionaries(
    {"name": NAME, "matchingPrompt": BODY, "interpretationPrompt": BODY},
    optional=_optional(action=st.just("backlog"), enabled=st.booleans()),
)
CONVERSATION = st.fixed_dictionaries(
    {
        "name": NAME,
        "matchingPrompt": BODY,
        "action": st.just("conversation"),
        "contextPrompt": BODY,
        "outboundChannel": st.sampled_from(["slack", "telegram"]),
    },
    optional=_optional(outboundTarget=st.text(min_size=1, max_size=10), enabled=st.booleans()),
)
CONFIG = st.dictionaries(KEY, st.none() | st.text(max_size=10), max_size=3)


@st.composite
def event_sources(draw: st.DrawFn) -> dict[str, Any]:
    source_type = draw(st.sampled_from(["webhook", "hubspot", "stripe"]))
    source: dict[str, Any] = {"name": draw(NAME), "sourceType": source_type}
    config = draw(st.none() | CONFIG)
    if source_type == "hubspot":
        config = {**(config or {}), "clientSecret": None}
    if config is not None or draw(st.booleans()):
        source["config"] = config
    if draw(st.booleans()):
        source["enabled"] = draw(st.booleans())
    write_empty = draw(st.booleans())  # `definitions: []` written vs omitted
    defs = draw(st.lists(BACKLOG | CONVERSATION, max_size=3, unique_by=lambda d: d["name"]))
    if defs or write_empty:
        source["definitions"] = defs
    return source


TASK = st.fixed_dictionaries(
    {"name": NAME, "prompt": BODY, "schedule": CRON | INTERVAL | ONE_SHOT},
    optional=_optional(
        description=st.none() | TEXT,
        enabled=st.booleans(),
        outboundChannel=st.none() | st.sampled_from(["slack"]),
        outboundTarget=st.none() | TEXT,
        keepHistory=st.booleans(),
        deleteAfterRun=st.booleans(),
        maxRetries=st.integers(0, 9),
    ),
)
ASSIGNMENT = st.fixed_dictionaries(
    {"slug": SLUG},
    optional=_optional(
        enabled=st.booleans(),
        autoLoad=st.booleans(),
        pinnedVersion=st.sampled_from(["0.1.0", "1.2.0"]),
    ),
)
ROOM = st.fixed_dictionaries(
    {},
    optional=_optional(
        enabled=st.booleans(),
        prompt=TEXT,
        outboundChannel=st.none() | KEY,
        outboundTarget=st.none() | TEXT,
        evalIntervalMinutes=st.integers(1, 60),
    ),
)


def _instance_fields(slug: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"slug": st.just(slug), "name": NAME},
        optional=_optional(
            description=st.none() | TEXT,
            status=st.sampled_from(["active", "inactive"]),
            provider=st.just("openai"),
            model=st.sampled_from(["gpt-4.1-mini", "gpt-4o"]),
            memoryEnabled=st.booleans(),
            knowledgeEnabled=st.booleans(),
            authEnabled=st.booleans(),
            thinkingEnabled=st.booleans(),
            sttProvider=st.sampled_from(["openai", "aws", "deepgram"]),
            icon=st.none() | st.just("data:image/png;base64,iVBORw0KGgo="),
            prompts=st.dictionaries(st.sampled_from(SECTION_IDS), st.text(max_size=300)),
            skills=st.lists(ASSIGNMENT, max_size=3, unique_by=lambda a: a["slug"]),
            manualTools=TOOLS,
            secrets=st.lists(KEY, max_size=4, unique=True),
            channels=st.dictionaries(
                st.sampled_from(["slack", "telegram", "agent"]),
                st.fixed_dictionaries({"enabled": st.booleans()}),
            ),
            skillEnv=st.dictionaries(
                SLUG, st.dictionaries(ENV_KEY, st.none() | TEXT, max_size=3), max_size=2
            ),
            room=st.none() | ROOM,
            eventSources=st.lists(event_sources(), max_size=2, unique_by=lambda s: s["name"]),
            scheduledTasks=st.lists(TASK, max_size=3, unique_by=lambda t: t["name"]),
        ),
    )


def instances() -> st.SearchStrategy[Instance]:
    return SLUG.flatmap(_instance_fields).map(Instance.model_validate)


ENV_SPEC = st.fixed_dictionaries(
    {"name": ENV_KEY}, optional=_optional(description=TEXT, sensitive=st.booleans())
)
SCRIPT = st.fixed_dictionaries(
    {
        "file": st.builds("{}.py".format, st.text(alphabet="abcxyz", min_size=1, max_size=6)),
        "content": TEXT,
    },
    optional=_optional(description=TEXT),
)


def _skill_fields(slug: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"slug": st.just(slug), "name": NAME, "content": BODY},
        optional=_optional(
            description=TEXT,
            category=st.sampled_from(["general", "support"]),
            requiredEnv=st.lists(ENV_SPEC, max_size=3, unique_by=lambda e: e["name"]),
            requiredTools=TOOLS,
            metadata=st.dictionaries(st.sampled_from(["author", "tags"]), TEXT, max_size=2),
            scripts=st.lists(SCRIPT, max_size=2, unique_by=lambda s: s["file"]),
        ),
    )


def skills() -> st.SearchStrategy[Skill]:
    return SLUG.flatmap(_skill_fields).map(Skill.model_validate)


@st.composite
def states(draw: st.DrawFn) -> State:
    """A valid State: a few instances and skills, keyed by their slugs."""
    found_instances = draw(st.lists(instances(), max_size=3, unique_by=lambda i: i.slug))
    found_skills = draw(st.lists(skills(), max_size=3, unique_by=lambda s: s.slug))
    return State(
        instances={i.slug: i for i in found_instances}, skills={s.slug: s for s in found_skills}
    )
