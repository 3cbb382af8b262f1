"""Apply steps of one instance's own settings: create, secrets, metadata, icon, prompts, room.

`apply_instance` runs one instance change in the contract's order (§17.8): create, secrets,
settings (``authEnabled`` only once ``auth_api_key`` is configured), icon, skill
assignments, tools, skill env, prompts, channels, room, event sources, scheduled tasks.
Each step computes its calls from the desired and live models of its part; a failed step
is reported and the independent steps go on.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconciler.engine import steps_children, steps_skill, steps_sources
from reconciler.engine.steps_common import (
    MAX_BODY_BYTES,
    ChangeRun,
    StepFailed,
    batches,
    changed_fields,
    inst_path,
)
from reconciler.errors import EngineError, NotFound
from reconciler.model import secretenv
from reconciler.model.enginefacts import INSTANCE_METADATA_FIELDS
from reconciler.model.objects import Instance

SEEDED_TOOLS = ("readSkill", "spawnTask")  # what POST /api/instances seeds (contract §3.5)
META_FIELDS = INSTANCE_METADATA_FIELDS
# SHA-256 of the prompt sections a new instance is seeded with (contract §4.1): a desired
# section equal to the seeded default needs no PATCH.
DEFAULT_PROMPT_SHA256 = {
    "01-identity": "04405c17a20a6562ff00b82aa9ce676f843e7487b8d040871b6167e7e4aa0eb0",
    "02-soul": "b9502b26609f9c5a8c34d6b81009d4d8e892cfc7ac22b2762011890af52f28fe",
    "03-tooling": "37e7a096eb896346dda446fe802188deb8de9ec4c0119b37a58994a461eb4515",
    "04-safety": "1829da18483def59891e7a1540f7aa1bc791832ec1808b0aa7b4223b4eb8ae86",
    "05-skills": "1516d850f027b41852932c666914f30b1b308b38c447b3adc6cdaa813d382420",
    "06-memory": "41b5fc9d227f2dae681d82e3c8e9726016ae10105b3c301dfa2e6fa21d3340c7",
    "07-user-identity": "8f7c5ae8964d9139d5247b6f980396f2dbe9a48d4a22d7567bca808f6c80bc61",
    "08-datetime": "93ad58cb9f2de28f9073f4af0bb5ed9ac72d41e0e8626d865a4def05eb9c40a8",
}


def apply_instance(run: ChangeRun) -> None:
    """Create or update one instance and its children, step by step."""
    desired = run.change.desired
    if not isinstance(desired, Instance):
        raise StepFailed("the plan carries no desired instance")
    live = _starting_point(run, desired)
    if live is None:
        return
    fresh = run.change.action == "create"
    want_auth = _turns_auth_on(run, desired, live)
    configured = run.step("secrets", lambda: apply_secrets(run, desired, live, want_auth))
    known = configured if configured is not None else set(live.secrets or [])
    run.step("settings", lambda: update_settings(run, desired, live, known))
    run.step("icon", lambda: update_icon(run, desired, live))
    before = len(run.calls)
    run.step("skills", lambda: steps_skill.apply_assignments(run, desired, live))
    touched = len(run.calls) > before or "skills" in run.failed_steps
    if run.key not in run.ctx.deferred_tools:
        run.step("tools", lambda: steps_skill.apply_tools(run, desired, live, recheck=touched))
    run.step("skill env", lambda: steps_children.apply_skill_env(run, desired, live))
    run.step("prompts", lambda: update_prompts(run, desired, live, fresh=fresh))
    run.step("channels", lambda: steps_children.apply_channels(run, desired, live))
    run.step("room", lambda: steps_children.update_room(run, desired, live))
    run.step("event sources", lambda: steps_sources.apply_event_sources(run, desired, live))
    run.step("scheduled tasks", lambda: steps_children.apply_tasks(run, desired, live))


def _starting_point(run: ChangeRun, desired: Instance) -> Instance | None:
    """The live model to diff against: the plan's, or what a fresh create leaves."""
    if run.change.action != "create":
        live = run.change.live
        if not isinstance(live, Instance):
            raise StepFailed("the plan carries no live instance to update")
        return live
    sent = run.step("create", lambda: create_instance(run, desired))
    if sent is None:
        run.skip("everything else", "the instance could not be created")
        return None
    return fresh_live(desired, sent)


def _turns_auth_on(run: ChangeRun, desired: Instance, live: Instance) -> bool:
    managed = "auth_enabled" in desired.model_fields_set and not run.ignored("authEnabled")
    return managed and desired.auth_enabled and not live.auth_enabled


def create_instance(run: ChangeRun, desired: Instance) -> dict[str, Any]:
    """POST the instance with the few fields create reads (contract §3.5); returns the body."""
    body: dict[str, Any] = {"slug": desired.slug, "name": desired.name}
    for name in ("description", "provider", "model"):
        value = getattr(desired, name)
        if name in desired.model_fields_set and value is not None:
            body[name] = value
    path = inst_path(desired.slug)
    run.write(
        "POST",
        "/api/instances",
        body,
        what=f"instance {desired.slug!r}",
        confirm=lambda: run.read(path, what=f"instance {desired.slug!r}"),
    )
    return body


def fresh_live(desired: Instance, sent: dict[str, Any]) -> Instance:
    """What the engine holds right after create: defaults plus what the POST carried."""
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
    )


def apply_secrets(run: ChangeRun, desired: Instance, live: Instance, want_auth: bool) -> set[str]:
    """PUT supplied values when a declared key is missing live; returns the configured keys.

    When a PUT is needed anyway, every supplied declared value rides along (re-PUT is
    harmless and enforces the value); no call is made only to re-enforce values, so a
    converged engine sees zero writes.
    """
    configured = set(live.secrets or [])
    declared = list(desired.secrets or [])
    if want_auth and "auth_api_key" not in declared:
        declared.append("auth_api_key")
    declared = [k for k in declared if not run.ignored(f"secrets[{k}]")]
    values = {k: run.ctx.secret(secretenv.secret_var(run.slug, k)) for k in declared}
    for key in declared:
        if key not in configured and values[key] is None:
            run.ctx.missing(secretenv.secret_var(run.slug, key))
    if any(k not in configured and values[k] is not None for k in declared):
        items = [{"key": k, "value": v} for k, v in values.items() if v is not None]
        for batch in batches(items, max_items=64, max_bytes=MAX_BODY_BYTES - 64):
            _put_secrets(run, batch)
        configured |= {k for k, v in values.items() if v is not None}
    if desired.secrets is not None:
        _prune_secrets(run, set(desired.secrets), configured)
    return configured


def _put_secrets(run: ChangeRun, batch: list[dict[str, Any]]) -> None:
    path = inst_path(run.slug, "secrets")
    keys = {item["key"] for item in batch}

    def confirm() -> Any:
        answer = run.read(path, what=f"instance {run.slug!r} secrets")
        rows = answer.get("secrets", []) if isinstance(answer, dict) else []
        done = {r.get("key") for r in rows if isinstance(r, dict) and r.get("configured")}
        return answer if keys <= done else None

    what = f"instance {run.slug!r} secrets"
    run.write("PUT", path, {"secrets": batch}, what=what, confirm=confirm)


def _prune_secrets(run: ChangeRun, declared: set[str], configured: set[str]) -> None:
    allowed = run.ctx.project.prune.secrets
    for key in sorted(configured - declared):
        if run.removal_planned(f"secrets[{key}]", allowed=allowed):
            what = f"secret {key!r} of instance {run.slug!r}"
            run.write("DELETE", inst_path(run.slug, "secrets", key), what=what)
            configured.discard(key)


def update_settings(
    run: ChangeRun, desired: Instance, live: Instance, configured: set[str]
) -> None:
    """One PATCH of the changed metadata; provider and model always travel together."""
    body = changed_fields(run, desired, live, META_FIELDS, "")
    if "provider" in body or "model" in body:
        fields = desired.model_fields_set
        body["provider"] = desired.provider if "provider" in fields else live.provider
        body["model"] = desired.model if "model" in fields else live.model
    if body.get("authEnabled") is True and "auth_api_key" not in configured:
        del body["authEnabled"]
        var = secretenv.secret_var(run.slug, "auth_api_key")
        run.skip(
            "authEnabled",
            f"not turned on: auth_api_key is not configured on the engine; set ${var} "
            "(turning it on without the key would lock every chat request out)",
        )
    if not body:
        return
    path = inst_path(run.slug)

    def confirm() -> Any:
        answer = run.read(path, what=f"instance {run.slug!r}")
        row = answer.get("instance", {}) if isinstance(answer, dict) else {}
        return answer if all(row.get(k) == v for k, v in body.items()) else None

    run.write("PATCH", path, body, what=f"instance {run.slug!r} settings", confirm=confirm)


def update_icon(run: ChangeRun, desired: Instance, live: Instance) -> None:
    """PUT the icon data URI, or DELETE it when the repo says no icon."""
    if "icon" not in desired.model_fields_set or run.ignored("icon"):
        return
    if desired.icon == live.icon:
        return
    path = inst_path(run.slug, "icon")
    what = f"instance {run.slug!r} icon"
    if desired.icon is None:
        run.write("DELETE", path, what=what)
    else:
        run.write("PUT", path, {"icon": desired.icon}, what=what)


def update_prompts(run: ChangeRun, desired: Instance, live: Instance, *, fresh: bool) -> None:
    """PATCH only the changed sections, in batches under the body limit (≤ 8 each)."""
    changed = [
        {"key": key, "content": content}
        for key, content in sorted(desired.prompts.items())
        if not run.ignored(f"prompts.{key}") and _prompt_differs(key, content, live, fresh)
    ]
    path = inst_path(run.slug, "prompts")
    what = f"instance {run.slug!r} prompts"
    for batch in batches(changed, max_items=8, max_bytes=MAX_BODY_BYTES - 64):
        wanted = {item["key"]: item["content"] for item in batch}

        def confirm(wanted: dict[str, str] = wanted) -> Any:
            answer = run.read(path, what=what)
            rows = answer.get("prompts", []) if isinstance(answer, dict) else []
            have = {r.get("key"): r.get("content") for r in rows if isinstance(r, dict)}
            return answer if all(have.get(k) == v for k, v in wanted.items()) else None

        run.write("PATCH", path, {"sections": batch}, what=what, confirm=confirm)


def _prompt_differs(key: str, content: str, live: Instance, fresh: bool) -> bool:
    if fresh:
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        return digest != DEFAULT_PROMPT_SHA256.get(key)
    return live.prompts.get(key) != content


def delete_instance(run: ChangeRun) -> None:
    """Delete the instance's scheduled tasks (they would resurrect, §17.6), then the instance."""
    if not (run.ctx.prune and run.ctx.project.prune.instances):
        run.skip("delete", "deleting an instance needs --prune (and prune.instances)")
        return
    tasks_path = inst_path(run.slug, "scheduled-tasks")
    answer = run.read(tasks_path, what=f"instance {run.slug!r} scheduled tasks")
    tasks = answer.get("tasks", []) if isinstance(answer, dict) else []
    for task in tasks:
        if isinstance(task, dict) and isinstance(task.get("id"), str):
            what = f"scheduled task {task.get('name')!r} of instance {run.slug!r}"
            run.write("DELETE", inst_path(run.slug, "scheduled-tasks", task["id"]), what=what)
    path = inst_path(run.slug)
    run.write(
        "DELETE", path, what=f"instance {run.slug!r}", confirm=lambda: _gone(run, path) or None
    )


def _gone(run: ChangeRun, path: str) -> bool:
    run.ctx.count(write=False)
    try:
        run.ctx.client.get(path, what=f"instance {run.slug!r}")
    except NotFound:
        return True
    except EngineError:
        return False
    return False
