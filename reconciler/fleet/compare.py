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

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from pydantic import BaseModel

from reconciler.model import secretenv
from reconciler.model.objects import EventSource, Instance, SkillAssignment, State
from reconciler.model.project import Project
from reconciler.plan.changes import Change, LiveSnapshot, Notice, Plan
from reconciler.plan.diff import diff
from reconciler.plan.planfile import plan_to_dict
from reconciler.plan.safety import fingerprint
from reconciler.render import text as render

SHARD_NOTICE_KEY = "shard"
# Engine ids and live-only facts: set on live models, meaningless on another engine.
_LIVE_ONLY = frozenset({"id", "auto_disabled"})
M = TypeVar("M", bound=BaseModel)
COMPARISON_SCHEMA_VERSION = 1
_SAME = "No differences."
_MD_HEADER = "| field | engine | repository |"


@dataclass
class Comparison:
    """What promoting `source` to `target` would change, seen in the repo and/or live."""

    source: str
    target: str
    repo: Plan | None = None
    live: Plan | None = None

    @property
    def differ(self) -> bool:
        """True when any compared side shows a change."""
        return any(p is not None and p.has_changes for p in (self.repo, self.live))


def _titles(c: Comparison) -> list[tuple[str, Plan | None]]:
    return [
        (f"Repository resolved for {c.source} vs for {c.target}", c.repo),
        (f"Live: {c.source} engine vs {c.target} engine (designed differences left out)", c.live),
    ]


def to_text(c: Comparison, *, color: bool = False) -> str:
    """The comparison for a terminal: one plan block per compared side."""
    out = [f"Promotion {c.source} → {c.target}", ""]
    for title, plan in _titles(c):
        if plan is not None:
            body = render.to_text(plan, color=color).replace(render.NO_CHANGES, _SAME)
            out += [f"== {title} ==", body]
    return "\n".join(out)


def to_markdown(c: Comparison, *, marker: str | None = None) -> str:
    """The comparison as a pull-request comment: one plan section per compared side."""
    out = [marker] if marker else []
    out += [f"## Promotion {c.source} → {c.target}", ""]
    for title, plan in _titles(c):
        if plan is not None:
            text = render.to_markdown(plan, title=title, limit=30_000)
            text = text.replace("no changes. The engine matches the repository.", "same.")
            # The plan's columns are engine (old) and repository (new): here target and source.
            out.append(text.replace(_MD_HEADER, f"| field | {c.target} | {c.source} |"))
    return "\n".join(out)


def to_json(c: Comparison) -> str:
    """The comparison as JSON: both plans in the saved-plan schema, null when not compared."""
    data = {
        "schemaVersion": COMPARISON_SCHEMA_VERSION,
        "source": c.source,
        "target": c.target,
        "differ": c.differ,
        "repository": plan_to_dict(c.repo) if c.repo is not None else None,
        "live": plan_to_dict(c.live) if c.live is not None else None,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def declared_vars(state: State) -> set[str]:
    """Names of every variable that could supply a credential `state` declares."""
    names: set[str] = set()
    for slug, inst in state.instances.items():
        names |= {secretenv.secret_var(slug, key) for key in inst.secrets or []}
        names |= {secretenv.channel_var(slug, kind) for kind in inst.channels or {}}
        for skill, values in (inst.skill_env or {}).items():
            names |= {secretenv.skill_env_var(slug, skill, key) for key in values}
        for source in inst.event_sources or []:
            names |= {secretenv.event_source_var(slug, source.name, k) for k in source.config or {}}
    return names


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
        supplied_secrets=declared_vars(source),
    )
    plan.environment = target_env
    return plan


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
        supplied_secrets=declared_vars(desired),
    )
    plan.environment = target_env
    # Read problems of the source engine matter too: its state is what would be promoted.
    plan.notices = _tagged(source.notices, "source engine") + plan.notices
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
    copy = model.model_copy()
    object.__setattr__(copy, "__pydantic_fields_set__", model.model_fields_set - names)
    return copy


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
    out = replace(live, changes=changes, notices=notices)
    out.fingerprints = {
        c.key: live.fingerprints[c.key] for c in changes if c.key in live.fingerprints
    }
    return out


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
    out = replace(plan, changes=_ordered(changes), notices=notices)
    out.fingerprints = {c.key: fingerprint(c.live) for c in out.changes}
    return out


def _ordered(changes: list[Change]) -> list[Change]:
    # The order of reconciler.plan.diff: skills, instances; then instance deletes, skill deletes.
    rank = {("skill", False): 0, ("instance", False): 1, ("instance", True): 2, ("skill", True): 3}
    return sorted(changes, key=lambda c: (rank[(c.kind, c.action == "delete")], c.slug))
