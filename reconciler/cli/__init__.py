"""The `polyant-gitops` command line: one click group, one error handler, exit codes."""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence

import click

from reconciler.errors import EXIT_ERROR, EXIT_OK, ConfigError, GitOpsError


class Group(click.Group):
    """A click group whose commands return exit codes and whose errors are one line each."""

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
            ctx.exit(130)
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


def report_error(exc: GitOpsError) -> None:
    """Print an error for humans (and GitHub annotations for config problems in Actions)."""
    if isinstance(exc, ConfigError):
        from reconciler.cli.context import in_github_actions
        from reconciler.config.validate import format_problem

        for problem in exc.problems:
            click.echo(format_problem(problem, github=False), err=True)
            if in_github_actions():
                click.echo(format_problem(problem, github=True))
    click.echo(f"error: {exc}", err=True)


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
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_ERROR
    return code if isinstance(code, int) else EXIT_OK


def _register() -> None:
    # Imported here so the group exists before the command modules attach to it.
    from reconciler.cli import engine_cmds, fleet_cmds, init_cmd, repo_cmds, tool_cmds

    for module in (init_cmd, repo_cmds, engine_cmds, fleet_cmds, tool_cmds):
        module.register(main)


_register()
