"""Commands for fleets of engines: compare environments, bundles in and out."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Attach this module's commands."""
    _ = group
