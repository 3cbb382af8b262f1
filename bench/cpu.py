"""Local CPU of load + validate + diff + render of N instances, against a raw YAML parse.

Run: ``.venv/bin/python -m bench.cpu [--n 1000] [--quick] [--repeat 3]``

Baseline: reading the same files and parsing every YAML document with a plain round-trip
`ruamel.yaml` (the parser our loader uses, which keeps line numbers for file:line:col
messages); the `safe` loader is shown for reference (no positions, no comments; pure Python
unless ruamel.yaml.clib is installed).
Ours: `load_repo` (read, hostile-input scan, parse, model validation, checks), the
validation pass the CLI runs again, `diff` against a live state where one instance in ten
differs, and the three renderers. CPU time is `time.process_time` (best of `--repeat`);
memory is the tracemalloc peak of one separate run and the process's max RSS.
"""

from __future__ import annotations

import argparse
import copy
import gc
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bench import fleet, measure
from reconciler.config.load import LoadedRepo, load_repo
from reconciler.config.validate import validate_state
from reconciler.config.writer import write_repo
from reconciler.model.objects import State
from reconciler.plan.changes import LiveSnapshot
from reconciler.plan.diff import diff
from reconciler.render import text as render


def build_repo(root: Path, n: int) -> State:
    """Write the n-instance fleet repo under `root`; return its desired state."""
    state = fleet.fleet_state(n)
    (root / "polyant.yaml").write_text(fleet.PROJECT_YAML, encoding="utf-8")
    write_repo(root, state)
    return state


def live_with_drift(state: State, every: int = 10) -> LiveSnapshot:
    """The desired state with one instance in `every` edited (a prompt and a task)."""
    live = copy.deepcopy(state)
    for i, inst in enumerate(live.instances.values()):
        if i % every:
            continue
        inst.prompts["01-identity"] = inst.prompts["01-identity"] + "\nAn edit made by hand.\n"
        for task in inst.scheduled_tasks or []:
            task.prompt = "Summarise last week's tickets."
    return LiveSnapshot(state=live, instance_slugs=sorted(live.instances))


def raw_parse(root: Path, typ: str = "rt") -> int:
    """Read every file and parse every YAML document (SKILL.md front matter included)."""
    yaml = YAML(typ=typ)
    docs = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".yaml":
            yaml.load(text)
            docs += 1
        elif path.name == "SKILL.md":
            yaml.load(text.split("---", 2)[1])
            docs += 1
    return docs


def ours(root: Path, live: LiveSnapshot) -> dict[str, float]:
    """CPU seconds per stage of what `plan` does locally."""
    stages: dict[str, float] = {}
    loaded: LoadedRepo = _timed(stages, "load", lambda: load_repo(root))
    _timed(stages, "validate", lambda: validate_state(loaded))
    plan = _timed(stages, "diff", lambda: diff(loaded.state, live, loaded.project))
    _timed(stages, "render", lambda: _render_all(plan))
    stages["changes"] = float(len(plan.changes))
    return stages


def _render_all(plan: Any) -> int:
    return len(render.to_text(plan)) + len(render.to_markdown(plan)) + len(render.to_json(plan))


def _timed(stages: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    start = time.process_time()
    value = fn()
    stages[name] = time.process_time() - start
    return value


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Least CPU seconds over `repeat` runs (the least disturbed one) and the last result."""
    times, value = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        value = fn()
        times.append(time.process_time() - start)
    return min(times), value


def peak_memory(fn: Callable[[], Any]) -> int:
    """tracemalloc peak (bytes) of one run of `fn`."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table and the ratios block."""
    args = _args(argv)
    with tempfile.TemporaryDirectory(prefix="polyant-bench-") as tmp:
        root = Path(tmp)
        state = build_repo(root, args.n)
        live = live_with_drift(state)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        files = sum(1 for p in root.rglob("*") if p.is_file())
        raw_s, docs = best(lambda: raw_parse(root), args.repeat)
        safe_s, _ = best(lambda: raw_parse(root, "safe"), args.repeat)
        runs = [ours(root, live) for _ in range(args.repeat)]
        stages = {k: min(r[k] for r in runs) for k in runs[0]}
        ours_s = sum(v for k, v in stages.items() if k != "changes")
        raw_peak = peak_memory(lambda: raw_parse(root))
        ours_peak = peak_memory(lambda: ours(root, live))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (2**20 if sys.platform == "darwin" else 2**10)
    print(
        f"N={args.n}: {files} files, {size / 2**20:.1f} MB, {docs} YAML documents, "
        f"{int(stages['changes'])} changes planned"
    )
    rows = [
        ["raw ruamel parse (round-trip)", raw_s, 1.0, raw_s / args.n * 1000],
        ["raw ruamel parse (safe)", safe_s, safe_s / raw_s, safe_s / args.n * 1000],
    ]
    rows += [
        [f"ours: {k}", v, v / raw_s, v / args.n * 1000] for k, v in stages.items() if k != "changes"
    ]
    rows.append(["ours: total", ours_s, ours_s / raw_s, ours_s / args.n * 1000])
    print(measure.table(["stage", "cpu s", "x raw parse", "ms/instance"], rows))
    print(
        f"tracemalloc peak: raw {raw_peak / 2**20:.1f} MB, ours {ours_peak / 2**20:.1f} MB; "
        f"max RSS {rss_mb:.0f} MB"
    )
    print(
        measure.ratios_block(
            {
                "cpu_ours_over_raw_parse": ours_s / raw_s,
                "cpu_load_over_raw_parse": stages["load"] / raw_s,
                "cpu_ours_over_raw_safe_parse": ours_s / safe_s,
                "peak_mem_ours_over_raw_parse": ours_peak / raw_peak,
                "ours_ms_per_instance": ours_s / args.n * 1000,
                "max_rss_mb": rss_mb,
            }
        )
    )


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="instances (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (best kept)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: N=200, one run")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeat = min(args.n, 200), 1
    return args


if __name__ == "__main__":
    main()
