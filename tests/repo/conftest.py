"""Fixtures for the repo-layer tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from repo_trees import Tree, build_tree


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Tree], Path]:
    """Build a config tree in a fresh folder."""

    def make(files: Tree) -> Path:
        return build_tree(tmp_path / "repo", files)

    return make
