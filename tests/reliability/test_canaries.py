"""Secret canaries × every output sink: not one byte of a credential may come out.

Planted: an instance secret, WhatsApp credentials (a JSON env var), a sensitive skill env
value, two event-source credentials, the session token, a rejected token, and the webhook
tokens the engine generates. One scenario drives the real CLI through plan (text, json,
markdown, saved), apply (saved plan, report, forced errors: 500s on credential writes and a
401), re-plan, drift and export, with GitHub Actions outputs on, debug logging at DEBUG and
POLYANT_DEBUG=1; every sink's raw bytes are then searched for every canary.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from tests.reliability.sinks import (
    CREDENTIAL_WRITES,
    POLYANT_YAML,
    Sinks,
    assert_http_logged,
    debug_log,
    make_repo,
)
from tests.reliability.states import CANARY, SECRETS_ENV

SCALE = 20.0
WRONG_TOKEN = "canary-rejected-token-6a02f4e1"


def _canaries() -> list[str]:
    values = [*CANARY.values(), WRONG_TOKEN]
    values += [v for v in SECRETS_ENV.values() if not v.startswith("{")]
    return sorted(set(values))


def _scenario(tmp: Path, server: SandboxServer, log: io.StringIO) -> Sinks:
    sinks = Sinks(tmp)
    root = make_repo(tmp / "repo")
    out_file, summary = tmp / "github_output", tmp / "step_summary"
    env = {
        "POLYANT_URL": server.url,
        "POLYANT_TOKEN": CANARY["token"],
        "POLYANT_RATE_WINDOW_SECONDS": str(60.0 / SCALE),
        "POLYANT_DEBUG": "1",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(out_file),
        "GITHUB_STEP_SUMMARY": str(summary),
        **SECRETS_ENV,
    }
    r = ["--root", str(root)]
    sinks.run("validate", ["validate", "--root", str(root)], env, 0)
    sinks.run("plan text", ["plan", *r], env, 0)
    sinks.run(
        "plan json",
        [
            "plan",
            *r,
            "--format",
            "json",
            "--out",
            str(tmp / "plan.json"),
            "--markdown-out",
            str(tmp / "plan.md"),
        ],
        env,
        0,
    )
    sinks.run("plan markdown", ["plan", *r, "--format", "markdown"], env, 0)
    faults = FaultPlan([FaultRule(FaultKind.ERROR, m) for m in CREDENTIAL_WRITES])
    server.set_faults(faults)
    sinks.run(
        "apply with 500s",
        ["apply", "--auto-approve", *r, "--report", str(tmp / "failed.json")],
        env,
        1,
    )
    server.set_faults(None)
    assert all(faults.fired), f"every credential write met a 500: {faults.fired}"
    sinks.run(
        "apply", ["apply", "--auto-approve", *r, "--report", str(tmp / "report.json")], env, 0
    )
    sinks.run("plan after", ["plan", *r, "--out", str(tmp / "plan2.json")], env, 0)
    sinks.run(
        "apply saved plan",
        ["apply", "--auto-approve", *r, "--plan", str(tmp / "plan2.json")],
        env,
        0,
    )
    sinks.run(
        "drift json", ["drift", *r, "--format", "json", "--out", str(tmp / "drift.json")], env, 0
    )
    sinks.run(
        "drift markdown",
        ["drift", *r, "--format", "markdown", "--out", str(tmp / "drift.md")],
        env,
        0,
    )
    exported = tmp / "exported"
    exported.mkdir()
    (exported / "polyant.yaml").write_text(POLYANT_YAML, encoding="utf-8")
    sinks.run("export", ["export", "--root", str(exported)], env, 0)
    sinks.run("plan with a rejected token", ["plan", *r], {**env, "POLYANT_TOKEN": WRONG_TOKEN}, 1)
    sinks.files("file", tmp)
    sinks.out["debug log"] = log.getvalue().encode()
    return sinks


@pytest.fixture(scope="module")
def sinks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sinks]:
    """Run the whole scenario once with DEBUG logging captured from every logger."""
    with (
        debug_log() as log,
        SandboxServer(time_scale=SCALE, static_token=CANARY["token"]) as server,
    ):
        found = _scenario(tmp_path_factory.mktemp("canaries"), server, log)
        tokens = [s.webhook_token for d in server.store.data.values() for s in d.sources.values()]
        found.tmp.joinpath("tokens.json").write_text(json.dumps(tokens), encoding="utf-8")
        yield found


def test_the_scenario_reached_every_sink(sinks: Sinks) -> None:
    names = " | ".join(sinks.out)
    for expected in (
        "plan.json",
        "plan.md",
        "report.json",
        "failed.json",
        "drift.json",
        "drift.md",
        "github_output",
        "step_summary",
        "file: exported/instances/alpha",
    ):
        assert expected in names, f"no sink {expected!r}"
    failed = json.loads(sinks.out["file: failed.json"])
    assert not failed["ok"] and failed["summary"]["failed"] >= 1  # the 500s really happened
    assert b"rejected" in sinks.out["plan with a rejected token: stderr"]  # the 401 happened
    assert_http_logged(sinks.out["debug log"])  # DEBUG logging was captured


@pytest.mark.parametrize("canary", _canaries())
def test_no_canary_in_any_sink(sinks: Sinks, canary: str) -> None:
    tokens = json.loads((sinks.tmp / "tokens.json").read_text())
    assert tokens, "the engine generated webhook tokens"
    for value in [canary, *tokens]:
        needle = value.encode()
        leaks = [name for name, data in sinks.out.items() if needle in data]
        assert leaks == [], f"{value[:12]}… leaked into {leaks}"
