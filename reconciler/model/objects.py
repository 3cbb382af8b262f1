"""Pydantic models of instances and skills, shared by the repo side and the live engine side.

A field present in a desired model (``model_fields_set``) is managed; an omitted one is left
to the engine (``reconciler.model.managed`` reads and keeps that set). Engine ids and
live-only facts sit in ``exclude=True`` fields, so they never reach a file, a plan or a
bundle written from a dump.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from reconciler.model import checks
from reconciler.model.enginefacts import SECTION_IDS

ChannelType = Literal["telegram", "slack", "whatsapp", "agent"]
Name = Annotated[str, Field(min_length=1, max_length=255)]


class Model(BaseModel):
    """Base: engine (camelCase) field names, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )


class SkillAssignment(Model):
    """An instance's assignment of a catalog skill; no pin means 'follow the current version'."""

    slug: str
    enabled: bool = True
    auto_load: bool = False
    pinned_version: str | None = Field(None, max_length=50)


class Channel(Model):
    """A channel's switch; its credentials are secrets and live only on the engine."""

    enabled: bool


class Room(Model):
    """The proactive room of an instance."""

    enabled: bool = False
    prompt: str = ""
    outbound_channel: str | None = Field(None, max_length=50)
    outbound_target: str | None = None
    eval_interval_minutes: int = Field(5, ge=1, le=checks.INT4_MAX)


class Definition(Model):
    """An event definition of an event source, identified by name within its source."""

    name: Name
    matching_prompt: str = Field(min_length=1)
    interpretation_prompt: str = ""
    action: Literal["backlog", "conversation"] = "backlog"
    context_prompt: str | None = None
    outbound_channel: ChannelType | None = None
    outbound_target: str | None = None
    enabled: bool = True
    id: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _action_fields(self) -> Definition:
        if self.action == "backlog" and not self.interpretation_prompt:
            raise ValueError("action 'backlog' needs a non-empty interpretationPrompt")
        if self.action == "conversation" and not (self.context_prompt and self.outbound_channel):
            raise ValueError("action 'conversation' needs contextPrompt and outboundChannel")
        return self


class EventSource(Model):
    """An event source; config values set to null are credentials supplied at apply time."""

    name: Name
    source_type: str = Field(min_length=1, max_length=50)
    enabled: bool = True
    config: dict[str, str | None] | None = None
    definitions: list[Definition] = Field(default_factory=list)
    id: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _checks(self) -> EventSource:
        if dupes := _dupes("definition", [d.name for d in self.definitions]):
            raise ValueError(f"{dupes} (within one event source)")
        if self.source_type == "hubspot" and "clientSecret" not in (self.config or {}):
            raise ValueError("a hubspot source needs config.clientSecret (declare it as null)")
        return self


class CronSchedule(Model):
    """Cron schedule: 5, 6 (leading seconds) or 7 fields, optional IANA time zone."""

    type: Literal["cron"]
    expression: str
    timezone: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> CronSchedule:
        problem = checks.cron_problem(self.expression) or (
            checks.timezone_problem(self.timezone) if self.timezone else None
        )
        if problem:
            raise ValueError(problem)
        return self


class IntervalSchedule(Model):
    """Fixed interval; everyMs has a floor because tiny values wedge the engine."""

    type: Literal["interval"]
    every_ms: int = Field(ge=checks.MIN_EVERY_MS, le=checks.MAX_EVERY_MS)
    anchor_at: str | None = None

    @field_validator("anchor_at")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None and (problem := checks.iso_problem(value)):
            raise ValueError(problem)
        return value


class OneShotSchedule(Model):
    """Runs once at an absolute time (relative '+2h' would change on every plan)."""

    type: Literal["one-shot"]
    run_at: str

    @field_validator("run_at")
    @classmethod
    def _iso(cls, value: str) -> str:
        if value.startswith("+"):
            raise ValueError(
                f"relative runAt {value!r} becomes a new absolute time on every apply; "
                "write an absolute time such as 2027-01-01T09:00:00Z"
            )
        if problem := checks.iso_problem(value):
            raise ValueError(problem)
        return value


Schedule = Annotated[CronSchedule | IntervalSchedule | OneShotSchedule, Field(discriminator="type")]


class ScheduledTask(Model):
    """A scheduled task, identified by name within its instance."""

    name: Name
    description: str | None = None
    enabled: bool = True
    schedule: Schedule
    prompt: str = Field(min_length=1)
    outbound_channel: str | None = Field(None, max_length=50)
    outbound_target: str | None = None
    keep_history: bool = False
    delete_after_run: bool = False
    max_retries: int = Field(3, ge=0, le=checks.INT4_MAX)
    id: str | None = Field(None, exclude=True)
    # Live only: the engine switched the task off after 5 consecutive errors.
    auto_disabled: bool = Field(False, exclude=True)


HookEvent = Literal["conversation_start", "message_received", "response_generated", "response_sent"]


class HookAction(Model):
    """The tool a hook runs; args are static {{path}} templates, never secrets."""

    tool_name: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class Hook(Model):
    """An instance hook (engines from develop 5e59498 on), identified by event, position, tool."""

    event: HookEvent
    action_type: Literal["tool"] = "tool"
    action_config: HookAction
    enabled: bool = True
    position: int = Field(0, ge=0)
    timeout_ms: int = Field(10_000, ge=1000, le=30_000)
    id: str | None = Field(None, exclude=True)

    @property
    def key(self) -> str:
        """The hook's identity within its instance, e.g. 'message_received#0:webSearch'."""
        return f"{self.event}#{self.position}:{self.action_config.tool_name}"


class Instance(Model):
    """An agent instance; `prompts` maps section id to content, one Markdown file each."""

    slug: str
    name: Name
    description: str | None = None
    status: str = Field("active", max_length=20)
    provider: Literal["openai", "anthropic", "bedrock"] | None = None
    model: str | None = Field(None, max_length=100)
    memory_enabled: bool = True
    knowledge_enabled: bool = False
    langsmith_enabled: bool = False
    langsmith_project: str | None = Field(None, max_length=255)
    auth_enabled: bool = False
    thinking_enabled: bool = False
    stt_provider: Literal["openai", "aws", "deepgram"] = "openai"
    icon: str | None = None
    # Settings of engines newer than 172e0bc (develop 5e59498); unmanaged on main.
    temperature: float | None = Field(None, ge=0, le=2)
    state_in_prompt_enabled: bool = False
    tool_results_in_history_enabled: bool = False
    debug_enabled: bool = False
    optout_enabled: bool = False
    optout_stop_keywords: list[str] = Field(default_factory=lambda: ["STOP"])
    optout_resume_keywords: list[str] = Field(default_factory=lambda: ["START"])
    optout_closing_message: str | None = None
    optout_resume_message: str | None = None
    optout_inject_prompt_hint: bool = True
    embedding_provider: Literal["openai", "bedrock"] = "openai"
    # Repo-only: allow an embeddingProvider change that wipes memories and knowledge.
    confirm_wipe: bool = False
    prompts: dict[str, str] = Field(default_factory=dict)
    skills: list[SkillAssignment] | None = None
    manual_tools: list[str] | None = None
    secrets: list[str] | None = None
    channels: dict[ChannelType, Channel] | None = None
    skill_env: dict[str, dict[str, str | None]] | None = None
    room: Room | None = None
    event_sources: list[EventSource] | None = None
    scheduled_tasks: list[ScheduledTask] | None = None
    hooks: list[Hook] | None = None

    @model_validator(mode="after")
    def _checks(self) -> Instance:
        problems = [p for p in _instance_problems(self) if p]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _instance_problems(inst: Instance) -> list[str | None]:
    """Cross-field rules of one instance that the engine would not enforce."""
    out: list[str | None] = [checks.slug_problem(inst.slug)]
    out += [checks.keywords_problem(name, words) for name, words in _keyword_lists(inst)]
    out += [f"unknown prompt section {k!r}" for k in inst.prompts if k not in SECTION_IDS]
    out += [
        f"secret key {k!r} must match ^[a-z0-9_]+$ and be at most 64 characters"
        for k in inst.secrets or []
        if not checks.SECRET_KEY_RE.match(k) or len(k) > 64
    ]
    out += [_dupes("skills", [a.slug for a in inst.skills or []])]
    out += [_dupes("eventSources", [s.name for s in inst.event_sources or []])]
    out += [_dupes("scheduledTasks", [t.name for t in inst.scheduled_tasks or []])]
    out += [_dupes("hooks (event#position:tool)", [h.key for h in inst.hooks or []])]
    out += [_dupes("secrets", list(inst.secrets or []))]
    out += [_dupes("manualTools", list(inst.manual_tools or []))]
    return out


def _keyword_lists(inst: Instance) -> list[tuple[str, list[str]]]:
    return [
        ("optoutStopKeywords", inst.optout_stop_keywords),
        ("optoutResumeKeywords", inst.optout_resume_keywords),
    ]


def _dupes(what: str, names: list[str]) -> str | None:
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)
    return f"{what} names must be unique: {', '.join(dupes)}" if dupes else None


class EnvSpec(Model):
    """One environment variable a skill needs; sensitive values are never stored in git."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    sensitive: bool = True


class Script(Model):
    """A script file shipped with a skill."""

    file: str = Field(min_length=1)
    description: str = ""
    content: str


class Skill(Model):
    """A custom catalog skill: SKILL.md front matter + body, plus scripts."""

    slug: str
    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    category: str = Field("general", max_length=100)
    required_env: list[EnvSpec] = Field(default_factory=list)
    required_tools: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    content: str = Field(min_length=1)
    scripts: list[Script] = Field(default_factory=list)
    # Live only: archived skills cannot be revived; `version` is the current version string.
    archived: bool = Field(False, exclude=True)
    version: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _checks(self) -> Skill:
        problems = [
            checks.slug_problem(self.slug, skill=True),
            _dupes("requiredEnv", [e.name for e in self.required_env]),
            _dupes("scripts", [s.file for s in self.scripts]),
        ]
        reserved = {"requiredEnv", "requiredTools"} & set(self.metadata)
        if reserved:
            problems.append(f"put {', '.join(sorted(reserved))} at the top level, not in metadata")
        found = [p for p in problems if p]
        if found:
            raise ValueError("; ".join(found))
        return self


class State(Model):
    """A whole desired or live state: instances and catalog skills by slug."""

    instances: dict[str, Instance] = Field(default_factory=dict)
    skills: dict[str, Skill] = Field(default_factory=dict)
