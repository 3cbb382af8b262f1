"""Hostile repository inputs: one clear error naming the file, refused by countable limits."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from reconciler.model.objects import _dupes  # the pure check whose cost is counted below
from tests.cli.helpers import cli
from tests.reliability.hostile_repo import CASES, Case, write_base

MAX_RSS_GROWTH = 128 * 1024 * 1024


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_the_base_repo_is_valid(tmp_path: Path) -> None:
    write_base(tmp_path)
    run = cli(["validate", "--root", str(tmp_path)])
    assert run.code == 0, run.text


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


def _cases() -> list[object]:
    return [pytest.param(c, id=c.name) for c in CASES]


@pytest.mark.parametrize("case", _cases())
def test_hostile_file_is_one_clear_error(tmp_path: Path, case: Case) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    write_base(root)
    case.apply(root, outside)
    before_outside = _snapshot(outside)

    # Max RSS, not tracemalloc: tracing would slow a 2 MB parse tenfold.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run = cli(["validate", "--root", str(root)])
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before

    assert run.code == 1, f"accepted (exit {run.code}):\n{run.text}"
    assert "Traceback" not in run.text
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), run.err
    assert any(case.names in line for line in lines), f"no line names {case.names!r}:\n{run.err}"
    assert all(len(line) < 2000 for line in lines), "an error line carries the file's content"
    if case.says:
        assert any(case.says in line for line in lines), f"no line says {case.says!r}:\n{run.err}"
    assert growth < MAX_RSS_GROWTH, f"max RSS grew by {growth / 2**20:.0f} MB"
    assert _snapshot(outside) == before_outside, "something outside the repo changed"


class _Counted(str):
    """A name that counts how often it is compared for equality."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        _Counted.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_the_duplicate_check_compares_each_name_a_bounded_number_of_times() -> None:
    # The 12k-item list once took 7 s in a names.count(n) loop: n*n comparisons. Counting
    # comparisons bounds that work whatever the machine's speed (distinct equal objects,
    # so no identity shortcut hides a comparison).
    names: list[str] = [_Counted("readSkill") for _ in range(12_000)]
    _Counted.compared = 0
    problem = _dupes("manualTools", names)
    assert problem == "manualTools names must be unique: readSkill"
    assert _Counted.compared <= 3 * len(names), f"{_Counted.compared} comparisons"
