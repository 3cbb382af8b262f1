"""The golden plan cases: each builds a Plan from desired and live states in Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.model.objects import Instance, Skill
from reconciler.model.project import Project
from reconciler.model.secretenv import secret_var
from reconciler.plan.changes import Plan

from .builders import (
    faq_skill,
    helpdesk,
    live_copy,
    live_faq,
    live_helpdesk,
    make_plan,
    state,
)


def noop() -> Plan:
    return make_plan(
        state(helpdesk(), faq_skill()), state(live_helpdesk(), live_faq()), env="local"
    )


def create_instance() -> Plan:
    supplied = {secret_var("helpdesk", "auth_api_key"), secret_var("helpdesk", "openai_api_key")}
    return make_plan(
        state(helpdesk(), faq_skill()), state(live_faq()), env="local", supplied_secrets=supplied
    )


def create_skill() -> Plan:
    triage = Skill(
        slug="ticket-triage",
        name="ticket-triage",
        content="# Triage\n\nSort tickets.\n",
        required_tools=["curl"],
    )
    want = helpdesk(
        skills=[
            {"slug": "faq-search", "enabled": True, "autoLoad": True},
            {"slug": "ticket-triage"},
        ]
    )
    return make_plan(state(want, faq_skill(), triage), state(live_helpdesk(), live_faq()))


def field_update() -> Plan:
    want = helpdesk(description="Helpdesk | FAQ <b>bot</b>", model="gpt-4.1", memoryEnabled=False)
    return make_plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()))


def prompt_change() -> Plan:
    prompts = {
        "01-identity": "You are the helpdesk.\nAnswer in two sentences at most.\nCite the FAQ.",
        "04-safety": "Never share credentials.",
        "06-memory": "Remember the user's team.",
    }
    return make_plan(
        state(helpdesk(prompts=prompts), faq_skill()), state(live_helpdesk(), live_faq())
    )


def skill_assignment_pin() -> Plan:
    want = helpdesk(
        skills=[
            {"slug": "faq-search", "enabled": True, "autoLoad": False, "pinnedVersion": "1.1.0"},
            {"slug": "web-research", "enabled": True},
        ]
    )
    live = live_helpdesk(
        skills=[
            {"slug": "faq-search", "enabled": True, "autoLoad": True, "pinnedVersion": "1.2.0"},
            {"slug": "summarise", "enabled": True, "autoLoad": False, "pinnedVersion": "0.1.0"},
        ]
    )
    research = live_copy(Skill(slug="web-research", name="web-research", content="Research."))
    research.version = "0.3.0"
    return make_plan(state(want, faq_skill()), state(live, live_faq(), research))


def event_source_change() -> Plan:
    want = helpdesk()
    source = (want.event_sources or [])[0]
    source.enabled = False
    source.config = {"signingSecret": None, "subdomain": "acme", "apiToken": None}
    source.definitions[0].matching_prompt = "Is the ticket urgent?\nLook at the priority field."
    source.definitions.append(
        source.definitions[0].model_copy(update={"name": "Refund", "matching_prompt": "Refund?"})
    )
    return make_plan(state(want, faq_skill()), state(live_helpdesk(), live_faq()))


def task_schedule_change() -> Plan:
    tasks: list[dict[str, Any]] = [
        {
            "name": "Daily digest",
            "prompt": "Post the digest.",
            "outboundChannel": "slack",
            "outboundTarget": "#help",
            "schedule": {"type": "cron", "expression": "30 8 * * 1-5", "timezone": "Europe/Paris"},
        },
        {
            "name": "Hourly sync",
            "prompt": "Sync the FAQ.",
            "enabled": True,
            "schedule": {"type": "interval", "everyMs": 3600000},
        },
    ]
    live = live_helpdesk(
        scheduledTasks=[
            tasks[0]
            | {
                "schedule": {
                    "type": "cron",
                    "expression": "0 9 * * 1-5",
                    "timezone": "Europe/Paris",
                }
            },
            tasks[1] | {"enabled": False},
        ]
    )
    live.scheduled_tasks[1].auto_disabled = True  # type: ignore[index]
    return make_plan(state(helpdesk(scheduledTasks=tasks), faq_skill()), state(live, live_faq()))


def secret_missing() -> Plan:
    want = helpdesk(secrets=["auth_api_key", "openai_api_key", "tavily_api_key"])
    live = live_helpdesk(secrets=["openai_api_key"])
    supplied = {secret_var("helpdesk", "tavily_api_key")}
    return make_plan(state(want, faq_skill()), state(live, live_faq()), supplied_secrets=supplied)


def _prune_states() -> tuple[list[Instance | Skill], list[Instance | Skill]]:
    legacy = live_copy(Instance(slug="legacy", name="Legacy bot"))
    old = live_copy(Skill(slug="old-skill", name="old-skill", content="Old."))
    live = live_helpdesk(
        channels={"slack": {"enabled": True}, "telegram": {"enabled": False}},
        secrets=["auth_api_key", "openai_api_key", "github_token"],
    )
    return [helpdesk(), faq_skill()], [live, live_faq(), legacy, old]


def prune_without_flag() -> Plan:
    want, have = _prune_states()
    return make_plan(state(*want), state(*have))


def prune_with_flag() -> Plan:
    want, have = _prune_states()
    project = Project.model_validate({"prune": {"skills": True, "secrets": True}})
    return make_plan(state(*want), state(*have), project, prune=True, force=True)


def unsafe() -> Plan:
    extra = [live_copy(Instance(slug=f"bot-{n}", name=f"Bot {n}")) for n in range(3)]
    return make_plan(
        state(helpdesk(description="Changed"), faq_skill()),
        state(live_helpdesk(), live_faq(), *extra),
        prune=True,
    )


def out_of_scope() -> Plan:
    demo = Instance(slug="demo-agent", name="Demo")
    project = Project.model_validate(
        {
            "environments": {
                "prod": {"scope": {"excludeInstances": ["demo-agent"], "excludeSkills": ["faq-*"]}}
            }
        }
    )
    return make_plan(
        state(helpdesk(), faq_skill(), demo), state(live_helpdesk()), project, env="prod"
    )


def scoped_plan() -> Plan:
    assistant = Instance(slug="assistant", name="Assistant", description="General help")
    return make_plan(
        state(helpdesk(description="Scoped change"), assistant, faq_skill()),
        state(live_helpdesk(), live_copy(assistant), live_faq()),
        only={"helpdesk"},
    )


def truncated() -> Plan:
    bots = [
        Instance(slug=f"bot-{n:02d}", name=f"Bot {n}", prompts={"01-identity": f"Bot {n}\n" * 30})
        for n in range(12)
    ]
    return make_plan(state(*bots), state(), force=True)


CASES: dict[str, Callable[[], Plan]] = {
    "noop": noop,
    "create_instance": create_instance,
    "create_skill": create_skill,
    "field_update": field_update,
    "prompt_change": prompt_change,
    "skill_assignment_pin": skill_assignment_pin,
    "event_source_change": event_source_change,
    "task_schedule_change": task_schedule_change,
    "secret_missing": secret_missing,
    "prune_without_flag": prune_without_flag,
    "prune_with_flag": prune_with_flag,
    "unsafe": unsafe,
    "out_of_scope": out_of_scope,
    "scoped_plan": scoped_plan,
    "truncated": truncated,
}
# Markdown size limit per case (the truncation case renders far over its limit).
MARKDOWN_LIMITS = {"truncated": 4_000}
