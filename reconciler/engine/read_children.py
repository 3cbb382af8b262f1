"""One instance's children for the live read: scheduled tasks (paged on develop), event
sources and hooks, each converted to models in the worker that fetched it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from reconciler.engine.capabilities import TASK_PAGE
from reconciler.engine.client import EngineClient
from reconciler.engine.convert import (
    Notes,
    expect_dict,
    expect_list,
    hooks_from,
    source_from,
    task_from,
    unique_by_name,
)
from reconciler.engine.exported import InstanceRead
from reconciler.errors import EngineRejected, NotFound
from reconciler.model.objects import EventSource, Hook, ScheduledTask
from reconciler.plan.changes import Duplicate

UNREADABLE = "unreadable"


def _q(segment: str) -> str:
    return quote(segment, safe="")


def fetch_tasks(client: EngineClient, slug: str, notes: Notes, *, paginated: bool = False) -> Any:
    """The raw task list (None: vanished; UNREADABLE: the engine cannot list it)."""
    what = f"instance {slug!r} scheduled tasks"
    try:
        return _task_pages(client, slug, what) if paginated else _task_page(client, slug, what)
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
        return UNREADABLE


def _task_page(client: EngineClient, slug: str, what: str, query: str = "") -> list[Any]:
    body = client.get(f"/api/instances/{_q(slug)}/scheduled-tasks{query}", what=what)
    return expect_list(expect_dict(body, what).get("tasks"), what)


def _task_pages(client: EngineClient, slug: str, what: str) -> list[Any]:
    # develop pages the list (100 by default, at most 500): read to the end, so that a task
    # beyond the first page is never planned as a create (a duplicate on apply).
    tasks: list[Any] = []
    seen: set[str] = set()
    while True:
        page = _task_page(client, slug, what, f"?limit={TASK_PAGE}&offset={len(tasks)}")
        ids = {str(t.get("id")) for t in page if isinstance(t, dict)}
        if ids & seen:  # an engine that ignores offset sent the first page again
            return tasks
        seen |= ids
        tasks += page
        if len(page) < TASK_PAGE:
            return tasks


def _fetch_hooks(client: EngineClient, slug: str) -> list[Any] | None:
    what = f"instance {slug!r} hooks"
    try:
        body = client.get(f"/api/instances/{_q(slug)}/hooks", what=what)
    except NotFound:
        return None
    return expect_list(expect_dict(body, what).get("hooks"), what)


def hooks_of(client: EngineClient, slug: str, notes: Notes, key: str) -> list[Hook] | None:
    """The instance's hooks as models (None: the engine has no hooks route)."""
    raw = _fetch_hooks(client, slug)
    return None if raw is None else hooks_from(raw, notes, key)


def _fetch_sources(client: EngineClient, slug: str) -> list[Any]:
    what = f"instance {slug!r} event sources"
    body = client.get(f"/api/instances/{_q(slug)}/event-sources", what=what)
    return expect_list(body, what)


def tasks_of(
    fetch: Callable[[EngineClient, str, Notes], Any],
    client: EngineClient,
    slug: str,
    notes: Notes,
    key: str,
    *,
    dupes: list[Duplicate],
) -> Any:
    """The instance's tasks as models (None: vanished; UNREADABLE: the engine cannot list).

    Extra copies of a name go to `dupes` (a plan change), not the kept list.
    """
    tasks = fetch(client, slug, notes)
    if not isinstance(tasks, list):
        return tasks
    built = [t for t in (task_from(raw, notes, key) for raw in tasks) if t is not None]
    extra: list[ScheduledTask] = []
    kept = unique_by_name(built, _name, notes, key, "scheduled task", extras=extra)
    dupes.extend(_duplicate(slug, "scheduled task", t) for t in extra)
    return kept


def sources_of(
    client: EngineClient, slug: str, notes: Notes, key: str, *, dupes: list[Duplicate]
) -> list[EventSource]:
    """The instance's event sources as models, unique by name (extra copies to `dupes`)."""
    built = [s for s in (source_from(raw, notes, key) for raw in _fetch_sources(client, slug)) if s]
    extra: list[EventSource] = []
    kept = unique_by_name(built, _name, notes, key, "event source", extras=extra)
    dupes.extend(_duplicate(slug, "event source", s) for s in extra)
    return kept


def _name(item: ScheduledTask | EventSource) -> str:
    return item.name


def _duplicate(slug: str, label: str, item: ScheduledTask | EventSource) -> Duplicate:
    route = "scheduled-tasks" if label == "scheduled task" else "event-sources"
    path = f"/api/instances/{_q(slug)}/{route}/{_q(item.id or '')}"
    return Duplicate(instance=slug, label=label, name=item.name, path=path)


def attach_children(read: InstanceRead, tasks: Any, sources: Any, notes: Notes) -> None:
    """Put converted tasks and sources on `read`; a vanished task list leaves tasks unmanaged."""
    if isinstance(tasks, list):
        read.tasks = tasks
    elif tasks is None:
        notes.warn(
            f"instance/{read.slug}", "the task list vanished during the read; tasks left unmanaged"
        )
    read.sources = sources
