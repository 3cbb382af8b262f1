"""In-memory engine database: rows as dataclasses, cascades, lookups and transactions."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import catalog
from .errors import internal
from .jsutil import new_id, now


@dataclass
class Instance:
    """A row of `instances`."""

    id: str
    slug: str
    name: str
    description: str | None = None
    status: str = "active"
    provider: str | None = None
    model: str | None = None
    memory_enabled: bool = True
    knowledge_enabled: bool = False
    langsmith_enabled: bool = False
    langsmith_project: str | None = None
    auth_enabled: bool = False
    thinking_enabled: bool = False
    icon: str | None = None
    stt_provider: str = "openai"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Prompt:
    """A row of `instance_prompts`."""

    title: str
    content: str
    updated_at: datetime = field(default_factory=now)


@dataclass
class ToolRow:
    """A row of the `tools` table (registry tools, harness tools, agent:<slug>)."""

    name: str
    info: dict[str, Any]


@dataclass
class SkillVersion:
    """A row of `skill_versions`."""

    id: str
    skill_id: str
    version: str
    content: str
    metadata: dict[str, Any]
    scripts: list[Any]
    changelog: str | None
    created_at: datetime = field(default_factory=now)


@dataclass
class Skill:
    """A row of `skills` with its versions (ordered by createdAt)."""

    id: str
    slug: str
    name: str
    description: str = ""
    category: str = "general"
    status: str = "active"
    is_default: bool = False
    versions: list[SkillVersion] = field(default_factory=list)
    current_version_id: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def current(self) -> SkillVersion | None:
        return self.version_by_id(self.current_version_id)

    def version_by_id(self, vid: str | None) -> SkillVersion | None:
        return next((v for v in self.versions if v.id == vid), None)


@dataclass
class Assignment:
    """A row of `instance_skills`."""

    skill_id: str
    enabled: bool
    auto_load: bool
    pinned_version_id: str | None


@dataclass
class EnvRow:
    """A row of `instance_skill_env`; `corrupt` is plaintext stored with encrypted=true."""

    skill_slug: str
    key: str
    value: str
    encrypted: bool
    corrupt: bool = False


@dataclass
class Channel:
    """A row of `instance_channels` (config kept decrypted here)."""

    enabled: bool
    config: dict[str, Any]


@dataclass
class Room:
    """A row of `instance_room`."""

    id: str
    enabled: bool = False
    prompt: str = ""
    outbound_channel: str | None = None
    outbound_target: str | None = None
    eval_interval: int | float = 5
    conversation_id: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Definition:
    """A row of `event_definitions`."""

    id: str
    source_id: str
    name: str
    matching_prompt: str
    interpretation_prompt: str = ""
    action: str = "backlog"
    context_prompt: str | None = None
    outbound_channel: str | None = None
    outbound_target: str | None = None
    enabled: bool = True
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class EventSource:
    """A row of `event_sources` with its definitions."""

    id: str
    instance_id: str
    name: str
    source_type: str
    config: dict[str, Any]
    enabled: bool
    webhook_token: str
    definitions: dict[str, Definition] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Task:
    """A row of `scheduled_tasks`; `instance_key` is the slug text (or a UUID after import)."""

    id: str
    instance_key: str
    name: str
    prompt: str
    schedule: dict[str, Any]
    description: str | None = None
    enabled: bool = True
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    last_run_status: str | None = None
    last_error: str | None = None
    last_conversation_id: str | None = None
    consecutive_errors: int = 0
    total_runs: int = 0
    outbound_channel: str | None = None
    outbound_target: str | None = None
    keep_history: bool = False
    delete_after_run: bool = False
    max_retries: int | float = 3
    created_by: str | None = "api"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Run:
    """A row of `scheduled_task_runs`."""

    id: str
    task_id: str
    instance_key: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None = None
    conversation_id: str | None = None


@dataclass
class InstanceData:
    """Everything with a foreign key to the instance (cascaded on delete)."""

    prompts: dict[str, Prompt] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)  # tool name -> source
    assignments: dict[str, Assignment] = field(default_factory=dict)  # skill id -> row
    secrets: dict[str, str] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    env: dict[tuple[str, str], EnvRow] = field(default_factory=dict)
    room: Room | None = None
    sources: dict[str, EventSource] = field(default_factory=dict)


class Store:
    """The whole database. All access happens on the server's event loop thread."""

    def __init__(self) -> None:
        self.instances: dict[str, Instance] = {}
        self.data: dict[str, InstanceData] = {}
        self.tools: dict[str, ToolRow] = {
            t["name"]: ToolRow(t["name"], t) for t in catalog.registry()
        }
        for name in catalog.HARNESS_TOOLS:
            self.tools[name] = ToolRow(name, {"name": name, "category": "harness"})
        self.skills: dict[str, Skill] = {}
        self.tasks: dict[str, Task] = {}
        self.runs: list[Run] = []
        self.users: dict[str, dict[str, Any]] = {}

    # -- instances -----------------------------------------------------------------------
    def by_slug(self, slug: str) -> Instance | None:
        return next((i for i in self.instances.values() if i.slug == slug), None)

    def add_instance(self, inst: Instance) -> InstanceData:
        self.instances[inst.id] = inst
        self.data[inst.id] = InstanceData()
        return self.data[inst.id]

    def delete_instance(self, inst: Instance) -> None:
        # Slug-keyed scheduled tasks and the agent:<slug> catalog row survive on purpose.
        del self.instances[inst.id]
        del self.data[inst.id]

    # -- tools -----------------------------------------------------------------------------
    def delete_tool(self, name: str) -> None:
        """Delete a tools-table row; instance_tools rows cascade on every instance."""
        self.tools.pop(name, None)
        for d in self.data.values():
            d.tools.pop(name, None)

    # -- skills ----------------------------------------------------------------------------
    def skill_by_slug(self, slug: str) -> Skill | None:
        return next((s for s in self.skills.values() if s.slug == slug), None)

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: any exception restores the state from before the block."""
        saved = copy.deepcopy(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise


def new_instance(slug: str, name: str, description: str | None) -> Instance:
    """A fresh instances row with column defaults."""
    t = now()
    return Instance(
        id=new_id(), slug=slug, name=name, description=description, created_at=t, updated_at=t
    )


def touch(rows: dict[Any, Any], key: Any) -> None:
    """An UPDATE writes a new tuple: the row moves to the end of the unordered scan order."""
    if key in rows:
        rows[key] = rows.pop(key)


def check_len(value: str | None, limit: int) -> None:
    """A varchar(n) column rejects longer text with an SQL error (500 on normal routes)."""
    if value is not None and len(value) > limit:
        raise internal()
