"""The fleet-wide edit against the REAL engine (real speed, real throttle): wall ÷ floor.

Run (the engine from ../shared/real-engine; its own port so nothing else shares the budget):

    export POLYANT_URL=http://127.0.0.1:4440
    export POLYANT_TOKEN="$(POLYANT_ENGINE_PORT=4440 ... ../shared/real-engine/start | tail -1)"
    .venv/bin/python -m bench.real [--n 90] [--skills 1]

Creates N instances named `bench-<random>-NNNN` (setup, not measured), then measures
what `apply` does for an edit of every instance's description (pipelined, as the CLI runs
it, or `--mode classic`: read, then write, then verify), at the engine's real 30 requests
/ 60 s per handler. Then
deletes the instances and the catalog skills it created. The instances carry no
channels, tasks or event sources (nothing runs on its own); the skills are the bench
fleet's, with plain env values.

Floor: the busiest handler's necessary calls (the reads and the writes, no
verification) need ceil(calls / 30) - 1 full windows of 60 s after the first burst. The
floor assumes every handler starts with its whole budget, so the edit starts one idle
window after the setup (whose reads and writes used the same handlers).
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from bench import fleet, measure
from bench.edit import apply_edit, fleet_docs, minimal_requests
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.model.project import Project, Prune, Safety, Scope


def real_docs(n: int, skills: int, prefix: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """Bench instances without anything that runs by itself, under unique slugs."""
    docs, catalog = fleet_docs(n, skills)
    out = []
    for i, doc in enumerate(docs):
        slug = f"{prefix}-{i:04d}"
        out.append({**doc, "slug": slug, "eventSources": [], "scheduledTasks": []})
    renamed = [
        {**s, "slug": f"{prefix}-{s['slug']}", "name": f"{prefix}-{s['slug']}"} for s in catalog
    ]
    for doc in out:
        doc["skills"] = [{**a, "slug": f"{prefix}-{a['slug']}"} for a in doc["skills"]]
        doc["skillEnv"] = {f"{prefix}-{k}": v for k, v in doc["skillEnv"].items()}
    return out, renamed


def project(prefix: str) -> Project:
    """Only this run's instances and skills are in scope."""
    return Project(
        scope=Scope(instances=[f"{prefix}-*"], skills=[f"{prefix}-*"]),
        prune=Prune(instances=True, skills=True, children=True, secrets=False),
        safety=Safety(max_delete_percent=100, max_update_percent=100, min_objects=1),
    )


def converge(
    client: EngineClient,
    docs: list[dict[str, Any]],
    catalog: list[Any],
    proj: Project,
    *,
    mode: str = "pipelined",
) -> tuple[float, int]:
    """Apply the desired fleet with its verification; (wall s, requests)."""
    env = fleet.secrets_env(docs)
    desired = fleet.state_of(docs, catalog)
    start_requests = client.stats.reads + client.stats.writes
    start = time.monotonic()
    report = apply_edit(mode, client, desired, proj, env)
    wall = time.monotonic() - start
    if not report.ok() or report.non_converged:
        raise SystemExit(
            f"apply did not converge: {report.non_converged or report.to_json()[:500]}"
        )
    return wall, client.stats.reads + client.stats.writes - start_requests


def cleanup(client: EngineClient, docs: list[dict[str, Any]], catalog: list[Any]) -> None:
    """Delete this run's instances and archive its skills (an empty repo never prunes)."""
    jobs = [partial(client.delete, f"/api/instances/{d['slug']}", what="cleanup") for d in docs]
    jobs += [partial(client.delete, f"/api/skills/{s['slug']}", what="cleanup") for s in catalog]
    client.parallel(jobs)


def main(argv: Sequence[str] | None = None) -> None:
    """Set up, measure the edit, clean up, print the ratios."""
    args = _args(argv)
    url, token = os.environ["POLYANT_URL"], os.environ["POLYANT_TOKEN"]
    prefix = f"bench-{secrets.token_hex(3)}"
    docs, catalog = real_docs(args.n, args.skills, prefix)
    proj = project(prefix)
    config = EngineConfig(url=url, token=token, rate_limit=30, rate_window_s=60.0, timeout_s=60.0)
    with EngineClient(config) as client:
        print(f"{prefix}: creating {args.n} instances (setup, not measured)…", flush=True)
        setup_s, _ = converge(client, docs, catalog, proj)
        # The floor assumes a fresh budget on every handler; setup just spent it.
        print(f"setup took {setup_s:.0f} s; one idle window, then the edit…", flush=True)
        time.sleep(measure.WINDOW_S * 1.05)
        edited = [{**d, "description": f"{d['description']} (edited)"} for d in docs]
        before = client.stats.throttled
        wall, total = converge(client, edited, catalog, proj, mode=args.mode)
        throttled = client.stats.throttled - before
        busiest = args.n * max(1, args.skills)  # the env GET handler carries one per skill
        floor = max(0, math.ceil(busiest / measure.LIMIT) - 1) * measure.WINDOW_S
        print("cleaning up…", flush=True)
        cleanup(client, docs, catalog)
    ratio = wall / floor if floor else float("nan")  # under one window: no floor to compare
    rows = [[args.n, args.skills, args.mode, wall, floor, ratio, total, throttled]]
    headers = [
        "N",
        "skills",
        "apply",
        "wall s",
        "floor s",
        "wall/floor",
        "requests",
        "429s",
    ]
    print(measure.table(headers, rows))
    print(
        measure.ratios_block(
            {
                f"real_edit_N{args.n}_wall_over_floor": ratio,
                f"real_edit_N{args.n}_requests_over_minimal": total
                / minimal_requests(args.n, args.skills),
                f"real_edit_N{args.n}_429s": throttled,
            }
        )
    )


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.real", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=90, help="instances (default 90)")
    parser.add_argument(
        "--skills", type=int, default=1, choices=(1, 2), help="plain-env skills each"
    )
    parser.add_argument(
        "--mode", default="pipelined", choices=("pipelined", "classic"), help="apply path"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
