"""Fixtures of the GitHub tests: a fake GitHub REST API on loopback and a context for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.github.api import GitHubContext

from .fake_github import REPOSITORY, TOKEN, FakeGitHub


@pytest.fixture(scope="session")
def _github_server() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def fake_github(_github_server: FakeGitHub) -> FakeGitHub:
    """The fake GitHub API, emptied for this test."""
    _github_server.store.reset()
    return _github_server


@pytest.fixture
def gh_ctx(fake_github: FakeGitHub) -> GitHubContext:
    """A context that talks to the fake API as the Actions bot."""
    return GitHubContext(api_url=fake_github.url, repository=REPOSITORY, token=TOKEN)
