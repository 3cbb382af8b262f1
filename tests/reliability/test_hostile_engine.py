"""Hostile engine answers: clear one-line errors, bounded requests and memory, no partial writes."""

from __future__ import annotations

import re
import resource
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.config.yamlio import MAX_FILE_BYTES
from tests.cli.helpers import cli
from tests.reliability.fake_engine import FakeEngine, record_base
from tests.reliability.hostile_engine import CASES, Case
from tests.reliability.hostile_repo import write_base

MAX_RSS_GROWTH = 256 * 1024 * 1024
REPO_FILE = re.compile(
    r"^(polyant\.yaml|\.schemas/(instance|polyant|skill)\.json"
    r"|instances/[a-z0-9_-]+/(instance\.yaml|icon\.(png|jpg|jpeg|webp)|prompts/0[1-8]-[a-z-]+\.md)"
    r"|skills/[a-z0-9-]+/(SKILL\.md|scripts/[A-Za-z0-9_][A-Za-z0-9._-]*))$"
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeEngine]:
    """One fake engine for the module, reset to valid answers before each case."""
    engine = FakeEngine(record_base()).start()
    try:
        yield engine
    finally:
        engine.stop()


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_unspoiled_fake_is_a_valid_engine(fake: FakeEngine, tmp_path: Path) -> None:
    fake.reset()
    write_base(tmp_path)
    env = {"POLYANT_URL": fake.url, "POLYANT_TOKEN": "t"}
    assert cli(["export", "--root", str(tmp_path)], env).code == 0
    assert cli(["plan", "--root", str(tmp_path)], env).code == 0


def _cases() -> list[object]:
    return [
        pytest.param(c, command, id=f"{command}-{c.name}")
        for c in CASES
        for command in ("export", "plan")
    ]


@pytest.mark.parametrize(("case", "command"), _cases())
def test_hostile_answer_is_handled_cleanly(
    fake: FakeEngine, tmp_path: Path, case: Case, command: str
) -> None:
    case.apply(fake, fake.reset())
    root = tmp_path / "repo"
    root.mkdir()
    write_base(root)
    before = _files(tmp_path)
    env = {"POLYANT_URL": fake.url, "POLYANT_TOKEN": "t", "POLYANT_RATE_WINDOW_SECONDS": "1"}

    # Max RSS, not tracemalloc: tracing slows ruamel's emitter tenfold on big values.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = cli([command, "--root", str(root)], env)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before

    assert "Traceback" not in run.text and "internal error" not in run.text, run.text
    shown = [str(w.message)[:200] for w in caught if issubclass(w.category, UserWarning)]
    assert shown == [], f"Python warnings reach the user's terminal: {shown}"
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert all(len(line) < 2000 for line in lines), "an error line carries a whole answer"
    # Each route is asked once: no retry or re-read loop on a hostile answer (the fake
    # answers at once, so any extra request would be the reconciler's own doing).
    assert fake.hits and max(fake.hits.values()) == 1, f"routes asked again: {fake.hits}"
    assert growth < MAX_RSS_GROWTH, f"max RSS grew by {growth / 2**20:.0f} MB"
    after = _files(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("repo/")} == {
        k: v for k, v in before.items() if not k.startswith("repo/")
    }, "something outside the repo was written"
    if command in case.fails:
        assert run.code == 1, f"accepted (exit {run.code}):\n{run.text}"
    if run.code != 0:
        assert lines and lines[-1].startswith("error: "), run.err
        assert any(case.names in line for line in lines), f"no line names {case.names!r}"
        assert any(case.says in line for line in lines), f"no line says {case.says!r}"
        assert after == before, "a failed command changed the repo (partial write)"
    elif command == "export":
        names = [k.removeprefix("repo/") for k in after if k.startswith("repo/")]
        assert all(REPO_FILE.match(n) for n in names), f"unexpected file names: {names}"
        too_big = [k for k, v in after.items() if len(v) > MAX_FILE_BYTES]
        assert too_big == [], f"export wrote files the loader refuses: {too_big}"
