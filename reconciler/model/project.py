"""The polyant.yaml model: environments, scope, prune policy, safety thresholds, ignore rules."""

from __future__ import annotations

import fnmatch
from typing import Any, Literal

from pydantic import Field, field_validator

from reconciler.model.enginefacts import AGENT_OWNED_SECTIONS
from reconciler.model.objects import Model

DEFAULT_URL = "http://localhost:4000"
DEFAULT_TOKEN_ENV = "POLYANT_TOKEN"


class Scope(Model):
    """Which engine objects this repo manages; everything else is never touched."""

    instances: list[str] = Field(default_factory=lambda: ["*"])
    exclude_instances: list[str] = Field(default_factory=lambda: ["demo-agent"])
    skills: list[str] = Field(default_factory=lambda: ["*"])
    exclude_skills: list[str] = Field(default_factory=list)

    def has_instance(self, slug: str) -> bool:
        """True when the instance `slug` is managed by this repo."""
        return _matches(slug, self.instances) and not _matches(slug, self.exclude_instances)

    def has_skill(self, slug: str) -> bool:
        """True when the catalog skill `slug` is managed by this repo."""
        return _matches(slug, self.skills) and not _matches(slug, self.exclude_skills)


class Prune(Model):
    """What `--prune` may delete; nothing is ever deleted without the flag."""

    instances: bool = True
    skills: bool = False
    children: bool = True
    secrets: bool = False


class Safety(Model):
    """Thresholds that make a plan unsafe (exit 4) unless --force."""

    max_delete_percent: float = Field(25.0, ge=0, le=100)
    max_update_percent: float = Field(50.0, ge=0, le=100)
    min_objects: int = Field(4, ge=0)


class Environment(Model):
    """One engine: where it is, which variable holds its token, and its per-env values."""

    url: str = DEFAULT_URL
    token_env: str = DEFAULT_TOKEN_ENV
    insecure: bool = False
    # The engine's throttle (contract §1.3); a time-scaled sandbox needs a shorter window.
    rate_limit: int = Field(30, ge=1)
    rate_window_seconds: float = Field(60.0, gt=0)
    # Per request, first byte to last; POLYANT_TIMEOUT_SECONDS overrides it.
    timeout_seconds: float = Field(20.0, gt=0, le=3600)
    # How long apply waits for another apply's lease on this engine before refusing.
    lease_wait_seconds: float = Field(300.0, ge=0, le=86400)
    scope: Scope | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from reconciler.model.checks import engine_url_problem

        problem = engine_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Project(Model):
    """The whole polyant.yaml."""

    version: Literal[1] = 1
    default_environment: str | None = None
    environments: dict[str, Environment] = Field(default_factory=dict)
    scope: Scope = Field(default_factory=Scope)
    prune: Prune = Field(default_factory=Prune)
    safety: Safety = Field(default_factory=Safety)
    ignore: list[str] = Field(default_factory=list)
    agent_owned_prompts: list[str] = Field(default_factory=lambda: list(AGENT_OWNED_SECTIONS))

    @field_validator("environments")
    @classmethod
    def _names(cls, value: dict[str, Environment]) -> dict[str, Environment]:
        bad = [n for n in value if not n or not n.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"environment names must be letters, digits, - or _: {bad}")
        return value

    def scope_for(self, env: str | None) -> Scope:
        """The scope in force for environment `env` (its own, else the project's)."""
        chosen = self.environments.get(env or "") if env else None
        return chosen.scope if chosen and chosen.scope else self.scope

    def is_ignored(self, path: str) -> bool:
        """True when a change path like 'instances.helpdesk.description' is left to the engine."""
        return any(fnmatch.fnmatchcase(path, rule) for rule in self.ignore)


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)
