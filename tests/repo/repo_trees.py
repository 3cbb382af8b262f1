"""Builders for the repo-layer tests: small config trees in tmp_path, problems collected."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from reconciler.config.load import load_repo
from reconciler.config.validate import format_problem, validate_state
from reconciler.errors import ConfigError, Problem

Tree = Mapping[str, str | bytes | tuple[str, str]]  # path → text, bytes, or ("symlink", target)


def build_tree(root: Path, files: Tree) -> Path:
    """Write `files` under `root` (symlinks as ("symlink", target)); returns root."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            path.symlink_to(content[1])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def collect(
    root: Path, *, env: str | None = None, known_engine_skills: Collection[str] = ()
) -> list[Problem]:
    """Every problem a validate run reports: load errors, else the validation findings."""
    try:
        loaded = load_repo(root, env=env)
    except ConfigError as exc:
        return list(exc.problems)
    return validate_state(loaded, known_engine_skills=known_engine_skills)


def render(problems: list[Problem]) -> str:
    """The text the CLI would print for these problems."""
    return "\n".join(format_problem(p) for p in problems)
