"""Against the manual alternative: export each bundle, edit it, overwrite-import it.

Run: ``.venv/bin/python -m bench.manual [--n 40] [--quick]``

A user without this tool edits a fleet through the engine's own bundle routes:
``GET /api/instances/:slug/export``, edit the JSON, ``POST /api/instances/:slug/import``.
We make the same small edit (one prompt section) both ways, on one instance and on every
instance of a rich fleet (credentialed WhatsApp channel, event sources with webhook tokens
and a conversation definition, tasks with run history, plain skill env), and count what
each approach destroyed by reading the engine's rows before and after: nothing is taken
from the contract, everything is observed. Wall times are measured under the throttle at
`--scale` and multiplied back to engine seconds (local CPU and latency scale up too, for
both approaches alike).
"""

from __future__ import annotations

import argparse
import copy
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench import fleet, measure
from bench.edit import apply_edit
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.sandbox.server import SandboxServer

SCOPED = "ours --changed-since"
APPROACHES = ("manual", "ours", SCOPED)
SECTION = "04-safety"
NEW_TEXT = "Never share customer data. Escalate any legal request to legal@example.com.\n"
DAMAGE = (
    "webhook tokens changed",
    "event sources disabled",
    "definition settings lost",
    "task ids changed or lost",
    "task run history lost",
    "channel credentials wiped",
    "channels disabled",
    "plain skill env values wiped",
)


@dataclass
class Outcome:
    """One approach on one scenario."""

    approach: str
    scenario: str
    writes: int
    reads: int
    wall_engine_s: float
    damage: Counter[str]
    edited: int


def snapshot(server: SandboxServer, slugs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The rows an overwrite import can destroy, per instance, read from the engine's store."""
    store = server.store
    out: dict[str, dict[str, Any]] = {}
    for inst in store.instances.values():
        if inst.slug not in slugs:
            continue
        data = store.data[inst.id]
        tasks = [t for t in store.tasks.values() if t.instance_key == inst.slug]
        out[inst.slug] = {
            "sources": {s.name: (s.webhook_token, s.enabled) for s in data.sources.values()},
            "definitions": {
                (s.name, d.name): (d.action, d.context_prompt, d.outbound_channel)
                for s in data.sources.values()
                for d in s.definitions.values()
            },
            "tasks": {t.name: (t.id, t.total_runs) for t in tasks},
            "channels": {k: (c.enabled, bool(c.config)) for k, c in data.channels.items()},
            "env": {k: r.value for k, r in data.env.items() if not r.encrypted},
            "prompt": data.prompts[SECTION].content if SECTION in data.prompts else None,
        }
    return out


def damage(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> Counter[str]:
    """What changed that the edit did not ask for, counted per kind."""
    out: Counter[str] = Counter(dict.fromkeys(DAMAGE, 0))
    for slug, old in before.items():
        new = after.get(slug, {})
        for name, (token, enabled) in old["sources"].items():
            now = new.get("sources", {}).get(name)
            out["webhook tokens changed"] += now is None or now[0] != token
            out["event sources disabled"] += enabled and (now is None or not now[1])
        for key, settings in old["definitions"].items():
            out["definition settings lost"] += new.get("definitions", {}).get(key) != settings
        for name, (task_id, runs) in old["tasks"].items():
            now = new.get("tasks", {}).get(name)
            out["task ids changed or lost"] += now is None or now[0] != task_id
            out["task run history lost"] += runs > 0 and (now is None or now[1] < runs)
        for kind, (enabled, has_config) in old["channels"].items():
            now = new.get("channels", {}).get(kind)
            out["channel credentials wiped"] += has_config and (now is None or not now[1])
            out["channels disabled"] += enabled and (now is None or not now[0])
        for key, value in old["env"].items():
            out["plain skill env values wiped"] += (
                bool(value) and new.get("env", {}).get(key) != value
            )
    return out


def edited_count(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> int:
    """Instances whose edited section now holds the new text."""
    return sum(1 for slug in before if after.get(slug, {}).get("prompt") == NEW_TEXT)


def _client(server: SandboxServer, scale: float) -> EngineClient:
    config = EngineConfig(url=server.url, token=server.token, rate_window_s=60.0 / scale)
    return EngineClient(config)


def _run_tasks(server: SandboxServer, client: EngineClient, slugs: Sequence[str]) -> None:
    """Give every task a run history (the sandbox records a successful run)."""
    ids = [(t.instance_key, t.id) for t in server.store.tasks.values() if t.instance_key in slugs]
    client.parallel(
        [
            partial(client.post, f"/api/instances/{slug}/scheduled-tasks/{tid}/run")
            for slug, tid in ids
        ]
    )
    deadline = time.monotonic() + 5
    while (
        any(t.total_runs == 0 for t in server.store.tasks.values()) and time.monotonic() < deadline
    ):
        time.sleep(0.01)


def manual_edit(client: EngineClient, slug: str) -> None:
    """What a user does by hand: export the bundle, edit one prompt, overwrite-import it."""
    bundle = client.get(f"/api/instances/{slug}/export")
    for prompt in bundle["instance"]["prompts"]:
        if prompt["sectionKey"] == SECTION:
            prompt["content"] = NEW_TEXT
    client.post(f"/api/instances/{slug}/import", bundle)


def ours_edit(
    client: EngineClient, docs: list[dict[str, Any]], only: list[str] | None = None
) -> None:
    """What `polyant-gitops apply` does with the edited repo: the pipelined apply (each
    instance read, diffed, written and checked on its own).

    `only`: the instances `apply --changed-since REF` would scope the run to (the edited
    ones); None reads the whole fleet.
    """
    env = fleet.secrets_env(docs)
    desired = fleet.state_of(docs, [fleet.SKILL])
    report = apply_edit("pipelined", client, desired, fleet.project(), env, only=only)
    if not report.ok() or report.non_converged:
        raise SystemExit(f"apply failed: {report.to_json()}")


def run(approach: str, scenario: str, n: int, targets: int, scale: float) -> Outcome:
    """One approach on a freshly seeded rich fleet, editing the first `targets` instances."""
    docs = [fleet.rich_doc(i) for i in range(n)]
    slugs = [d["slug"] for d in docs]
    seed = fleet.seed_doc(docs, [fleet.SKILL])
    with measure.sandbox(time_scale=scale, latency_s=0.02 / scale, seed=seed) as server:
        with _client(server, scale) as setup:
            _run_tasks(server, setup, slugs)
        before = snapshot(server, slugs)
        with _client(server, scale) as client:
            start = time.monotonic()
            if approach == "manual":
                jobs: list[Callable[[], None]] = [
                    partial(manual_edit, client, s) for s in slugs[:targets]
                ]
                client.parallel(jobs)
            else:
                wanted = copy.deepcopy(docs)
                for doc in wanted[:targets]:
                    doc["prompts"][SECTION] = NEW_TEXT
                scoped = slugs[:targets] if approach == SCOPED else None
                ours_edit(client, wanted, scoped)
            wall = time.monotonic() - start
            stats = client.stats
        after = snapshot(server, slugs)
    return Outcome(
        approach,
        scenario,
        stats.writes,
        stats.reads,
        wall * scale,
        damage(before, after),
        edited_count(before, after),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run both approaches on both scenarios and print the tables and the ratios block."""
    args = _args(argv)
    print(f"rich fleet of {args.n} instances, time scale {args.scale:g}", flush=True)
    outcomes = [
        run(approach, scenario, args.n, targets, args.scale)
        for scenario, targets in (("one instance", 1), ("every instance", args.n))
        for approach in APPROACHES
    ]
    print(
        measure.table(
            ["scenario", "approach", "edited", "writes", "reads", "wall (engine s)"],
            [
                [o.scenario, o.approach, o.edited, o.writes, o.reads, o.wall_engine_s]
                for o in outcomes
            ],
        )
    )
    print()
    print(
        measure.table(
            ["destroyed", *[f"{o.approach}/{o.scenario}" for o in outcomes]],
            [[kind, *[o.damage[kind] for o in outcomes]] for kind in DAMAGE],
        )
    )
    ratios: dict[str, object] = {}
    for scenario in ("one instance", "every instance"):
        manual, ours, scoped = (
            next(o for o in outcomes if o.scenario == scenario and o.approach == a)
            for a in APPROACHES
        )
        key = scenario.replace(" ", "_")
        ratios[f"{key}_writes_ours_over_manual"] = ours.writes / max(manual.writes, 1)
        ratios[f"{key}_wall_ours_over_manual"] = ours.wall_engine_s / manual.wall_engine_s
        ratios[f"{key}_wall_scoped_over_manual"] = scoped.wall_engine_s / manual.wall_engine_s
        ratios[f"{key}_objects_destroyed_manual"] = sum(manual.damage.values())
        ratios[f"{key}_objects_destroyed_ours"] = sum(ours.damage.values())
        ratios[f"{key}_objects_destroyed_scoped"] = sum(scoped.damage.values())
    print()
    print(measure.ratios_block(ratios))


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.manual", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=40, help="fleet size (default 40)")
    parser.add_argument("--scale", type=float, default=20.0, help="time scale (default 20)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: a fleet of 10")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 10)
    return args


if __name__ == "__main__":
    main()
