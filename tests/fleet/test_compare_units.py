"""The pure parts of compare: promotable live states and designed differences."""

from __future__ import annotations

from reconciler.fleet.compare import compare_live, drop_designed, promotable
from reconciler.model.objects import (
    Definition,
    EventSource,
    Instance,
    IntervalSchedule,
    ScheduledTask,
    Skill,
    SkillAssignment,
    State,
)
from reconciler.model.project import Project
from reconciler.plan.changes import Change, FieldChange, LiveSnapshot, Plan
from reconciler.render.compare import Comparison, to_json


def _skill(slug: str, version: str, *, archived: bool = False) -> Skill:
    return Skill(slug=slug, name=slug, content=f"# {slug}", version=version, archived=archived)


def _live(slug: str, **fields: object) -> Instance:
    return Instance.model_validate({"slug": slug, "name": slug.title(), **fields})


def test_promotable_follows_current_versions_and_drops_engine_facts() -> None:
    task = ScheduledTask(
        name="Sweep",
        prompt="Sweep.",
        schedule=IntervalSchedule(type="interval", every_ms=3_600_000),
        id="t-1",
        auto_disabled=True,
    )
    source = EventSource(
        name="Hooks",
        source_type="webhook",
        id="s-1",
        definitions=[Definition(name="D", matching_prompt="m", interpretation_prompt="i", id="d")],
    )
    inst = _live(
        "desk",
        prompts={"01-identity": "Hi", "02-soul": "agent text"},
        skills=[
            SkillAssignment(slug="faq", pinned_version="0.3.0"),
            SkillAssignment(slug="old", pinned_version="0.1.0"),
        ],
        scheduled_tasks=[task],
        event_sources=[source],
    )
    skills = {
        "faq": _skill("faq", "0.3.0"),
        "old": _skill("old", "0.2.0"),
        "x": _skill("x", "1", archived=True),
    }
    state = promotable(State(instances={"desk": inst}, skills=skills), Project())
    out = state.instances["desk"]
    assert out.prompts == {"01-identity": "Hi"}
    assert [a.pinned_version for a in out.skills or []] == [None, "0.1.0"]
    assert set(state.skills) == {"faq", "old"}
    tasks, sources = out.scheduled_tasks or [], out.event_sources or []
    assert (
        "id" not in tasks[0].model_fields_set and "auto_disabled" not in tasks[0].model_fields_set
    )
    assert "id" not in sources[0].model_fields_set
    assert "id" not in sources[0].definitions[0].model_fields_set
    assert inst.prompts["02-soul"] == "agent text"  # the input is not modified


def test_live_comparison_of_identical_engines_is_empty() -> None:
    inst = _live("desk", description="Same", scheduled_tasks=[])
    live = LiveSnapshot(state=State(instances={"desk": inst}), instance_slugs=["desk"])
    other = _live("desk", description="Same", scheduled_tasks=[])
    target = LiveSnapshot(state=State(instances={"desk": other}), instance_slugs=["desk"])
    plan = compare_live(live, target, Project(), target_env="production")
    assert plan.changes == ()


def _update(key_slug: str, *fields: FieldChange, fingerprint: str | None = None) -> Change:
    return Change("instance", "update", key_slug, fields, fingerprint=fingerprint)


def test_only_exactly_designed_differences_are_dropped() -> None:
    designed = Plan(changes=(_update("desk", FieldChange("model", "gpt-4.1", "gpt-4.1-mini")),))
    live = Plan(
        changes=(
            _update("desk", FieldChange("model", "gpt-4.1", "gpt-4.1-mini"), fingerprint="a"),
            _update("bot", FieldChange("model", "gpt-4.1", "gpt-4.1-mini"), fingerprint="b"),
            _update("ops", FieldChange("model", "gpt-4o", "gpt-4.1-mini"), fingerprint="c"),
        ),
    )
    out = drop_designed(live, designed)
    assert [c.slug for c in out.changes] == ["bot", "ops"]
    assert set(out.fingerprints) == {"instance/bot", "instance/ops"}
    assert [n.key for n in out.notices] == ["instance/desk"]


def test_json_says_which_sides_were_compared() -> None:
    comparison = Comparison("staging", "production", repo=Plan(), live=None)
    assert not comparison.differ
    text = to_json(comparison)
    assert '"live": null' in text and '"differ": false' in text
    comparison.live = Plan(changes=[_update("desk", FieldChange("name", "A", "B"))])
    assert comparison.differ
