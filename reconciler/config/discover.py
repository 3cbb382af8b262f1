"""Find the config repository: the nearest polyant.yaml upward, or the one --root names."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.tree import PROJECT_FILE
from reconciler.errors import NotARepo

INIT_HINT = "run `polyant-gitops init`"


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding polyant.yaml, else None."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def config_root(explicit: Path | None, cwd: Path, *, create: bool = False) -> Path:
    """The repository a command works on; never a folder without polyant.yaml.

    An explicit --root is taken as it is (no walking up: the user named it); otherwise the
    nearest polyant.yaml upward from the working directory, like git and Terraform do.
    ``create`` (export, bundle import) accepts a folder without polyant.yaml (making the
    folder if needed): those commands write one.
    """
    if explicit is not None:
        root = explicit.resolve()
        if create and not root.exists():
            root.mkdir(parents=True)
        if not root.is_dir():
            raise NotARepo(f"{explicit} is not a folder; {INIT_HINT} there first")
        if not create and not (root / PROJECT_FILE).is_file():
            raise NotARepo(f"no {PROJECT_FILE} in {root}; {INIT_HINT}")
        return root
    found = find_root(cwd)
    if found is not None:
        return found
    if create:
        return cwd.resolve()
    raise NotARepo(f"no {PROJECT_FILE} in {cwd.resolve()} or any parent; {INIT_HINT}")
