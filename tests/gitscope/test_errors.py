"""Clear GitErrors: unknown refs, shallow clones without the base, no repository at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import git
import pytest

from reconciler.config.gitscope import head_commit, last_applied, project_at, touched_since
from reconciler.errors import GitError

from .repos import ConfigRepo


def test_unknown_ref_says_check_the_name_or_fetch(cfg: ConfigRepo) -> None:
    with pytest.raises(GitError) as info:
        touched_since(cfg.root, "origin/main")
    assert str(info.value) == (
        "'origin/main' is not a commit in this repository: check the name, or fetch it"
    )


@pytest.mark.parametrize("ref", ["0" * 40, "--output={out}", "", "HEAD:polyant.yaml"])
def test_odd_refs_are_refused_the_same_way(cfg: ConfigRepo, tmp_path: Path, ref: str) -> None:
    out = tmp_path / "injected"
    with pytest.raises(GitError, match="is not a commit in this repository"):
        touched_since(cfg.root, ref.format(out=out))
    assert not out.exists()  # a ref is never read as a git option


def _shallow_clone(tmp_path: Path, new_repo: Callable[..., ConfigRepo]) -> tuple[Path, str]:
    origin = new_repo(tmp_path / "origin")
    first = str(origin.repo.head.commit.hexsha)
    origin.write("instances/sales/prompts/01-identity.md", "second\n")
    origin.commit("second")
    origin.write("instances/sales/prompts/01-identity.md", "third\n")
    origin.commit("third")
    clone = tmp_path / "clone"
    git.Git(str(tmp_path)).clone("--depth", "1", f"file://{tmp_path / 'origin'}", str(clone))
    return clone, first


def test_shallow_clone_without_the_base_says_fetch_more_history(
    tmp_path: Path, new_repo: Callable[..., ConfigRepo]
) -> None:
    clone, first = _shallow_clone(tmp_path, new_repo)
    for ref in (first, "HEAD~1"):
        with pytest.raises(GitError) as info:
            touched_since(clone, ref)
        message = str(info.value)
        assert message.startswith(f"the clone is shallow and does not contain {ref!r}")
        assert "actions/checkout with fetch-depth: 0" in message
        assert "git fetch --deepen/--unshallow" in message
    with pytest.raises(GitError, match="fetch-depth: 0"):
        project_at(clone, first)


def test_shallow_clone_with_the_base_works(
    tmp_path: Path, new_repo: Callable[..., ConfigRepo]
) -> None:
    clone, _ = _shallow_clone(tmp_path, new_repo)
    (clone / "instances" / "helpdesk" / "instance.yaml").write_text("name: Help\n")
    assert touched_since(clone, "origin/main").instances == {"helpdesk"}


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError) as info:
        touched_since(plain, "HEAD")
    assert str(info.value).startswith(f"{plain} is not in a git repository: ")
    assert "run without --changed-since" in str(info.value)
    assert head_commit(plain) is None
    assert last_applied(plain, "local") is None


def test_repository_without_commits(tmp_path: Path) -> None:
    git.Repo.init(tmp_path / "empty")
    assert head_commit(tmp_path / "empty") is None
    with pytest.raises(GitError, match="'HEAD' is not a commit in this repository"):
        touched_since(tmp_path / "empty", "HEAD")
