"""The complete live read with the minimal calls, paced per handler and run in parallel.

Calls: `GET /api/instances` and `GET /api/skills/catalog/export` once; per instance in
scope its export, scheduled tasks and event sources (three handlers, so they proceed side
by side); the env GET only for skills with plain env values; one GET per assigned skill
missing from the catalog (archived). The export alone is not a full snapshot (§17.2).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import Any
from urllib.parse import quote

from reconciler.engine.client import EngineClient
from reconciler.engine.convert import (
    Notes,
    expect_dict,
    expect_list,
    source_from,
    task_from,
    unique_by_name,
)
from reconciler.engine.exported import (
    InstanceRead,
    archived_skill,
    catalog_skills,
    instance_fields,
    instance_with_children,
    plain_env_skills,
)
from reconciler.errors import EngineRejected, NotFound
from reconciler.model.managed import normalize_instance, normalize_skill
from reconciler.model.objects import EventSource, Instance, Skill, State
from reconciler.model.project import Scope
from reconciler.plan.changes import LiveSnapshot

_UNREADABLE = "unreadable"


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
    dtos, catalog = _read_lists(client, skills, notes)
    chosen = [s for s in sorted(dtos) if scope.has_instance(s) and (only is None or s in only)]
    instances, assigned = _read_instances(client, chosen, dtos, notes)
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
    return LiveSnapshot(state=state, notices=notes.sorted(), instance_slugs=slugs)


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
) -> tuple[dict[str, dict[str, Any]], dict[str, Skill] | None]:
    jobs: list[Callable[[], Any]] = [partial(client.get, "/api/instances", what="instance list")]
    if skills:
        jobs.append(partial(client.get, "/api/skills/catalog/export", what="skills catalog"))
    answers = client.parallel(jobs)
    listing = expect_dict(answers[0], "the instance list")
    dtos = {
        dto["slug"]: dto
        for dto in expect_list(listing.get("instances"), "the instance list's instances")
        if isinstance(dto, dict) and isinstance(dto.get("slug"), str)
    }
    return dtos, catalog_skills(answers[1], notes) if skills else None


def _read_instances(
    client: EngineClient, chosen: list[str], dtos: dict[str, dict[str, Any]], notes: Notes
) -> tuple[dict[str, Instance], set[str]]:
    """The live instances, and every skill slug they assign."""
    # Interleaved so the three handlers stay busy side by side, each at its own pace.
    # Children are converted in the worker that fetched them, so their raw JSON is freed
    # at once; each export is freed as soon as its instance is built (peak memory).
    jobs: list[Callable[[], Any]] = []
    for slug in chosen:
        key = f"instance/{slug}"
        jobs += [
            partial(_fields_of, client, slug, dtos[slug], notes),
            partial(_tasks_of, _fetch_tasks, client, slug, notes, key),
            partial(_sources_of, client, slug, notes, key),
        ]
    answers: list[Any] = client.parallel(jobs)
    instances: dict[str, Instance] = {}
    assigned: set[str] = set()
    for i, slug in enumerate(chosen):
        fields, tasks, sources = answers[3 * i : 3 * i + 3]
        answers[3 * i : 3 * i + 3] = (None, None, None)
        if fields is None:
            notes.warn(f"instance/{slug}", "the instance vanished during the read; left out")
            continue
        read = InstanceRead(slug=slug, dto={}, export={})
        _attach_children(read, tasks, sources, notes)
        assigned |= {a.slug for a in fields["skills"]}
        instances[slug] = normalize_instance(instance_with_children(fields, read, notes))
    return instances, assigned


def _fields_of(
    client: EngineClient, slug: str, dto: dict[str, Any], notes: Notes
) -> dict[str, Any] | None:
    """The instance's fields from its export (+ env GETs); the raw bundle dies here."""
    export = _fetch_export(client, slug, notes)
    if export is None:
        return None
    return instance_fields(InstanceRead(slug=slug, dto=dto, export=export[0], env=export[1]), notes)


def _fetch_export(
    client: EngineClient, slug: str, notes: Notes
) -> tuple[dict[str, Any], dict[str, list[Any] | None]] | None:
    what = f"instance {slug!r} export"
    try:
        bundle = expect_dict(client.get(f"/api/instances/{_q(slug)}/export", what=what), what)
    except NotFound:
        return None
    export = expect_dict(bundle.get("instance"), what)
    env = {skill: _fetch_env(client, slug, skill, notes) for skill in plain_env_skills(export)}
    return export, env


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


def _fetch_tasks(client: EngineClient, slug: str, notes: Notes) -> Any:
    what = f"instance {slug!r} scheduled tasks"
    try:
        body = client.get(f"/api/instances/{_q(slug)}/scheduled-tasks", what=what)
    except NotFound:
        return None
    except EngineRejected as exc:
        if exc.status != 400:
            raise
        notes.warn(
            f"instance/{slug}",
            "the engine cannot list this instance's scheduled tasks (400 Invalid request "
            "body): a one-shot task with an unparseable runAt poisons the list (§12.2); "
            "delete it on the engine (DELETE …/scheduled-tasks/<id>); tasks are not managed "
            "for this instance until then",
        )
        return _UNREADABLE
    return expect_list(expect_dict(body, what).get("tasks"), what)


def _fetch_sources(client: EngineClient, slug: str) -> list[Any]:
    what = f"instance {slug!r} event sources"
    body = client.get(f"/api/instances/{_q(slug)}/event-sources", what=what)
    return expect_list(body, what)


def _tasks_of(
    fetch: Callable[[EngineClient, str, Notes], Any],
    client: EngineClient,
    slug: str,
    notes: Notes,
    key: str,
) -> Any:
    """The instance's tasks as models (None: vanished; _UNREADABLE: the engine cannot list)."""
    tasks = fetch(client, slug, notes)
    if not isinstance(tasks, list):
        return tasks
    built = [t for t in (task_from(raw, notes, key) for raw in tasks) if t is not None]
    return unique_by_name(built, lambda t: t.name, notes, key, "scheduled task")


def _sources_of(client: EngineClient, slug: str, notes: Notes, key: str) -> list[EventSource]:
    built = [s for s in (source_from(raw, notes, key) for raw in _fetch_sources(client, slug)) if s]
    return unique_by_name(built, lambda s: s.name, notes, key, "event source")


def _attach_children(read: InstanceRead, tasks: Any, sources: Any, notes: Notes) -> None:
    if isinstance(tasks, list):
        read.tasks = tasks
    elif tasks is None:
        notes.warn(
            f"instance/{read.slug}", "the task list vanished during the read; tasks left unmanaged"
        )
    read.sources = sources


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
