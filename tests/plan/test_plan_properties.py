"""Properties: a state planned against itself is empty; saved plans round-trip; no crash."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from reconciler.model.managed import normalize_instance, normalize_skill
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project
from reconciler.plan.changes import LiveSnapshot
from reconciler.plan.diff import diff
from reconciler.plan.planfile import plan_from_json
from reconciler.plan.safety import checksum
from reconciler.render.text import to_json, to_markdown, to_text

from .strategies import instances, skills, states

PROJECT = Project.model_validate({"scope": {"excludeInstances": []}})


def _shuffled(inst: Instance, seed: int) -> Instance:
    """The same instance with every unordered collection in another order (contract §17.4)."""
    rng = random.Random(seed)
    copy = inst.model_copy(deep=True)
    for name in ("skills", "manual_tools", "secrets", "event_sources", "scheduled_tasks"):
        items = getattr(copy, name)
        if items is not None:
            rng.shuffle(items)
    for source in copy.event_sources or []:
        rng.shuffle(source.definitions)
    return copy


@given(states(), st.booleans(), st.integers(0, 2**16))
def test_a_state_planned_against_itself_is_empty(s: State, prune: bool, seed: int) -> None:
    live = State.model_construct(
        instances={k: _shuffled(v, seed) for k, v in s.instances.items()}, skills=s.skills
    )
    plan = diff(s, LiveSnapshot(live), PROJECT, prune=prune)
    assert plan.changes == ()
    # The only thing worth saying about a converged state: chat locked by authEnabled.
    assert [n for n in plan.notices if "will get 401" not in n.message] == []


@given(states(), states(), st.booleans())
def test_saved_plans_round_trip_and_render(want: State, have: State, prune: bool) -> None:
    plan = diff(want, LiveSnapshot(have), PROJECT, prune=prune)
    text = to_json(plan)
    again = plan_from_json(text)
    assert checksum(again) == checksum(plan)
    assert to_json(again) == text
    assert to_text(again) == to_text(plan)
    assert len(to_markdown(plan, limit=20_000)) <= 20_000


@given(instances(), st.integers(0, 2**16))
def test_normalising_sorts_once_and_keeps_what_is_managed(inst: Instance, seed: int) -> None:
    shuffled = _shuffled(inst, seed)
    normal = normalize_instance(shuffled)
    assert normal.model_dump() == normalize_instance(inst).model_dump()
    assert normal.model_fields_set == inst.model_fields_set
    assert [t.name for t in normal.scheduled_tasks or []] == sorted(
        t.name for t in inst.scheduled_tasks or []
    )
    # Already in order: the very same object comes back, not a rebuilt copy.
    assert normalize_instance(normal) is normal


@given(skills(), st.integers(0, 2**16))
def test_normalising_a_skill_sorts_its_lists_once(skill: Skill, seed: int) -> None:
    shuffled = skill.model_copy(deep=True)
    random.Random(seed).shuffle(shuffled.required_tools)
    random.Random(seed).shuffle(shuffled.scripts)
    normal = normalize_skill(shuffled)
    assert normal.required_tools == sorted(skill.required_tools)
    assert normal.model_fields_set == skill.model_fields_set
    assert normalize_skill(normal) is normal
