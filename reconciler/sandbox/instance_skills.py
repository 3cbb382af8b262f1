"""Instance skills (§7): merged list, enable/disable, bulk, upgrade, rollback, auto-load, env."""

from __future__ import annotations

from typing import Any

from .common import body_obj, instance_or_404
from .errors import Reply, internal, invalid_body, skill_not_found
from .jsutil import fake_ciphertext, js_str, locale_key, pg_uuid, truthy
from .prompts_tools import recompute
from .routing import Ctx, Routes
from .skills import metadata_of, summary
from .state import Assignment, EnvRow, InstanceData, Skill, Store, check_len, touch
from .zod import MISSING

routes = Routes()
_C = "InstanceSkillsController"


def _env_names(meta: dict[str, Any]) -> list[Any]:
    items = meta.get("requiredEnv")
    if not isinstance(items, list):
        return []
    # String items have no .name: they can never count as stored (contract §6.0).
    return [i.get("name") if isinstance(i, dict) else None for i in items]


def merged_item(skill: Skill, data: InstanceData) -> dict[str, Any]:
    """One entry of the merged view: catalog data of the CURRENT version + assignment."""
    meta = metadata_of(skill)
    cur = skill.current()
    a = data.assignments.get(skill.id)
    pinned_v = skill.version_by_id(a.pinned_version_id) if a else None
    pinned = pinned_v.version if pinned_v else None
    enabled = bool(a and a.enabled)
    names = _env_names(meta)
    stored = {k for (s, k) in data.env if s == skill.slug}
    env_ok = not names or (enabled and all(n in stored for n in names))
    current = cur.version if cur else None
    return {
        **summary(skill),
        "enabled": enabled,
        "autoLoad": bool(a and a.auto_load),
        "envConfigured": env_ok,
        "pinnedVersion": pinned,
        "currentVersion": current,
        "hasUpdate": pinned is not None and pinned != current,
    }


def merged(store: Store, data: InstanceData) -> list[dict[str, Any]]:
    """Every active catalog skill, by slug; assignments to archived skills are hidden."""
    active = [s for s in store.skills.values() if s.status == "active"]
    return [merged_item(s, data) for s in sorted(active, key=lambda s: locale_key(s.slug))]


@routes.add("GET", "/api/instances/:slug/skills", "InstanceSkillsViewController.list")
async def list_merged(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    return Reply({"skills": merged(ctx.store, data)})


def enable(store: Store, data: InstanceData, skill: Skill) -> None:
    """First enable pins the current version; re-enable keeps the old pin and autoLoad."""
    cur = skill.current()
    if cur is None:
        raise internal()  # "...has no published version"
    a = data.assignments.get(skill.id)
    if a is None:
        data.assignments[skill.id] = Assignment(skill.id, True, False, cur.id)
    else:
        a.enabled = True
        touch(data.assignments, skill.id)
    recompute(store, data)


def disable(store: Store, data: InstanceData, skill: Skill | None) -> None:
    """Keeps the row, its pin and autoLoad; unknown or unassigned skills are a no-op."""
    a = data.assignments.get(skill.id) if skill else None
    if a is not None and skill is not None:
        a.enabled = False
        touch(data.assignments, skill.id)
    recompute(store, data)


@routes.add("POST", "/api/instances/:slug/skills/:name", f"{_C}.enable")
async def enable_skill(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    name = ctx.p("name")
    skill = ctx.store.skill_by_slug(name)
    if skill is None:
        raise skill_not_found(name)
    enable(ctx.store, data, skill)
    return Reply({"enabled": True, "name": name}, status=201)


@routes.add("DELETE", "/api/instances/:slug/skills/:name", f"{_C}.disable")
async def disable_skill(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    name = ctx.p("name")
    disable(ctx.store, data, ctx.store.skill_by_slug(name))
    return Reply({"disabled": True, "name": name})


@routes.add("PATCH", "/api/instances/:slug/skills", "InstanceSkillsViewController.bulkUpdate")
async def bulk_skills(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    _, data = instance_or_404(ctx)
    wanted = body.get("enabled", [])
    if wanted is None:
        wanted = []
    if not isinstance(wanted, list):
        raise invalid_body()
    store = ctx.store
    before = list(data.tools)
    current = [store.skills[a.skill_id].slug for a in data.assignments.values() if a.enabled]
    for slug in [s for s in current if s not in wanted]:
        disable(store, data, store.skill_by_slug(slug))
    failed = False
    for slug in [s for s in wanted if s not in current]:
        skill = store.skill_by_slug(js_str(slug))
        if skill is None:
            failed = True  # the others are applied anyway (they run concurrently)
            continue
        enable(store, data, skill)
    if failed:
        raise internal()
    after = list(data.tools)
    changed = {
        "added": [t for t in after if t not in before],
        "removed": [t for t in before if t not in after],
    }
    return Reply({"skills": merged(store, data), "toolsChanged": changed})


def _assigned(ctx: Ctx) -> tuple[InstanceData, Skill | None, Assignment | None]:
    _, data = instance_or_404(ctx)
    skill = ctx.store.skill_by_slug(ctx.p("skillSlug"))
    return data, skill, data.assignments.get(skill.id) if skill else None


@routes.add("POST", "/api/instances/:slug/skills/:skillSlug/upgrade", f"{_C}.upgrade")
async def upgrade(ctx: Ctx) -> Reply:
    data, skill, a = _assigned(ctx)
    cur = skill.current() if skill else None
    if a is not None and cur is not None and a.pinned_version_id != cur.id:
        a.pinned_version_id = cur.id
        touch(data.assignments, a.skill_id)
        recompute(ctx.store, data)
    return Reply({"upgraded": True}, status=201)


@routes.add("POST", "/api/instances/:slug/skills/:skillSlug/rollback", f"{_C}.rollback")
async def rollback(ctx: Ctx) -> Reply:
    if not isinstance(ctx.body, dict):
        raise invalid_body()  # destructuring an undefined body
    data, skill, a = _assigned(ctx)
    if skill is None or a is None:
        return Reply({"rolledBack": True}, status=201)
    vid = ctx.body.get("versionId")
    key = pg_uuid(vid) if isinstance(vid, str) else None
    target = skill.version_by_id(key) if key else None
    if target is None:
        raise internal()  # uuid syntax error, unknown id, or a version of another skill
    if a.pinned_version_id != target.id:
        a.pinned_version_id = target.id
        touch(data.assignments, a.skill_id)
        recompute(ctx.store, data)
    return Reply({"rolledBack": True}, status=201)


@routes.add("POST", "/api/instances/:slug/skills/:skillSlug/auto-load", f"{_C}.autoLoad")
async def auto_load(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    data, skill, a = _assigned(ctx)
    if skill is None:
        raise internal()
    value = body.get("autoLoad", MISSING)
    if value is MISSING:
        return Reply({}, status=201)
    if a is not None:
        a.auto_load = value is True
        touch(data.assignments, a.skill_id)
    return Reply({"autoLoad": value}, status=201)


def env_view(data: InstanceData, skill: Skill) -> list[dict[str, Any]]:
    """One entry per requiredEnv item of the CURRENT version; sensitive values hidden."""
    rows = {k: r for (s, k), r in data.env.items() if s == skill.slug}
    if any(r.corrupt for r in rows.values()):
        raise internal()  # decrypting a plaintext value stored with encrypted=true
    items = metadata_of(skill).get("requiredEnv")
    out = []
    for raw in items if isinstance(items, list) else []:
        item = raw if isinstance(raw, dict) else {}
        row = rows.get(str(item.get("name")))
        entry: dict[str, Any] = {"key": item.get("name")}
        entry["value"] = "" if truthy(item.get("sensitive")) or row is None else row.value
        if "sensitive" in item:
            entry["sensitive"] = item["sensitive"]
        entry["configured"] = row is not None
        if "description" in item:  # `description: entry.description`: null stays, undefined goes
            entry["description"] = item["description"]
        out.append(entry)
    return out


@routes.add("GET", "/api/instances/:slug/skills/:skillSlug/env", "SkillEnvController.get")
async def get_env(ctx: Ctx) -> Reply:
    data, skill, _ = _assigned(ctx)
    if skill is None:
        raise skill_not_found(ctx.p("skillSlug"))
    return Reply({"env": env_view(data, skill)})


def _write_env(data: InstanceData, slug: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise invalid_body()
    key, value, sensitive = entry.get("key"), entry.get("value"), entry.get("sensitive")
    if truthy(sensitive) and value == "":
        return  # an encrypted value cannot be blanked this way
    if truthy(sensitive) and not isinstance(value, str):
        raise invalid_body()  # cipher.update(non-string): a TypeError
    if key is None or value is None:
        raise internal()  # NOT NULL
    check_len(slug, 100)
    check_len(js_str(key), 255)
    # Omitted `sensitive`: stored as plaintext while `encrypted` defaults to true (bug).
    corrupt = "sensitive" not in entry
    if not corrupt and sensitive is None:
        raise internal()  # NOT NULL on `encrypted`
    # JS truthiness decides the encryption, but only a real `true` reaches the boolean
    # column: a value encrypted under "true", 1 or {} is stored with encrypted=false and
    # read back as its ciphertext.
    flag = corrupt or sensitive is True
    stored = fake_ciphertext(str(value)) if truthy(sensitive) and not flag else js_str(value)
    row = EnvRow(slug, js_str(key), stored, flag, corrupt)
    data.env.pop((slug, row.key), None)  # an upsert's update moves the row to the end
    data.env[(slug, row.key)] = row


@routes.add("PUT", "/api/instances/:slug/skills/:skillSlug/env", "SkillEnvController.put")
async def put_env(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    data, skill, _ = _assigned(ctx)
    entries = body.get("env")
    if not isinstance(entries, list):
        raise invalid_body()
    slug = ctx.p("skillSlug")
    for entry in entries:
        _write_env(data, slug, entry)  # nothing is validated against the skill
    return Reply({"env": env_view(data, skill) if skill else []})


@routes.add(
    "DELETE", "/api/instances/:slug/skills/:skillSlug/env/:key", "SkillEnvController.delete"
)
async def delete_env(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    data.env.pop((ctx.p("skillSlug"), ctx.p("key")), None)
    return Reply({"deleted": True})
