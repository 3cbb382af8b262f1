"""The `polyant-gitops` command line: one click group, one error handler, exit codes."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

import click

from reconciler.errors import EXIT_ERROR, EXIT_OK, ConfigError, GitOpsError

EXIT_INTERRUPTED = 130

# Command → the module defining it, imported on first use: `validate` then never imports
# the HTTP client, git or the sandbox (a third of its CPU on a 1,000-instance repo).
COMMAND_MODULES = {
    "init": "init_cmd",
    "validate": "repo_cmds",
    "schema": "repo_cmds",
    "export": "engine_cmds",
    "plan": "engine_cmds",
    "apply": "engine_cmds",
    "drift": "engine_cmds",
    "compare": "fleet_cmds",
    "bundle": "fleet_cmds",
    "sandbox": "tool_cmds",
    "token": "tool_cmds",
    "github": "tool_cmds",
}


class _Commands(dict[str, click.Command]):
    """The group's command table: one module imported per command looked up by name; the
    whole table (every module) for whoever walks it (help, completion, tests)."""

    def __init__(self, group: click.Group) -> None:
        super().__init__()
        self._group = group

    def load(self, name: str) -> None:
        if not super().__contains__(name) and name in COMMAND_MODULES:
            importlib.import_module(f"reconciler.cli.{COMMAND_MODULES[name]}").register(self._group)

    def load_all(self) -> None:
        for name in COMMAND_MODULES:
            self.load(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.load(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> click.Command:
        self.load(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        return (isinstance(name, str) and name in COMMAND_MODULES) or super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        return super().__iter__()

    def __len__(self) -> int:
        self.load_all()
        return super().__len__()

    def keys(self) -> Any:
        self.load_all()
        return super().keys()

    def values(self) -> Any:
        self.load_all()
        return super().values()

    def items(self) -> Any:
        self.load_all()
        return super().items()


class Group(click.Group):
    """A click group whose commands return exit codes and whose errors are one line each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GitOpsError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            silence_stdout()
            click.echo("error: the output was closed before everything was written", err=True)
            ctx.exit(EXIT_ERROR)
        except Exception as exc:  # a bug: one line, the traceback only on request
            if os.environ.get("POLYANT_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"internal error ({type(exc).__name__}): {exc}. "
                "Set POLYANT_DEBUG=1 for details and please report it.",
                err=True,
            )
            ctx.exit(EXIT_ERROR)
        return None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so the final flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def report_error(exc: GitOpsError) -> None:
    """Print an error for humans (and GitHub annotations for config problems in Actions)."""
    if isinstance(exc, ConfigError):
        from reconciler.cli.context import in_github_actions
        from reconciler.config.validate import format_problem

        for problem in exc.problems:
            click.echo(format_problem(problem, github=False), err=True)
            if in_github_actions():
                click.echo(format_problem(problem, github=True))
    from reconciler.model.checks import visible

    click.echo(f"error: {visible(str(exc))}", err=True)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="polyant-gitops")
def main() -> None:
    """GitOps for Polyant: export, validate, plan and apply instances and skills as code.

    Exit codes: 0 ok / no changes, 1 error, 2 usage, 3 changes present (plan and drift
    with --detailed-exitcode; drift always), 4 plan refused as unsafe.
    """


def run(argv: Sequence[str] | None = None) -> int:
    """The one entry point: `polyant-gitops` and `python -m reconciler` both run this."""
    try:
        # Outside standalone mode click *returns* the code of ctx.exit(...) instead of raising.
        args = list(argv) if argv is not None else None
        code = main.main(args=args, prog_name="polyant-gitops", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            click.echo("interrupted", err=True)
            return EXIT_INTERRUPTED
        click.echo("aborted", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    return code if isinstance(code, int) else EXIT_OK
