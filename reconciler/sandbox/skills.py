"""Global skills catalog (§6): CRUD, versions, exports and the catalog import."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from .common import body_obj, jsonb, text_col
from .errors import Reply, bad_request, conflict, internal, invalid_body, not_found, skill_not_found
from .jsutil import iso, js_str, locale_key, new_id, now
from .routing import Ctx, Routes
from .state import Skill, SkillVersion, Store, check_len
from .zod import Arr, Bool, Lit, Obj, Rec, Str, parse
from .zod_issues import pretty

routes = Routes()
_C = "SkillsController"
_SCRIPT = Obj({"file": Str(), "description": Str(), "content": Str()})
_VERSION = Obj(
    {
        "version": Str(),
        "content": Str(),
        "metadata": Rec().default({}),
        "scripts": Arr(_SCRIPT).default([]),
        "changelog": Str().nullable().optional(),
    }
)
_ENTRY = Obj(
    {
        "slug": Str(),
        "name": Str(),
        "description": Str(),
        "category": Str(),
        "isDefault": Bool(),
        "versions": Arr(_VERSION),
    }
)
_BUNDLE = Obj(
    {"version": Lit("1.0"), "exportedAt": Str(), "type": Lit("skills"), "skills": Arr(_ENTRY)}
)


def metadata_of(skill: Skill) -> dict[str, Any]:
    """The current version's metadata ({} when there is none)."""
    cur = skill.current()
    return cur.metadata if cur else {}


def _listed(meta: dict[str, Any], key: str) -> Any:
    value = meta.get(key)
    return value if value else None  # omitted when empty or absent


def summary(skill: Skill) -> dict[str, Any]:
    """GET /api/skills item: name is the SLUG; arrays from the current version."""
    meta = metadata_of(skill)
    out: dict[str, Any] = {
        "name": skill.slug,
        "description": skill.description,
        "category": skill.category,
    }
    out |= {k: meta[k] for k in ("requiredEnv", "requiredTools") if _listed(meta, k) is not None}
    return out


def detail(skill: Skill, version: SkillVersion | None = None) -> dict[str, Any]:
    """SkillDetail: the summary plus the content of the (current) version."""
    v = version or skill.current()
    return {**summary(skill), "content": v.content if v else None}


def version_row(v: SkillVersion) -> dict[str, Any]:
    """A skill_versions row as the versions routes return it."""
    return {
        "id": v.id,
        "skillId": v.skill_id,
        "version": v.version,
        "content": v.content,
        "metadata": v.metadata,
        "scripts": v.scripts,
        "changelog": v.changelog,
        "createdAt": iso(v.created_at),
    }


def add_version(
    skill: Skill,
    version: str,
    content: str,
    *,
    metadata: dict[str, Any],
    scripts: list[Any] | None = None,
    changelog: str | None = None,
) -> SkillVersion:
    """Append a version and make it current."""
    check_len(version, 50)
    v = SkillVersion(
        new_id(), skill.id, version, content, jsonb(metadata), jsonb(scripts or []), changelog
    )
    skill.versions.append(v)
    skill.current_version_id = v.id
    skill.updated_at = now()
    return v


def bump(skill: Skill) -> str:
    """M.m.p of the most recently created version becomes M.(m+1).0."""
    last = skill.versions[-1].version if skill.versions else "0.0.0"
    parts = [*last.split("."), "0", "0"][:2]
    major, minor = (int(p) if p.isdigit() else 0 for p in parts)
    return f"{major}.{minor + 1}.0"


def _metadata_from(body: dict[str, Any]) -> dict[str, Any]:
    # Only these two keys are written; an omitted one is dropped from the new version.
    return {k: body[k] for k in ("requiredEnv", "requiredTools") if k in body}


def skill_or_404(store: Store, name: str) -> Skill:
    """Any skill by slug, archived included."""
    skill = store.skill_by_slug(name)
    if skill is None:
        raise skill_not_found(name)
    return skill


@routes.add("GET", "/api/skills", f"{_C}.list")
async def list_skills(ctx: Ctx) -> Reply:
    active = [s for s in ctx.store.skills.values() if s.status == "active"]
    active.sort(key=lambda s: locale_key(s.name))
    return Reply({"skills": [summary(s) for s in active]})


def _exported_version(v: SkillVersion) -> dict[str, Any]:
    row = version_row(v)
    return {k: row[k] for k in ("version", "content", "metadata", "scripts", "changelog")}


def bundle(skills: list[Skill]) -> dict[str, Any]:
    """The skills bundle of the exports (all versions, createdAt ascending)."""
    return {
        "version": "1.0",
        "exportedAt": iso(now()),
        "type": "skills",
        "skills": [
            {
                "slug": s.slug,
                "name": s.name,
                "description": s.description,
                "category": s.category,
                "isDefault": s.is_default,
                "versions": [_exported_version(v) for v in s.versions],
            }
            for s in skills
        ],
    }


def _export(skills: list[Skill], filename: str) -> Reply:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    headers = {"Content-Disposition": f'attachment; filename="{filename}-{day}.json"'}
    return Reply(bundle(skills), headers=headers, pretty=True)


@routes.add("GET", "/api/skills/catalog/export", f"{_C}.exportCatalog")
async def export_catalog(ctx: Ctx) -> Reply:
    active = [s for s in ctx.store.skills.values() if s.status == "active"]
    return _export(sorted(active, key=lambda s: locale_key(s.slug)), "skills-catalog")


@routes.add("POST", "/api/skills/catalog/import", f"{_C}.importCatalog")
async def import_catalog(ctx: Ctx) -> Reply:
    value, issues = parse(_BUNDLE, ctx.body)
    if issues:
        raise bad_request(pretty(issues))
    result: dict[str, list[str]] = {"created": [], "updated": [], "skipped": []}
    for entry in value["skills"]:
        try:
            result[_import_entry(ctx.store, entry)].append(entry["slug"])
        except Exception as exc:  # the route answers 400 with the raw message
            raise bad_request(f"Failed query: {exc}") from exc
    return Reply(result, status=201)


def _create_skill(store: Store, entry: dict[str, Any], last: dict[str, Any]) -> None:
    for value, limit in ((entry["slug"], 100), (entry["name"], 255), (entry["category"], 100)):
        if len(value) > limit:
            raise ValueError(f"value too long for type character varying({limit})")
    skill = Skill(
        new_id(),
        entry["slug"],
        entry["name"],
        entry["description"],
        entry["category"],
        is_default=entry["isDefault"],
    )
    store.skills[skill.id] = skill
    # The stored version string is forced to 0.1.0 and the changelog dropped.
    add_version(skill, "0.1.0", last["content"], metadata=last["metadata"], scripts=last["scripts"])


def _import_entry(store: Store, entry: dict[str, Any]) -> str:
    if not entry["versions"]:
        return "skipped"
    last = entry["versions"][-1]  # array position, not semver
    skill = store.skill_by_slug(entry["slug"])
    if skill is None:
        _create_skill(store, entry, last)
        return "created"
    if any(v.version == last["version"] for v in skill.versions):
        return "skipped"
    skill.name, skill.description = entry["name"], entry["description"]
    skill.category = entry["category"]
    add_version(
        skill,
        bump(skill),
        last["content"],
        metadata=last["metadata"],
        scripts=last["scripts"],
        changelog=last.get("changelog") or "Imported from bundle",
    )
    return "updated"


@routes.add("GET", "/api/skills/:name", f"{_C}.get")
async def get_skill(ctx: Ctx) -> Reply:
    return Reply(detail(skill_or_404(ctx.store, ctx.p("name"))))


def _required_text(body: dict[str, Any], key: str, message: str) -> str:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise bad_request(message)
    if not isinstance(value, str):
        raise invalid_body()  # value.trim is not a function
    return value


@routes.add("POST", "/api/skills", f"{_C}.create")
async def create_skill(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    name = _required_text(body, "name", "Name is required")
    content = _required_text(body, "content", "Content is required")
    slug = re.sub(r"[^a-z0-9-]", "-", name.lower())
    if ctx.store.skill_by_slug(slug) is not None:
        raise conflict(f'Skill "{slug}" already exists')  # archived slugs stay reserved
    check_len(slug, 100)
    check_len(name, 255)
    desc = text_col(body.get("description", ""), None, nullable=False) or ""
    skill = Skill(new_id(), slug, name, desc)
    ctx.store.skills[skill.id] = skill
    add_version(skill, "0.1.0", content, metadata=_metadata_from(body))
    return Reply(detail(skill), status=201)


@routes.add("PUT", "/api/skills/:name", f"{_C}.update")
async def update_skill(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    skill = skill_or_404(ctx.store, ctx.p("name"))
    if body.get("content") is None:
        raise internal()  # skill_versions.content NOT NULL
    if "description" in body:
        skill.description = text_col(body["description"], None, nullable=False) or ""
    changelog = body.get("changelog")
    changelog = None if changelog is None else js_str(changelog)
    content = js_str(body["content"])
    v = add_version(skill, bump(skill), content, metadata=_metadata_from(body), changelog=changelog)
    return Reply(detail(skill, v))


@routes.add("DELETE", "/api/skills/:name", f"{_C}.remove")
async def archive_skill(ctx: Ctx) -> Reply:
    skill = skill_or_404(ctx.store, ctx.p("name"))
    skill.status = "archived"
    skill.updated_at = now()
    return Reply({"deleted": True})


@routes.add("GET", "/api/skills/:name/versions", f"{_C}.versions")
async def list_versions(ctx: Ctx) -> Reply:
    skill = skill_or_404(ctx.store, ctx.p("name"))
    return Reply({"versions": [version_row(v) for v in skill.versions]})


@routes.add("GET", "/api/skills/:name/versions/:version", f"{_C}.version")
async def get_version(ctx: Ctx) -> Reply:
    name, version = ctx.p("name"), ctx.p("version")
    skill = skill_or_404(ctx.store, name)
    v = next((x for x in skill.versions if x.version == version), None)
    if v is None:
        raise not_found(f'Version "{version}" not found for skill "{name}"')
    return Reply(version_row(v))


@routes.add("GET", "/api/skills/:name/export", f"{_C}.exportOne")
async def export_skill(ctx: Ctx) -> Reply:
    skill = skill_or_404(ctx.store, ctx.p("name"))
    return _export([skill], skill.slug)
