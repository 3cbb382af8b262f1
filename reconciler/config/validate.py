"""Checks on a loaded repo that catch what the engine would reject or silently corrupt."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import replace

from pydantic.alias_generators import to_camel

from reconciler.config import skillfile
from reconciler.config.enginelimits import limit_problems
from reconciler.config.exportfiles import CREDENTIAL_RE
from reconciler.config.loaded import LoadedRepo
from reconciler.errors import Problem
from reconciler.model import checks
from reconciler.model.checks import visible
from reconciler.model.enginefacts import (
    DEVELOP_PROVIDER_MODELS,
    NEWER_SETTINGS,
    PROVIDER_MODELS,
)
from reconciler.model.objects import Instance, Skill
from reconciler.model.secretenv import event_source_var, skill_env_var

# The engine's tool catalog in this build (contract §5.1, engine-samples/23-tools-list.json).
TOOL_NAMES = frozenset(
    """spawnTask fileUpload curl getKnowledge httpRequest searchMemory saveMemory scheduleTask
    searchKnowledge readSkill slackPostMessage verifyDocument writeKnowledge ghIssue ghPR
    listDirectory readFile writeFile gitCloneRepo hubspotCreateTask hubspotGetCompany
    hubspotContact hubspotNote hubspotMeeting hubspotDeal hubspotSendEmail hubspotTicket
    updateUserProfile updateSoul webSearch""".split()
)
# Hidden from the catalog but accepted as manual tools (and listed by exports).
HARNESS_TOOLS = frozenset(
    """compact_room_history mark_events_completed send_message_to_human send_outbound_message
    send_whatsapp_template""".split()
)
MAX_PROMPT_CHARS = 32768
MAX_ENV_KEY = 255
MAX_SKILL_SLUG = 100


def validate_state(
    loaded: LoadedRepo,
    *,
    known_engine_skills: Collection[str] = (),
    known_engine_instances: Collection[str] = (),
) -> list[Problem]:
    """Every problem the loaded repo has (load warnings included), in file order.

    Without `known_engine_skills` an assignment of a skill that is not in skills/ is only a
    warning, because whether the engine's catalog has it cannot be told offline.
    """
    ctx = _Ctx(loaded, set(known_engine_skills), set(known_engine_instances))
    out: list[Problem] = list(loaded.warnings)
    for slug, inst in loaded.state.instances.items():
        out += ctx.instance(slug, inst)
    for slug, skill in loaded.state.skills.items():
        out += ctx.skill(slug, skill)
    out += limit_problems(loaded.state, loaded.problem)
    return sorted(out, key=lambda p: (p.file, p.line, p.col, p.message))


def against_engine(
    loaded: LoadedRepo,
    *,
    engine_skills: Collection[str],
    engine_instances: Collection[str],
    engine_models: Mapping[str, frozenset[str]] | None = None,
) -> list[Problem]:
    """The errors only the engine reveals: assignments of skills neither has, and (given
    `engine_models`, its GET /api/instances/models) models its provider does not offer.

    Run once the catalog has been read (plan, apply); the rest was validated at load.
    """
    ctx = _Ctx(loaded, set(engine_skills), set(engine_instances))
    ctx.engine_models = engine_models
    out = [p for key, inst in _instances(loaded) for p in ctx.assignments(key, inst)]
    if engine_models is not None:
        out += [p for key, inst in _instances(loaded) for p in ctx.model(key, inst)]
    return [p for p in out if p.severity == "error"]


def _instances(loaded: LoadedRepo) -> list[tuple[str, Instance]]:
    return [(f"instance/{slug}", inst) for slug, inst in loaded.state.instances.items()]


class _Ctx:
    def __init__(self, loaded: LoadedRepo, skills: set[str], instances: set[str]) -> None:
        self.loaded, self.engine_skills, self.engine_instances = loaded, skills, instances
        self.engine_models: Mapping[str, frozenset[str]] | None = None

    def instance(self, slug: str, inst: Instance) -> Iterator[Problem]:
        key = f"instance/{slug}"
        yield from self.model(key, inst)
        yield from self._newer(key, inst)
        for hook in inst.hooks or []:
            tool = hook.action_config.tool_name
            if tool not in TOOL_NAMES:
                msg = f"hook {hook.key} runs tool {tool!r}, which the engine may not have"
                yield self.loaded.problem(key, ("hooks",), msg, warning=True)
        yield from self._tools(key, inst)
        yield from self.assignments(key, inst)
        yield from self._skill_env(key, slug, inst)
        yield from self._event_sources(key, slug, inst)
        for section, content in inst.prompts.items():
            if len(content) > MAX_PROMPT_CHARS:
                msg = f"prompt {section} has {len(content)} characters; the limit is 32768"
                yield self.loaded.problem(key, ("prompts", section), msg)
        if inst.auth_enabled and "auth_api_key" not in (inst.secrets or []):
            msg = (
                "authEnabled without auth_api_key in secrets locks every client out of "
                "/v1/chat/completions; declare auth_api_key in secrets"
            )
            yield self.loaded.problem(key, ("authEnabled",), msg, warning=True)

    def _newer(self, key: str, inst: Instance) -> Iterator[Problem]:
        # Offline the engine line is unknown: say once what main would leave unmanaged.
        names = [n for n in (*NEWER_SETTINGS, "hooks") if n in inst.model_fields_set]
        if names:
            shown = ", ".join(to_camel(n) for n in names)
            msg = (
                f"{shown}: managed on engines from develop 5e59498 on; the released engine "
                "(main 172e0bc) has no such setting and plan leaves it unmanaged there"
            )
            yield self.loaded.problem(key, (to_camel(names[0]),), msg, warning=True)

    def model(self, key: str, inst: Instance) -> Iterator[Problem]:
        """The instance's model against the engine's list, or offline against known lines."""
        # The engine's model list moves between releases: offline, an unknown model is only
        # a warning (the engine decides); against an engine, its own list is the rule.
        if not inst.model:
            return
        provider = inst.provider or "openai"
        where = ("model",) if "model" in inst.model_fields_set else ("provider",)
        if self.engine_models is not None:
            offered = self.engine_models.get(provider, frozenset())
            if inst.model not in offered:
                shown = ", ".join(sorted(offered)[:8]) + (", …" if len(offered) > 8 else "")
                msg = (
                    f"model {inst.model!r} is not offered by provider {provider!r} on this "
                    f"engine (GET /api/instances/models offers: {shown or 'none'})"
                )
                yield self.loaded.problem(key, where, msg)
            return
        known = PROVIDER_MODELS.get(provider, frozenset())
        known |= DEVELOP_PROVIDER_MODELS.get(provider, frozenset())
        if inst.model not in known:
            msg = (
                f"model {inst.model!r} is not offered by provider {provider!r} on any engine "
                "line this tool knows; plan checks it against the engine's own list"
            )
            yield self.loaded.problem(key, where, msg, warning=True)

    def _tools(self, key: str, inst: Instance) -> Iterator[Problem]:
        if inst.manual_tools == []:
            # Zero tool rows means ALL tools at runtime (contract §5.2): [] is unreachable.
            msg = "manualTools: [] would give the instance every tool; list at least one tool"
            yield self.loaded.problem(key, ("manualTools",), msg)
        for tool in inst.manual_tools or []:
            path = ("manualTools", ("=", tool))
            if tool in TOOL_NAMES:
                continue
            if tool in HARNESS_TOOLS:
                msg = f"{tool!r} is an engine harness tool; the engine manages it"
                yield self.loaded.problem(key, path, msg, warning=True)
            elif tool.startswith("agent:"):
                yield from self._agent_tool(key, path, tool.removeprefix("agent:"))
            else:
                close = difflib.get_close_matches(tool, sorted(TOOL_NAMES), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "see GET /api/tools"
                msg = f"unknown tool {tool!r}; the engine would silently skip it ({hint})"
                yield self.loaded.problem(key, path, msg)

    def _agent_tool(self, key: str, path: tuple[object, ...], target: str) -> Iterator[Problem]:
        repo = self.loaded.state.instances
        if target not in repo and target not in self.engine_instances:
            msg = f"agent:{target} names no instance in this repo or on the engine"
            yield self.loaded.problem(key, path, msg, warning=True)
            return
        callee = repo.get(target)
        channels = callee.channels if callee else None
        if channels is not None and not ("agent" in channels and channels["agent"].enabled):
            msg = f"agent:{target} works only while {target}'s agent channel is enabled"
            yield self.loaded.problem(key, path, msg, warning=True)

    def assignments(self, key: str, inst: Instance) -> Iterator[Problem]:
        """Assignments of skills that are neither in skills/ nor (when known) on the engine."""
        for assignment in inst.skills or []:
            name, path = assignment.slug, ("skills", ("slug", assignment.slug))
            if problem := checks.slug_problem(name, skill=True):
                yield self.loaded.problem(key, path, problem)
            elif name in self.loaded.state.skills or name in self.engine_skills:
                continue
            elif self.engine_skills:
                msg = f"skill {name!r} is neither in skills/ nor in the engine's catalog"
                yield self.loaded.problem(key, path, msg)
            else:
                msg = f"skill {name!r} is not in skills/; the engine catalog is checked at plan"
                yield self.loaded.problem(key, path, msg, warning=True)

    def _skill_env(self, key: str, slug: str, inst: Instance) -> Iterator[Problem]:
        for skill_slug, env in (inst.skill_env or {}).items():
            if len(skill_slug) > MAX_SKILL_SLUG or checks.slug_problem(skill_slug, skill=True):
                msg = f"skillEnv key {skill_slug!r} must be a skill slug"
                yield self.loaded.problem(key, ("skillEnv", skill_slug), msg)
                continue
            skill = self.loaded.state.skills.get(skill_slug)
            for name, value in env.items():
                path = ("skillEnv", skill_slug, name)
                problem = _env_problem(slug, skill_slug, skill, name, value)
                if problem:
                    yield self.loaded.problem(key, path, problem)

    def _event_sources(self, key: str, slug: str, inst: Instance) -> Iterator[Problem]:
        for source in inst.event_sources or []:
            for name, value in (source.config or {}).items():
                if value is not None and CREDENTIAL_RE.search(name):
                    var = event_source_var(slug, source.name, name)
                    msg = (
                        f"config.{name} looks like a credential: write null and supply the "
                        f"value at apply time in {var}"
                    )
                    path = ("eventSources", ("name", source.name), "config", name)
                    yield self.loaded.problem(key, path, msg)

    def skill(self, slug: str, skill: Skill) -> Iterator[Problem]:
        key = f"skill/{slug}"
        if not skill.content.strip():
            msg = (
                "the SKILL.md body is empty; write the skill's instructions after the front matter"
            )
            yield self.loaded.problem(key, ("content",), msg)
        elif skillfile.body_has_front_matter(skill.content):
            msg = (
                "the body starts with a second '---' block, which the engine would show to the "
                "model verbatim; merge it into the front matter"
            )
            yield self.loaded.problem(key, ("content",), msg)
        derived = re.sub(r"[^a-z0-9-]", "-", skill.name.lower())
        if derived != slug:
            msg = (
                f"the engine derives a new skill's slug from its name: {skill.name!r} would "
                f"become {derived!r}, not {slug!r}; use a name equal to the folder name"
            )
            yield self.loaded.problem(key, ("name",), msg, warning=True)
        for env in skill.required_env:
            if not checks.ENV_KEY_RE.match(env.name) or len(env.name) > MAX_ENV_KEY:
                msg = f"requiredEnv name {env.name!r} must be a variable name like FAQ_API_KEY"
                yield self.loaded.problem(key, ("requiredEnv", ("name", env.name)), msg)
        for tool in skill.required_tools:
            if tool not in TOOL_NAMES and not tool.startswith("agent:"):
                msg = f"requiredTools names unknown tool {tool!r}; it would never be enabled"
                yield self.loaded.problem(key, ("requiredTools", ("=", tool)), msg, warning=True)


def _env_problem(
    slug: str, skill_slug: str, skill: Skill | None, name: str, value: str | None
) -> str | None:
    """Why one skillEnv entry is wrong, or None; never quotes the value."""
    if not checks.ENV_KEY_RE.match(name) or len(name) > MAX_ENV_KEY:
        return f"skillEnv name {name!r} must be a variable name like FAQ_API_KEY"
    if skill is None:
        return None
    spec = next((e for e in skill.required_env if e.name == name), None)
    if spec is None:
        declared = ", ".join(e.name for e in skill.required_env) or "none"
        return (
            f"{name} is not in the requiredEnv of skills/{skill_slug}/SKILL.md "
            f"(declared: {declared})"
        )
    if spec.sensitive and value is not None:
        var = skill_env_var(slug, skill_slug, name)
        return (
            f"{name} is sensitive: its value must not be in git; write null, move the value "
            f"to the environment variable {var} and rotate it"
        )
    if not spec.sensitive and value is None:
        return f"{name} is not sensitive, so it needs a value here (or mark it sensitive)"
    return None


def format_problem(p: Problem, github: bool = False) -> str:
    """One line for a problem; a GitHub Actions annotation when `github` is true."""
    p = replace(p, file=visible(p.file), message=visible(p.message))
    if github:
        level = "warning" if p.severity == "warning" else "error"
        return f"::{level} file={_prop(p.file)},line={p.line},col={p.col}::{_data(p.message)}"
    label = "warning: " if p.severity == "warning" else ""
    where = f"{p.file}:{p.line}:{p.col}" if p.line else p.file
    return f"{where}: {label}{p.message}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
