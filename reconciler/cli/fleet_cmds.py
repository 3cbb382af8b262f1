"""Commands for fleets of engines: compare environments, bundles in and out."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reconciler.cli import context
from reconciler.cli.options import common, creating, finish, options, output_format, root_option
from reconciler.cli.output import write_file
from reconciler.cli.overrides import keep_overrides
from reconciler.cli.pipeline import engine, load_valid
from reconciler.config.exportfiles import atomic_write
from reconciler.config.load import LoadedRepo, load_repo
from reconciler.config.tree import INSTANCE_FILE
from reconciler.config.writer import INSTANCE_MODELINE, write_repo
from reconciler.config.yamlio import Problems, dump_yaml, parse_yaml
from reconciler.engine.capabilities import detect_engine
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.engine.read import read_live
from reconciler.errors import EXIT_CHANGES, ArgumentError, UsageError
from reconciler.fleet import bundle_in as bundles
from reconciler.fleet import bundle_out as bundles_out
from reconciler.fleet import compare as comparing
from reconciler.model.checks import public_url
from reconciler.model.objects import State
from reconciler.model.project import Scope
from reconciler.plan.changes import LiveSnapshot, Notice
from reconciler.render import compare as shown


@click.command()
@root_option
@click.option("--env", "envs", multiple=True, help="Source, then target environment.")
@click.option("--insecure", is_flag=True, help="Allow plain http to a non-loopback engine.")
@click.option(
    "--mode",
    type=click.Choice(["both", "repo", "live"]),
    default="both",
    show_default=True,
    help="Compare the repository's files, the live engines, or both.",
)
@click.option("--prune", is_flag=True, help="Show what the target has and the source lacks.")
@output_format("the comparison")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the output.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 3 when the environments differ.")
def compare(
    *, root: Path | None, envs: tuple[str, ...], insecure: bool, mode: str, prune: bool, fmt: str,
    out: Path | None, detailed_exitcode: bool,
) -> None:  # fmt: skip
    """Show what promoting the first --env to the second would change (repo and live)."""
    if len(envs) != 2 or envs[0] == envs[1]:
        raise ArgumentError("compare needs two different environments: --env SOURCE --env TARGET")
    source, target = (options(root, name, insecure) for name in envs)
    from_repo, to_repo = load_valid(source), load_valid(target)
    result = shown.Comparison(envs[0], envs[1])
    designed = comparing.compare_repos(
        from_repo.state, to_repo.state, to_repo.project, target_env=envs[1], prune=prune
    )
    if mode != "live":
        result.repo = designed
    if mode != "repo":
        live = _read_both([(from_repo, source), (to_repo, target)])
        result.live = comparing.compare_live(
            live[0], live[1], to_repo.project, target_env=envs[1], prune=prune, designed=designed
        )
    marker = f"<!-- polyant-gitops:compare:{envs[0]}:{envs[1]} -->"
    text = {
        "text": lambda: shown.to_text(result, color=_color()),
        "markdown": lambda: shown.to_markdown(result, marker=marker),
        "json": lambda: shown.to_json(result),
    }[fmt]()
    if out:
        write_file(out, text.encode("utf-8"))
    click.echo(text)
    finish(EXIT_CHANGES if detailed_exitcode and result.differ else 0)


def _read_both(sides: list[tuple[LoadedRepo, context.Options]]) -> list[LiveSnapshot]:
    """Read both engines at once: each has its own throttle budget."""
    jobs, token_vars = [], set()
    for loaded, opts in sides:
        name, env = context.selected_env(loaded.project, opts.env_name)
        config = context.engine_config(loaded.project, opts)  # usage errors before any read
        click.echo(f"reading {name} ({public_url(config.url)})", err=True)
        jobs.append((config, loaded.project.scope_for(name)))
        token_vars.add(context.token_variable(name, env))
    if len(token_vars) == 1:
        click.echo(
            f"warning: both environments read their token from {token_vars.pop()}: the same "
            "token goes to both engines; set POLYANT_TOKEN__<ENV> for each environment "
            "or give them different tokenEnv names",
            err=True,
        )
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(_read_one, config, scope) for config, scope in jobs]
        return [f.result() for f in futures]


def _read_one(config: EngineConfig, scope: Scope) -> LiveSnapshot:
    with EngineClient(config) as client:
        return read_live(client, scope=scope)


@click.group()
def bundle() -> None:
    """Polyant export bundles: import them into the repo, export repo objects as bundles."""


@bundle.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@common
@click.option("--full", is_flag=True, help="Write every field, even ones the files omit.")
@click.option("--tasks", "with_tasks", is_flag=True, help="Write the bundles' scheduled tasks.")
def bundle_import(
    *, files: tuple[Path, ...], root: Path | None, env_name: str | None, insecure: bool, full: bool,
    with_tasks: bool,
) -> None:  # fmt: skip
    """Write engine export bundles (instance or skills catalog) into the repository's files."""
    parsed = [bundles.parse_bundle(_read(path), str(path)) for path in files]
    opts = creating(root, env_name, insecure)  # after parsing: a bad file creates nothing
    loaded = load_repo(opts.root, env=opts.env_name)
    scope = loaded.project.scope_for(loaded.environment)
    imported = bundles.import_bundles(parsed, loaded.state.instances, scope, with_tasks=with_tasks)
    notices = imported.notices + keep_overrides(imported.instances, loaded, source="bundle")
    state = State.model_construct(instances=imported.instances, skills=imported.skills)
    result = write_repo(
        opts.root, state, only_instances=set(imported.instances), skills=bool(imported.skills),
        agent_owned_prompts=loaded.project.agent_owned_prompts, full=full,
        variables=loaded.variables,
    )  # fmt: skip
    _drop_fresh_actions(opts.root, imported.fresh)
    _notices(notices, result.warnings)
    click.echo(
        f"bundle import: {len(imported.instances)} instance(s), {len(imported.skills)} "
        f"skill(s); {len(result.written)} file(s) written, {len(result.unchanged)} unchanged"
    )
    finish(0)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc


def _drop_fresh_actions(root: Path, fresh: dict[str, set[tuple[str, str]]]) -> None:
    """Remove the `action` the writer puts on definitions a bundle knows nothing about."""
    for slug, pairs in fresh.items():
        path = root / "instances" / slug / INSTANCE_FILE
        if not pairs or not path.is_file():
            continue
        problems = Problems()
        doc = parse_yaml(path.read_text(encoding="utf-8"), str(path), problems)
        changed = False
        for source in doc.get("eventSources") or [] if isinstance(doc, dict) else []:
            for definition in source.get("definitions") or []:
                pair = (source.get("name"), definition.get("name"))
                if pair in pairs and definition.get("action") == "backlog":
                    del definition["action"]
                    changed = True
        if changed:
            atomic_write(path, dump_yaml(doc, modeline=INSTANCE_MODELINE).encode("utf-8"))


@bundle.command("export")
@common
@click.option("--instance", "slug", help="The instance to export.")
@click.option("--skills", is_flag=True, help="The catalog bundle (of the instance's skills).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file to write.",
)
@click.option(
    "--bundle-version",
    "version",
    type=click.Choice(["1.0", "1.1", "engine"]),
    default="1.0",
    show_default=True,
    help="1.0: every engine line imports it; 1.1: develop on; engine: what the selected "
    "environment's engine accepts (asks it).",
)
def bundle_export(
    *,
    root: Path | None,
    env_name: str | None,
    insecure: bool,
    slug: str | None,
    skills: bool,
    out: Path,
    version: str,
) -> None:
    """Write engine import bundles from the repository (no secret values).

    Only --bundle-version engine asks the engine; the other versions need none.
    """
    if slug is None and not skills:
        raise ArgumentError("bundle export needs --instance SLUG and/or --skills")
    opts = options(root, env_name, insecure)
    loaded = load_valid(opts)
    version = _bundle_version(loaded, opts, version)
    now, notices = datetime.now(UTC), list[Notice]()
    chosen = set(loaded.state.skills)
    if slug is not None:
        notices, used = _export_instance(loaded, slug, out, now, version)
        chosen &= used
    if skills:
        target = out.with_name(f"{out.stem}-skills{out.suffix}") if slug else out
        notices += _export_skills(loaded, chosen, target, now)
    _notices(notices, [])
    finish(0)


def _export_skills(
    loaded: LoadedRepo, chosen: set[str], target: Path, now: datetime
) -> list[Notice]:
    """Write the catalog bundle of the `chosen` skills to `target`; its notices."""
    data, more = bundles_out.skills_bundle([loaded.state.skills[s] for s in chosen], now)
    _write_bundle(target, data, "skills", more)
    return more


def _bundle_version(loaded: LoadedRepo, opts: context.Options, version: str) -> str:
    """The bundle version to write; `engine` asks the selected environment's engine."""
    if version != "engine":
        return version
    with engine(loaded, opts) as client:
        caps = detect_engine(client)
    click.echo(f"engine line {caps.label}: writing bundle version {caps.bundle_version}", err=True)
    return caps.bundle_version


def _export_instance(
    loaded: LoadedRepo, slug: str, out: Path, now: datetime, version: str
) -> tuple[list[Notice], set[str]]:
    """Write instance `slug`'s bundle to `out`; its notices and the skills it uses."""
    inst = loaded.state.instances.get(slug)
    if inst is None:
        known = ", ".join(sorted(loaded.state.instances)) or "none"
        raise UsageError(f"no instance {slug!r} in the repository (known: {known})")
    data, notices = bundles_out.instance_bundle(inst, now, version)
    _write_bundle(out, data, f"instance/{slug}", notices)
    return notices, {a.slug for a in inst.skills or []}


def _write_bundle(path: Path, data: dict[str, Any], key: str, notices: list[Notice]) -> None:
    too_big = bundles_out.size_notice(data, key)
    if too_big is not None:
        notices.append(too_big)
    write_file(path, bundles_out.bundle_text(data).encode("utf-8"))
    click.echo(f"wrote {path}")


def _notices(notices: Iterable[Notice], warnings: Iterable[str]) -> None:
    for notice in notices:
        label = "warning" if notice.level == "warning" else "note"
        click.echo(f"{label}: {notice.key}: {notice.message}", err=True)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def _color() -> bool:
    return sys.stdout.isatty() and not context.environ().get("NO_COLOR")


def register(group: click.Group) -> None:
    """Attach this module's commands."""
    group.add_command(compare)
    group.add_command(bundle)
