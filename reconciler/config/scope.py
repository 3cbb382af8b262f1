"""Pure scope decision for git-scoped plans: which instances a set of touched files reaches.

Why scoped plans exist: the engine allows 30 requests/min per route and a full read of one
instance costs ~3 requests, so a PR that edits one prompt must read and diff only what it
touches. A scoped plan assumes everything untouched was in sync at the base commit.

What widens the plan to every instance (None) when polyant.yaml changed, compared on the
parsed models (not the text, so comments and reformatting never widen):
  * the instance scope in force (``scope``, or the selected environment's own ``scope``),
  * ``ignore`` rules and ``agentOwnedPrompts`` (they change what every diff compares),
  * the selected environment's ``url``, ``variables`` and ``overrides`` (with no environment
    selected: any environment's, and ``defaultEnvironment``),
  * ``prune.children`` or ``prune.secrets`` switched on (every managed instance may now lose
    extra children or secrets under --prune).
What does not widen: ``safety`` thresholds, pacing (``rateLimit``/``rateWindowSeconds``),
``tokenEnv``, ``insecure``, ``prune.skills`` and any prune switch turned off (it can only
remove deletions). ``prune.instances`` switched on adds the live instances that are in
scope but absent from the repo (exactly the ones a prune could now delete), nothing else.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from reconciler.model.objects import State
from reconciler.model.project import Project, Scope

_LIST_LIMIT = 20  # names listed in one reason line before "and N more"


@dataclass(frozen=True)
class TouchedSet:
    """Files changed between a base commit and the working tree, grouped by engine object."""

    instances: frozenset[str]  # added, modified, deleted, renamed (both old and new)
    skills: frozenset[str]
    project_changed: bool  # polyant.yaml changed
    deleted_instances: frozenset[str]
    deleted_skills: frozenset[str]
    renamed: tuple[tuple[str, str], ...]  # ("instance/old", "instance/new")
    other_files: tuple[str, ...]  # outside instances/ skills/ polyant.yaml: never widen
    base: str  # resolved base commit sha
    # Paths under instances/ or skills/ that name no valid slug, each "path: why".
    ignored: tuple[str, ...] = ()


def scope_instances(
    touched: TouchedSet,
    desired: State,
    live_slugs: Collection[str],
    *,
    old_project: Project | None,
    new_project: Project,
    env: str | None = None,
) -> tuple[set[str] | None, list[str]]:
    """Instance slugs to read and diff (None = every instance) and the reasons for the banner.

    ``old_project`` is polyant.yaml at the base (None = it did not exist: defaults applied).
    """
    since = f"since {touched.base[:12]}"
    if touched.project_changed:
        widening = project_widening(old_project or Project(), new_project, env)
        if widening:
            return None, [
                f"polyant.yaml changed {', '.join(widening)} {since}: planning every instance"
            ]
    wanted, reasons = _wanted(touched, desired, live_slugs, old_project, new_project)
    chosen, dropped = _plannable(wanted, desired, live_slugs, new_project.scope_for(env))
    reasons += dropped
    if not chosen:
        reasons.insert(0, f"no instance changed {since}")
    return chosen, reasons + _asides(touched)


def _plannable(
    wanted: set[str], desired: State, live_slugs: Collection[str], scope: Scope
) -> tuple[set[str], list[str]]:
    """The wanted slugs in scope and in the repo or on the engine, and why others were left."""
    out_of_scope = sorted(s for s in wanted if not scope.has_instance(s))
    live = set(live_slugs)  # membership below runs once per wanted slug
    nowhere = sorted(s for s in wanted if s not in desired.instances and s not in live)
    reasons: list[str] = []
    if out_of_scope:
        reasons.append(f"outside the scope, not planned: {_names(out_of_scope)}")
    if nowhere:
        reasons.append(f"neither in the repo nor on the engine, nothing to plan: {_names(nowhere)}")
    return wanted - set(out_of_scope) - set(nowhere), reasons


def _asides(touched: TouchedSet) -> list[str]:
    """Reasons that do not change the scope but tell the reviewer what was seen."""
    out = [f"renamed {old} → {new}" for old, new in touched.renamed]
    out += [f"ignored {item}" for item in touched.ignored]
    if touched.other_files:
        out.append(
            f"{len(touched.other_files)} other file(s) changed, not engine config: "
            f"{_names(list(touched.other_files))}"
        )
    return out


def _wanted(
    touched: TouchedSet,
    desired: State,
    live_slugs: Collection[str],
    old_project: Project | None,
    new_project: Project,
) -> tuple[set[str], list[str]]:
    """Slugs reached by the touched files, before scope filtering, with one reason per group."""
    wanted = set(touched.instances)
    reasons: list[str] = []
    if touched.instances:
        reasons.append(f"changed since {touched.base[:12]}: {_names(sorted(touched.instances))}")
    deleted = sorted(touched.deleted_instances)
    if deleted:
        reasons.append(f"folder deleted, planned so --prune can delete it: {_names(deleted)}")
    for skill in sorted(touched.skills):
        users = sorted(
            slug
            for slug, inst in desired.instances.items()
            if any(a.slug == skill for a in inst.skills or [])
        )
        wanted.update(users)
        if users:
            reasons.append(f"skill {skill} changed; instances assigning it: {_names(users)}")
    if touched.project_changed and _switched_on(old_project or Project(), new_project, "instances"):
        orphans = sorted(set(live_slugs) - set(desired.instances))
        wanted.update(orphans)
        if orphans:
            reasons.append(f"prune.instances switched on; live-only instances: {_names(orphans)}")
    return wanted, reasons


def project_widening(old: Project, new: Project, env: str | None) -> list[str]:
    """Names of the polyant.yaml settings whose change makes every instance worth re-planning."""
    changed: list[str] = []
    if _dump(old.scope_for(env)) != _dump(new.scope_for(env)):
        changed.append(f"environments.{env}.scope or scope" if env else "scope")
    changed += [n for n in ("ignore", "agentOwnedPrompts") if _field(old, n) != _field(new, n)]
    names = [env] if env else sorted(set(old.environments) | set(new.environments))
    for name in names:
        before, after = old.environments.get(name), new.environments.get(name)
        for key in ("url", "variables", "overrides") + (() if env else ("scope",)):
            if _field(before, key) != _field(after, key):
                changed.append(f"environments.{name}.{key}")
    if not env and old.default_environment != new.default_environment:
        changed.append("defaultEnvironment")
    changed += [f"prune.{n}" for n in ("children", "secrets") if _switched_on(old, new, n)]
    return changed


def _switched_on(old: Project, new: Project, name: str) -> bool:
    return not getattr(old.prune, name) and bool(getattr(new.prune, name))


def _field(model: Any, alias: str) -> Any:
    """A field's dumped value by engine name; an absent environment dumps as None."""
    return None if model is None else model.model_dump(mode="json").get(alias)


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json")


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    rest = len(items) - _LIST_LIMIT
    return f"{shown} and {rest} more" if rest > 0 else shown
