"""Engine JSON → live models: odd live objects become notices, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.engine.convert import Notes, expect_dict, source_from, task_from, unique_by_name
from reconciler.engine.exported import InstanceRead, catalog_skills, instance_from
from reconciler.errors import EngineRejected
from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.objects import CronSchedule, IntervalSchedule, OneShotSchedule

KEY = "instance/acme"


def _task(schedule: dict[str, Any], **over: Any) -> dict[str, Any]:
    raw = {
        "id": "t-1", "name": "Digest", "description": None, "schedule": schedule,
        "scheduleHuman": "x", "prompt": "p", "enabled": True, "nextRunAt": None,
        "consecutiveErrors": 0, "totalRuns": 3, "deleteAfterRun": False, "maxRetries": 2,
        "createdBy": "api", "outboundChannel": None, "outboundTarget": None,
        "keepHistory": True, "updatedAt": "2026-01-01T00:00:00.000Z",
    }  # fmt: skip
    return raw | over


def test_a_clean_task_keeps_its_id_and_drops_run_state() -> None:
    notes = Notes()
    task = task_from(_task({"type": "cron", "expression": "0 9 * * 1-5"}), notes, KEY)
    assert task is not None and not notes.items
    assert task.id == "t-1" and task.max_retries == 2 and task.keep_history
    assert task.schedule == CronSchedule(type="cron", expression="0 9 * * 1-5", timezone=None)
    assert "totalRuns" not in task.model_dump_json() and "t-1" not in task.model_dump_json()
    assert task.model_fields_set >= {"name", "schedule", "enabled", "max_retries"}


def test_auto_disabled_after_five_errors() -> None:
    notes = Notes()
    task = task_from(_task({"type": "cron", "expression": "* * * * *"}, enabled=False,
                           consecutiveErrors=5), notes, KEY)  # fmt: skip
    assert task is not None and task.auto_disabled and not task.enabled


@pytest.mark.parametrize(
    ("schedule", "model", "fragment"),
    [
        ({"type": "interval", "everyMs": 1000}, IntervalSchedule, "60000"),
        ({"type": "one-shot", "runAt": "+2h"}, OneShotSchedule, "relative runAt"),
        ({"type": "cron", "expression": "* *"}, CronSchedule, "fields"),
    ],
)
def test_schedules_our_rules_refuse_are_kept_with_a_warning(
    schedule: dict[str, Any], model: type, fragment: str
) -> None:
    notes = Notes()
    task = task_from(_task(schedule), notes, KEY)
    assert task is not None and isinstance(task.schedule, model)
    assert [n.level for n in notes.items] == ["warning"]
    assert fragment in notes.items[0].message and "'Digest'" in notes.items[0].message


def test_unknown_schedule_type_is_a_visible_placeholder_not_a_crash() -> None:
    notes = Notes()
    task = task_from(_task({"type": "weekly", "day": "mon"}), notes, KEY)
    assert task is not None
    assert "weekly" in task.model_dump()["schedule"]["expression"]
    assert notes.items[0].key == KEY and "'weekly'" in notes.items[0].message


def test_extra_schedule_keys_are_dropped_with_an_info_notice() -> None:
    notes = Notes()
    raw = {"type": "interval", "everyMs": 3600000, "anchorAt": None, "note": "x"}
    task = task_from(_task(raw), notes, KEY)
    assert task is not None and task.schedule == IntervalSchedule(
        type="interval", every_ms=3600000, anchor_at=None
    )
    assert [n.level for n in notes.items] == ["info"]


def _source(**over: Any) -> dict[str, Any]:
    raw = {
        "id": "s-1", "instanceId": "i-1", "name": "Orders", "sourceType": "webhook",
        "config": {"signingSecret": "••••efgh", "region": "eu"}, "enabled": True,
        "webhookToken": "f" * 64, "webhookUrl": "http://x/webhooks/" + "f" * 64,
        "definitions": [
            {"id": "d-1", "eventSourceId": "s-1", "name": "Paid", "matchingPrompt": "m",
             "interpretationPrompt": "i", "action": "backlog", "contextPrompt": None,
             "outboundChannel": None, "outboundTarget": None, "enabled": True},
        ],
    }  # fmt: skip
    return raw | over


def test_event_source_config_is_a_key_set_and_the_token_is_gone() -> None:
    notes = Notes()
    source = source_from(_source(), notes, KEY)
    assert source is not None and not notes.items
    assert source.config == {"region": None, "signingSecret": None}
    assert source.id == "s-1" and source.definitions[0].id == "d-1"
    dumped = source.model_dump_json()
    assert "f" * 64 not in dumped and "efgh" not in dumped and "s-1" not in dumped
    empty = source_from(_source(config={}), notes, KEY)
    assert empty is not None and empty.config is None


def test_definitions_breaking_the_cross_field_rule_are_kept_with_a_warning() -> None:
    notes = Notes()
    bad = {"id": "d-2", "name": "Escalate", "matchingPrompt": "m", "interpretationPrompt": "",
           "action": "conversation", "contextPrompt": None, "outboundChannel": None,
           "outboundTarget": None, "enabled": True}  # fmt: skip
    source = source_from(_source(definitions=[bad]), notes, KEY)
    assert source is not None and source.definitions[0].action == "conversation"
    assert len(notes.items) == 1 and "'Escalate'" in notes.items[0].message


def test_duplicate_names_keep_the_first_and_warn() -> None:
    notes = Notes()
    items = [source_from(_source(id=f"s-{i}"), notes, KEY) for i in range(3)]
    kept = unique_by_name([s for s in items if s], lambda s: s.name, notes, KEY, "event source")
    assert [s.id for s in kept] == ["s-0"]
    assert "'Orders'" in notes.items[0].message


def test_wrong_shapes_are_engine_rejections() -> None:
    with pytest.raises(EngineRejected, match="expected a JSON object, got an array"):
        expect_dict([], "the instance list")


def test_catalog_skill_uses_the_last_version_and_splits_metadata() -> None:
    notes = Notes()
    payload = {"version": "1.0", "type": "skills", "skills": [{
        "slug": "faq", "name": "FAQ", "description": "d", "category": "support",
        "isDefault": False, "versions": [
            {"version": "0.1.0", "content": "old", "metadata": {}, "scripts": []},
            {"version": "0.2.0", "content": "new", "metadata": {
                "requiredEnv": ["LEGACY", {"name": "REGION", "sensitive": False}],
                "requiredTools": ["curl"], "owner": "ops"},
             "scripts": [{"file": "a.sh", "content": "echo"}]},
        ]}]}  # fmt: skip
    skill = catalog_skills(payload, notes)["faq"]
    assert (skill.version, skill.content, skill.category) == ("0.2.0", "new", "support")
    assert skill.metadata == {"owner": "ops"} and skill.required_tools == ["curl"]
    assert [(e.name, e.sensitive) for e in skill.required_env] == [
        ("LEGACY", True),
        ("REGION", False),
    ]
    assert skill.scripts[0].description == ""
    assert notes.items[0].key == "skill/faq" and "'LEGACY'" in notes.items[0].message


def _read(**export: Any) -> InstanceRead:
    base = {
        "slug": "acme", "name": "Acme", "description": None, "status": "active",
        "provider": "openai", "model": "gpt-4.1-mini", "memoryEnabled": True,
        "knowledgeEnabled": False, "langsmithEnabled": False, "authEnabled": False,
        "icon": None, "prompts": [
            {"sectionKey": "01-identity", "title": "Identity", "content": "I am Acme"},
            {"sectionKey": "99-custom", "title": "Custom", "content": "ignored"},
        ],
        "skills": [], "manualTools": ["spawnTask"], "secrets": [], "channels": [],
        "skillEnv": [], "room": None, "eventSources": [], "scheduledTasks": [],
    }  # fmt: skip
    dto = {"slug": "acme", "thinkingEnabled": True, "langsmithProject": "p",
           "sttProvider": "deepgram"}  # fmt: skip
    return InstanceRead(slug="acme", dto=dto, export=base | export, tasks=[])


def test_instance_merges_the_list_dto_and_keeps_only_the_eight_sections() -> None:
    notes = Notes()
    inst = instance_from(_read(), notes)
    assert not notes.items
    assert inst.prompts == {"01-identity": "I am Acme"}
    assert (inst.thinking_enabled, inst.langsmith_project, inst.stt_provider) == (
        True,
        "p",
        "deepgram",
    )
    assert inst.room is None and inst.channels == {} and inst.skill_env == {}
    # A main-line engine has none of develop's settings; confirmWipe is repo-only.
    main_only = set(type(inst).model_fields) - set(NEWER_SETTINGS) - {"confirm_wipe", "hooks"}
    assert inst.model_fields_set == main_only


def test_plain_env_values_come_from_the_env_read_and_unreadable_ones_warn() -> None:
    notes = Notes()
    rows = [
        {"skillSlug": "faq", "key": "REGION", "encrypted": False, "hasValue": True},
        {"skillSlug": "faq", "key": "TOKEN", "encrypted": True, "hasValue": True},
        {"skillSlug": "faq", "key": "EMPTY", "encrypted": False, "hasValue": False},
        {"skillSlug": "faq", "key": "HIDDEN", "encrypted": False, "hasValue": True},
    ]
    read = _read(skillEnv=rows)
    read.env = {"faq": [
        {"key": "REGION", "value": "eu", "sensitive": False, "configured": True},
        {"key": "TOKEN", "value": "", "sensitive": True, "configured": True},
    ]}  # fmt: skip
    inst = instance_from(read, notes)
    assert inst.skill_env == {"faq": {"REGION": "eu", "TOKEN": None, "EMPTY": "", "HIDDEN": None}}
    assert len(notes.items) == 1 and "faq.HIDDEN" in notes.items[0].message


def test_an_instance_our_rules_refuse_is_kept_with_a_warning() -> None:
    notes = Notes()
    inst = instance_from(_read(model="gpt-9", channels=[{"channelType": "fax"}]), notes)
    assert inst.model == "gpt-9"
    messages = " | ".join(n.message for n in notes.items)
    # The model is the engine's to judge (plan checks GET /api/instances/models), not the read's.
    assert "'fax'" in messages and "gpt-9" not in messages
