"""Sharded runs: N shards cover every instance exactly once, and shard 1 carries the catalog."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli import scoping
from reconciler.cli.context import Options
from reconciler.cli.pipeline import engine, load_valid, make_plan, supplied_secret_vars
from reconciler.cli.scoping import shard_of
from reconciler.fleet import compare
from reconciler.plan.planfile import plan_from_json
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE
from tests.fleet.repos import write

SLUG = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
REPO_INSTANCES = [f"i-{n:02d}" for n in range(1, 10)]
N = 3


@given(st.sets(SLUG, max_size=60), st.integers(min_value=1, max_value=12))
def test_shards_partition_any_fleet(slugs: set[str], count: int) -> None:
    shards = {i: {s for s in slugs if shard_of(s, count) == i} for i in range(1, count + 1)}
    seen = Counter(s for members in shards.values() for s in members)
    assert set(seen) == slugs and all(n == 1 for n in seen.values())


@given(st.sets(SLUG, min_size=1, max_size=30), SLUG, st.integers(min_value=1, max_value=12))
def test_a_slug_keeps_its_shard_whatever_the_fleet(slugs: set[str], extra: str, count: int) -> None:
    before = {s: shard_of(s, count) for s in slugs}
    assert {s: shard_of(s, count) for s in slugs | {extra}}.items() >= before.items()


def _seed() -> dict[str, Any]:
    def inst(slug: str, description: str) -> dict[str, Any]:
        return {"instance": {"slug": slug, "name": slug.upper(), "description": description}}

    def skill(slug: str, content: str) -> dict[str, Any]:
        version = {"version": "0.1.0", "content": content, "metadata": {}}
        return {"slug": slug, "name": slug, "description": "", "category": "general",
                "isDefault": False, "versions": [version]}  # fmt: skip

    live = [inst(s, "old" if s in ("i-01", "i-02") else "same") for s in REPO_INSTANCES[:5]]
    live += [inst("old-a", "gone"), inst("old-b", "gone")]
    catalog = [skill("faq", "# Old FAQ"), skill("gone", "# Gone")]
    return {"skills": {"version": "1.0", "type": "skills", "skills": catalog}, "instances": live}


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A repo of nine instances and two skills against an engine that differs in every way."""
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(_seed()))
    root = tmp_path / "repo"
    write(root / "polyant.yaml", "version: 1\nprune: {instances: true, skills: true}\n")
    for slug in REPO_INSTANCES:
        write(
            root / f"instances/{slug}/instance.yaml", f"name: {slug.upper()}\ndescription: same\n"
        )
    write(root / "skills/faq/SKILL.md", "---\nname: faq\n---\n\n# New FAQ\n")
    write(root / "skills/newskill/SKILL.md", "---\nname: newskill\n---\n\n# New skill\n")
    with SandboxServer(time_scale=TIME_SCALE, seed_file=seed) as server:
        env = {"POLYANT_URL": server.url, "POLYANT_TOKEN": server.token,
               "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS)}  # fmt: skip
        yield root, env


def _keys(plan_json: str, kind: str) -> list[tuple[str, str]]:
    plan = plan_from_json(plan_json)
    return [(c.key, c.action) for c in plan.changes if c.kind == kind]


def test_sharded_plans_together_are_the_full_plan(fleet: tuple[Path, dict[str, str]]) -> None:
    root, env = fleet
    base = ["plan", "--root", str(root), "--prune", "--force", "--format", "json"]
    full = cli(base, env)
    assert full.code == 0, full.text
    want = _keys(full.out, "instance")
    assert Counter(a for _, a in want) == {"update": 2, "create": 4, "delete": 2}
    shards = [cli([*base, "--shard", f"{i}/{N}"], env) for i in range(1, N + 1)]
    got = [k for run in shards for k in _keys(run.out, "instance")]
    assert sorted(got) == sorted(want)
    assert Counter(got).most_common(1)[0][1] == 1  # every instance change exactly once
    for i, run in enumerate(shards, start=1):
        slugs = {key.split("/", 1)[1] for key, _ in _keys(run.out, "instance")}
        assert all(shard_of(s, N) == i for s in slugs)


def test_shard_one_carries_every_catalog_change(
    fleet: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, env = fleet
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    opts = Options(root=root.resolve(), env_name=None)
    loaded = load_valid(opts)
    with engine(loaded, opts) as client:
        full = make_plan(loaded, client, opts, prune=True, force=True).plan
        plans = []
        for index in range(1, N + 1):
            scoped = scoping.resolve(loaded, client, opts, ref=None, shard=f"{index}/{N}")
            planned = make_plan(loaded, client, opts, prune=True, force=True, only=scoped.only)
            catalog = compare.catalog_changes(
                loaded.state, planned.live, loaded.project, env=None, prune=True,
                supplied=supplied_secret_vars(loaded),
            )  # fmt: skip
            plans.append(compare.shard_plan(planned.plan, index, N, catalog))

    def records(changes: list[Any]) -> list[tuple[str, str, tuple[Any, ...]]]:
        return sorted((c.key, c.action, c.fields) for c in changes)

    assert [(c.key, c.action) for c in plans[0].changes if c.kind == "skill"] == [
        ("skill/faq", "update"), ("skill/newskill", "create"), ("skill/gone", "delete")
    ]  # fmt: skip
    assert all(c.kind == "instance" for p in plans[1:] for c in p.changes)
    assert all(any(n.key == "shard" for n in p.notices) for p in plans[1:])
    union = [c for p in plans for c in p.changes]
    assert records(union) == records(full.changes)
    for plan in plans:
        assert set(plan.fingerprints) == {c.key for c in plan.changes}
