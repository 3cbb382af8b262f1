"""Small builders of desired and live states for plan tests (plain models, no engine)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project
from reconciler.plan.changes import LiveSnapshot, Plan
from reconciler.plan.diff import diff
from reconciler.plan.safety import check_safety, managed_count

ENGINE_URL = "http://127.0.0.1:4000"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def faq_skill(**changes: Any) -> Skill:
    """The repo's custom skill faq-search."""
    data: dict[str, Any] = {
        "slug": "faq-search",
        "name": "faq-search",
        "description": "Search the internal FAQ",
        "category": "support",
        "requiredEnv": [
            {"name": "FAQ_INDEX", "sensitive": False},
            {"name": "FAQ_API_KEY", "sensitive": True},
        ],
        "requiredTools": ["httpRequest"],
        "content": "# FAQ search\n\nUse `scripts/search.py` to query the index.\n",
        "scripts": [{"file": "search.py", "description": "query", "content": "print('hi')\n"}],
    }
    data.update(changes)
    return Skill.model_validate(data)


def helpdesk(**changes: Any) -> Instance:
    """A rich desired instance: every collection managed."""
    data: dict[str, Any] = {
        "slug": "helpdesk",
        "name": "Helpdesk",
        "description": "Internal FAQ helpdesk on Slack",
        "status": "active",
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "memoryEnabled": True,
        "authEnabled": True,
        "prompts": {
            "01-identity": "You are the helpdesk.\nAnswer briefly.\nCite the FAQ.",
            "04-safety": "Never share credentials.",
        },
        "skills": [{"slug": "faq-search", "enabled": True, "autoLoad": True}],
        "manualTools": ["readSkill", "spawnTask"],
        "secrets": ["auth_api_key", "openai_api_key"],
        "channels": {"slack": {"enabled": True}},
        "skillEnv": {"faq-search": {"FAQ_INDEX": "helpdesk-v2", "FAQ_API_KEY": None}},
        "room": {"enabled": True, "prompt": "Watch the backlog.", "evalIntervalMinutes": 10},
        "eventSources": [
            {
                "name": "Zendesk tickets",
                "sourceType": "webhook",
                "config": {"signingSecret": None},
                "definitions": [
                    {
                        "name": "Urgent",
                        "matchingPrompt": "Is it urgent?",
                        "interpretationPrompt": "Summarise the ticket.",
                    },
                    {
                        "name": "VIP",
                        "matchingPrompt": "Is it a VIP?",
                        "action": "conversation",
                        "contextPrompt": "Greet them.",
                        "outboundChannel": "slack",
                        "outboundTarget": "#vip",
                    },
                ],
            }
        ],
        "scheduledTasks": [
            {
                "name": "Daily digest",
                "schedule": {
                    "type": "cron",
                    "expression": "0 9 * * 1-5",
                    "timezone": "Europe/Paris",
                },
                "prompt": "Post the digest.",
                "outboundChannel": "slack",
                "outboundTarget": "#help",
            }
        ],
    }
    data.update(changes)
    return Instance.model_validate(data)


_LINE_FIELDS = {*NEWER_SETTINGS, "confirm_wipe", "hooks"}


def live_copy(model: Instance | Skill, **changes: Any) -> Any:
    """What the engine read would return for `model`: every field set, ids filled in."""
    # A main-line read (172e0bc): develop's settings are not read, so not set.
    data = model.model_dump(
        mode="json", exclude=_LINE_FIELDS if isinstance(model, Instance) else None
    )
    data.update(changes)
    live = type(model).model_validate(data)
    if isinstance(live, Instance):
        for number, source in enumerate(live.event_sources or []):
            source.id = f"00000000-0000-4000-8000-{number:012d}"
            if source.config is not None:
                source.config = dict.fromkeys(source.config)  # the engine masks values
        for number, task in enumerate(live.scheduled_tasks or []):
            task.id = f"00000000-0000-4000-9000-{number:012d}"
    return live


def live_helpdesk(**changes: Any) -> Instance:
    """The live twin of helpdesk(): pins at the catalog's current version, env configured."""
    live: Instance = live_copy(helpdesk(), **changes)
    if "skills" not in changes:
        for assignment in live.skills or []:
            assignment.pinned_version = "1.2.0"
    return live


def live_faq(**changes: Any) -> Skill:
    """The live twin of faq_skill() at version 1.2.0."""
    skill: Skill = live_copy(faq_skill(), **changes)
    skill.version = "1.2.0"
    return skill


def make_plan(
    want: State,
    have: State,
    project: Project | None = None,
    *,
    stamp: bool = True,
    force: bool = False,
    **kwargs: Any,
) -> Plan:
    """diff + check_safety as the CLI runs them, stamped with a fixed engine URL and commit."""
    project = project or Project()
    live = have if isinstance(have, LiveSnapshot) else LiveSnapshot(have)
    plan = diff(want, live, project, **kwargs)
    if stamp:
        plan = replace(plan, engine_url=ENGINE_URL, commit=COMMIT)
    count = managed_count(live, project, kwargs.get("env"))
    return check_safety(plan, project, managed_count=count, force=force)


def state(*objects: Instance | Skill) -> State:
    """A State from models."""
    return State(
        instances={o.slug: o for o in objects if isinstance(o, Instance)},
        skills={o.slug: o for o in objects if isinstance(o, Skill)},
    )
