"""Plan and apply of N instances under the engine's real throttle: rates, wall time, requests.

Run: ``.venv/bin/python -m bench.throughput [--sizes 10,100,1000] [--quick] [--latency-ms 20]``

The sandbox enforces the engine's policy (30 requests per 60 s per route handler, contract
§1.3) with engine time running `time_scale` times faster, so one throttle window lasts
60/scale real seconds; every figure below is a ratio, valid at any scale. The per-request
latency is injected in REAL seconds, so at high scales it weighs more against the window
than it would on a real engine: the ratios are, if anything, pessimistic.

Plan = what `polyant-gitops plan` does against the engine: the live read + the diff of a
repo that matches the seeded fleet. Apply = the read of an empty engine, the writes of N
new instances and the verification re-read (`apply` re-reads what it wrote).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import fleet, measure
from reconciler import core
from reconciler.config.load import load_repo
from reconciler.config.writer import write_repo
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.sandbox.server import SandboxServer

WRITES_PER_INSTANCE = 11  # see minimal_apply_writes
READS_PER_INSTANCE = 4  # export, tasks, event sources, plain env of its one skill


def scale_for(n: int, phase: str) -> float:
    """A time scale that keeps a run short but each window long against the latency.

    Apply walks each instance through a chain of ~12 requests on up to 8 worker threads;
    at a 1 s window (scale 60) with 20 ms real latency that chain, not the throttle, would
    bound it: a time-scaling artefact (on a real engine the window is 60 s). So apply gets
    windows of at least 2 s; the read (three independent requests per instance) is fine
    at 1 s.
    """
    if n <= 300:
        return 20.0
    return 60.0 if phase == "plan" else 30.0


def minimal_plan_reads(n: int) -> int:
    """Reads a complete live read needs (contract §13, §17.2): the instance list and the
    catalog export once; per instance its export bundle, its task list and its event
    sources (the export lacks tasks and source configs) and the env GET of each skill with
    plain env values (the export never carries plain values)."""
    return 2 + READS_PER_INSTANCE * n


def minimal_apply_writes(n: int) -> int:
    """One catalog import, then per new fleet instance: POST instance, PUT secrets, enable
    the skill, auto-load it, PATCH tools (webSearch is not seeded), PUT skill env, PATCH
    prompts, PUT room, POST event source, POST definition, POST task (§17.8)."""
    return 1 + WRITES_PER_INSTANCE * n


def minimum_wall(busiest: int, window_s: float, serial_rtts: int, rtt_s: float) -> float:
    """The least time a phase can take under the throttle.

    A handler admits `limit` requests per sliding window: request k (0-based) cannot be sent
    before floor(k / limit) windows have passed since the first, so the last of the busiest
    handler's n requests leaves after (ceil(n / limit) - 1) windows. Requests on other
    handlers proceed in parallel and cost nothing extra, but a chain of requests that must
    follow each other (list, then export, then env GET) adds one round trip per link.
    """
    windows = max(0, math.ceil(busiest / measure.LIMIT) - 1)
    return windows * window_s + serial_rtts * rtt_s


@dataclass
class Phase:
    """What one phase did, measured from the sandbox's timestamped request log."""

    name: str
    n: int
    scale: float
    wall_s: float
    minimum_s: float
    requests: int
    minimal: int
    throttled: int
    by_handler: Counter[str] = field(default_factory=Counter)
    spans: dict[str, float] = field(default_factory=dict)

    @property
    def window_s(self) -> float:
        return measure.WINDOW_S / self.scale

    def handler_rows(self, top: int = 3) -> list[list[object]]:
        """Per busiest handler: count, achieved rate, bound for that count, ratio."""
        rows: list[list[object]] = []
        for handler, count in self.by_handler.most_common(top):
            span = self.spans.get(handler, 0.0)
            minutes = span * self.scale / 60.0  # engine minutes
            least = minimum_wall(count, self.window_s, 0, 0.0) * self.scale / 60.0
            if count <= measure.LIMIT or minutes <= 0:
                rows.append([self.name, self.n, handler, count, "-", "-", "n/a (≤ 1 window)"])
                continue
            rate, bound = count / minutes, count / least
            rows.append([self.name, self.n, handler, count, rate, bound, rate / bound])
        return rows

    def rate_ratio(self) -> float | None:
        """Achieved / bound on the busiest handler (None when under one window)."""
        rows = self.handler_rows(1)
        value = rows[0][-1] if rows else None
        return value if isinstance(value, float) else None


def _client(server: SandboxServer, scale: float) -> EngineClient:
    config = EngineConfig(
        url=server.url,
        token=server.token,
        rate_limit=measure.LIMIT,
        rate_window_s=measure.WINDOW_S / scale,
        timeout_s=30.0,
    )
    return EngineClient(config)


def _measure(
    server: SandboxServer, begin: int, end: int
) -> tuple[Counter[str], dict[str, float], int]:
    """Per-handler counts, time spans and 429s of log entries [begin, end) (requests are
    logged in the order they were answered, so a phase is a slice of the log)."""
    measure.settle(server, end)
    log = server.requests
    times = getattr(log, "times", [])
    by_handler: Counter[str] = Counter()
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    throttled = 0
    for record, at in list(zip(log, times, strict=False))[begin:end]:
        name = record.handler or "unrouted"
        by_handler[name] += 1
        first.setdefault(name, at)
        last[name] = at
        throttled += record.status == 429 and record.fault is None
    spans = {h: last[h] - first[h] for h in by_handler}
    return by_handler, spans, throttled


def run_plan(n: int, scale: float, latency_s: float) -> Phase:
    """Plan N seeded instances against a matching repo; the read is the throttled part."""
    docs = [fleet.instance_doc(i) for i in range(n)]
    desired = fleet.fleet_state(n)
    supplied = core.supplied_vars(desired, fleet.secrets_env(docs))
    project = fleet.project()
    with (
        measure.sandbox(
            time_scale=scale, latency_s=latency_s, seed=fleet.seed_doc(docs, [fleet.SKILL])
        ) as server,
        _client(server, scale) as client,
    ):
        start = time.monotonic()
        plan = core.make_plan(client, desired, project, core.Policy(), supplied=supplied).plan
        wall = time.monotonic() - start
        assert not plan.changes, "the generated repo must match the seeded fleet"
        sent = client.stats.reads + client.stats.writes
        by_handler, spans, throttled = _measure(server, 0, sent)
    busiest = max(by_handler.values())
    return Phase(
        "plan",
        n,
        scale,
        wall,
        # lists, then export → env GET of the last instance: three round trips in a chain
        minimum_wall(busiest, measure.WINDOW_S / scale, 3, latency_s),
        sum(by_handler.values()),
        minimal_plan_reads(n),
        throttled,
        by_handler,
        spans,
    )


def run_apply(n: int, scale: float, latency_s: float) -> tuple[Phase, Phase]:
    """Apply a generated N-instance repo to an empty engine; (writes phase, verify phase)."""
    docs = [fleet.instance_doc(i) for i in range(n)]
    env = fleet.secrets_env(docs)
    with tempfile.TemporaryDirectory(prefix="polyant-bench-") as tmp:
        root = Path(tmp)
        (root / "polyant.yaml").write_text(fleet.PROJECT_YAML, encoding="utf-8")
        write_repo(root, fleet.fleet_state(n))
        loaded = load_repo(root)
    window = measure.WINDOW_S / scale
    with (
        measure.sandbox(time_scale=scale, latency_s=latency_s) as server,
        _client(server, scale) as client,
    ):
        start = time.monotonic()
        supplied = core.supplied_vars(loaded.state, env)
        policy = core.Policy()
        plan = core.make_plan(client, loaded.state, loaded.project, policy, supplied=supplied).plan
        report = core.apply(client, plan, secrets=env)
        middle = time.monotonic()
        sent = client.stats.reads + client.stats.writes
        core.verify(client, report, loaded.state, loaded.project, policy, supplied=supplied)
        end = time.monotonic()
        assert report.ok() and not report.non_converged, "the fleet must apply cleanly"
        total = client.stats.reads + client.stats.writes
        writes_h, writes_spans, writes_429 = _measure(server, 0, sent)
        all_h, all_spans, all_429 = _measure(server, sent, total)
    writes_busiest = max(writes_h.values())
    # read (lists: 1 RTT), catalog import + versions (2), then one instance's chain of 11
    # writes and its tools GET (12): the last window's instances still walk their chain.
    first = Phase(
        "apply",
        n,
        scale,
        middle - start,
        minimum_wall(writes_busiest, window, 15, latency_s),
        report.calls_made,
        minimal_apply_writes(n),
        writes_429,
        writes_h,
        writes_spans,
    )
    second = Phase(
        "verify",
        n,
        scale,
        end - middle,
        minimum_wall(max(all_h.values()), window, 3, latency_s),
        sum(all_h.values()),
        minimal_plan_reads(n),
        all_429,
        all_h,
        all_spans,
    )
    return first, second


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the tables and the ratios block."""
    args = _args(argv)
    latency = args.latency_ms / 1000.0
    phases: list[Phase] = []
    for n in args.sizes:
        for phase in ("plan",) if args.plan_only else ("plan", "apply"):
            scale = args.scale or scale_for(n, phase)
            print(
                f"{phase} N={n}: time scale {scale:g} (a 60 s window lasts {60 / scale:.2f} s), "
                f"latency {args.latency_ms:g} ms real",
                flush=True,
            )
            if phase == "plan":
                phases.append(run_plan(n, scale, latency))
            else:
                phases.extend(run_apply(n, scale, latency))
    _print(phases)


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 10,100,1000)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: N=10,100 only")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per-request latency")
    parser.add_argument("--scale", type=float, default=None, help="force one time scale")
    parser.add_argument("--plan-only", action="store_true", help="skip the apply runs")
    args = parser.parse_args(argv)
    default = "10,100" if args.quick else "10,100,1000"
    args.sizes = [int(s) for s in (args.sizes or default).split(",") if s.strip()]
    return args


def _print(phases: list[Phase]) -> None:
    print()
    print(
        measure.table(
            ["phase", "N", "busiest handler", "requests", "rate/min", "bound/min", "rate/bound"],
            [row for p in phases for row in p.handler_rows()],
        )
    )
    print()
    print(
        measure.table(
            [
                "phase",
                "N",
                "scale",
                "wall s",
                "min s",
                "wall/min",
                "counted",
                "made",
                "minimal",
                "made/minimal",
                "429s",
            ],
            [
                [
                    p.name,
                    p.n,
                    p.scale,
                    p.wall_s,
                    p.minimum_s,
                    p.wall_s / p.minimum_s if p.minimum_s else 0.0,
                    "writes" if p.name == "apply" else "reads",
                    p.requests,
                    p.minimal,
                    p.requests / p.minimal,
                    p.throttled,
                ]
                for p in phases
            ],
        )
    )
    print()
    ratios: dict[str, object] = {}
    for p in phases:
        rate = p.rate_ratio()
        ratios[f"{p.name}_N{p.n}_rate_over_bound"] = "n/a" if rate is None else rate
        ratios[f"{p.name}_N{p.n}_wall_over_minimum"] = (
            p.wall_s / p.minimum_s if p.minimum_s else 0.0
        )
        counted = "writes" if p.name == "apply" else "reads"
        ratios[f"{p.name}_N{p.n}_{counted}_over_minimal"] = p.requests / p.minimal
        if p.name == "apply":
            # Beyond the 2 list reads: apply's own GETs (tools before PATCH, skill versions).
            extra = sum(p.by_handler.values()) - p.requests - 2
            ratios[f"apply_N{p.n}_extra_reads_per_instance"] = extra / p.n
        ratios[f"{p.name}_N{p.n}_429s"] = p.throttled
    print(measure.ratios_block(ratios))


if __name__ == "__main__":
    main()
