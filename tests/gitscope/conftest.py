"""Fixtures for git-scope tests: real git repositories holding a small config tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.model.objects import Instance, Skill, SkillAssignment, State

from .repos import ConfigRepo, make_repo


@pytest.fixture
def cfg(tmp_path: Path) -> ConfigRepo:
    """A committed config repository at the repo top."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def new_repo() -> Callable[..., ConfigRepo]:
    """Factory for further repositories (monorepo layout, clone origins)."""
    return make_repo


@pytest.fixture
def desired() -> State:
    """The desired state matching TREE (built directly: what load_repo would give)."""

    def inst(slug: str, name: str, skill: str) -> Instance:
        return Instance(slug=slug, name=name, skills=[SkillAssignment(slug=skill)])

    def skill(slug: str) -> Skill:
        return Skill(slug=slug, name=slug, content=f"Do {slug} things.")

    return State(
        instances={
            "helpdesk": inst("helpdesk", "Helpdesk", "faq-search"),
            "assistant": inst("assistant", "Assistant", "faq-search"),
            "sales": inst("sales", "Sales", "crm-lookup"),
        },
        skills={"faq-search": skill("faq-search"), "crm-lookup": skill("crm-lookup")},
    )
