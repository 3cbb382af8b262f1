"""Safety thresholds, the checksum and the managed-object count."""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.objects import Instance
from reconciler.model.project import Project
from reconciler.plan.changes import Change, LiveSnapshot, Notice, Plan
from reconciler.plan.safety import EMPTY_DESIRED_KEY, check_safety, checksum, managed_count

from .builders import faq_skill, helpdesk, live_copy, live_faq, live_helpdesk, make_plan, state


def _plan(deletes: int, updates: int = 0) -> Plan:
    changes = [Change("instance", "delete", f"d{n}") for n in range(deletes)]
    changes += [Change("instance", "update", f"u{n}") for n in range(updates)]
    return Plan(changes=tuple(changes))


def test_delete_threshold() -> None:
    plan = _plan(deletes=2)
    plan = check_safety(plan, Project(), managed_count=8)  # 25% is not above 25%
    assert plan.unsafe_reasons == ()
    plan = _plan(deletes=3)
    plan = check_safety(plan, Project(), managed_count=8)
    assert len(plan.unsafe_reasons) == 1 and "maxDeletePercent 25%" in plan.unsafe_reasons[0]
    assert "3 of 8" in plan.unsafe_reasons[0] and plan.unsafe


def test_update_threshold_counts_updates_and_deletes() -> None:
    plan = _plan(deletes=1, updates=4)
    plan = check_safety(plan, Project(), managed_count=10)
    assert plan.unsafe_reasons == ()
    plan = _plan(deletes=2, updates=4)
    plan = check_safety(plan, Project(), managed_count=10)
    assert len(plan.unsafe_reasons) == 1 and "maxUpdatePercent 50%" in plan.unsafe_reasons[0]
    assert "6 of 10" in plan.unsafe_reasons[0]


def test_creates_do_not_count_and_small_fleets_are_exempt() -> None:
    plan = Plan(changes=tuple(Change("instance", "create", f"c{n}") for n in range(10)))
    plan = check_safety(plan, Project(), managed_count=4)
    assert plan.unsafe_reasons == ()
    plan = _plan(deletes=3)
    plan = check_safety(plan, Project(), managed_count=3)  # below safety.minObjects (4)
    assert plan.unsafe_reasons == ()
    strict = Project.model_validate({"safety": {"minObjects": 0, "maxDeletePercent": 10}})
    assert check_safety(plan, strict, managed_count=3).unsafe


def test_force_clears_every_reason() -> None:
    plan = replace(_plan(deletes=8), notices=(Notice("warning", EMPTY_DESIRED_KEY, "empty"),))
    plan = check_safety(plan, Project(), managed_count=8)
    assert len(plan.unsafe_reasons) == 3
    plan = check_safety(plan, Project(), managed_count=8, force=True)
    assert plan.unsafe_reasons == ()


def test_empty_repository_with_prune_is_unsafe() -> None:
    plan = make_plan(state(), state(live_helpdesk(), live_faq()), prune=True)
    assert plan.changes == () and plan.unsafe
    assert "no instance and no skill" in plan.unsafe_reasons[0]
    assert not make_plan(state(), state(live_helpdesk()), prune=False).unsafe


def test_managed_count_skips_archived_and_out_of_scope() -> None:
    archived = live_faq()
    archived.archived = True
    demo = live_copy(Instance(slug="demo-agent", name="Demo"))
    live = LiveSnapshot(state(live_helpdesk(), demo, archived))
    assert managed_count(live, Project()) == 1


def test_checksum_covers_writes_not_bookkeeping() -> None:
    want, have = state(helpdesk(description="x"), faq_skill()), state(live_helpdesk(), live_faq())
    first, second = make_plan(want, have), make_plan(want, have, stamp=False)
    unstamped = tuple(replace(c, fingerprint=None) for c in second.changes)
    second = replace(second, notices=(*second.notices, Notice("info", "x", "y")), changes=unstamped)
    assert second.fingerprints == {}
    assert checksum(first) == checksum(second)
    other = make_plan(state(helpdesk(description="y"), faq_skill()), have)
    assert checksum(other) != checksum(first)
    assert len(checksum(first)) == 64
