"""Hostile repository inputs: one clear error naming the file, in bounded time and memory."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

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

    # Max RSS, not tracemalloc: tracing would slow the run and spoil the time bound.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.monotonic()
    run = cli(["validate", "--root", str(root)])
    elapsed = time.monotonic() - start
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before

    assert run.code == 1, f"accepted (exit {run.code}):\n{run.text}"
    assert "Traceback" not in run.text
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), run.err
    assert any(case.names in line for line in lines), f"no line names {case.names!r}:\n{run.err}"
    assert all(len(line) < 2000 for line in lines), "an error line carries the file's content"
    assert elapsed < case.max_s, f"took {elapsed:.1f} s"
    assert growth < MAX_RSS_GROWTH, f"max RSS grew by {growth / 2**20:.0f} MB"
    assert _snapshot(outside) == before_outside, "something outside the repo changed"
