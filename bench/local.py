"""Local cost of the real CLI: CPU and peak RSS of validate, plan and apply processes.

Run: ``.venv/bin/python -m bench.local [--sizes 1000,3000] [--quick]``

Every figure is one `polyant-gitops` process (interpreter start included), measured with
GNU time: its user+sys CPU and its peak RSS. The baseline is a raw libyaml compose of the
same files in a fresh interpreter (`python -c`, PyYAML's C loader, every file read and every
YAML document composed): the least a parser-bound run can cost. The engine is the sandbox,
in this benchmark's process (its CPU is not counted), with the throttle scaled away.

* validate, plan (a repo matching the seeded fleet: no changes), apply (a fleet-wide edit:
  every instance's description, so N writes and their verification);
* a one-prompt `plan --changed-since HEAD` in a git repo of the largest fleet.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import cpu, fleet, measure

TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
SCALE = 1e6  # throttle windows of 60 µs: no waiting, the pacing code still runs
RAW = """
import os, sys, yaml
n = 0
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            text = fh.read()
        if name.endswith(".yaml"):
            yaml.compose(text, Loader=yaml.CSafeLoader); n += 1
        elif name == "SKILL.md":
            yaml.compose(text.split("---", 2)[1], Loader=yaml.CSafeLoader); n += 1
print(n)
"""


@dataclass
class Run:
    """One measured process."""

    cpu_s: float
    rss_mb: float
    wall_s: float
    code: int
    output: str


def measured(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> Run:
    """Run `cmd` to the end under GNU time: its own CPU (user+sys) and peak RSS.

    Not wait4() from here: a child forked from this (large) process starts with this
    process's memory high-water mark; GNU time's fork is tiny.
    """
    with tempfile.TemporaryDirectory(prefix="polyant-bench-time-") as tmp:
        stats = Path(tmp) / "stats"
        start = time.monotonic()
        done = subprocess.run(
            [TIME, "-f", "%U %S %M", "-o", str(stats), *cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
        wall = time.monotonic() - start
        user, system, rss_kb = stats.read_text().split()[-3:]
    text = done.stdout.decode("utf-8", "replace")
    return Run(float(user) + float(system), int(rss_kb) / 1024, wall, done.returncode, text)


def raw_compose(root: Path, repeat: int = 3) -> Run:
    """Best of `repeat` raw libyaml compose runs over the repo's files."""
    runs = [measured([sys.executable, "-c", RAW, str(root)]) for _ in range(repeat)]
    return min(runs, key=lambda r: r.cpu_s)


CLI = [str(Path(sys.executable).with_name("polyant-gitops"))]


def cli(*args: str) -> list[str]:
    """The CLI (this checkout's, or --cli), run as a separate process."""
    return [*CLI, *args]


def engine_env(url: str, token: str, n: int) -> dict[str, str]:
    """The process environment of a CLI run against the sandbox (credentials included)."""
    env = dict(os.environ)
    env.update(fleet.secrets_env([fleet.instance_doc(i) for i in range(n)]))
    env.update(
        {
            "POLYANT_URL": url,
            "POLYANT_TOKEN": token,
            "POLYANT_RATE_WINDOW_SECONDS": str(measure.WINDOW_S / SCALE),
        }
    )
    return env


def fleet_wide_edit(root: Path) -> int:
    """Edit one field (the description) of every instance; returns how many were edited."""
    edited = 0
    for path in sorted((root / "instances").glob("*/instance.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("description: ", "description: Edited - ", 1), "utf-8")
        edited += 1
    return edited


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _check(run: Run, what: str, codes: tuple[int, ...] = (0,)) -> Run:
    if run.code not in codes:
        raise SystemExit(f"{what} failed (exit {run.code}):\n{run.output[-2000:]}")
    return run


def one_size(n: int, *, scoped: bool, repeat: int) -> dict[str, Run]:
    """validate, plan, apply (and the scoped plan) of an n-instance fleet."""
    docs = [fleet.instance_doc(i) for i in range(n)]
    out: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="polyant-bench-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        cpu.build_repo(root, n)
        out["raw"] = raw_compose(root, repeat)
        validate = cli("validate", "--root", str(root))
        out["validate"] = min(
            (_check(measured(validate), "validate") for _ in range(repeat)),
            key=lambda r: r.cpu_s,
        )
        seed = fleet.seed_doc(docs, [fleet.SKILL])
        with measure.sandbox(time_scale=SCALE, seed=seed) as server:
            env = engine_env(server.url, server.token, n)
            plan = cli("plan", "--root", str(root), "--detailed-exitcode")
            out["plan"] = _check(measured(plan, env), "plan")
            if scoped:
                _git(root, "init", "-q")
                _git(root, "add", "-A")
                _git(root, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "fleet")
                prompt = root / "instances" / fleet.slug_of(n // 2) / "prompts/04-safety.md"
                prompt.write_text("Never share customer data. Escalate legal requests.\n")
                args = ("plan", "--root", str(root), "--changed-since", "HEAD")
                out["scoped plan"] = _check(measured(cli(*args), env), "scoped plan")
                _git(root, "checkout", "-q", "--", ".")
            fleet_wide_edit(root)
            apply = cli("apply", "--root", str(root), "--force", "--auto-approve")
            out["apply"] = _check(measured(apply, env), "apply")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table and the ratios block."""
    args = _args(argv)
    if args.cli:
        CLI[:] = [args.cli]
    rows: list[list[object]] = []
    ratios: dict[str, object] = {}
    for n in args.sizes:
        print(f"N={n}: building the repo and the sandbox…", flush=True)
        runs = one_size(n, scoped=n == max(args.sizes), repeat=args.repeat)
        raw = runs["raw"].cpu_s
        for name, run in runs.items():
            rows.append([n, name, run.cpu_s, run.cpu_s / raw, run.rss_mb, run.wall_s])
        for name in ("validate", "plan"):
            ratios[f"{name}_N{n}_cpu_over_raw_compose"] = runs[name].cpu_s / raw
        for name in ("validate", "plan", "apply"):
            ratios[f"{name}_N{n}_peak_rss_mb"] = runs[name].rss_mb
        if "scoped plan" in runs:
            ratios[f"scoped_plan_N{n}_cpu_s"] = runs["scoped plan"].cpu_s
    print()
    headers = ["N", "process", "cpu s", "x raw compose", "peak RSS MB", "wall s"]
    print(measure.table(headers, rows))
    print()
    print(measure.ratios_block(ratios))


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.local", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 1000,3000)")
    parser.add_argument("--repeat", type=int, default=3, help="raw and validate runs (best)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=100, one repeat")
    parser.add_argument("--cli", help="another polyant-gitops executable (a before/after run)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in (args.sizes or ("100" if args.quick else "1000,3000")).split(",")]
    if args.quick:
        args.repeat = 1
    return args


if __name__ == "__main__":
    main()
