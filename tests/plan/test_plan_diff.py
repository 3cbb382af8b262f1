"""Semantics of the pure diff: managed fields, children, prune, scope, secrets, quirks."""

from __future__ import annotations

from typing import Any

from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project
from reconciler.model.secretenv import channel_var, event_source_var, secret_var, skill_env_var
from reconciler.plan.changes import LiveSnapshot, Notice, Plan
from reconciler.plan.diff import diff
from reconciler.plan.fields import MISSING, NEW_VERSION
from reconciler.plan.operations import CONFIGURED
from reconciler.plan.safety import EMPTY_DESIRED_KEY, fingerprint

from .builders import faq_skill, helpdesk, live_copy, live_faq, live_helpdesk, state


def _plan(want: Any, have: Any, project: Project | None = None, **kw: Any) -> Plan:
    return diff(want, LiveSnapshot(have), project or Project(), **kw)


def _fields(plan: Plan, key: str = "instance/helpdesk") -> dict[str, tuple[Any, Any]]:
    [change] = [c for c in plan.changes if c.key == key]
    return {f.path: (f.old, f.new) for f in change.fields}


def _messages(plan: Plan, level: str | None = None) -> list[str]:
    return [n.message for n in plan.notices if level is None or n.level == level]


def test_identical_states_plan_nothing() -> None:
    plan = _plan(state(helpdesk(), faq_skill()), state(live_helpdesk(), live_faq()))
    assert plan.changes == () and plan.notices == ()


def test_unmanaged_fields_are_left_to_the_engine() -> None:
    want = Instance(slug="helpdesk", name="Helpdesk")  # nothing else written
    live = live_helpdesk(description="anything", memoryEnabled=False, room=None)
    plan = _plan(state(want, faq_skill()), state(live, live_faq()))
    assert plan.changes == ()


def test_explicit_null_description_is_managed() -> None:
    want = Instance(slug="helpdesk", name="Helpdesk", description=None)
    plan = _plan(state(want), state(live_helpdesk()))
    assert _fields(plan) == {"description": ("Internal FAQ helpdesk on Slack", None)}


def test_explicit_empty_collection_removes_children_only_with_prune() -> None:
    want = helpdesk(scheduledTasks=[], eventSources=[])
    have = state(live_helpdesk(), live_faq())
    without = _plan(state(want, faq_skill()), have)
    assert without.changes == ()
    assert any("--prune would remove it" in m for m in _messages(without, "info"))
    pruned = _plan(state(want, faq_skill()), have, prune=True)
    fields = _fields(pruned)
    assert fields["scheduledTasks[Daily digest]"][1] is None
    assert fields["eventSources[Zendesk tickets]"][1] is None


def test_prune_children_switch_off_keeps_children() -> None:
    project = Project.model_validate({"prune": {"children": False}})
    want = helpdesk(scheduledTasks=[])
    plan = _plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()), project, prune=True)
    assert plan.changes == ()
    assert any("prune.children is off" in m for m in _messages(plan))


def test_ignore_rules_drop_field_changes() -> None:
    project = Project.model_validate({"ignore": ["instances.*.description", "*.prompts.*"]})
    want = helpdesk(description="new", prompts={"01-identity": "new"}, model="gpt-4.1")
    plan = _plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()), project)
    assert _fields(plan) == {"model": ("gpt-4.1-mini", "gpt-4.1")}


def test_extra_live_prompt_sections_are_ignored_and_agent_owned_changes_noted() -> None:
    live = live_helpdesk(prompts={**helpdesk().prompts, "02-soul": "agent wrote this"})
    assert _plan(state(helpdesk(), faq_skill()), state(live, live_faq())).changes == ()
    want = helpdesk(prompts={**helpdesk().prompts, "02-soul": "repo soul"})
    plan = _plan(state(want, faq_skill()), state(live, live_faq()))
    assert _fields(plan) == {"prompts.02-soul": ("agent wrote this", "repo soul")}
    assert any("rewritten by the agent" in m for m in _messages(plan, "info"))


def test_icon_url_version_is_noise_and_data_uri_is_summarised() -> None:
    want = helpdesk(icon="/api/instances/helpdesk/icon?v=1")
    live = live_helpdesk(icon="/api/instances/helpdesk/icon?v=2")
    assert _plan(state(want, faq_skill()), state(live, live_faq())).changes == ()
    data = "data:image/png;base64," + "A" * 5000
    plan = _plan(state(helpdesk(icon=data), faq_skill()), state(live, live_faq()))
    old, new = _fields(plan)["icon"]
    assert old == "/api/instances/helpdesk/icon" and new.startswith("data:image/png;base64 (")
    assert "AAAA" not in new


def test_auto_disabled_task_is_a_warning_not_a_change() -> None:
    want = helpdesk()
    (want.scheduled_tasks or [])[0].enabled = True  # written in the file: managed
    live = live_helpdesk()
    task = (live.scheduled_tasks or [])[0]
    task.enabled, task.auto_disabled = False, True
    plan = _plan(state(want, faq_skill()), state(live, live_faq()))
    assert plan.changes == ()
    assert any("disabled by the engine after 5" in m for m in _messages(plan, "warning"))
    task.auto_disabled = False  # switched off by a person: the repo wins
    plan = _plan(state(want, faq_skill()), state(live, live_faq()))
    assert _fields(plan) == {"scheduledTasks[Daily digest].enabled": (False, True)}


def test_equal_instants_in_different_spellings_are_no_change() -> None:
    def with_run_at(run_at: str) -> list[dict[str, Any]]:
        schedule = {"type": "one-shot", "runAt": run_at}
        return [{"name": "Once", "prompt": "Go.", "schedule": schedule}]

    want = helpdesk(scheduledTasks=with_run_at("2027-01-01T10:00:00+01:00"))
    live = live_helpdesk(scheduledTasks=with_run_at("2027-01-01T09:00:00.000Z"))
    assert _plan(state(want, faq_skill()), state(live, live_faq())).changes == ()
    later = live_helpdesk(scheduledTasks=with_run_at("2027-01-01T09:00:01Z"))
    assert _plan(state(want, faq_skill()), state(later, live_faq())).changes != []


def test_event_source_config_compares_key_sets_only() -> None:
    live = live_helpdesk()
    (live.event_sources or [])[0].config = {"signingSecret": "CANARY-not-masked"}
    assert _plan(state(helpdesk(), faq_skill()), state(live, live_faq())).changes == ()


def test_new_config_credential_is_a_change_only_when_supplied() -> None:
    want = helpdesk()
    (want.event_sources or [])[0].config = {"signingSecret": None, "apiToken": None}
    have = state(live_helpdesk(), live_faq())
    plan = _plan(state(want, faq_skill()), have)
    var = event_source_var("helpdesk", "Zendesk tickets", "apiToken")
    assert plan.changes == () and any(var in m for m in _messages(plan, "warning"))
    plan = _plan(state(want, faq_skill()), have, supplied_secrets={var})
    assert _fields(plan) == {"eventSources[Zendesk tickets].config.apiToken": (MISSING, CONFIGURED)}


def test_source_type_change_warns_about_recreation() -> None:
    want = helpdesk()
    (want.event_sources or [])[0].source_type = "zendesk"
    plan = _plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()))
    assert "eventSources[Zendesk tickets].sourceType" in _fields(plan)
    assert any("new webhook URL" in m for m in _messages(plan, "warning"))


def test_duplicate_live_names_are_reported() -> None:
    live = live_helpdesk()
    live.scheduled_tasks = [*(live.scheduled_tasks or []), *(live.scheduled_tasks or [])]
    # The reader builds such objects without validation; the diff must cope with them.
    have = State.model_construct(instances={"helpdesk": live}, skills={"faq-search": live_faq()})
    plan = _plan(state(helpdesk(), faq_skill()), have)
    assert any("2 scheduled tasks named 'Daily digest'" in m for m in _messages(plan, "warning"))


def test_manual_tools_required_by_skills_are_no_phantom_diff() -> None:
    # The engine lists httpRequest as skill-sourced, not manual (contract §5.2).
    want = helpdesk(manualTools=["readSkill", "spawnTask", "httpRequest"])
    assert _plan(state(want, faq_skill()), state(live_helpdesk(), live_faq())).changes == ()
    # Once the skill stops requiring it, it must become manual: a real change.
    plan = _plan(state(want, faq_skill(requiredTools=[])), state(live_helpdesk(), live_faq()))
    assert _fields(plan)["manualTools"] == (
        ["readSkill", "spawnTask"],
        ["httpRequest", "readSkill", "spawnTask"],
    )


def test_assignment_pins() -> None:
    have = state(live_helpdesk(), live_faq())
    changed = faq_skill(content="# New body\n")
    plan = _plan(state(helpdesk(), changed), have)
    assert _fields(plan)["skills[faq-search].pinnedVersion"] == ("1.2.0", NEW_VERSION)
    stale = live_helpdesk()
    (stale.skills or [])[0].pinned_version = "1.0.0"
    plan = _plan(state(helpdesk(), faq_skill()), state(stale, live_faq()))
    assert _fields(plan) == {"skills[faq-search].pinnedVersion": ("1.0.0", "1.2.0")}


def test_listed_assignment_is_enabled_and_disabled_live_extras_are_ignored() -> None:
    live = live_helpdesk()
    (live.skills or [])[0].enabled = False
    plan = _plan(state(helpdesk(), faq_skill()), state(live, live_faq()))
    assert _fields(plan) == {"skills[faq-search].enabled": (False, True)}
    plan = _plan(state(helpdesk(skills=[]), faq_skill()), state(live, live_faq()), prune=True)
    assert plan.changes == ()


def test_archived_skill_is_a_warning_and_no_change() -> None:
    archived = live_faq(content="old")
    archived.archived = True
    plan = _plan(state(helpdesk(), faq_skill()), state(live_helpdesk(), archived))
    assert [c.key for c in plan.changes] == []
    assert any("archived" in m and "rename" in m for m in _messages(plan, "warning"))


def test_secrets_are_presence_only() -> None:
    want = helpdesk(secrets=["auth_api_key", "openai_api_key", "github_token"])
    have = state(live_helpdesk(), live_faq())
    plan = _plan(state(want, faq_skill()), have)
    var = secret_var("helpdesk", "github_token")
    assert plan.changes == () and any(var in m for m in _messages(plan, "warning"))
    plan = _plan(state(want, faq_skill()), have, supplied_secrets={var})
    assert _fields(plan) == {"secrets[github_token]": (MISSING, CONFIGURED)}


def test_undeclared_secrets_need_prune_and_the_secrets_switch() -> None:
    want = helpdesk(secrets=["auth_api_key"])
    have = state(live_helpdesk(), live_faq())
    assert _plan(state(want, faq_skill()), have, prune=True).changes == ()
    project = Project.model_validate({"prune": {"secrets": True}})
    plan = _plan(state(want, faq_skill()), have, project, prune=True)
    assert _fields(plan) == {"secrets[openai_api_key]": (CONFIGURED, None)}


def test_auth_enabled_without_api_key_warns() -> None:
    want = helpdesk(secrets=["openai_api_key"])
    live = live_helpdesk(secrets=["openai_api_key"])
    plan = _plan(state(want, faq_skill()), state(live, live_faq()))
    assert any("will get 401" in m for m in _messages(plan, "warning"))
    supplied = {secret_var("helpdesk", "auth_api_key")}
    want = helpdesk()
    plan = _plan(state(want, faq_skill()), state(live, live_faq()), supplied_secrets=supplied)
    assert not any("401" in m for m in _messages(plan))


def test_new_channel_needs_credentials_and_agent_channel_off_warns() -> None:
    want = helpdesk(channels={"slack": {"enabled": True}, "telegram": {"enabled": True}})
    plan = _plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()))
    assert _fields(plan) == {"channels.telegram": (None, {"enabled": True})}
    assert any(channel_var("helpdesk", "telegram") in m for m in _messages(plan, "warning"))
    live = live_helpdesk(channels={"slack": {"enabled": True}, "agent": {"enabled": True}})
    want = helpdesk(channels={"slack": {"enabled": True}, "agent": {"enabled": False}})
    plan = _plan(state(want, faq_skill()), state(live, live_faq()))
    assert any("agent:helpdesk" in m for m in _messages(plan, "warning"))


def test_skill_env_plain_and_sensitive() -> None:
    live = live_helpdesk(skillEnv={"faq-search": {"FAQ_INDEX": "v1"}})
    plan = _plan(state(helpdesk(), faq_skill()), state(live, live_faq()))
    var = skill_env_var("helpdesk", "faq-search", "FAQ_API_KEY")
    assert _fields(plan) == {"skillEnv.faq-search.FAQ_INDEX": ("v1", "helpdesk-v2")}
    assert any(var in m for m in _messages(plan, "warning"))
    plan = _plan(state(helpdesk(), faq_skill()), state(live, live_faq()), supplied_secrets={var})
    assert _fields(plan)["skillEnv.faq-search.FAQ_API_KEY"] == (MISSING, CONFIGURED)


def test_room_null_removes_and_omitted_room_is_unmanaged() -> None:
    have = state(live_helpdesk(), live_faq())
    plan = _plan(state(helpdesk(room=None), faq_skill()), have)
    assert _fields(plan)["room"][1] is None
    plan = _plan(state(Instance(slug="helpdesk", name="Helpdesk"), faq_skill()), have)
    assert plan.changes == ()
    plan = _plan(state(helpdesk(), faq_skill()), state(live_helpdesk(room=None), live_faq()))
    assert _fields(plan)["room"] == (None, helpdesk().model_dump(mode="json")["room"])


def test_only_changed_room_fields_that_the_repo_sets() -> None:
    want = helpdesk(room={"prompt": "New prompt"})
    plan = _plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()))
    assert _fields(plan) == {"room.prompt": ("Watch the backlog.", "New prompt")}


def test_order_and_fingerprints() -> None:
    new_skill = Skill(slug="a-new", name="a-new", content="x")
    gone_skill = live_copy(Skill(slug="z-gone", name="z-gone", content="x"))
    gone = live_copy(Instance(slug="a-gone", name="Gone"))
    new = Instance(slug="b-new", name="New")
    project = Project.model_validate({"prune": {"skills": True}})
    want = state(helpdesk(description="x"), new, faq_skill(description="y"), new_skill)
    have = state(live_helpdesk(), live_faq(), gone, gone_skill)
    plan = _plan(want, have, project, prune=True)
    assert [(c.key, c.action) for c in plan.changes] == [
        ("skill/a-new", "create"),
        ("skill/faq-search", "update"),
        ("instance/b-new", "create"),
        ("instance/helpdesk", "update"),
        ("instance/a-gone", "delete"),
        ("skill/z-gone", "delete"),
    ]
    assert plan.fingerprints["skill/a-new"] == "absent"
    assert plan.fingerprints["instance/helpdesk"] == fingerprint(live_helpdesk())
    assert set(plan.fingerprints) == {c.key for c in plan.changes}


def test_fingerprint_sees_engine_ids_and_ignores_order() -> None:
    live = live_helpdesk()
    moved = live_helpdesk()
    (moved.scheduled_tasks or [])[0].id = "00000000-0000-4000-9000-999999999999"
    assert fingerprint(live) != fingerprint(moved)
    shuffled = live_helpdesk(secrets=["openai_api_key", "auth_api_key"])
    assert fingerprint(shuffled) == fingerprint(live)


def test_deletes_need_prune_and_switches() -> None:
    gone = live_copy(Instance(slug="legacy", name="Legacy"))
    have = state(live_helpdesk(), live_faq(), gone)
    want = state(helpdesk(), faq_skill())
    assert _plan(want, have).changes == ()
    assert [c.key for c in _plan(want, have, prune=True).changes] == ["instance/legacy"]
    off = Project.model_validate({"prune": {"instances": False}})
    plan = _plan(want, have, off, prune=True)
    assert plan.changes == () and any("prune.instances is off" in m for m in _messages(plan))


def test_empty_repository_never_prunes() -> None:
    plan = _plan(state(), state(live_helpdesk(), live_faq()), prune=True)
    assert plan.changes == ()
    assert [n.key for n in plan.notices if n.key == EMPTY_DESIRED_KEY] == [EMPTY_DESIRED_KEY]


def test_scope_per_environment_and_out_of_scope_objects() -> None:
    project = Project.model_validate(
        {"environments": {"prod": {"scope": {"instances": ["help*"]}}}}
    )
    other = Instance(slug="other", name="Other", description="Other")
    live_other = live_copy(other, description="drifted")
    want = state(helpdesk(), other, faq_skill())
    have = state(live_helpdesk(), live_other, live_faq())
    plan = _plan(want, have, project, env="prod", prune=True)
    assert plan.changes == ()
    assert (
        Notice(
            "info",
            "instance/other",
            "in the repository but outside the scope of "
            "environment 'prod' (polyant.yaml scope); not planned",
        )
        in plan.notices
    )
    assert [c.key for c in _plan(want, have, project, prune=True).changes] == ["instance/other"]


def test_only_scopes_instances_and_lists_what_was_left_out() -> None:
    other = Instance(slug="other", name="Other")
    want = state(helpdesk(description="changed"), other, faq_skill(description="changed"))
    have = state(live_helpdesk(), live_faq(), live_copy(Instance(slug="legacy", name="L")))
    plan = _plan(want, have, only={"helpdesk", "nope"}, prune=True)
    assert [c.key for c in plan.changes] == ["skill/faq-search", "instance/helpdesk"]
    assert plan.scope == ("helpdesk", "nope")
    assert plan.left_out == ("instance/legacy", "instance/other")
    assert any(n.key == "instance/nope" for n in plan.notices)


def test_live_notices_are_carried_into_the_plan() -> None:
    read_problem = Notice("warning", "instance/helpdesk", "task X has an unknown schedule type")
    live = LiveSnapshot(state(live_helpdesk(), live_faq()), notices=[read_problem])
    plan = diff(state(helpdesk(), faq_skill()), live, Project())
    assert plan.notices == (read_problem,)


def test_create_plans_every_managed_field() -> None:
    plan = _plan(state(helpdesk(), faq_skill()), state(live_faq()))
    [change] = plan.changes
    assert change.action == "create" and change.live is None
    paths = {f.path for f in change.fields}
    assert {"name", "prompts.01-identity", "skills[faq-search]", "manualTools", "room"} <= paths
    assert "eventSources[Zendesk tickets]" in paths and "scheduledTasks[Daily digest]" in paths
