"""Differential test: the same random operations to the real engine and the sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from reconciler.sandbox import SandboxServer
from tests.acceptance import differ
from tests.acceptance.diffops import generate
from tests.acceptance.engines import Paced, RealEngine, delete_instances, require_tier, sweep

require_tier()

SEED = int(os.environ.get("POLYANT_DIFF_SEED", "1717"))
COUNT = int(os.environ.get("POLYANT_DIFF_COUNT", "200"))
SNAPSHOT_EVERY = 25


@pytest.fixture
def sandbox_api(real: RealEngine) -> Iterator[Paced]:
    # The sandbox plays the line of the engine it is compared with.
    line = "develop" if real.line == "develop" else "main"
    with SandboxServer(limit=1_000_000, seed_demo=True, engine_line=line) as server:
        client = Paced(server.url, server.token)
        yield client
        client.close()


@pytest.fixture
def both(api: Paced, sandbox_api: Paced, rid: str) -> Iterator[tuple[Paced, Paced]]:
    yield api, sandbox_api
    delete_instances(api, rid)
    for _ in sweep(api, rid):
        pass


def test_sandbox_answers_like_the_real_engine(
    real: RealEngine, both: tuple[Paced, Paced], rid: str
) -> None:
    apis = both
    ctxs = (differ.setup(apis[0], rid), differ.setup(apis[1], rid))
    tally = differ.Tally()
    for n, op in enumerate(generate(SEED, COUNT)):
        real_answer = differ.send(apis[0], op, ctxs[0])
        sand_answer = differ.send(apis[1], op, ctxs[1])
        problem = differ.compare(real_answer, sand_answer, ctxs)
        tally.ops += 1
        if problem:
            tally.problems.append(f"#{n} {op.label} {op.method} {op.path}: {problem}")
        else:
            tally.ops_matched += 1
        if (n + 1) % SNAPSHOT_EVERY == 0:
            differ.snapshot_diffs(apis, ctxs, tally, f"after #{n}")
    print(f"\n[{real.line}] {tally.line()} (seed {SEED})")
    for p in tally.problems:
        print("  " + p)
    assert not tally.problems, "\n".join(tally.problems)
