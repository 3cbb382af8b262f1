"""Shared steps of the engine commands: load the repo, open the engine, read, diff."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from functools import partial

from reconciler import core, stream
from reconciler.cli import context
from reconciler.cli.progress import Progress
from reconciler.cli.targets import Targets, narrow
from reconciler.config.load import LoadedRepo, load_repo
from reconciler.config.validate import against_engine
from reconciler.engine.client import EngineClient
from reconciler.errors import ConfigError
from reconciler.plan.changes import LiveSnapshot, Plan


def load_valid(
    opts: context.Options, *, instances: Callable[[str], bool] | None = None
) -> LoadedRepo:
    """Load the repo (or the instance folders picked) and fail with every error at once."""
    loaded = load_repo(opts.root, env=opts.env_name, instances=instances)  # validates
    for warning in loaded.findings:
        print(f"warning: {warning}", file=sys.stderr)
    return loaded


@contextmanager
def engine(loaded: LoadedRepo, opts: context.Options) -> Iterator[EngineClient]:
    """An engine client for the selected environment, with a throttle-aware progress line."""
    config = context.engine_config(loaded.project, opts)
    progress = Progress(enabled=sys.stderr.isatty())
    with EngineClient(config, on_wait=progress.waiting) as client, progress:
        progress.attach(client)
        yield client


def make_plan(
    loaded: LoadedRepo,
    client: EngineClient,
    opts: context.Options,
    *,
    prune: bool,
    force: bool,
    only: Collection[str] | None = None,
    shard: tuple[int, int] | None = None,
    targets: Targets | None = None,
) -> core.Planned:
    """Plan through the core with the selected environment and the CLI's secrets."""
    refine = (
        (lambda plan, live: narrow(plan, targets, loaded.state, live.state)) if targets else None
    )
    return core.make_plan(
        client,
        loaded.state,
        loaded.project,
        policy_of(loaded, opts, prune=prune, force=force, only=only, shard=shard),
        supplied=supplied_secret_vars(loaded),
        check=partial(check_against_engine, loaded),
        refine=refine,
    )


def plan_streamed(loaded: LoadedRepo, client: EngineClient, policy: core.Policy) -> Plan:
    """`make_plan`'s plan without holding the live fleet: each instance diffed as read."""
    return stream.plan_pipelined(
        client,
        loaded.state,
        loaded.project,
        policy,
        supplied=supplied_secret_vars(loaded),
        check=partial(check_against_engine, loaded),
    )


def policy_of(
    loaded: LoadedRepo,
    opts: context.Options,
    *,
    prune: bool,
    force: bool,
    only: Collection[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> core.Policy:
    """The core's policy for the selected environment."""
    env_name, _ = context.selected_env(loaded.project, opts.env_name)
    return core.Policy(env=env_name, prune=prune, only=only, shard=shard, force=force)


def check_against_engine(loaded: LoadedRepo, live: LiveSnapshot) -> None:
    """Assignments checked against the live catalog and instances (ConfigError)."""
    # Assignments may name skills that exist only on the engine; now that the catalog has
    # been read, a name that is in neither place is an error instead of a warning.
    errors = against_engine(
        loaded,
        engine_skills=[s for s, skill in live.state.skills.items() if not skill.archived],
        engine_instances=live.instance_slugs,
        engine_models=live.engine.models or None,
    )
    if errors:
        raise ConfigError(errors)


def supplied_secret_vars(loaded: LoadedRepo) -> set[str]:
    """Names (never values) of the set variables that would supply credentials at apply."""
    return core.supplied_vars(loaded.state, context.environ())
