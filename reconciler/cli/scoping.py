"""Scoped runs: --changed-since (git) and --shard I/N, and stamping plans with their scope."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import git

from reconciler.cli import context
from reconciler.cli.pipeline import load_valid
from reconciler.cli.targets import Targets, instance_slugs, targets_instance
from reconciler.config import gitscope
from reconciler.config.load import LoadedRepo, load_project
from reconciler.engine.client import EngineClient
from reconciler.errors import ArgumentError, GitOpsError
from reconciler.plan.changes import Notice, Plan


@dataclass
class Scoped:
    """Which instances a run reads and diffs (None = all), and why."""

    only: set[str] | None
    reasons: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    shard: tuple[int, int] | None = None
    targets: Targets = field(default_factory=Targets)


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' → (2, 4), with a usage error that says what is expected."""
    try:
        index, count = (int(part) for part in text.split("/", 1))
    except ValueError:
        raise ArgumentError(f"--shard {text!r} must look like I/N, e.g. 1/4") from None
    if not 1 <= index <= count:
        raise ArgumentError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


def shard_of(slug: str, count: int) -> int:
    """The shard (1-based) an instance belongs to: stable across runs, machines and N."""
    digest = hashlib.sha256(slug.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def load_scoped(
    opts: context.Options,
    *,
    ref: str | None,
    shard: str | None,
    targets: Targets | None = None,
) -> LoadedRepo:
    """Load polyant.yaml, skills/ and only the instance folders this scoped run can plan.

    A one-prompt --changed-since run then parses one instance folder, not the fleet; an
    --instance run the folders its globs name (a --skill-only run none).
    """
    picks: list[Callable[[str], bool]] = []
    touched = gitscope.touched_since(opts.root, ref) if ref is not None else None
    if ref is not None and touched is not None:
        project = load_project(opts.root, env=opts.env_name).project
        wanted = gitscope.instances_to_load(opts.root, touched, project)
        if wanted is not None:
            picks.append(wanted.__contains__)
    if shard is not None:
        index, count = parse_shard(shard)
        picks.append(lambda slug: shard_of(slug, count) == index)
    if targets:
        picks.append(partial(targets_instance, targets))
    if not picks:
        return _remember(load_valid(opts), ref, touched)
    loaded = load_valid(opts, instances=lambda slug: all(pick(slug) for pick in picks))
    return _remember(loaded, ref, touched)


def _remember(
    loaded: LoadedRepo, ref: str | None, touched: gitscope.TouchedSet | None
) -> LoadedRepo:
    # `resolve` scopes by the very change set the load was narrowed to (one git diff, and
    # no window for the work tree to move between the two).
    if ref is not None and touched is not None:
        loaded.touched[ref] = touched
    return loaded


def resolve(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    *,
    ref: str | None,
    shard: str | None,
    targets: Targets | None = None,
) -> Scoped:
    """Narrow a run to the instances a git change touches, one shard and/or the targets."""
    targets = targets or Targets()
    if ref is None and shard is None and not targets:
        return Scoped(only=None)
    name, live, universe = _universe(loaded, client, opts)
    only, reasons = _by_change(loaded, opts, ref, env=name, live=live, universe=universe)
    parsed = parse_shard(shard) if shard is not None else None
    if parsed is not None:
        only, reasons = _in_shard(only, parsed), [*reasons, f"shard {parsed[0]}/{parsed[1]}"]
    if targets:
        only &= instance_slugs(targets, universe)
    _check_loaded(loaded, only)
    return Scoped(
        only=only,
        reasons=reasons,
        left_out=sorted(universe - only),
        shard=parsed,
        targets=targets,
    )


def _universe(
    loaded: LoadedRepo, client: EngineClient, opts: context.Options
) -> tuple[str | None, list[str], set[str]]:
    """The selected environment, its live instance slugs, and every slug the run could touch."""
    name, _ = context.selected_env(loaded.project, opts.env_name)
    scope = loaded.project.scope_for(name)
    live = [s for s in _live_slugs(client) if scope.has_instance(s)]
    return name, live, set(loaded.state.instances) | loaded.folders | set(live)


def _by_change(
    loaded: LoadedRepo,
    opts: context.Options,
    ref: str | None,
    *,
    env: str | None,
    live: list[str],
    universe: set[str],
) -> tuple[set[str], list[str]]:
    """The instances a git change since `ref` touches (all of `universe` without a ref), and why."""
    only = set(universe)
    if ref is None:
        return only, []
    touched = loaded.touched.get(ref) or gitscope.touched_since(opts.root, ref)
    picked, why = gitscope.scope_instances(
        touched,
        loaded.state,
        live,
        old_project=gitscope.project_at(opts.root, touched.base),
        new_project=loaded.project,
        env=env,
    )
    if picked is not None:
        only &= set(picked)
    return only, list(why)


def _in_shard(only: set[str], shard: tuple[int, int]) -> set[str]:
    """The slugs of `only` that fall in shard `index`/`count`."""
    index, count = shard
    return {s for s in only if shard_of(s, count) == index}


def _check_loaded(loaded: LoadedRepo, only: set[str]) -> None:
    """A scoped load must hold every repo instance the run plans, or the diff would see it
    as missing from the repo (and plan its deletion)."""
    missed = sorted(s for s in only if s in loaded.folders and s not in loaded.state.instances)
    if missed:
        raise GitOpsError(
            f"instance folders changed while planning ({', '.join(missed[:5])}): run it again"
        )


def _live_slugs(client: EngineClient) -> list[str]:
    body = client.get("/api/instances", what="the instance list")
    return [str(item["slug"]) for item in body.get("instances", [])]


def stamp(plan: Plan, scoped: Scoped | None, opts: context.Options) -> Plan:
    """Record where the plan came from: commit, environment scope and what was left out."""
    plan = replace(plan, commit=gitscope.head_commit(opts.root))
    if scoped is not None and scoped.only is not None:
        notices = (*plan.notices, *(Notice("info", "scope", r) for r in scoped.reasons))
        plan = replace(
            plan, scope=tuple(sorted(scoped.only)), left_out=tuple(scoped.left_out), notices=notices
        )
    return plan


def branch_name(root: Path) -> str:
    """The branch being reported on (GITHUB_REF_NAME in Actions, else the checked-out one)."""
    env = context.environ()
    if env.get("GITHUB_REF_NAME"):
        return env["GITHUB_REF_NAME"]
    try:
        return str(git.Repo(root, search_parent_directories=True).active_branch.name)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, TypeError):
        return "HEAD"  # detached or not a repository
