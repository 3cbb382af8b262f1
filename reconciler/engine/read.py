"""The complete live read with the minimal calls, paced per handler and run in parallel.

Calls: `GET /api/instances`, `GET /api/instances/models` and `GET /api/skills/catalog/export`
once; per instance in scope its export, scheduled tasks and event sources, and its hooks
where the engine has them (separate handlers, so they proceed side by side; the children
in read_children.py); the env GET only for skills with plain env values; one GET per assigned skill
missing from the catalog (archived). The export alone is not a full snapshot (§17.2).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial
from typing import Any

from reconciler.engine.client import EngineClient
from reconciler.engine.convert import (
    Notes,
    expect_dict,
    expect_list,
)
from reconciler.engine.exported import (
    InstanceRead,
    instance_fields,
    instance_with_children,
    plain_env_skills,
)
from reconciler.engine.lists import Lists, quoted, read_archived, read_lists
from reconciler.engine.read_children import (
    attach_children,
    fetch_tasks,
    hooks_of,
    sources_of,
    tasks_of,
)
from reconciler.errors import EngineRejected, NotFound
from reconciler.model.engineline import Capabilities, with_bundle_version
from reconciler.model.managed import normalize_instance, normalize_skill
from reconciler.model.objects import Instance, State
from reconciler.model.project import Scope
from reconciler.plan.changes import Duplicate, LiveSnapshot


def read_live(
    client: EngineClient,
    *,
    scope: Scope,
    only: Collection[str] | None = None,
    skills: bool = True,
) -> LiveSnapshot:
    """Read the engine's live state for the instances in scope (and `only`) and the catalog."""
    lists = read_lists(client, skills=skills)
    dtos, catalog, caps, notes = lists.dtos, lists.catalog, lists.caps, lists.notes
    chosen = [s for s in sorted(dtos) if scope.has_instance(s) and (only is None or s in only)]
    dupes: list[Duplicate] = []  # filled from the fetch workers (list.extend is atomic)
    instances, assigned, versions = _read_instances(client, chosen, dtos, notes, caps, dupes=dupes)
    for version in sorted(versions):
        caps = with_bundle_version(caps, version)
    for message in caps.warnings():
        notes.warn("engine", message)
    found = dict(catalog or {})
    if catalog is not None:
        found |= read_archived(client, assigned, catalog, notes)
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
    answer = expect_dict(client.get(f"/api/instances/{quoted(slug)}", what=what), what)
    return expect_dict(answer.get("instance"), what)


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
        bundle = expect_dict(client.get(f"/api/instances/{quoted(slug)}/export", what=what), what)
    except NotFound:
        return None
    export = expect_dict(bundle.get("instance"), what)
    env = {skill: _fetch_env(client, slug, skill, notes) for skill in plain_env_skills(export)}
    return export, env, str(bundle.get("version"))


def _fetch_env(client: EngineClient, slug: str, skill: str, notes: Notes) -> list[Any] | None:
    what = f"instance {slug!r} env of skill {skill!r}"
    try:
        body = client.get(f"/api/instances/{quoted(slug)}/skills/{quoted(skill)}/env", what=what)
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
