"""The first round of a live read: the instance list, the model list, the catalog, and the
assigned skills the catalog leaves out (archived ones), each read once."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote

from reconciler.engine.client import EngineClient
from reconciler.engine.convert import Notes, expect_dict, expect_list
from reconciler.engine.exported import archived_skill, catalog_skills
from reconciler.engine.lease import is_lease_slug
from reconciler.errors import AuthRejected, NotFound
from reconciler.model.engineline import Capabilities, detect
from reconciler.model.objects import Skill


def quoted(segment: str) -> str:
    """One URL path segment, quoted whole."""
    return quote(segment, safe="")


@dataclass
class Lists:
    """The first round of a read: instance list, model list and catalog, and what they tell."""

    dtos: dict[str, dict[str, Any]]
    catalog: dict[str, Skill] | None
    caps: Capabilities
    notes: Notes


def read_lists(client: EngineClient, *, skills: bool = True) -> Lists:
    """The instance list, the model list and the catalog (three handlers, side by side)."""
    notes = Notes()
    dtos, catalog, caps = _first_round(client, skills, notes)
    return Lists(dtos=dtos, catalog=catalog, caps=caps, notes=notes)


def read_skills(client: EngineClient, slugs: Collection[str], lists: Lists) -> dict[str, Skill]:
    """Assigned skills the catalog export leaves out (archived ones), read one by one."""
    return read_archived(client, set(slugs), lists.catalog or {}, lists.notes)


def _first_round(
    client: EngineClient, skills: bool, notes: Notes
) -> tuple[dict[str, dict[str, Any]], dict[str, Skill] | None, Capabilities]:
    jobs: list[Callable[[], Any]] = [
        partial(client.get, "/api/instances", what="instance list"),
        partial(_fetch_models, client),
    ]
    if skills:
        jobs.append(partial(_fetch_catalog, client))
    answers = client.parallel(jobs)
    listing = expect_dict(answers[0], "the instance list")
    dtos = {
        dto["slug"]: dto
        for dto in expect_list(listing.get("instances"), "the instance list's instances")
        if isinstance(dto, dict)
        and isinstance(dto.get("slug"), str)
        and not is_lease_slug(dto["slug"])  # the apply lease is never a managed object
    }
    caps = detect(dtos.values(), answers[1], None)
    if not skills:
        return dtos, None, caps
    if answers[2] is _FORBIDDEN:
        notes.warn(
            "engine",
            "the skills catalog answers 403 to everyone (the engine runs AUTHZ_ENFORCE=true, "
            "where routes that declare no permission are closed): catalog skills, skill "
            "assignments and manual tools are not managed on this engine",
        )
        return dtos, None, replace(caps, catalog=False)
    return dtos, catalog_skills(answers[2], notes), caps


_FORBIDDEN = object()


def _fetch_models(client: EngineClient) -> Any:
    # Only used to check models at plan time: an engine without the route is not checked.
    try:
        return client.get("/api/instances/models", what="the engine's model list")
    except NotFound:
        return None


def _fetch_catalog(client: EngineClient) -> Any:
    try:
        return client.get("/api/skills/catalog/export", what="skills catalog")
    except AuthRejected as exc:
        if "declares no permission" not in str(exc):
            raise
        return _FORBIDDEN


def read_skill_versions(client: EngineClient, slug: str) -> dict[str, str]:
    """Version string → version UUID of a catalog skill (rollback pins by UUID, §7.6)."""
    what = f"skill {slug!r} versions"
    body = expect_dict(client.get(f"/api/skills/{quoted(slug)}/versions", what=what), what)
    return {
        str(v["version"]): str(v["id"])
        for v in expect_list(body.get("versions"), what)
        if isinstance(v, dict) and v.get("version") is not None and v.get("id") is not None
    }


def read_archived(
    client: EngineClient, assigned: set[str], catalog: dict[str, Skill], notes: Notes
) -> dict[str, Skill]:
    missing = sorted(assigned - set(catalog))
    jobs = [partial(_fetch_skill, client, slug) for slug in missing]
    out: dict[str, Skill] = {}
    for slug, payload in zip(missing, client.parallel(jobs), strict=True):
        if payload is None:
            notes.warn(f"skill/{slug}", f"skill {slug!r} is assigned but unknown to the engine")
        else:
            out[slug] = archived_skill(slug, payload, notes)
    return out


def _fetch_skill(client: EngineClient, slug: str) -> Any:
    try:
        return client.get(f"/api/skills/{quoted(slug)}", what=f"skill {slug!r}")
    except NotFound:
        return None
