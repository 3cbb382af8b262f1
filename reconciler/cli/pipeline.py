"""Shared steps of the engine commands: load the repo, open the engine, read, diff."""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reconciler.cli import context
from reconciler.cli.progress import Progress
from reconciler.config.load import LoadedRepo, load_repo
from reconciler.config.validate import validate_state
from reconciler.engine.client import EngineClient
from reconciler.engine.read import read_live
from reconciler.errors import ConfigError
from reconciler.fleet import compare
from reconciler.plan import diff as planning
from reconciler.plan import safety
from reconciler.plan.changes import LiveSnapshot, Plan


def load_valid(opts: context.Options) -> LoadedRepo:
    """Load the repo and fail with every error-level problem at once."""
    loaded = load_repo(opts.root, env=opts.env_name)
    problems = validate_state(loaded)
    errors = [p for p in problems if p.severity == "error"]
    for warning in (p for p in problems if p.severity != "error"):
        print(f"warning: {warning}", file=sys.stderr)
    if errors:
        raise ConfigError(errors)
    return loaded


@contextmanager
def engine(loaded: LoadedRepo, opts: context.Options) -> Iterator[EngineClient]:
    """An engine client for the selected environment, with a throttle-aware progress line."""
    config = context.engine_config(loaded.project, opts)
    progress = Progress(enabled=sys.stderr.isatty())
    with EngineClient(config, on_wait=progress.waiting) as client, progress:
        progress.attach(client)
        yield client


@dataclass
class Planned:
    """A plan and the live snapshot it was computed from."""

    plan: Plan
    live: LiveSnapshot


def make_plan(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    *,
    prune: bool,
    force: bool,
    only: Collection[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> Planned:
    """Read what the plan needs from the engine and diff it against the repo."""
    env_name, _ = context.selected_env(loaded.project, opts.env_name)
    scope = loaded.project.scope_for(env_name)
    live = read_live(client, scope=scope, only=only)
    _check_against_engine(loaded, live)
    supplied = supplied_secret_vars(loaded)
    plan = planning.diff(
        loaded.state,
        live,
        loaded.project,
        env=env_name,
        prune=prune,
        only=only,
        supplied_secrets=supplied,
    )
    if shard is not None:
        # Every shard sees the whole catalog, but only shard 1 writes catalog skills, so
        # parallel runners never import the same skill twice.
        catalog = compare.catalog_changes(
            loaded.state, live, loaded.project, env=env_name, prune=prune, supplied=supplied
        )
        plan = compare.shard_plan(plan, *shard, catalog)
    plan.environment = env_name
    plan.engine_url = client.url  # never user:password: plans are posted and stored
    # Thresholds count the whole managed fleet, not just a scoped read: deleting one of two
    # scoped instances out of a hundred is 1 %, not 50 %.
    live_in_scope = {s for s in live.instance_slugs if scope.has_instance(s)}
    instances = live_in_scope | set(loaded.state.instances)
    active = {s for s, skill in live.state.skills.items() if not skill.archived}
    skills = {s for s in active if scope.has_skill(s)} | set(loaded.state.skills)
    managed = len(instances) + len(skills)
    safety.check_safety(plan, loaded.project, managed_count=managed, force=force)
    return Planned(plan=plan, live=live)


def _check_against_engine(loaded: LoadedRepo, live: LiveSnapshot) -> None:
    # Assignments may name skills that exist only on the engine; now that the catalog has
    # been read, a name that is in neither place is an error instead of a warning.
    problems = validate_state(
        loaded,
        known_engine_skills=[s for s, skill in live.state.skills.items() if not skill.archived],
        known_engine_instances=live.instance_slugs,
    )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)


def supplied_secret_vars(loaded: LoadedRepo) -> set[str]:
    """Names (never values) of the set variables that would supply credentials at apply."""
    from reconciler.model import secretenv

    env = context.environ()
    names: set[str] = set()
    for slug, inst in loaded.state.instances.items():
        names |= {secretenv.secret_var(slug, key) for key in inst.secrets or []}
        names |= {secretenv.channel_var(slug, kind) for kind in inst.channels or {}}
        for skill, values in (inst.skill_env or {}).items():
            names |= {secretenv.skill_env_var(slug, skill, key) for key in values}
        for source in inst.event_sources or []:
            names |= {secretenv.event_source_var(slug, source.name, k) for k in source.config or {}}
    return {name for name in names if secretenv.lookup(env, name)}
