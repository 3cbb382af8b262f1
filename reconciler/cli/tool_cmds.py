"""Supporting commands: the sandbox engine, token minting, GitHub comments and issues."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import context
from reconciler.cli.options import finish
from reconciler.errors import UsageError

if TYPE_CHECKING:
    from reconciler.sandbox.faults import FaultPlan


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=4000, show_default=True, type=int, help="Port to listen on (0: any free)."
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Start with the state in this JSON seed file instead of an empty engine.",
)
@click.option("--time-scale", default=1.0, show_default=True, help="Run the throttle faster.")
@click.option(
    "--engine-line",
    type=click.Choice(["main", "develop"]),
    default="main",
    show_default=True,
    help="Behave as the released engine (main, 172e0bc) or its develop line (5e59498).",
)
@click.option(
    "--latency",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds added before every request is handled.",
)
@click.option(
    "--fault",
    "fault_specs",
    multiple=True,
    metavar="KIND[@MATCH][,k=v...]",
    help="Inject a fault (repeatable). KIND: latency, error, throttle, drop_before, "
    "drop_after, slow, drip. MATCH: a handler glob or 'METHOD /route/template' (default "
    "every request). Options: delay=S, rate=P, count=N, after=N, status=N, retry-after=S, "
    "reset. E.g. --fault 'drip@GET /api/instances,delay=0.5' sends that answer one byte "
    "every 0.5 s; --fault 'throttle,retry-after=99999,count=1' answers one 429.",
)
@click.option("--fault-seed", default=0, show_default=True, help="Seed of the fault draws.")
def sandbox(
    *,
    host: str,
    port: int,
    seed_file: Path | None,
    time_scale: float,
    latency: float,
    fault_specs: tuple[str, ...],
    fault_seed: int,
    engine_line: str,
) -> None:
    """Serve a Polyant-compatible engine in memory (tests, demos, rehearsing applies).

    --latency and --fault make it a slow or hostile engine for rehearsing failures.

    \b
    Environment:
      POLYANT_SANDBOX_TOKEN  the bearer token to accept (else one is generated and printed)
      AUTH_SECRET            also accept session tokens minted from this secret
      POLYANT_SANDBOX_API_KEY  also accept this management key (X-Polyant-Key, every
                             permission; --engine-line develop only)

    It prints its URL and `export POLYANT_URL=... POLYANT_TOKEN=...` lines to paste
    into another shell; stop it with Ctrl-C.
    """
    try:
        from reconciler.sandbox.server import serve
    except ModuleNotFoundError as exc:
        if exc.name not in {"starlette", "uvicorn"}:
            raise
        raise UsageError(
            f"the sandbox needs its web server ({exc.name} is not installed): "
            "pipx install 'polyant-gitops[sandbox]' (or pip install 'polyant-gitops[sandbox]')"
        ) from exc

    env = context.environ()
    api_keys = _sandbox_keys(env.get("POLYANT_SANDBOX_API_KEY") or "", engine_line)
    announced = False

    def announce(url: str, generated: str | None) -> None:
        nonlocal announced
        announced = True
        for line in sandbox_banner(url, generated, with_key=bool(api_keys)):
            click.echo(line)

    try:
        serve(
            host=host,
            port=port,
            static_token=env.get("POLYANT_SANDBOX_TOKEN") or None,
            auth_secret=env.get("AUTH_SECRET") or None,
            seed_file=seed_file,
            time_scale=time_scale,
            announce=announce,
            engine_line=engine_line,
            latency_s=latency,
            faults=_faults(fault_specs, fault_seed),
            api_keys=api_keys,
        )
    except OSError as exc:
        if announced:
            raise
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "pick another --port (0 takes any free one)"
        ) from exc
    finish(0)


def _sandbox_keys(key: str, engine_line: str) -> dict[str, frozenset[str]]:
    # Like develop's org owner key: every permission. The key itself is never printed.
    if not key:
        return {}
    if engine_line != "develop":
        raise UsageError(
            "POLYANT_SANDBOX_API_KEY: management API keys exist on the develop line only; "
            "add --engine-line develop"
        )
    from reconciler.sandbox.develop_auth import ALL_PERMISSIONS

    return {key: ALL_PERMISSIONS}


def sandbox_banner(url: str, generated: str | None, *, with_key: bool = False) -> list[str]:
    """What the sandbox prints once it listens: its URL and lines to paste elsewhere."""
    lines = [f"sandbox engine listening on {url}"]
    if generated is not None:
        lines.append(f"generated bearer token: {generated}")
    lines += ["", "In another shell:", f"  export POLYANT_URL={url}"]
    if generated is not None:
        lines.append(f"  export POLYANT_TOKEN={generated}")
    else:
        lines.append('  export POLYANT_TOKEN="$POLYANT_SANDBOX_TOKEN"  # the token it accepts')
    if with_key:
        lines.append('  export POLYANT_API_KEY="$POLYANT_SANDBOX_API_KEY"  # the key it accepts')
    return lines


def _faults(specs: tuple[str, ...], seed: int) -> FaultPlan | None:
    from reconciler.sandbox.faults import FaultPlan, parse_fault

    try:
        rules = [parse_fault(spec) for spec in specs]
    except ValueError as exc:
        raise UsageError(f"--fault: {exc}") from None
    return FaultPlan(rules, seed=seed) if rules else None


@click.command()
@click.option(
    "--secret-env",
    default="AUTH_SECRET",
    show_default=True,
    help="Variable holding the engine's AUTH_SECRET (never pass it as an argument).",
)
@click.option(
    "--email",
    default="polyant-gitops@localhost",
    show_default=True,
    help="The user the token names.",
)
@click.option(
    "--sub",
    help="The user id (users.id) the token names; engines with a permission guard "
    "(develop) look it up, so give a real user there. Default: a random id.",
)
@click.option("--ttl", default=3600, show_default=True, help="Seconds until the token expires.")
def token(secret_env: str, email: str, sub: str | None, ttl: int) -> None:
    """Mint an engine session token from AUTH_SECRET (prints only the token)."""
    from reconciler.sandbox.auth import mint_token

    secret = context.environ().get(secret_env, "")
    if len(secret) < 32:
        raise UsageError(f"set {secret_env} to the engine's AUTH_SECRET (at least 32 characters)")
    click.echo(mint_token(secret, email=email, ttl_s=ttl, sub=sub or None))
    finish(0)


@click.group()
def github() -> None:
    """GitHub helpers used by the workflows (sticky plan comment, drift issue)."""


@github.command("comment")
@click.option(
    "--body-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Markdown file with the comment's body.",
)
@click.option("--marker", required=True, help="Hidden marker that identifies the comment.")
@click.option("--pr", type=int, help="Pull request number (default: from the event).")
def github_comment(body_file: Path, marker: str, pr: int | None) -> None:
    """Create or update the one comment carrying `marker` on the pull request."""
    from reconciler.github import api as gh

    ctx = gh.context_from_env(context.environ())
    number = pr or gh.pr_number(ctx)
    if number is None:
        raise UsageError("no pull request number: pass --pr or run on a pull_request event")
    body = body_file.read_text(encoding="utf-8")
    action, comment_id = gh.upsert_comment(ctx, pr=number, marker=marker, body=body)
    click.echo(f"{action} comment {comment_id} on pull request #{number}")
    finish(0)


@github.command("drift-issue")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The drift report (drift --format markdown --out FILE).",
)
@click.option(
    "--label", default="polyant-drift", show_default=True, help="Label marking drift issues."
)
@click.option("--env", "env_name", required=True, help="The environment the report is about.")
@click.option("--clean", is_flag=True, help="No drift: close the open issue.")
def github_drift_issue(report_file: Path | None, label: str, env_name: str, clean: bool) -> None:
    """Open, update or close the drift issue of one environment."""
    from reconciler.github import api as gh

    if not clean and (report_file is None or not report_file.exists()):
        raise UsageError("pass --report FILE with the drift report, or --clean")
    body = None if clean else report_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    ctx = gh.context_from_env(context.environ())
    action, number = gh.sync_drift_issue(ctx, env_name=env_name, label=label, body=body)
    click.echo(f"drift issue for {env_name}: {action}" + (f" #{number}" if number else ""))
    finish(0)


@github.command("reviewed-checksum")
@click.option("--sha", required=True, help="The merge commit being applied.")
@click.option(
    "--env", "env_name", required=True, help="Plan key: environment, or ENV:I/N for a shard."
)
def github_reviewed_checksum(sha: str, env_name: str) -> None:
    """Print the plan checksum reviewed on the pull request that merged `sha` (or nothing)."""
    from reconciler.github import api as gh

    ctx = gh.context_from_env(context.environ())
    click.echo(gh.find_reviewed_checksum(ctx, sha, env_name) or "")
    finish(0)


def register(group: click.Group) -> None:
    """Attach this module's commands."""
    for command in (sandbox, token, github):
        group.add_command(command)
