"""The complete live read against the sandbox: every field, minimal calls, no secret anywhere."""

from __future__ import annotations

from collections import Counter

from reconciler.engine import read_live, read_skill_versions
from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.project import Scope
from reconciler.sandbox.server import SandboxServer
from tests.engine.helpers import (
    CANARIES,
    PNG,
    create_rich_instance,
    create_skill,
    make_client,
    settled,
)

SCOPE = Scope()  # every instance but demo-agent


def _handlers(server: SandboxServer) -> Counter[str]:
    return Counter(r.handler or "" for r in settled(server))


def test_a_rich_instance_reads_back_completely(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        create_skill(client)
        ids = create_rich_instance(client)
        snapshot = read_live(client, scope=SCOPE)
    inst = snapshot.state.instances["helpdesk"]
    assert snapshot.notices == []
    assert snapshot.instance_slugs == ["demo-agent", "helpdesk"]
    assert list(snapshot.state.instances) == ["helpdesk"]
    unread = {
        "prompts",
        "event_sources",
        "scheduled_tasks",
        "confirm_wipe",
        "hooks",
        *NEWER_SETTINGS,
    }
    dumped = inst.model_dump(exclude=unread)
    assert dumped == {
        "slug": "helpdesk", "name": "Helpdesk", "description": "FAQ desk",
        "status": "inactive", "provider": "anthropic", "model": "claude-opus-4-6",
        "memoryEnabled": False, "knowledgeEnabled": True, "langsmithEnabled": True,
        "langsmithProject": "hd", "authEnabled": True, "thinkingEnabled": True,
        "sttProvider": "deepgram", "icon": PNG,
        "skills": [{"slug": "faq-search", "enabled": True, "autoLoad": True,
                    "pinnedVersion": "0.1.0"}],
        # httpRequest is required by the skill, so the engine files it as skill-sourced.
        "manualTools": ["curl", "readSkill"],
        "secrets": ["auth_api_key", "openai_api_key"],
        "channels": {"agent": {"enabled": True}, "slack": {"enabled": False},
                     "whatsapp": {"enabled": False}},
        "skillEnv": {"faq-search": {"FAQ_API_KEY": None, "FAQ_INDEX": "helpdesk-v2"}},
        "room": {"enabled": True, "prompt": "Watch the queue.", "outboundChannel": "slack",
                 "outboundTarget": "#ops", "evalIntervalMinutes": 10},
    }  # fmt: skip
    assert inst.prompts["01-identity"] == "You are the helpdesk."
    assert inst.prompts["04-safety"] == "Never share secrets."
    assert list(inst.prompts) == [f"0{i}-{n}" for i, n in enumerate(
        ["identity", "soul", "tooling", "safety", "skills", "memory", "user-identity",
         "datetime"], start=1)]  # fmt: skip
    # A main-line engine has none of develop's settings; confirmWipe is repo-only.
    main_only = set(type(inst).model_fields) - set(NEWER_SETTINGS) - {"confirm_wipe", "hooks"}
    assert inst.model_fields_set == main_only
    _check_event_sources(inst.event_sources or [], ids)
    _check_tasks(inst.scheduled_tasks or [], ids)
    skill = snapshot.state.skills["faq-search"]
    assert (skill.version, skill.archived, skill.required_tools) == (
        "0.1.0",
        False,
        ["httpRequest"],
    )
    assert [(e.name, e.sensitive) for e in skill.required_env] == [
        ("FAQ_API_KEY", True),
        ("FAQ_INDEX", False),
    ]


def _check_event_sources(sources: list, ids: dict[str, str]) -> None:
    crm, orders = sources
    assert (crm.name, crm.source_type, crm.enabled, crm.id) == ("CRM", "hubspot", False, ids["crm"])
    assert crm.config == {"clientSecret": None} and crm.definitions == []
    assert orders.config == {"region": None, "signingSecret": None}
    escalate, paid = orders.definitions
    assert escalate.model_dump() == {
        "name": "Escalate", "matchingPrompt": "angry customers", "interpretationPrompt": "",
        "action": "conversation", "contextPrompt": "be kind", "outboundChannel": "slack",
        "outboundTarget": "#esc", "enabled": False,
    }  # fmt: skip
    assert (escalate.id, paid.id, paid.action) == (ids["esc"], ids["paid"], "backlog")
    assert orders.model_fields_set == set(type(orders).model_fields)


def _check_tasks(tasks: list, ids: dict[str, str]) -> None:
    digest, launch, sweep = tasks
    assert digest.model_dump() == {
        "name": "Digest", "description": "weekday digest", "enabled": True,
        "schedule": {"type": "cron", "expression": "0 9 * * 1-5", "timezone": "Europe/Paris"},
        "prompt": "Summarise the day", "outboundChannel": "slack", "outboundTarget": "#daily",
        "keepHistory": True, "deleteAfterRun": False, "maxRetries": 2,
    }  # fmt: skip
    assert launch.schedule.model_dump() == {"type": "one-shot", "runAt": "2099-01-01T09:00:00.000Z"}
    assert launch.delete_after_run
    assert sweep.schedule.model_dump() == {
        "type": "interval",
        "everyMs": 3600000,
        "anchorAt": "2026-01-01T00:00:00.000Z",
    }
    # Switched off by hand, not by five errors.
    assert (sweep.enabled, sweep.auto_disabled) == (False, False)
    assert [t.id for t in tasks] == [ids["digest"], ids["launch"], ids["sweep"]]
    assert all(t.model_fields_set == set(type(t).model_fields) for t in tasks)
    assert digest.schedule.model_fields_set == {"type", "expression", "timezone"}


def test_no_secret_value_or_webhook_token_leaks(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        create_skill(client)
        ids = create_rich_instance(client)
        snapshot = read_live(client, scope=SCOPE)
    outputs = [
        snapshot.state.model_dump_json(),
        repr(snapshot),
        str(snapshot.state.model_dump()),
        " ".join(n.message for n in snapshot.notices),
    ]
    forbidden = [*CANARIES.values(), ids["orders_token"], ids["crm_token"], sandbox.token]
    for text in outputs:
        for secret in forbidden:
            assert secret not in text
        assert ids["orders"] not in snapshot.state.model_dump_json()


def test_calls_are_three_plus_three_per_instance(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        for slug in ("a", "b", "c"):
            client.post("/api/instances", {"slug": slug, "name": slug.upper()})
        settled(sandbox)
        sandbox.reset_requests()
        snapshot = read_live(client, scope=SCOPE)
        assert len(settled(sandbox)) == 3 + 3 * 3
        assert _handlers(sandbox) == {
            "InstancesController.findAll": 1,
            "InstancesController.getModels": 1,
            "SkillsController.exportCatalog": 1,
            "InstanceExportController.export": 3,
            "InstanceScheduledTasksController.list": 3,
            "WebhookSourcesController.list": 3,
        }
        assert sorted(snapshot.state.instances) == ["a", "b", "c"]
        settled(sandbox)
        sandbox.reset_requests()
        only = read_live(client, scope=SCOPE, only={"b", "zz"}, skills=False)
        assert len(settled(sandbox)) == 2 + 3
        assert list(only.state.instances) == ["b"] and only.state.skills == {}
        assert only.instance_slugs == ["a", "b", "c", "demo-agent"]


def test_env_and_archived_reads_happen_only_when_needed(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        create_skill(client)
        for slug in ("plain", "sensitive"):
            client.post("/api/instances", {"slug": slug, "name": slug})
            client.post(f"/api/instances/{slug}/skills/faq-search")
        env = [{"key": "FAQ_API_KEY", "value": CANARIES["skill"], "sensitive": True}]
        client.put("/api/instances/sensitive/skills/faq-search/env", {"env": env})
        env = [{"key": "FAQ_INDEX", "value": "v1", "sensitive": False}]
        client.put("/api/instances/plain/skills/faq-search/env", {"env": env})
        client.delete("/api/skills/faq-search")  # archived, still assigned
        settled(sandbox)
        sandbox.reset_requests()
        snapshot = read_live(client, scope=SCOPE)
    calls = _handlers(sandbox)
    assert len(settled(sandbox)) == 3 + 3 * 2 + 1 + 1
    assert calls["SkillEnvController.get"] == 1 and calls["SkillsController.get"] == 1
    assert snapshot.state.instances["plain"].skill_env == {"faq-search": {"FAQ_INDEX": "v1"}}
    assert snapshot.state.instances["sensitive"].skill_env == {"faq-search": {"FAQ_API_KEY": None}}
    archived = snapshot.state.skills["faq-search"]
    assert archived.archived and archived.content == "# FAQ\n\nSearch the index."


def test_skill_versions_map_version_strings_to_ids(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        create_skill(client)
        client.put("/api/skills/faq-search", {"content": "v2", "requiredTools": ["httpRequest"]})
        versions = read_skill_versions(client, "faq-search")
        listed = client.get("/api/skills/faq-search/versions")["versions"]
    assert versions == {v["version"]: v["id"] for v in listed}
    assert list(versions) == ["0.1.0", "0.2.0"]
