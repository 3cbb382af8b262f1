"""Apply's confirmation: ask on a terminal, refuse without one unless --auto-approve."""

from __future__ import annotations

import sys

import click

from reconciler.errors import UsageError

QUESTION = "apply these changes? (yes/no)"


class Declined(UsageError):
    """The user answered something other than "yes"."""


def confirm_apply() -> None:
    """Return only when a person typed "yes"; like Terraform, any other answer cancels."""
    if not sys.stdin.isatty():
        raise UsageError(
            "apply needs confirmation and stdin is not a terminal: "
            "review the plan, then pass --auto-approve (or apply a saved plan with --plan)"
        )
    answer = click.prompt(QUESTION, default="", show_default=False, err=True)
    if answer.strip() != "yes":
        raise Declined("apply cancelled: only 'yes' applies; nothing was written")
