"""Issue 15 items 2 and 3: a hostile Retry-After or a slow drip never keeps a command alive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import copy_examples

# A guard against hanging for hours on a regression, not a performance bound.
HANG_GUARD_S = 90


def _plan(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--root", str(root)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )


def test_a_huge_retry_after_is_capped_at_the_window(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path)
    rule = FaultRule(FaultKind.THROTTLE, "GET /api/instances", count=1, retry_after_s=99999)
    faults = FaultPlan([rule])
    sandbox.set_faults(faults)
    run = _plan(root, engine_env)
    assert faults.fired == [1]
    assert run.returncode == 0, run.stderr


def test_past_the_retry_budget_the_run_stops_with_one_clear_line(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path)
    rule = FaultRule(FaultKind.THROTTLE, "GET /api/instances", retry_after_s=99999)
    sandbox.set_faults(FaultPlan([rule]))
    run = _plan(root, {**engine_env, "POLYANT_RETRY_BUDGET_SECONDS": "1"})
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "retry budget" in lines[-1], run.stderr
    assert "Traceback" not in run.stderr


def test_a_slow_drip_answer_hits_the_overall_deadline(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path)
    # One byte every 0.3 s: each read arrives well within any per-read timeout.
    rule = FaultRule(FaultKind.DRIP, "GET /api/instances", count=1, delay_s=0.3)
    faults = FaultPlan([rule])
    sandbox.set_faults(faults)
    run = _plan(root, {**engine_env, "POLYANT_TIMEOUT_SECONDS": "2"})
    assert faults.fired == [1]
    assert run.returncode == 1, run.stdout + run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "did not answer within 6 s" in last, run.stderr


def test_the_timeout_comes_from_polyant_yaml(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path)
    yaml = (root / "polyant.yaml").read_text()
    (root / "polyant.yaml").write_text(
        yaml.replace("tokenEnv: POLYANT_TOKEN ", "timeoutSeconds: 1\n    tokenEnv: POLYANT_TOKEN ")
    )
    rule = FaultRule(FaultKind.DRIP, "GET /api/instances", delay_s=0.3)
    sandbox.set_faults(FaultPlan([rule]))
    run = _plan(root, engine_env)
    assert run.returncode == 1, run.stdout + run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "did not answer within 3 s" in last, run.stderr


def test_sandbox_faults_are_selectable_from_the_command_line() -> None:
    from tests.cli.helpers import cli

    shown = cli(["sandbox", "--help"])
    assert shown.code == 0
    for word in ("--latency", "--fault", "drip", "throttle", "retry-after"):
        assert word in shown.out, word
    bad = cli(["sandbox", "--fault", "meltdown@GET /api/instances"])
    assert bad.code != 0 and "unknown fault kind 'meltdown'" in bad.err, bad.text


def test_a_fault_spec_becomes_a_rule() -> None:
    from reconciler.sandbox.faults import parse_fault

    rule = parse_fault("drip@GET /api/instances,delay=0.5,count=1")
    assert (rule.kind, rule.match, rule.delay_s, rule.count) == (
        FaultKind.DRIP,
        "GET /api/instances",
        0.5,
        1,
    )
    assert parse_fault("throttle,retry-after=99999").retry_after_s == 99999
