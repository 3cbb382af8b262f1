"""Property: export (write_repo) then load_repo gives back the same normalized state."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config.load import load_repo
from reconciler.config.validate import TOOL_NAMES
from reconciler.config.writer import write_repo
from reconciler.model import checks
from reconciler.model.enginefacts import SECTION_IDS
from reconciler.model.managed import normalize
from reconciler.model.objects import (
    Channel,
    CronSchedule,
    Definition,
    EnvSpec,
    EventSource,
    Instance,
    IntervalSchedule,
    OneShotSchedule,
    Room,
    ScheduledTask,
    Script,
    Skill,
    SkillAssignment,
    State,
)

# Text a repo can hold: no control characters but tab and newline (the loader rejects them).
_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs"), whitelist_characters="\n\t\r"
) | st.sampled_from(list("${}#:-|>'\"&*!%@`, \u2028\u00a0"))
# Tokens that stress YAML and Markdown quoting, mixed with arbitrary text.
_TRICKY = ["${x}", "$${", "\r\n", "\n", "\n\n", "\u2028", " ", "  ", "---", "# ", ": ", "- ", "|"]
_TRICKY += ["'", '"', "\t", "null", "true", "0x1F", "2027-01-01", "~", "&a", "*a", "!tag", "%"]
text = st.lists(st.sampled_from(_TRICKY) | st.text(_CHARS, max_size=8), max_size=8).map("".join)
line = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
)
slugs = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,10}[a-z0-9]\Z").filter(
    lambda s: checks.slug_problem(s) is None and checks.slug_problem(s, skill=True) is None
)
env_keys = st.from_regex(r"\A[A-Z][A-Z0-9_]{0,8}\Z")


def model(cls: type[Any], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A pydantic model built from a strategy per field (st.builds would guess extra ones)."""
    return st.fixed_dictionaries(fields).map(lambda data: cls(**data))


iso = st.sampled_from(["2027-01-01T09:00:00Z", "2030-06-30T23:59:59+02:00"])

schedules = st.one_of(
    model(
        CronSchedule,
        type=st.just("cron"),
        expression=st.just("0 8 * * 1-5"),
        timezone=st.sampled_from([None, "Europe/Paris", "UTC"]),
    ),
    model(
        IntervalSchedule,
        type=st.just("interval"),
        every_ms=st.integers(60_000, 10**9),
        anchor_at=st.none() | iso,
    ),
    model(OneShotSchedule, type=st.just("one-shot"), run_at=iso),
)
tasks = model(
    ScheduledTask,
    name=line,
    description=st.none() | text,
    enabled=st.booleans(),
    schedule=schedules,
    prompt=text.filter(bool),
    outbound_channel=st.none() | st.just("slack"),
    outbound_target=st.none() | line,
    keep_history=st.booleans(),
    max_retries=st.integers(0, 9),
)
definitions = model(
    Definition,
    name=line,
    matching_prompt=text.filter(bool),
    interpretation_prompt=line,
    action=st.just("backlog"),
    enabled=st.booleans(),
)
sources = model(
    EventSource,
    name=line,
    source_type=st.sampled_from(["webhook", "github"]),
    enabled=st.booleans(),
    config=st.none() | st.dictionaries(st.sampled_from(["url", "region", "apiToken"]), st.none()),
    definitions=st.lists(definitions, max_size=2, unique_by=lambda d: d.name),
)
assignments = model(
    SkillAssignment,
    slug=slugs,
    enabled=st.booleans(),
    auto_load=st.booleans(),
    pinned_version=st.none() | st.sampled_from(["0.1.0", "1.2.0"]),
)


@st.composite
def instances(draw: st.DrawFn, slug: str) -> Instance:
    fields = {
        "description": st.none() | text,
        "status": st.sampled_from(["active", "inactive"]),
        "memory_enabled": st.booleans(),
        "thinking_enabled": st.booleans(),
        "langsmith_project": st.none() | line,
        "skills": st.lists(assignments, max_size=3, unique_by=lambda a: a.slug),
        "manual_tools": st.lists(  # [] is refused: zero tool rows = all tools
            st.sampled_from(sorted(TOOL_NAMES)), min_size=1, max_size=4, unique=True
        ),
        "secrets": st.lists(st.from_regex(r"\A[a-z_]{1,12}\Z"), max_size=3, unique=True),
        "channels": st.dictionaries(
            st.sampled_from(["slack", "telegram"]), model(Channel, enabled=st.booleans())
        ),
        "skill_env": st.dictionaries(
            st.sampled_from(["ext-a", "ext-b"]),
            st.dictionaries(env_keys, st.none() | line, max_size=2),
        ),
        "room": st.none()
        | model(Room, enabled=st.booleans(), prompt=text, eval_interval_minutes=st.integers(1, 60)),
        "event_sources": st.lists(sources, max_size=2, unique_by=lambda s: s.name),
        "scheduled_tasks": st.lists(tasks, max_size=2, unique_by=lambda t: t.name),
    }
    chosen = draw(st.sets(st.sampled_from(sorted(fields))))
    data = {name: draw(fields[name]) for name in chosen}
    prompts = draw(st.dictionaries(st.sampled_from(SECTION_IDS), text, max_size=4))
    provider = draw(st.sampled_from([None, "openai", "anthropic"]))
    model_id = {None: None, "openai": "gpt-4.1-mini", "anthropic": "claude-opus-4-6"}[provider]
    return Instance(
        slug=slug, name=draw(line), provider=provider, model=model_id, prompts=prompts, **data
    )


@st.composite
def skills(draw: st.DrawFn, slug: str) -> Skill:
    body = draw(text.filter(lambda t: t.strip() and not t.startswith("---")))
    return Skill(
        slug=slug,
        name=draw(st.just(slug) | line),
        description=draw(text),
        category=draw(st.sampled_from(["general", "support"])),
        required_env=draw(
            st.lists(
                model(
                    EnvSpec, name=env_keys, description=st.none() | line, sensitive=st.booleans()
                ),
                max_size=2,
                unique_by=lambda e: e.name,
            )
        ),
        required_tools=draw(st.lists(st.sampled_from(["curl", "webSearch"]), unique=True)),
        metadata=draw(st.dictionaries(st.sampled_from(["owner", "tags"]), line | st.lists(line))),
        content=body,
        scripts=draw(
            st.lists(
                model(
                    Script,
                    file=st.from_regex(r"\A[a-z]{1,8}\.(py|sh)\Z"),
                    description=line | st.just(""),
                    content=text,
                ),
                max_size=2,
                unique_by=lambda s: s.file,
            )
        ),
    )


@st.composite
def states(draw: st.DrawFn, names: st.SearchStrategy[str] = slugs) -> State:
    inst_slugs = draw(st.lists(names, max_size=2, unique=True))
    skill_slugs = draw(
        st.lists(names.filter(lambda s: s not in {"ext-a", "ext-b"}), max_size=2, unique=True)
    )
    return State(
        instances={s: draw(instances(s)) for s in inst_slugs},
        skills={s: draw(skills(s)) for s in skill_slugs},
    )


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(states())
def test_export_then_load_round_trips(state: State) -> None:
    root = Path(tempfile.mkdtemp(prefix="roundtrip-"))
    try:
        first = write_repo(root, state, agent_owned_prompts=())
        loaded = load_repo(root)
        assert loaded.state.model_dump() == normalize(state).model_dump()
        for slug, inst in loaded.state.instances.items():
            # Everything the live side set is managed by the exported file.
            assert state.instances[slug].model_fields_set <= inst.model_fields_set
        again = write_repo(root, state, agent_owned_prompts=())
        assert again.written == [] and sorted(again.unchanged) == sorted(first.written)
    finally:
        shutil.rmtree(root)


FEW = st.sampled_from(["one", "two"])  # old and new share slugs, so files really get merged


def expected_after_merge(old: State, new: State) -> State:
    """What loading gives after exporting `new` over files of `old`: unread collections stay."""
    instances = {}
    for slug, inst in new.instances.items():
        prior = old.instances.get(slug)
        kept = {
            name: getattr(prior, name)
            for name in (
                "skills",
                "manual_tools",
                "secrets",
                "channels",
                "skill_env",
                "room",
                "event_sources",
                "scheduled_tasks",
            )
            if prior is not None and name not in inst.model_fields_set
        }
        instances[slug] = inst.model_copy(update=kept)
    return normalize(State(instances=instances, skills=new.skills))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(states(FEW), states(FEW))
def test_export_over_existing_files_gives_the_new_state(old: State, new: State) -> None:
    root = Path(tempfile.mkdtemp(prefix="merge-"))
    try:
        write_repo(root, old, agent_owned_prompts=())
        write_repo(root, new, agent_owned_prompts=(), full=True)
        loaded = load_repo(root).state
        expected = expected_after_merge(old, new)
        for slug, inst in expected.instances.items():
            assert loaded.instances[slug].model_dump() == inst.model_dump()
        for slug, skill in expected.skills.items():
            assert loaded.skills[slug].model_dump() == skill.model_dump()
    finally:
        shutil.rmtree(root)
