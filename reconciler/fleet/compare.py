"""Promotion between environments and sharded runs: plans that compare or split states (pure).

``compare --env A --env B`` answers "what would promoting A to B change?" twice:

- ``compare_repos``: the repo resolved for A (variables, overrides) as desired, the repo
  resolved for B as "live". Differences here are the environments' designed differences.
- ``compare_live``: A's live state as desired against B's live state, within B's scope.
  Live state is first made promotable (``promotable``): archived skills and agent-owned
  prompt sections are dropped, pins on a skill's current version become "follow current"
  (version strings are engine-local). A field that differs live exactly as it differs
  between the resolved repos is a designed difference, not a promotion: it is dropped
  (``drop_designed``) with a note.

Every declared credential counts as supplied, so a credential one side has and the other
lacks is a change, never a reminder to set a variable. Nothing secret enters: both sides
hold key names and presence only.

Sharded runs (``--shard I/N``): every shard sees the whole catalog, so ``shard_plan`` makes
shard 1 carry every catalog skill change an unscoped plan would make (deletes included)
and the other shards none; instance changes stay with the shard that owns the instance.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from pydantic import BaseModel

from reconciler.model import secretenv
from reconciler.model.managed import with_managed
from reconciler.model.objects import EventSource, Instance, SkillAssignment, State
from reconciler.model.project import Project
from reconciler.plan.changes import Change, LiveSnapshot, Notice, Plan
from reconciler.plan.diff import diff

SHARD_NOTICE_KEY = "shard"
# Engine ids and live-only facts: set on live models, meaningless on another engine.
_LIVE_ONLY = frozenset({"id", "auto_disabled"})
M = TypeVar("M", bound=BaseModel)


def compare_repos(
    source: State, target: State, project: Project, *, target_env: str, prune: bool = False
) -> Plan:
    """The repo resolved for the source environment against the repo resolved for the target."""
    snapshot = LiveSnapshot(state=target, instance_slugs=sorted(target.instances))
    plan = diff(
        source,
        snapshot,
        project,
        env=target_env,
        prune=prune,
        supplied_secrets=secretenv.declared_vars(source),
    )
    return replace(plan, environment=target_env)


def compare_live(
    source: LiveSnapshot,
    target: LiveSnapshot,
    project: Project,
    *,
    target_env: str,
    prune: bool = False,
    designed: Plan | None = None,
) -> Plan:
    """The source engine's live state as desired against the target engine's live state."""
    desired = promotable(source.state, project)
    plan = diff(
        desired,
        target,
        project,
        env=target_env,
        prune=prune,
        supplied_secrets=secretenv.declared_vars(desired),
    )
    # Read problems of the source engine matter too: its state is what would be promoted.
    notices = (*_tagged(source.notices, "source engine"), *plan.notices)
    plan = replace(plan, environment=target_env, notices=notices)
    return drop_designed(plan, designed) if designed is not None else plan


def _tagged(notices: Iterable[Notice], where: str) -> list[Notice]:
    return [replace(n, message=f"({where}) {n.message}") for n in notices]


def promotable(live: State, project: Project) -> State:
    """A live state reshaped as a desired state another engine could be planned against."""
    owned = set(project.agent_owned_prompts)
    current = {slug: s.version for slug, s in live.skills.items() if not s.archived}
    instances = {
        slug: _promotable_instance(inst, owned, current) for slug, inst in live.instances.items()
    }
    skills = {slug: s for slug, s in live.skills.items() if not s.archived}
    return State.model_construct(instances=instances, skills=skills)


def _promotable_instance(
    inst: Instance, owned: set[str], current: dict[str, str | None]
) -> Instance:
    # The agent rewrites its owned sections at runtime: they are not configuration.
    prompts = {k: v for k, v in inst.prompts.items() if k not in owned}
    update: dict[str, object] = {"prompts": prompts}
    if inst.skills is not None:
        update["skills"] = [_unpinned(a, current) for a in inst.skills]
    if inst.scheduled_tasks is not None:
        update["scheduled_tasks"] = [_unset(t, _LIVE_ONLY) for t in inst.scheduled_tasks]
    if inst.event_sources is not None:
        update["event_sources"] = [_source(s) for s in inst.event_sources]
    return inst.model_copy(update=update)


def _source(source: EventSource) -> EventSource:
    definitions = [_unset(d, _LIVE_ONLY) for d in source.definitions]
    return _unset(source.model_copy(update={"definitions": definitions}), _LIVE_ONLY)


def _unset(model: M, names: frozenset[str]) -> M:
    """A copy in which `names` count as unmanaged (nested diffs compare set fields only)."""
    return with_managed(model, managed=model.model_fields_set - names)


def _unpinned(assignment: SkillAssignment, current: dict[str, str | None]) -> SkillAssignment:
    # Version strings are engine-local (auto-bumped); a pin on the current version means
    # "follow the current version", which is what the other engine can be compared with.
    pin = assignment.pinned_version
    if pin is not None and current.get(assignment.slug) == pin:
        return assignment.model_copy(update={"pinned_version": None})
    return assignment


def drop_designed(live: Plan, designed: Plan) -> Plan:
    """`live` without field changes that match the repos' designed differences exactly."""
    expected = {(c.key, f.path): (f.old, f.new) for c in designed.changes for f in c.fields}
    changes: list[Change] = []
    notices = list(live.notices)
    for change in live.changes:
        kept = [f for f in change.fields if expected.get((change.key, f.path)) != (f.old, f.new)]
        dropped = [f.path for f in change.fields if f not in kept]
        if dropped:
            paths = ", ".join(dropped)
            message = f"differs by design between the environments (repo resolves so): {paths}"
            notices.append(Notice("info", change.key, message))
        if kept or change.action != "update":
            changes.append(replace(change, fields=tuple(kept)))
    return replace(live, changes=tuple(changes), notices=tuple(notices))


@dataclass
class Catalog:
    """The catalog part of an unscoped plan: what shard 1 carries for every shard."""

    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def catalog_changes(
    desired: State,
    live: LiveSnapshot,
    project: Project,
    *,
    env: str | None,
    prune: bool,
    supplied: Collection[str] = (),
) -> Catalog:
    """The skill changes (and their notices) an unscoped plan would make.

    Skill changes depend on the repo's skills and the live catalog only, so the live
    instances (which a sharded run did not all read) are left out of the comparison.
    """
    catalog_only = LiveSnapshot(state=State.model_construct(instances={}, skills=live.state.skills))
    plan = diff(desired, catalog_only, project, env=env, prune=prune, supplied_secrets=supplied)
    notices = [n for n in plan.notices if n.key.startswith("skill/")]
    return Catalog([c for c in plan.changes if c.kind == "skill"], notices)


def shard_plan(plan: Plan, index: int, count: int, catalog: Catalog) -> Plan:
    """Plan of shard `index`/`count`: its instances; shard 1 also every catalog skill change."""
    instances = [c for c in plan.changes if c.kind == "instance"]
    others = [n for n in plan.notices if not n.key.startswith("skill/")]
    if index == 1:
        changes, notices = [*catalog.changes, *instances], [*others, *catalog.notices]
    else:
        changes, notices = instances, others
        if catalog.changes:
            message = (
                f"{len(catalog.changes)} catalog skill change(s) are planned and applied by "
                f"shard 1/{count}; apply that shard before this one"
            )
            notices.append(Notice("info", SHARD_NOTICE_KEY, message))
    return replace(plan, changes=tuple(_ordered(changes)), notices=tuple(notices))


def _ordered(changes: list[Change]) -> list[Change]:
    # The order of reconciler.plan.diff: skills, instances; then instance deletes, skill deletes.
    rank = {("skill", False): 0, ("instance", False): 1, ("instance", True): 2, ("skill", True): 3}
    return sorted(changes, key=lambda c: (rank[(c.kind, c.action == "delete")], c.slug))
