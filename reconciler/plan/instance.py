"""Diff of an instance's own parts into operations: settings, icon, secrets, prompts, channels.

Pure. Decisions documented here (the rest is in ``reconciler.plan.fields``):

- Prompts: only the sections the repo has are compared; extra live sections are ignored.
  After a create, a section equal to the engine's seeded default needs no PATCH.
- Secrets are presence only; a declared secret that is missing becomes a change only when
  its variable (``secretenv.secret_var``) is supplied at apply time, else a warning. When a
  PUT is needed anyway, every declared key rides along (re-PUT enforces the value).
- ``authEnabled`` is turned on only once ``auth_api_key`` is configured (contract §1.2.5).
- A channel PUT always carries an explicit ``enabled``; only a new row needs credentials.
- A create is planned against what the engine holds right after ``POST /api/instances``
  (``fresh_instance``), so only what differs from a fresh instance is written.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconciler.model import secretenv
from reconciler.model.enginefacts import (
    DEFAULT_PROMPT_SHA256,
    INSTANCE_METADATA_FIELDS,
    SEEDED_TOOLS,
)
from reconciler.model.managed import managed_fields
from reconciler.model.objects import Instance, Room
from reconciler.plan import operations as op
from reconciler.plan.assignments import assignments, manual_tools
from reconciler.plan.children import scheduled_tasks, skill_env
from reconciler.plan.events import event_sources
from reconciler.plan.fields import (
    MISSING,
    DiffContext,
    SkillWorld,
    alias,
    changed_body,
    compare_set_fields,
    dump_value,
    icon_value,
    jsonable,
)
from reconciler.plan.hooks import hooks
from reconciler.plan.operations import CONFIGURED

AUTH_KEY = "auth_api_key"
CREATE_FIELDS = ("description", "provider", "model")  # what POST /api/instances reads (§3.5)


def instance_fields(
    ctx: DiffContext, desired: Instance, live: Instance | None, world: SkillWorld
) -> None:
    """Every managed part of one instance; operations get their rank order in ``diff``."""
    _settings(ctx, desired, live)
    _icon(ctx, desired, live)
    _secrets(ctx, desired, live)
    assignments(ctx, desired, live, world)
    manual_tools(ctx, desired, live, world)
    skill_env(ctx, desired, live, world)
    _prompts(ctx, desired, live)
    _channels(ctx, desired, live)
    _room(ctx, desired, live)
    event_sources(ctx, desired, live)
    scheduled_tasks(ctx, desired, live)
    hooks(ctx, desired, live)


def create_body(desired: Instance) -> dict[str, Any]:
    """The body of ``POST /api/instances``: slug, name and the few fields create reads."""
    body: dict[str, Any] = {"slug": desired.slug, "name": desired.name}
    for name in CREATE_FIELDS:
        value = getattr(desired, name)
        if name in managed_fields(desired) and value is not None:
            body[name] = value
    return body


def fresh_instance(desired: Instance) -> Instance:
    """What the engine holds right after create: defaults plus what the POST carried."""
    sent = create_body(desired)
    return Instance.model_construct(
        slug=desired.slug,
        name=desired.name,
        description=sent.get("description"),
        provider=sent.get("provider"),
        model=sent.get("model"),
        prompts={},
        skills=[],
        manual_tools=list(SEEDED_TOOLS),
        secrets=[],
        channels={},
        skill_env={},
        room=None,
        event_sources=[],
        scheduled_tasks=[],
        hooks=[],
    )


def _settings(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    draft = ctx.begin(op.SETTINGS_PATCH)
    managed = managed_fields(desired)
    for name in INSTANCE_METADATA_FIELDS:
        if name in managed:
            old = getattr(live, name) if live is not None else None
            ctx.add(alias(desired, name), old, getattr(desired, name))
    body = changed_body(draft, "", desired) if draft.fields else {}
    if "provider" in body or "model" in body:  # the engine validates them as a pair
        body["provider"] = desired.provider if "provider" in managed else _get(live, "provider")
        body["model"] = desired.model if "model" in managed else _get(live, "model")
    if "embeddingProvider" in body and desired.confirm_wipe:
        body["confirmWipe"] = True  # plan.engineaware shows the wipe; the repo allowed it
    draft.args["body"] = body
    if body.get("authEnabled") is True:
        draft.args["authKeyLive"] = AUTH_KEY in ((live.secrets or []) if live else [])


def _get(live: Instance | None, name: str) -> Any:
    return getattr(live, name) if live is not None else None


def _icon(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    if "icon" not in managed_fields(desired):
        return
    kind = op.ICON_DELETE if desired.icon is None else op.ICON_PUT
    ctx.begin(kind, icon=desired.icon)
    ctx.add("icon", icon_value(_get(live, "icon")), icon_value(desired.icon))


def _prompts(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    draft = ctx.begin(op.PROMPTS_PATCH)
    have = live.prompts if live is not None else {}
    owned = set(ctx.project.agent_owned_prompts)
    sections: dict[str, str] = {}
    for section, text in desired.prompts.items():
        path = f"prompts.{section}"
        old = have.get(section)
        if old == text or (ctx.fresh and _seeded(section, text)):
            continue
        if ctx.add(path, old, text):
            sections[section] = text
        if section in owned and live is not None and not ctx.fresh:
            ctx.note(
                "info",
                f"prompt section {section} is rewritten by the agent at runtime; "
                "apply replaces the agent's text with the repository's",
                path,
            )
    draft.args["sections"] = sections


def _seeded(section: str, text: str) -> bool:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() == DEFAULT_PROMPT_SHA256.get(section)


def _secrets(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    configured = set(live.secrets or []) if live is not None else set()
    declared = set(desired.secrets) if desired.secrets is not None else None
    draft = ctx.begin(op.SECRETS_PUT)
    for key in sorted(declared or ()):
        var = secretenv.secret_var(ctx.slug, key)
        if key in configured:
            continue
        if var in ctx.supplied:
            ctx.add(f"secrets[{key}]", MISSING, CONFIGURED)
        else:
            ctx.lacks(
                var,
                f"secret {key} is declared but not configured on the engine; "
                f"set {var} when running apply to supply it",
                f"secrets[{key}]",
            )
    keys = set(declared or ())
    if _turns_auth_on(ctx, desired, live):
        keys.add(AUTH_KEY)
    keys = {k for k in keys if not ctx.ignored(f"secrets[{k}]")}
    draft.args.update(keys=sorted(keys), missing=sorted(keys - configured))
    for key in sorted(configured - declared if declared is not None else ()):
        ctx.begin(op.SECRET_DELETE, key)
        ctx.removed(f"secrets[{key}]", CONFIGURED, f"secret {key}", switch="secrets")
    _auth_lock(ctx, desired, configured, declared)


def _turns_auth_on(ctx: DiffContext, desired: Instance, live: Instance | None) -> bool:
    managed = "auth_enabled" in managed_fields(desired) and not ctx.ignored("authEnabled")
    return managed and desired.auth_enabled and not (live is not None and live.auth_enabled)


def _auth_lock(
    ctx: DiffContext, desired: Instance, configured: set[str], declared: set[str] | None
) -> None:
    # Contract §1.2.5: authEnabled without an auth_api_key secret answers 401 to every chat.
    if "auth_enabled" not in managed_fields(desired) or not desired.auth_enabled:
        return
    var = secretenv.secret_var(ctx.slug, AUTH_KEY)
    pruned = any(f.path == f"secrets[{AUTH_KEY}]" and f.new is None for f in ctx.fields)
    kept = AUTH_KEY in configured and not pruned
    is_declared = AUTH_KEY in (declared or ())
    if kept or (is_declared and var in ctx.supplied):
        return
    todo = f"set {var} when running apply"
    if not is_declared:
        todo = f"declare {AUTH_KEY} under secrets and {todo}"
    if var not in ctx.supplied:
        ctx.want(var)
    ctx.note(
        "warning",
        f"authEnabled is true but secret {AUTH_KEY} is not configured: every chat request "
        f"to this instance will get 401; {todo}",
    )


def _channels(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    if desired.channels is None:
        return
    have = (live.channels or {}) if live is not None else {}
    for kind, channel in desired.channels.items():
        path, cur = f"channels.{kind}", have.get(kind)
        ctx.begin(op.CHANNEL_PUT, kind, enabled=channel.enabled, new=cur is None)
        if cur is None:
            ctx.add(path, None, {"enabled": channel.enabled})
            var = secretenv.channel_var(ctx.slug, kind)
            if kind != "agent" and var not in ctx.supplied:
                ctx.lacks(
                    var,
                    f"channel {kind} needs its credentials at apply time: set "
                    f"{var} to a JSON object of its config",
                    path,
                )
        else:
            ctx.add(f"{path}.enabled", cur.enabled, channel.enabled)
            if kind == "agent" and cur.enabled and not channel.enabled:
                _agent_warning(ctx, path)
    for kind, cur in sorted(have.items()):
        if kind not in desired.channels:
            ctx.begin(op.CHANNEL_DELETE, kind)
            ctx.removed(f"channels.{kind}", jsonable(cur), f"channel {kind}")
            if kind == "agent" and ctx.drafts[-1].fields:
                _agent_warning(ctx, "channels.agent")


def _agent_warning(ctx: DiffContext, path: str) -> None:
    ctx.note(
        "warning",
        f"turning off the agent channel removes tool agent:{ctx.slug} from "
        "every other instance's tools for good; re-apply their manualTools afterwards",
        path,
    )


def _room(ctx: DiffContext, desired: Instance, live: Instance | None) -> None:
    if "room" not in managed_fields(desired):
        return
    cur = live.room if live is not None else None
    if desired.room is None:
        ctx.begin(op.ROOM_DELETE)
        ctx.add("room", jsonable(cur), None)
        return
    draft = ctx.begin(op.ROOM_PUT)
    if cur is None:
        if ctx.add("room", None, jsonable(desired.room)):
            draft.args["body"] = _new_room_body(ctx, desired.room)
        return
    compare_set_fields(ctx, "room", desired.room, cur)
    draft.args["body"] = changed_body(draft, "room", desired.room)


def _new_room_body(ctx: DiffContext, room: Room) -> dict[str, Any]:
    # A new room row starts from the engine's defaults: send only what differs from them.
    base = Room()
    return {
        alias(room, name): dump_value(getattr(room, name))
        for name in type(room).model_fields
        if name in managed_fields(room)
        and not ctx.ignored(f"room.{alias(room, name)}")
        and dump_value(getattr(room, name)) != dump_value(getattr(base, name))
    }
