"""The minimal-writes table of engine/apply.py, asserted on the pure plan's operations.

Apply runs exactly these operations (tests/apply/test_work_order.py), so what the plan
decides here is what the engine receives; tests/apply/test_minimal.py counts the calls.
"""

from __future__ import annotations

from typing import Any

from reconciler.model.objects import Instance
from reconciler.model.secretenv import secret_var
from reconciler.plan import operations as op
from reconciler.plan.changes import Change, Plan

from . import cases
from .builders import faq_skill, helpdesk, live_copy, live_faq, live_helpdesk, make_plan, state


def _ops(plan: Plan, key: str = "instance/helpdesk") -> list[tuple[str, str]]:
    [change] = [c for c in plan.changes if c.key == key]
    return [(o.type, o.target) for o in change.operations]


def _args(change: Change, kind: str, target: str = "") -> dict[str, Any]:
    [found] = [o for o in change.operations if o.type == kind and o.target == target]
    return dict(found.args)


def test_converged_plans_nothing() -> None:
    assert cases.noop().changes == ()


def test_catalog_skill_is_one_import_and_a_delete_one_archive() -> None:
    assert _ops(cases.create_skill(), "skill/ticket-triage") == [
        (op.CATALOG_IMPORT, "ticket-triage")
    ]
    assert _ops(cases.prune_with_flag(), "skill/old-skill") == [(op.CATALOG_ARCHIVE, "old-skill")]
    assert _ops(cases.prune_with_flag(), "instance/legacy") == [(op.INSTANCE_DELETE, "legacy")]


def test_bare_instance_create_is_one_post() -> None:
    plan = make_plan(state(Instance(slug="bare", name="Bare")), state())
    assert _ops(plan, "instance/bare") == [(op.INSTANCE_CREATE, "bare")]


def test_create_writes_only_what_differs_from_a_fresh_instance() -> None:
    [change] = cases.create_instance().changes
    kinds = [o.type for o in change.operations]
    assert kinds[0] == op.INSTANCE_CREATE
    body = _args(change, op.INSTANCE_CREATE, "helpdesk")["body"]
    assert body == {
        "slug": "helpdesk",
        "name": "Helpdesk",
        "description": "Internal FAQ helpdesk on Slack",
        "provider": "openai",
        "model": "gpt-4.1-mini",
    }
    # Sent with the POST already: only authEnabled is left for the settings PATCH.
    assert _args(change, op.SETTINGS_PATCH)["body"] == {"authEnabled": True}
    assert kinds.index(op.SECRETS_PUT) < kinds.index(op.SETTINGS_PATCH)  # the key first


def test_settings_are_one_patch_with_provider_and_model_together() -> None:
    [change] = cases.field_update().changes
    assert [o.type for o in change.operations] == [op.SETTINGS_PATCH]
    assert _args(change, op.SETTINGS_PATCH)["body"] == {
        "description": "Helpdesk | FAQ <b>bot</b>",
        "model": "gpt-4.1",
        "memoryEnabled": False,
        "provider": "openai",
    }


def test_secrets_put_only_when_a_missing_key_is_supplied() -> None:
    assert _ops(cases.secret_missing()) == [(op.SECRETS_PUT, "")]
    want = helpdesk(secrets=["auth_api_key", "openai_api_key", "tavily_api_key"])
    have = live_helpdesk(secrets=["auth_api_key", "openai_api_key"])
    unsupplied = make_plan(state(want, faq_skill()), state(have, live_faq()))
    assert unsupplied.changes == ()
    supplied = {secret_var("helpdesk", "tavily_api_key")}
    plan = make_plan(state(want, faq_skill()), state(have, live_faq()), supplied_secrets=supplied)
    [change] = plan.changes
    # Every declared key rides along in the one PUT; only the missing one made it needed.
    assert _args(change, op.SECRETS_PUT)["keys"] == sorted(want.secrets or [])
    assert _args(change, op.SECRETS_PUT)["missing"] == ["tavily_api_key"]


def test_assignments_one_operation_per_difference() -> None:
    assert _ops(cases.skill_assignment_pin()) == [
        (op.ASSIGNMENT_ROLLBACK, "faq-search"),
        (op.ASSIGNMENT_AUTO_LOAD, "faq-search"),
        (op.ASSIGNMENT_ENABLE, "web-research"),
        (op.TOOLS_PATCH, ""),  # conditional: a GET decides after the skills moved
    ]


def test_prompts_are_one_patch_of_the_changed_sections() -> None:
    [change] = cases.prompt_change().changes
    assert [o.type for o in change.operations] == [op.PROMPTS_PATCH]
    assert sorted(_args(change, op.PROMPTS_PATCH)["sections"]) == ["01-identity", "06-memory"]


def test_room_change_sends_only_the_changed_field() -> None:
    room = {"enabled": True, "prompt": "Watch the backlog.", "evalIntervalMinutes": 30}
    plan = make_plan(state(helpdesk(room=room), faq_skill()), state(live_helpdesk(), live_faq()))
    [change] = plan.changes
    assert _args(change, op.ROOM_PUT)["body"] == {"evalIntervalMinutes": 30}


def test_channel_toggle_is_one_put_without_credentials() -> None:
    want = helpdesk(channels={"slack": {"enabled": False}})
    [change] = make_plan(state(want, faq_skill()), state(live_helpdesk(), live_faq())).changes
    assert [(o.type, o.target) for o in change.operations] == [(op.CHANNEL_PUT, "slack")]
    assert _args(change, op.CHANNEL_PUT, "slack") == {"enabled": False, "new": False}


def test_event_source_update_in_place_and_definitions_one_by_one() -> None:
    [change] = cases.event_source_change().changes
    assert [(o.type, o.target) for o in change.operations] == [
        (op.SOURCE_UPDATE, "Zendesk tickets"),
        (op.DEFINITION_CREATE, "Zendesk tickets/Refund"),
        (op.DEFINITION_UPDATE, "Zendesk tickets/Urgent"),
    ]
    update = _args(change, op.SOURCE_UPDATE, "Zendesk tickets")
    assert update["body"] == {"enabled": False} and update["config"] == {"subdomain": "acme"}
    assert update["credentials"] == ["apiToken"]  # read from the environment at apply
    definition = _args(change, op.DEFINITION_UPDATE, "Zendesk tickets/Urgent")
    assert list(definition["body"]) == ["matchingPrompt"]


def test_source_type_change_is_delete_then_create() -> None:
    want = helpdesk()
    (want.event_sources or [])[0].source_type = "zendesk"
    [change] = make_plan(state(want, faq_skill()), state(live_helpdesk(), live_faq())).changes
    assert [o.type for o in change.operations] == [
        op.SOURCE_DELETE,
        op.SOURCE_CREATE,
        op.DEFINITION_CREATE,
        op.DEFINITION_CREATE,
    ]


def test_task_change_is_one_patch_and_an_auto_disabled_task_stays_off() -> None:
    [change] = cases.task_schedule_change().changes
    assert [(o.type, o.target) for o in change.operations] == [(op.TASK_UPDATE, "Daily digest")]
    assert list(_args(change, op.TASK_UPDATE, "Daily digest")["body"]) == ["schedule"]


def test_new_disabled_task_is_post_then_patch() -> None:
    task = {"name": "Off", "prompt": "p", "enabled": False, "schedule": {"type": "interval"}}
    task["schedule"] = {"type": "interval", "everyMs": 60000}
    tasks = [*(live_copy(helpdesk()).model_dump(mode="json")["scheduledTasks"]), task]
    plan = make_plan(
        state(helpdesk(scheduledTasks=tasks), faq_skill()), state(live_helpdesk(), live_faq())
    )
    [change] = plan.changes
    assert _args(change, op.TASK_CREATE, "Off")["disabled"] is True
    assert "enabled" not in _args(change, op.TASK_CREATE, "Off")["body"]


def test_removals_are_one_delete_each_and_marked_for_prune() -> None:
    assert _ops(cases.prune_with_flag()) == [
        (op.SECRET_DELETE, "github_token"),
        (op.CHANNEL_DELETE, "telegram"),
    ]
    for change in cases.prune_with_flag().changes:
        assert all(o.args.get("prune") for o in change.operations)
    assert cases.prune_without_flag().changes == ()
