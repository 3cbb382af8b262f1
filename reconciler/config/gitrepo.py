"""Git access boundary: open the repo, resolve revisions, and the applied-commit tag per env.

GitPython is used here and in `reconciler.config.gitscope` only; its errors become `GitError`.
After a successful apply the CLI records the commit as the annotated tag
`polyant-applied/<env>` (force-moved on every apply; message = JSON record). The tag is
local: a workflow that wants it shared pushes it (`git push --force origin <tag>`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import git

from reconciler.errors import GitError, UsageError
from reconciler.model import checks

TAG_PREFIX = "polyant-applied/"
_ENV_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
# Used only when git has no identity configured (bare CI runners): annotated tags need one.
_FALLBACK_IDENT = {
    "GIT_COMMITTER_NAME": "polyant-gitops",
    "GIT_COMMITTER_EMAIL": "polyant-gitops@localhost",
}


def head_commit(root: Path) -> str | None:
    """The checked-out commit sha; None outside a git repository or before the first commit."""
    try:
        repo, _ = open_repo(root)
        return str(repo.head.commit.hexsha)
    except (GitError, ValueError):
        return None


def record_applied(root: Path, env_name: str, commit: str, *, engine_url: str) -> str:
    """Create or force-move the annotated tag `polyant-applied/<env>` to `commit`; its name."""
    name = _tag_name(env_name)
    repo, _ = open_repo(root)
    sha = resolve(repo, commit)
    record = {
        "appliedAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "commit": sha,
        "engineUrl": public_url(engine_url),
        "env": env_name,
    }
    message = json.dumps(record, sort_keys=True)
    run(repo, "tag", "--annotate", "--force", "--message", message, name, sha, env=_ident(repo))
    return name


def last_applied(root: Path, env_name: str) -> str | None:
    """Commit sha the `polyant-applied/<env>` tag points at; None without a tag or a repo."""
    name = _tag_name(env_name)
    try:
        repo, _ = open_repo(root)
        return str(repo.git.rev_parse("--verify", "--quiet", f"refs/tags/{name}^{{commit}}"))
    except (GitError, git.GitCommandError):
        return None


def open_repo(root: Path) -> tuple[git.Repo, str]:
    """The repository holding `root`, and `root`'s path inside it ('' or 'sub/dir/')."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise GitError(
            f"{root} is not in a git repository: git-scoped plans and applied-commit records "
            "need one (clone the config repository, or run without --changed-since)"
        ) from exc
    if repo.working_tree_dir is None:
        raise GitError(f"{root} is a bare git repository: run from a checkout with a work tree")
    try:
        inside = root.resolve().relative_to(Path(repo.working_tree_dir).resolve())
    except ValueError as exc:
        raise GitError(f"{root} is not inside the work tree {repo.working_tree_dir}") from exc
    prefix = inside.as_posix()
    return repo, "" if prefix == "." else prefix + "/"


def resolve(repo: git.Repo, ref: str) -> str:
    """Full sha of the commit `ref` names, or a GitError that says how to get it."""
    # A ref starting with "-" would be read by git as an option: never pass it on.
    if ref and not ref.startswith("-"):
        try:
            return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
        except git.GitCommandError:
            pass
    if _is_shallow(repo):
        raise GitError(
            f"the clone is shallow and does not contain {ref!r}: fetch more history "
            "(actions/checkout with fetch-depth: 0, or git fetch --deepen/--unshallow)"
        )
    raise GitError(f"{ref!r} is not a commit in this repository: check the name, or fetch it")


def run(repo: git.Repo, *args: str, env: dict[str, str] | None = None) -> str:
    """Run one git command; its failure becomes a GitError with git's own first line."""
    try:
        return str(repo.git.execute(["git", *args], env=env))
    except git.GitCommandError as exc:
        lines = [ln for ln in str(exc.stderr or "").splitlines() if ln.strip()]
        detail = lines[0].strip().strip("'").strip() if lines else f"exit {exc.status}"
        raise GitError(f"git {args[0]} failed: {detail}") from exc


def public_url(url: str) -> str:
    """The engine URL without user:password, query or fragment: the tag is readable by all."""
    return checks.public_url(url)


def _is_shallow(repo: git.Repo) -> bool:
    try:
        return str(repo.git.rev_parse("--is-shallow-repository")).strip() == "true"
    except git.GitCommandError:
        return (Path(repo.git_dir) / "shallow").exists()


def _tag_name(env_name: str) -> str:
    if not _ENV_NAME_RE.match(env_name):
        raise UsageError(f"environment name {env_name!r} must use only letters, digits, - or _")
    return f"{TAG_PREFIX}{env_name}"


def _ident(repo: git.Repo) -> dict[str, str] | None:
    """Committer identity override, only when git has none of its own (fresh CI runners)."""
    try:
        repo.git.var("GIT_COMMITTER_IDENT")
    except git.GitCommandError:
        return dict(_FALLBACK_IDENT)
    return None
