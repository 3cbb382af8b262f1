"""The complete live read with the minimal calls, paced per handler and run in parallel.

Calls: `GET /api/instances`, `GET /api/instances/models` and `GET /api/skills/catalog/export`
once; per instance in scope its export, scheduled tasks and event sources, and its hooks
where the engine has them (separate handlers, so they proceed side by side; the children
in read_children.py); the env GET only for skills with plain env values; one GET per assigned skill
missing from the catalog (archived). The export alone is not a full snapshot (§17.2).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote

from reconciler.engine.client import EngineClient
from reconciler.engine.convert import (
    Notes,
    expect_dict,
    expect_list,
)
from reconciler.engine.exported import (
    InstanceRead,
    archived_skill,
    catalog_skills,
    instance_fields,
    instance_with_children,
    plain_env_skills,
)
from reconciler.engine.lease import is_lease_slug
from reconciler.engine.read_children import (
    attach_children,
    fetch_tasks,
    hooks_of,
    sources_of,
    tasks_of,
)
from reconciler.errors import AuthRejected, EngineRejected, NotFound
from reconciler.model.engineline import Capabilities, detect, with_bundle_version
from reconciler.model.managed import normalize_instance, normalize_skill
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Scope
from reconciler.plan.changes import Duplicate, LiveSnapshot


def _q(segment: str) -> str:
    return quote(segment, safe="")


def read_live(
    client: EngineClient,
    *,
    scope: Scope,
    only: Collection[str] | None = None,
    skills: bool = True,
) -> LiveSnapshot:
    """Read the engine's live state for the instances in scope (and `only`) and the catalog."""
    notes = Notes()
    dtos, catalog, caps = _read_lists(client, skills, notes)
    chosen = [s for s in sorted(dtos) if scope.has_instance(s) and (only is None or s in only)]
    dupes: list[Duplicate] = []  # filled from the fetch workers (list.extend is atomic)
    instances, assigned, versions = _read_instances(client, chosen, dtos, notes, caps, dupes=dupes)
    for version in sorted(versions):
        caps = with_bundle_version(caps, version)
    for message in caps.warnings():
        notes.warn("engine", message)
    found = dict(catalog or {})
    if catalog is not None:
        found |= _read_archived(client, assigned, catalog, notes)
    # model_construct: every part is already a model; live data may break our stricter rules
    # (a hostile or legacy slug), which is for validate/export to report, not a crash here.
    state = State.model_construct(
        instances=instances, skills={k: normalize_skill(v) for k, v in sorted(found.items())}
    )
    gone = set(chosen) - set(instances)
    slugs = [s for s in sorted(dtos) if s not in gone]
    dupes = [d for d in dupes if d.instance in instances]
    return LiveSnapshot(
        state=state,
        notices=notes.sorted(),
        instance_slugs=slugs,
        engine=caps,
        duplicates=sorted(dupes, key=lambda d: (d.instance, d.label, d.name, d.path)),
    )


def read_skill_versions(client: EngineClient, slug: str) -> dict[str, str]:
    """Version string → version UUID of a catalog skill (rollback pins by UUID, §7.6)."""
    what = f"skill {slug!r} versions"
    body = expect_dict(client.get(f"/api/skills/{_q(slug)}/versions", what=what), what)
    return {
        str(v["version"]): str(v["id"])
        for v in expect_list(body.get("versions"), what)
        if isinstance(v, dict) and v.get("version") is not None and v.get("id") is not None
    }


def _read_lists(
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


def _read_instances(
    client: EngineClient,
    chosen: list[str],
    dtos: dict[str, dict[str, Any]],
    notes: Notes,
    caps: Capabilities,
    *,
    dupes: list[Duplicate],
) -> tuple[dict[str, Instance], set[str], set[str]]:
    """The live instances, every skill slug they assign, and their exports' bundle versions."""
    width = 4 if caps.hooks else 3
    answers: list[Any] = client.parallel(
        _instance_jobs(client, chosen, dtos, notes, caps, dupes=dupes)
    )
    instances: dict[str, Instance] = {}
    assigned: set[str] = set()
    versions: set[str] = set()
    for i, slug in enumerate(chosen):
        parts = answers[width * i : width * (i + 1)]
        answers[width * i : width * (i + 1)] = (None,) * width
        got = _assembled(slug, parts, notes)
        if got is not None:
            instances[slug], version = got
            assigned |= {a.slug for a in instances[slug].skills or []}
            versions.add(version)
    return instances, assigned, versions


def _assembled(slug: str, parts: Sequence[Any], notes: Notes) -> tuple[Instance, str] | None:
    """One instance from its fetched parts (fields, tasks, sources[, hooks]) and its version."""
    got, tasks, sources = parts[:3]
    if got is None:
        notes.warn(f"instance/{slug}", "the instance vanished during the read; left out")
        return None
    fields, version = got
    read = InstanceRead(slug=slug, dto={}, export={}, hooks=parts[3] if len(parts) > 3 else None)
    attach_children(read, tasks, sources, notes)
    return normalize_instance(instance_with_children(fields, read, notes)), version


def read_instance(
    client: EngineClient, lists: Lists, slug: str, *, dupes: list[Duplicate]
) -> tuple[Instance, str] | None:
    """One instance as the full read sees it (and its export's version); None when gone.

    Its calls run one after the other: a pipelined apply reads many instances at once, so
    the handlers stay busy side by side without a pool per instance.
    """
    dtos = lists.dtos
    if slug not in dtos:  # created by this run: not in the list read before it
        try:
            dtos = {slug: _instance_dto(client, slug)}
        except NotFound:
            return None
    jobs = _instance_jobs(client, [slug], dtos, lists.notes, lists.caps, dupes=dupes)
    return _assembled(slug, [job() for job in jobs], lists.notes)


def _instance_dto(client: EngineClient, slug: str) -> dict[str, Any]:
    what = f"instance {slug!r}"
    return expect_dict(
        expect_dict(client.get(f"/api/instances/{_q(slug)}", what=what), what).get("instance"), what
    )


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
    dtos, catalog, caps = _read_lists(client, skills, notes)
    return Lists(dtos=dtos, catalog=catalog, caps=caps, notes=notes)


def read_skills(client: EngineClient, slugs: Collection[str], lists: Lists) -> dict[str, Skill]:
    """Assigned skills the catalog export leaves out (archived ones), read one by one."""
    return _read_archived(client, set(slugs), lists.catalog or {}, lists.notes)


def _fields_of(
    client: EngineClient, slug: str, dto: dict[str, Any], notes: Notes, caps: Capabilities
) -> tuple[dict[str, Any], str] | None:
    """The instance's fields from its export (+ env GETs) and the bundle's version; the raw
    bundle dies here."""
    export = _fetch_export(client, slug, notes)
    if export is None:
        return None
    read = InstanceRead(slug=slug, dto=dto, export=export[0], env=export[1], version=export[2])
    return instance_fields(read, notes, caps), read.version


def _instance_jobs(
    client: EngineClient,
    chosen: list[str],
    dtos: dict[str, dict[str, Any]],
    notes: Notes,
    caps: Capabilities,
    *,
    dupes: list[Duplicate],
) -> list[Callable[[], Any]]:
    # Interleaved so the handlers stay busy side by side, each at its own pace. Children
    # are converted in the worker that fetched them, so their raw JSON is freed at once;
    # each export is freed as soon as its fields are built (peak memory).
    paged_tasks = partial(fetch_tasks, paginated=caps.paginated_tasks)
    jobs: list[Callable[[], Any]] = []
    for slug in chosen:
        key = f"instance/{slug}"
        jobs += [
            partial(_fields_of, client, slug, dtos[slug], notes, caps),
            partial(tasks_of, paged_tasks, client, slug, notes, key, dupes=dupes),
            partial(sources_of, client, slug, notes, key, dupes=dupes),
        ]
        if caps.hooks:
            jobs.append(partial(hooks_of, client, slug, notes, key))
    return jobs


def _fetch_export(
    client: EngineClient, slug: str, notes: Notes
) -> tuple[dict[str, Any], dict[str, list[Any] | None], str] | None:
    what = f"instance {slug!r} export"
    try:
        bundle = expect_dict(client.get(f"/api/instances/{_q(slug)}/export", what=what), what)
    except NotFound:
        return None
    export = expect_dict(bundle.get("instance"), what)
    env = {skill: _fetch_env(client, slug, skill, notes) for skill in plain_env_skills(export)}
    return export, env, str(bundle.get("version"))


def _fetch_env(client: EngineClient, slug: str, skill: str, notes: Notes) -> list[Any] | None:
    what = f"instance {slug!r} env of skill {skill!r}"
    try:
        body = client.get(f"/api/instances/{_q(slug)}/skills/{_q(skill)}/env", what=what)
    except NotFound:
        return None  # a skill the catalog does not know: reported with the value
    except EngineRejected as exc:
        notes.warn(
            f"instance/{slug}",
            f"the engine cannot read the env of skill {skill!r} ({exc}); an env row stored "
            "without `sensitive` corrupts it (§7.8): delete and re-set that key on the engine",
        )
        return None
    return expect_list(expect_dict(body, what).get("env"), what)


def _read_archived(
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
        return client.get(f"/api/skills/{_q(slug)}", what=f"skill {slug!r}")
    except NotFound:
        return None
