"""Write calls per change against the minimal count, and scoped against full plan reads.

Run: ``.venv/bin/python -m bench.calls [--n 200] [--quick]``

Part 1: a two-instance rich fleet is seeded; each change type is applied alone (plan, apply,
verify, as the CLI does) on a fresh engine, and the writes the engine saw are counted. The
minimal count per type is what the contract makes unavoidable (one route per field family,
§17.8), written down here independently of the apply code.

Part 2: a real git repository of N instances matching a seeded engine; one prompt file is
edited; the real CLI runs `plan` and `plan --changed-since HEAD`, and the engine's request
log says what each read.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bench import fleet, measure
from reconciler import core
from reconciler.cli import main as cli_main
from reconciler.config.writer import write_repo
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.model.project import Project, Prune, Safety

Docs = list[dict[str, Any]]
Skills = list[dict[str, Any]]
SCALE = 60.0
NOTES: dict[str, Any] = {
    "slug": "notes",
    "name": "notes",
    "description": "Take notes",
    "content": "# Notes\n\nKeep short notes (v2).\n",
}
PROJECT = Project(
    prune=Prune(instances=True, skills=True, children=True, secrets=True),
    safety=Safety(max_delete_percent=100, max_update_percent=100, min_objects=0),
)


def _notes_seed() -> dict[str, Any]:
    entry = fleet.seed_skill(NOTES)
    old = dict(entry["versions"][0], content="# Notes\n\nKeep short notes.\n")
    entry["versions"] = [old, dict(entry["versions"][0], version="0.2.0")]
    return entry


def _inst(docs: Docs, i: int = 0) -> dict[str, Any]:
    return docs[i]


def _set(path: Sequence[Any], value: Any) -> Callable[[Docs, Skills], None]:
    def edit(docs: Docs, skills: Skills) -> None:
        target: Any = docs[0]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _add(key: str, item: Any, i: int = 0) -> Callable[[Docs, Skills], None]:
    def edit(docs: Docs, skills: Skills) -> None:
        docs[i][key].append(copy.deepcopy(item))

    return edit


def _skill_update(docs: Docs, skills: Skills) -> None:
    skills[0]["content"] = "# FAQ\n\nSearch the FAQ index; quote two entries.\n"


def _drop_first(key: str) -> Callable[[Docs, Skills], None]:
    def edit(docs: Docs, skills: Skills) -> None:
        del docs[0][key][0]

    return edit


def _new_instance(docs: Docs, skills: Skills) -> None:
    docs.append({"slug": "newcomer", "name": "Newcomer"})


def _drop_instance(docs: Docs, skills: Skills) -> None:
    del docs[1]


NEW_TASK = {
    "name": "Weekly",
    "schedule": {"type": "interval", "everyMs": 604_800_000},
    "prompt": "Weekly report.",
}
NEW_SOURCE = {
    "name": "Billing",
    "sourceType": "webhook",
    "config": {"region": "eu"},
    "definitions": [
        {"name": "Refund", "matchingPrompt": "A refund", "interpretationPrompt": "Summarise it"}
    ],
}
# (change type, edit, minimal writes, why that many)
CASES: list[tuple[str, Callable[[Docs, Skills], None], int, str]] = [
    ("one prompt edit", _set(["prompts", "04-safety"], "Be careful.\n"), 1, "PATCH prompts"),
    (
        "one task schedule",
        _set(
            ["scheduledTasks", 0, "schedule"],
            {"type": "cron", "expression": "30 9 * * *", "timezone": "UTC"},
        ),
        1,
        "PATCH task",
    ),
    (
        "new pinned assignment",
        _add("skills", {"slug": "notes", "pinnedVersion": "0.1.0"}, 1),
        2,
        "enable (pins current) + rollback by version id (§7.6)",
    ),
    (
        "new auto-loaded assignment",
        _add("skills", {"slug": "notes", "autoLoad": True}, 1),
        2,
        "enable + auto-load (no enable route takes autoLoad)",
    ),
    (
        "skill content update",
        _skill_update,
        3,
        "catalog import + upgrade per following instance (2)",
    ),
    ("description", _set(["description"], "Changed"), 1, "PATCH instance"),
    ("provider + model", _set(["model"], "gpt-4.1"), 1, "PATCH instance (both fields)"),
    ("manual tool added", _add("manualTools", "searchMemory"), 1, "PATCH tools"),
    ("secret declared + supplied", _add("secrets", "tavily_api_key"), 1, "PUT secrets"),
    (
        "plain skill env value",
        _set(["skillEnv", fleet.SKILL_SLUG, "FAQ_INDEX"], "moved"),
        1,
        "PUT skill env",
    ),
    ("channel switched off", _set(["channels", "whatsapp", "enabled"], False), 1, "PUT channel"),
    ("room interval", _set(["room", "evalIntervalMinutes"], 15), 1, "PUT room"),
    (
        "new event source + 1 definition",
        _add("eventSources", NEW_SOURCE),
        2,
        "POST source + POST definition",
    ),
    (
        "definition edit",
        _set(["eventSources", 0, "definitions", 0, "matchingPrompt"], "A new"),
        1,
        "PUT definition",
    ),
    ("event source disabled", _set(["eventSources", 0, "enabled"], False), 1, "PUT source"),
    ("new task", _add("scheduledTasks", NEW_TASK), 1, "POST task"),
    (
        "new disabled task",
        _add("scheduledTasks", dict(NEW_TASK, enabled=False)),
        2,
        "POST task + PATCH enabled:false (create ignores it, §17.1)",
    ),
    ("task removed (prune)", _drop_first("scheduledTasks"), 1, "DELETE task"),
    ("event source removed (prune)", _drop_first("eventSources"), 1, "DELETE source"),
    ("new bare instance", _new_instance, 1, "POST instance"),
    ("instance removed (prune)", _drop_instance, 3, "DELETE its 2 tasks (§17.6) + DELETE instance"),
]


@dataclass
class Measured:
    """One change type: writes seen by the engine, apply's extra reads, convergence."""

    name: str
    writes: int
    minimal: int
    reads: int
    converged: bool
    why: str


def _base() -> tuple[Docs, Skills]:
    return [fleet.rich_doc(0), fleet.rich_doc(1)], [fleet.SKILL, NOTES]


def measure_change(
    name: str, edit: Callable[[Docs, Skills], None], minimal: int, why: str
) -> Measured:
    """Apply one change type to a freshly seeded fleet; count what reached the engine."""
    docs, skills = _base()
    seed = fleet.seed_doc(docs, [fleet.SKILL])
    seed["skills"]["skills"].append(_notes_seed())
    docs, skills = copy.deepcopy(docs), copy.deepcopy(skills)
    edit(docs, skills)
    env = fleet.secrets_env(docs)
    env[f"POLYANT_SECRET__{docs[0]['slug'].upper().replace('-', '_')}__TAVILY_API_KEY"] = "t"
    desired = fleet.state_of(docs, skills)
    with measure.sandbox(time_scale=SCALE, seed=seed) as server:
        config = EngineConfig(url=server.url, token=server.token, rate_window_s=60.0 / SCALE)
        with EngineClient(config) as client:
            policy = core.Policy(prune=True, force=True)  # deletes are measured, not refused
            supplied = core.supplied_vars(desired, env)
            plan = core.make_plan(client, desired, PROJECT, policy, supplied=supplied).plan
            server.reset_requests()
            before = client.stats.reads + client.stats.writes
            report = core.apply(client, plan, secrets=env, prune=True)
            measure.settle(server, client.stats.reads + client.stats.writes - before)
            writes = sum(1 for r in server.requests if r.method != "GET")
            core.verify(client, report, desired, PROJECT, policy, supplied=supplied)
            again = core.make_plan(client, desired, PROJECT, policy, supplied=supplied).plan
    return Measured(
        name, writes, minimal, report.reads_made, report.ok() and not again.changes, why
    )


def scoped_vs_full(n: int) -> dict[str, int]:
    """Requests of `plan` and `plan --changed-since HEAD` after one prompt edit, N instances."""
    docs = [fleet.instance_doc(i) for i in range(n)]
    seed = fleet.seed_doc(docs, [fleet.SKILL])
    out: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="polyant-bench-") as tmp:
        root = Path(tmp)
        (root / "polyant.yaml").write_text(fleet.PROJECT_YAML, encoding="utf-8")
        write_repo(root, fleet.fleet_state(n))
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(
            root,
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-qm",
            "fleet",
        )
        prompt = root / "instances" / fleet.slug_of(n // 2) / "prompts" / "04-safety.md"
        prompt.write_text("Never share customer data, not even internally.\n", encoding="utf-8")
        with measure.sandbox(time_scale=SCALE, seed=seed) as server:
            env = {
                "POLYANT_URL": server.url,
                "POLYANT_TOKEN": server.token,
                "POLYANT_RATE_WINDOW_SECONDS": str(60.0 / SCALE),
            }
            for label, extra in (("full", []), ("scoped", ["--changed-since", "HEAD"])):
                server.reset_requests()
                start = time.monotonic()
                result = CliRunner().invoke(
                    cli_main, ["plan", "--root", str(root), *extra], env=env
                )
                out[f"{label}_seconds_x100"] = int((time.monotonic() - start) * 100)
                if result.exit_code != 0 or "04-safety" not in result.stdout:
                    raise SystemExit(f"plan {label} failed: {result.output[-500:]}")
                time.sleep(0.05)  # the sandbox logs a request just after answering it
                out[label] = len(server.requests)
    return out


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run both parts and print the tables and the ratios block."""
    args = _args(argv)
    rows = [measure_change(*case) for case in CASES]
    print(
        measure.table(
            ["change", "writes", "minimal", "ratio", "apply reads", "converged", "minimal calls"],
            [
                [m.name, m.writes, m.minimal, m.writes / m.minimal, m.reads, m.converged, m.why]
                for m in rows
            ],
        )
    )
    print()
    counts = scoped_vs_full(args.n)
    print(
        measure.table(
            ["plan of a one-prompt edit", "requests", "seconds"],
            [
                ["full", counts["full"], counts["full_seconds_x100"] / 100],
                ["--changed-since HEAD", counts["scoped"], counts["scoped_seconds_x100"] / 100],
            ],
        )
    )
    total = sum(m.writes for m in rows)
    least = sum(m.minimal for m in rows)
    ratios: dict[str, object] = {
        f"writes_over_minimal[{m.name}]": m.writes / m.minimal for m in rows
    }
    ratios["writes_over_minimal_all_types"] = total / least
    ratios["changes_not_converged"] = sum(not m.converged for m in rows)
    ratios[f"scoped_over_full_plan_requests_N{args.n}"] = counts["scoped"] / counts["full"]
    print()
    print(measure.ratios_block(ratios))


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.calls", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--n", type=int, default=200, help="instances in the git repo (default 200)"
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke: a 60-instance repo")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 60)
    return args


if __name__ == "__main__":
    main()
