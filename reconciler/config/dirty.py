"""Which files hold work not committed to git (export must not overwrite them silently)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import git

from reconciler.errors import UsageError


def uncommitted(root: Path, paths: Iterable[Path]) -> list[str]:
    """The existing `paths` whose content git has not committed, relative to `root`.

    Modified, staged and untracked files count. Outside a git repository there is no
    "committed" to compare with, so nothing counts (export there works as it always did).
    """
    existing = sorted(p for p in paths if p.exists())
    if not existing:
        return []
    names = [p.relative_to(root).as_posix() for p in existing]
    try:
        repo = git.Repo(root, search_parent_directories=True)
        top = Path(repo.working_tree_dir or root).resolve()
        status = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--", *names)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return []
    except git.GitCommandError:
        return names  # a broken repository: cannot tell, so protect the files
    dirty = {entry[3:] for entry in status.split("\0") if len(entry) > 3}
    prefix = root.resolve().relative_to(top).as_posix()
    lead = "" if prefix == "." else prefix + "/"
    return [name for name in names if lead + name in dirty]


def refuse_uncommitted(root: Path, paths: Iterable[Path]) -> None:
    """Stop an export before it overwrites work git could not give back."""
    dirty = uncommitted(root, paths)
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise UsageError(
            f"export would overwrite uncommitted changes in {shown}: "
            "commit or stash them, or pass --force"
        )
