"""A fleet-wide edit under the throttle: apply's wall time, verification included, ÷ the floor.

Run: ``.venv/bin/python -m bench.edit [--sizes 100,1000] [--skills 1,2] [--quick]``

The sandbox holds N instances matching the repo; the repo then edits one field (the
description) of every instance, and `apply` runs as the CLI runs it: the plan read, the
writes, the verification. Each instance assigns one or two catalog skills with a plain
env value (one env GET per skill per instance, all on one route handler, so with two
skills that handler is the busiest).

Floor: the least time the necessary requests can take under 30 requests / 60 s per
handler: the plan read and the writes, on the handler that carries most of them, plus a
chain of 4 round trips (list → export → env → PATCH). A verification that re-reads
everything doubles the busiest handler's load: wall ÷ floor near 2 means verification
costs a full second read. The throttle is time-scaled (engine windows last 60/scale real
seconds); the ratio holds at any scale.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fleet, measure
from bench.throughput import _client, _measure, minimum_wall, scale_for
from reconciler import core
from reconciler.config.load import load_repo
from reconciler.config.writer import write_repo

CHAIN_RTTS = 4  # list → export → env GET → PATCH


@dataclass
class Edit:
    """One measured fleet-wide edit."""

    n: int
    skills: int
    scale: float
    wall_s: float
    floor_s: float
    requests: int
    minimal: int
    throttled: int
    busiest: tuple[str, int]
    verify_reads: int


def fleet_docs(n: int, skills: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Instance documents with `skills` plain-env skills each, and the catalog."""
    docs = [fleet.instance_doc(i) for i in range(n)]
    if skills == 2:
        docs = [fleet.with_second_skill(d) for d in docs]
    return docs, [fleet.SKILL, fleet.SKILL_2][:skills]


def minimal_requests(n: int, skills: int) -> int:
    """The plan read (2 lists + per instance export, tasks, sources, one env GET per skill)
    and one PATCH per instance; no verification read (the writes' answers could confirm)."""
    return 2 + n * (3 + skills) + n


def run_edit(n: int, skills: int, scale: float, latency_s: float) -> Edit:
    """Seed N matching instances, edit every description in the repo, apply and verify."""
    docs, catalog = fleet_docs(n, skills)
    env = fleet.secrets_env(docs)
    edited = [{**d, "description": f"{d['description']} (edited)"} for d in docs]
    with tempfile.TemporaryDirectory(prefix="polyant-bench-") as tmp:
        root = Path(tmp)
        (root / "polyant.yaml").write_text(fleet.PROJECT_YAML, encoding="utf-8")
        write_repo(root, fleet.state_of(edited, catalog))
        loaded = load_repo(root)
    seed = fleet.seed_doc(docs, catalog)
    with (
        measure.sandbox(time_scale=scale, latency_s=latency_s, seed=seed) as server,
        _client(server, scale) as client,
    ):
        start = time.monotonic()
        supplied, policy = core.supplied_vars(loaded.state, env), core.Policy()
        plan = core.make_plan(client, loaded.state, loaded.project, policy, supplied=supplied).plan
        assert len(plan.changes) == n, f"expected {n} updates, planned {len(plan.changes)}"
        report = core.apply(client, plan, secrets=env)
        before_verify = client.stats.reads + client.stats.writes
        core.verify(client, report, loaded.state, loaded.project, policy, supplied=supplied)
        wall = time.monotonic() - start
        assert report.ok() and not report.non_converged, "the edit must apply cleanly"
        total = client.stats.reads + client.stats.writes
        necessary, _, throttled_a = _measure(server, 0, before_verify)
        _, _, throttled_b = _measure(server, before_verify, total)
    handler, count = necessary.most_common(1)[0]
    window = measure.WINDOW_S / scale
    return Edit(
        n=n,
        skills=skills,
        scale=scale,
        wall_s=wall,
        floor_s=minimum_wall(count, window, CHAIN_RTTS, latency_s),
        requests=total,
        minimal=minimal_requests(n, skills),
        throttled=throttled_a + throttled_b,
        busiest=(handler, count),
        verify_reads=total - before_verify,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table and the ratios block."""
    args = _args(argv)
    results: list[Edit] = []
    for n in args.sizes:
        for skills in args.skills:
            scale = args.scale or scale_for(n, "apply")
            print(f"edit N={n} skills={skills}: time scale {scale:g}", flush=True)
            results.append(run_edit(n, skills, scale, args.latency_ms / 1000.0))
    print()
    rows = [
        [
            r.n,
            r.skills,
            r.scale,
            r.wall_s,
            r.floor_s,
            r.wall_s / r.floor_s,
            f"{r.busiest[0]} ({r.busiest[1]})",
            r.requests,
            r.minimal,
            r.requests / r.minimal,
            r.verify_reads,
            r.throttled,
        ]
        for r in results
    ]
    headers = [
        "N",
        "skills",
        "scale",
        "wall s",
        "floor s",
        "wall/floor",
        "busiest handler (necessary calls)",
        "requests",
        "minimal",
        "req/minimal",
        "verify reads",
        "429s",
    ]
    print(measure.table(headers, rows))
    print()
    ratios: dict[str, object] = {}
    for r in results:
        key = f"edit_N{r.n}_skills{r.skills}"
        ratios[f"{key}_wall_over_floor"] = r.wall_s / r.floor_s
        ratios[f"{key}_requests_over_minimal"] = r.requests / r.minimal
        ratios[f"{key}_429s"] = r.throttled
    print(measure.ratios_block(ratios))


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.edit", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 100,1000)")
    parser.add_argument("--skills", default="1,2", help="plain-env skills per instance: 1,2")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per-request latency")
    parser.add_argument("--scale", type=float, default=None, help="force one time scale")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=100 only")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in (args.sizes or ("100" if args.quick else "100,1000")).split(",")]
    args.skills = [int(s) for s in args.skills.split(",")]
    return args


if __name__ == "__main__":
    main()
