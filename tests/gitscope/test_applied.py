"""The applied-commit record: annotated tag polyant-applied/<env>, force-moved on each apply."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from reconciler.config.gitscope import head_commit, last_applied, record_applied
from reconciler.errors import GitError, UsageError

from .repos import ConfigRepo


def _tag_record(cfg: ConfigRepo, name: str) -> dict[str, str]:
    tag = cfg.repo.tags[name].tag
    assert tag is not None, "the tag must be annotated"
    record: dict[str, str] = json.loads(tag.message)
    return record


def test_round_trip_and_force_move(cfg: ConfigRepo) -> None:
    first = head_commit(cfg.root)
    assert first is not None and len(first) == 40
    assert last_applied(cfg.root, "production") is None
    name = record_applied(cfg.root, "production", "HEAD", engine_url="https://polyant.example")
    assert name == "polyant-applied/production"
    assert last_applied(cfg.root, "production") == first
    record = _tag_record(cfg, name)
    assert record["commit"] == first
    assert record["env"] == "production"
    assert record["engineUrl"] == "https://polyant.example"
    assert record["appliedAt"].endswith("Z")

    cfg.write("instances/helpdesk/prompts/01-identity.md", "Newer.\n")
    second = cfg.commit("newer")
    record_applied(cfg.root, "production", second, engine_url="https://polyant.example")
    assert last_applied(cfg.root, "production") == second
    assert _tag_record(cfg, name)["commit"] == second
    assert [t.name for t in cfg.repo.tags] == [name]


def test_environments_have_separate_tags(cfg: ConfigRepo) -> None:
    first = head_commit(cfg.root)
    record_applied(cfg.root, "staging", "HEAD", engine_url="http://127.0.0.1:4000")
    second = cfg.commit("empty")
    record_applied(cfg.root, "production", "HEAD", engine_url="http://127.0.0.1:4001")
    assert last_applied(cfg.root, "staging") == first
    assert last_applied(cfg.root, "production") == second


def test_engine_url_credentials_never_reach_the_tag(cfg: ConfigRepo) -> None:
    url = "https://ops:hunter2@engine.example:8443/base?token=canary-secret#frag"
    name = record_applied(cfg.root, "prod", "HEAD", engine_url=url)
    assert _tag_record(cfg, name)["engineUrl"] == "https://engine.example:8443/base"
    raw = cfg.repo.git.cat_file("-p", f"refs/tags/{name}")
    assert "hunter2" not in raw and "canary-secret" not in raw and "ops" not in raw


def test_works_without_a_configured_git_identity(
    cfg: ConfigRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    with cfg.repo.config_writer() as writer:
        writer.remove_section("user")
        writer.set_value("user", "useConfigOnly", "true")
    with pytest.raises(git.GitCommandError):
        cfg.repo.git.var("GIT_COMMITTER_IDENT")  # git really has no identity here
    name = record_applied(cfg.root, "ci", "HEAD", engine_url="http://127.0.0.1:4000")
    assert cfg.repo.tags[name].tag.tagger.email == "polyant-gitops@localhost"  # type: ignore[union-attr]


def test_configured_identity_is_kept(cfg: ConfigRepo) -> None:
    name = record_applied(cfg.root, "local", "HEAD", engine_url="http://127.0.0.1:4000")
    assert cfg.repo.tags[name].tag.tagger.email == "test@example.com"  # type: ignore[union-attr]


def test_bad_env_name_and_unknown_commit(cfg: ConfigRepo) -> None:
    with pytest.raises(UsageError, match="letters, digits, - or _"):
        record_applied(cfg.root, "../evil", "HEAD", engine_url="http://x")
    with pytest.raises(GitError, match="'nope' is not a commit"):
        record_applied(cfg.root, "local", "nope", engine_url="http://x")
    assert last_applied(cfg.root, "local") is None


def test_record_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not in a git repository"):
        record_applied(tmp_path, "local", "HEAD", engine_url="http://x")
