"""A fleet-wide edit under the throttle: apply's wall time, verification included, ÷ the floor.

Run: ``.venv/bin/python -m bench.edit [--sizes 100,1000] [--skills 1,2] [--quick]``

The sandbox holds N instances matching the repo; the repo then edits one field (the
description) of every instance, and the apply runs with its verification, two ways:
``pipelined`` (what `polyant-gitops apply` runs: each instance read, diffed, written and
checked on its own) and ``classic`` (read everything, then write, then verify: what
--dry-run and --shard still do). Each instance assigns one or two catalog skills with a
plain env value (one env GET per skill per instance).

Floor: the least time the necessary requests can take under 30 requests / 60 s per
handler. Every per-instance route (export, tasks, sources, env GET per skill, PATCH)
carries N necessary calls on its own handler, so the floor is N calls on one handler
plus a chain of 4 round trips (list → export → env → PATCH). Reads and writes that run
one after the other cost two such spans (wall ÷ floor near 2); overlapped, near 1. The
throttle is time-scaled (engine windows last 60/scale real seconds); the ratio holds at
any scale.
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
from reconciler import core, stream
from reconciler.config.load import load_repo
from reconciler.config.writer import write_repo
from reconciler.engine.client import EngineClient
from reconciler.engine.report import ApplyReport
from reconciler.model.objects import State
from reconciler.model.project import Project

CHAIN_RTTS = 4  # list → export → env GET → PATCH


@dataclass
class Edit:
    """One measured fleet-wide edit."""

    n: int
    skills: int
    mode: str
    scale: float
    wall_s: float
    floor_s: float
    requests: int
    minimal: int
    throttled: int
    busiest: tuple[str, int]
    extra_reads: int  # reads beyond the necessary read: verification


def fleet_docs(n: int, skills: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Instance documents with `skills` plain-env skills each, and the catalog."""
    docs = [fleet.instance_doc(i) for i in range(n)]
    if skills == 2:
        docs = [fleet.with_second_skill(d) for d in docs]
    return docs, [fleet.SKILL, fleet.SKILL_2][:skills]


def minimal_requests(n: int, skills: int) -> int:
    """The read (3 lists: instances, models, catalog; per instance export, tasks, sources,
    one env GET per skill) and one PATCH per instance; no verification read (the writes'
    answers can confirm them)."""
    return 3 + n * (3 + skills) + n


def run_edit(n: int, skills: int, scale: float, latency_s: float, mode: str) -> Edit:
    """Seed N matching instances, edit every description in the repo, apply and verify.

    ``pipelined`` is what ``apply`` runs (stream.apply_pipelined); ``classic`` plans
    everything first, then writes, then verifies (what --dry-run and --shard still do).
    """
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
        report = apply_edit(mode, client, loaded.state, loaded.project, env)
        wall = time.monotonic() - start
        assert report.ok() and not report.non_converged, "the edit must apply cleanly"
        assert len(report.results) == n, f"expected {n} updates, ran {len(report.results)}"
        total = client.stats.reads + client.stats.writes
        by_handler, _, throttled = _measure(server, 0, total)
    handler, count = by_handler.most_common(1)[0]
    minimal = minimal_requests(n, skills)
    return Edit(
        n=n,
        skills=skills,
        mode=mode,
        scale=scale,
        wall_s=wall,
        floor_s=minimum_wall(
            minimal_busiest(n, skills), measure.WINDOW_S / scale, CHAIN_RTTS, latency_s
        ),
        requests=total,
        minimal=minimal,
        throttled=throttled,
        busiest=(handler, count),
        extra_reads=client.stats.reads - (minimal - n),
    )


def minimal_busiest(n: int, skills: int) -> int:
    """The necessary calls of the busiest handler: each per-instance route carries N, the
    skill-env route one per skill per instance."""
    return n * max(1, skills)


def apply_edit(
    mode: str,
    client: EngineClient,
    desired: State,
    project: Project,
    env: dict[str, str],
    *,
    only: list[str] | None = None,
) -> ApplyReport:
    """Apply `desired` with its verification, pipelined (as the CLI does) or classic;
    `only`: the instances a scoped run (--changed-since) reads and writes."""
    supplied, policy = core.supplied_vars(desired, env), core.Policy(only=only)
    if mode == "pipelined":
        done = stream.apply_pipelined(
            client, desired, project, policy, secrets=env, supplied=supplied
        )
        assert not done.plan.unsafe and not done.refused, "the edit must be safe"
        return done.report
    plan = core.make_plan(client, desired, project, policy, supplied=supplied).plan
    report = core.apply(client, plan, secrets=env)
    core.verify(client, report, desired, project, policy, supplied=supplied)
    return report


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table and the ratios block."""
    args = _args(argv)
    results: list[Edit] = []
    for n in args.sizes:
        for skills in args.skills:
            scale = args.scale or scale_for(n, "apply")
            for mode in args.modes:
                print(f"edit N={n} skills={skills} {mode}: time scale {scale:g}", flush=True)
                results.append(run_edit(n, skills, scale, args.latency_ms / 1000.0, mode))
    print()
    rows = [
        [
            r.n,
            r.skills,
            r.mode,
            r.scale,
            r.wall_s,
            r.floor_s,
            r.wall_s / r.floor_s,
            f"{r.busiest[0]} ({r.busiest[1]})",
            r.requests,
            r.minimal,
            r.requests / r.minimal,
            r.extra_reads,
            r.throttled,
        ]
        for r in results
    ]
    headers = [
        "N",
        "skills",
        "apply",
        "scale",
        "wall s",
        "floor s",
        "wall/floor",
        "busiest handler (calls)",
        "requests",
        "minimal",
        "req/minimal",
        "extra reads",
        "429s",
    ]
    print(measure.table(headers, rows))
    print()
    ratios: dict[str, object] = {}
    for r in results:
        key = f"edit_N{r.n}_skills{r.skills}_{r.mode}"
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
    parser.add_argument("--modes", default="pipelined,classic", help="pipelined,classic")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per-request latency")
    parser.add_argument("--scale", type=float, default=None, help="force one time scale")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=100 only")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in (args.sizes or ("100" if args.quick else "100,1000")).split(",")]
    args.skills = [int(s) for s in args.skills.split(",")]
    args.modes = args.modes.split(",")
    return args


if __name__ == "__main__":
    main()
