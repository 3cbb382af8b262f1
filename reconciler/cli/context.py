"""The one place that reads the process environment: engine settings, tokens, GitHub flags."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from reconciler.errors import ArgumentError, UsageError
from reconciler.model.checks import header_problem
from reconciler.model.project import DEFAULT_TOKEN_ENV, DEFAULT_URL, Environment, Project

if TYPE_CHECKING:  # the HTTP stack is imported by the commands that talk to an engine
    from reconciler.engine.client import EngineConfig


@dataclass(frozen=True)
class Options:
    """Options shared by every command."""

    root: Path
    env_name: str | None
    insecure: bool = False


def environ() -> Mapping[str, str]:
    """The process environment (secret values are looked up in it at apply time only)."""
    return os.environ


def in_github_actions() -> bool:
    """True when running inside a GitHub Actions job."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def github_file(name: str) -> Path | None:
    """$GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY when running in Actions, else None."""
    value = os.environ.get(name)
    return Path(value) if value and in_github_actions() else None


def selected_env(project: Project, env_name: str | None) -> tuple[str | None, Environment | None]:
    """The environment chosen by --env, else polyant.yaml's defaultEnvironment, else none."""
    name = env_name or project.default_environment
    if name is None:
        return None, None
    if name not in project.environments:
        known = ", ".join(sorted(project.environments)) or "none are defined"
        raise ArgumentError(f"environment {name!r} is not in polyant.yaml (known: {known})")
    return name, project.environments[name]


def token_variable(name: str | None, env: Environment | None) -> str:
    """The variable holding the token: POLYANT_TOKEN__<ENV> when set, else tokenEnv.

    CI gives every GitHub environment its own POLYANT_TOKEN, so files usually say
    `tokenEnv: POLYANT_TOKEN`; the per-environment name lets one local process (compare)
    hold a token per engine without changing the files.
    """
    if name:
        specific = f"POLYANT_TOKEN__{re.sub(r'[^A-Z0-9]+', '_', name.upper()).strip('_')}"
        if os.environ.get(specific):
            return specific
    return env.token_env if env else DEFAULT_TOKEN_ENV


def api_key_variable(name: str | None) -> str:
    """The variable holding a management API key: POLYANT_API_KEY__<ENV> when set, else
    POLYANT_API_KEY. Sent as X-Polyant-Key, it takes precedence over the token."""
    if name:
        specific = f"POLYANT_API_KEY__{re.sub(r'[^A-Z0-9]+', '_', name.upper()).strip('_')}"
        if os.environ.get(specific):
            return specific
    return "POLYANT_API_KEY"


def engine_config(project: Project, opts: Options) -> EngineConfig:
    """URL, token and pacing for the selected engine; the token only ever comes from env."""
    name, env = selected_env(project, opts.env_name)
    url = env.url if env else DEFAULT_URL
    if opts.env_name is None and os.environ.get("POLYANT_URL"):
        url = os.environ["POLYANT_URL"]
    token_var = token_variable(name, env)
    token = os.environ.get(token_var, "")
    api_key = os.environ.get(api_key_variable(name), "")
    if not token and not api_key:
        where = f"environment {name!r} reads it from" if name else "it is read from"
        raise UsageError(
            f"no engine token: set {token_var} ({where} that variable; "
            "`polyant-gitops token` mints one from the engine's AUTH_SECRET), or a "
            f"management API key in {api_key_variable(name)} (engines from develop 5e59498 on)"
        )
    _check_token(token, token_var)
    _check_token(api_key, api_key_variable(name))
    from reconciler.engine.client import EngineConfig

    return EngineConfig(
        url=url.rstrip("/"),
        token=token,
        api_key=api_key,
        insecure=opts.insecure or bool(env and env.insecure),
        rate_limit=_number("POLYANT_RATE_LIMIT", env.rate_limit if env else 30, int),
        rate_window_s=_number(
            "POLYANT_RATE_WINDOW_SECONDS", env.rate_window_seconds if env else 60.0, float
        ),
        timeout_s=_number("POLYANT_TIMEOUT_SECONDS", env.timeout_seconds if env else 20.0, float),
        retry_budget_s=_number("POLYANT_RETRY_BUDGET_SECONDS", 600.0, float),
    )


def _check_token(token: str, var: str) -> None:
    # Named by its variable here; EngineConfig checks again for every other caller.
    # Used for the Bearer token and the management key alike: both travel as headers.
    if problem := header_problem(token):
        raise UsageError(f"{var} {problem}: copy the token again")


N = TypeVar("N", int, float)


def _number(var: str, default: N, kind: type[N]) -> N:
    raw = os.environ.get(var)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise UsageError(f"{var}={raw!r} is not a number") from None
    if value <= 0:
        raise UsageError(f"{var} must be positive")
    return value


def lease_holder() -> str:
    """Who an apply lease names: the CI run, or user@host and pid (printable ASCII only)."""
    import getpass
    import socket

    if in_github_actions():
        repo = os.environ.get("GITHUB_REPOSITORY", "?")
        who = f"GitHub Actions {repo} run {os.environ.get('GITHUB_RUN_ID', '?')}"
    else:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        who = f"{user}@{socket.gethostname()} pid {os.getpid()}"
    return re.sub(r"[^\x21-\x7e ]", "?", who)[:120]


def lease_wait_s(project: Project, env_name: str | None) -> float:
    """Seconds apply waits for another apply's lease: env var, else polyant.yaml, else 300."""
    _, env = selected_env(project, env_name)
    default = env.lease_wait_seconds if env else 300.0
    raw = os.environ.get("POLYANT_LEASE_WAIT_SECONDS")
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"POLYANT_LEASE_WAIT_SECONDS={raw!r} is not a number") from None
    if value < 0:
        raise UsageError("POLYANT_LEASE_WAIT_SECONDS must be 0 or more")
    return value
