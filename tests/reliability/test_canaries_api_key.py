"""Management API key canaries: POLYANT_API_KEY (sent as X-Polyant-Key) never comes out.

The sandbox runs as the develop line, which accepts management keys; the CLI gets only the
key (no Bearer token), so every answer it reads was let in by the key. One scenario drives
plan (text, json, markdown, saved), apply (with secrets, forced 500s on credential writes,
then clean), a saved-plan apply, drift and export, with GitHub Actions outputs, DEBUG
logging and POLYANT_DEBUG=1; then the failures: a key the engine does not know (401), a
read-only key writing under the enforcing guard (403), an engine answering 500, and
a key with a non-ASCII character. Every sink's raw bytes are searched for every key.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.develop_auth import ALL_PERMISSIONS
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli
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
API_KEY = "canary-mgmt-key-4e9b07d3a1"
UNKNOWN_KEY = "canary-mgmt-unknown-8f2c61"
READ_ONLY_KEY = "canary-mgmt-readonly-d05a93"
NON_ASCII_KEY = "canary-mgmt-nonascii-\u00e9-71b4c2e0"
KEYS = [API_KEY, UNKNOWN_KEY, READ_ONLY_KEY, NON_ASCII_KEY]
READ_PERMISSIONS = frozenset(p for p in ALL_PERMISSIONS if p.endswith(":read"))


def _env(tmp: Path, url: str) -> dict[str, str]:
    return {
        "POLYANT_URL": url,
        "POLYANT_API_KEY": API_KEY,
        "POLYANT_TOKEN": "",  # the key alone must carry every request
        "POLYANT_RATE_WINDOW_SECONDS": str(60.0 / SCALE),
        "POLYANT_DEBUG": "1",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "step_summary"),
        **SECRETS_ENV,
    }


def _successes(sinks: Sinks, server: SandboxServer, root: Path, env: dict[str, str]) -> None:
    tmp, r = sinks.tmp, ["--root", str(root)]
    saved = ["--out", str(tmp / "plan.json"), "--markdown-out", str(tmp / "plan.md")]
    sinks.run("plan text", ["plan", *r], env, 0)
    sinks.run("plan json", ["plan", *r, "--format", "json", *saved], env, 0)
    sinks.run("plan markdown", ["plan", *r, "--format", "markdown"], env, 0)
    faults = FaultPlan([FaultRule(FaultKind.ERROR, m) for m in CREDENTIAL_WRITES])
    server.set_faults(faults)
    failed = ["--report", str(tmp / "failed.json")]
    sinks.run("apply with 500s", ["apply", "--auto-approve", *r, *failed], env, 1)
    server.set_faults(None)
    assert all(faults.fired), f"every credential write met a 500: {faults.fired}"
    report = ["--report", str(tmp / "report.json")]
    sinks.run("apply", ["apply", "--auto-approve", *r, *report], env, 0)
    sinks.run("plan after", ["plan", *r, "--out", str(tmp / "plan2.json")], env, 0)
    saved_plan = ["--plan", str(tmp / "plan2.json")]
    sinks.run("apply saved plan", ["apply", "--auto-approve", *r, *saved_plan], env, 0)
    drift = ["--format", "json", "--out", str(tmp / "drift.json")]
    sinks.run("drift json", ["drift", *r, *drift], env, 0)
    exported = tmp / "exported"
    exported.mkdir()
    (exported / "polyant.yaml").write_text(POLYANT_YAML, encoding="utf-8")
    sinks.run("export", ["export", "--root", str(exported)], env, 0)


def _failures(sinks: Sinks, server: SandboxServer, enforcing_url: str, root: Path) -> None:
    env, r = _env(sinks.tmp, server.url), ["--root", str(root)]
    unknown = {**env, "POLYANT_API_KEY": UNKNOWN_KEY}
    sinks.run("plan with an unknown key (401)", ["plan", *r], unknown, 1)
    sinks.run("apply with an unknown key (401)", ["apply", "--auto-approve", *r], unknown, 1)
    read_only = {**env, "POLYANT_URL": enforcing_url, "POLYANT_API_KEY": READ_ONLY_KEY}
    sinks.run("plan with a read-only key", ["plan", *r], read_only, 0)
    sinks.run("apply lacking a permission (403)", ["apply", "--auto-approve", *r], read_only, 1)
    server.set_faults(FaultPlan([FaultRule(FaultKind.ERROR, "GET /api/instances")]))
    sinks.run("plan on an engine answering 500", ["plan", *r], env, 1)
    sinks.run("drift on an engine answering 500", ["drift", *r], env, 1)
    server.set_faults(None)
    non_ascii = {**env, "POLYANT_API_KEY": NON_ASCII_KEY}
    sinks.run("plan with a non-ASCII key", ["plan", *r], non_ascii, 1)
    sinks.run("apply with a non-ASCII key", ["apply", "--auto-approve", *r], non_ascii, 1)


def _scenario(tmp: Path, server: SandboxServer, enforcing_url: str, log: io.StringIO) -> Sinks:
    sinks = Sinks(tmp)
    root = make_repo(tmp / "repo")
    sinks.run("validate", ["validate", "--root", str(root)], _env(tmp, server.url), 0)
    _successes(sinks, server, root, _env(tmp, server.url))
    _failures(sinks, server, enforcing_url, root)
    sinks.files("file", tmp)
    sinks.out["debug log"] = log.getvalue().encode()
    return sinks


@pytest.fixture(scope="module")
def sinks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sinks]:
    """Run the whole scenario once, against a shadow-mode and an enforcing develop sandbox."""
    develop = {"time_scale": SCALE, "engine_line": "develop", "static_token": CANARY["token"]}
    with (
        debug_log() as log,
        SandboxServer(**develop, api_keys={API_KEY: ALL_PERMISSIONS}) as server,
        SandboxServer(
            **develop, api_keys={READ_ONLY_KEY: READ_PERMISSIONS}, authz_enforce=True
        ) as enforcing,
    ):
        found = _scenario(tmp_path_factory.mktemp("key-canaries"), server, enforcing.url, log)
        tokens = [s.webhook_token for d in server.store.data.values() for s in d.sources.values()]
        found.tmp.joinpath("tokens.json").write_text(json.dumps(tokens), encoding="utf-8")
        yield found


def _err(sinks: Sinks, name: str) -> str:
    return sinks.out[f"{name}: stderr"].decode()


def test_the_key_scenario_reached_every_sink_and_failure(sinks: Sinks) -> None:
    names = " | ".join(sinks.out)
    for expected in ("plan.json", "plan.md", "report.json", "failed.json", "drift.json"):
        assert expected in names, f"no sink {expected!r}"
    for expected in ("github_output", "step_summary", "file: exported/instances/alpha"):
        assert expected in names, f"no sink {expected!r}"
    report = json.loads(sinks.out["file: report.json"])
    assert report["ok"] and report["summary"]["failed"] == 0, report["summary"]
    failed = json.loads(sinks.out["file: failed.json"])
    assert not failed["ok"] and failed["summary"]["failed"] >= 1  # the 500s really happened
    assert "rejected the token (or API key)" in _err(sinks, "plan with an unknown key (401)")
    assert "Missing permission: agent:write" in _err(sinks, "apply lacking a permission (403)")
    assert "500" in _err(sinks, "plan on an engine answering 500")
    non_ascii = _err(sinks, "plan with a non-ASCII key")
    assert non_ascii.startswith("error: POLYANT_API_KEY has a character"), non_ascii
    assert_http_logged(sinks.out["debug log"])  # DEBUG logging was captured


@pytest.mark.parametrize("key", KEYS, ids=["key", "unknown", "read-only", "non-ascii"])
def test_no_management_key_in_any_sink(sinks: Sinks, key: str) -> None:
    leaks = sinks.leaks(key)
    assert leaks == [], f"{key[:16]}… leaked into {leaks}"


def test_no_webhook_token_in_any_sink(sinks: Sinks) -> None:
    tokens = json.loads((sinks.tmp / "tokens.json").read_text())
    assert tokens, "the engine generated webhook tokens"
    for token in tokens:
        assert sinks.leaks(token) == [], f"{token[:8]}… leaked"


BIN = Path(sys.executable).parent / "polyant-gitops"
HANG_GUARD_S = 60  # a guard against a hung sandbox, not a speed bound


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sandbox(tmp: Path, line: str, port: int) -> subprocess.Popen[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "POLYANT_SANDBOX_API_KEY": API_KEY}
    return subprocess.Popen(
        [str(BIN), "sandbox", "--engine-line", line, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_for(port: int, proc: subprocess.Popen[str]) -> None:
    """Until the sandbox listens (or has exited); reading its banner could block forever."""
    for _ in range(HANG_GUARD_S * 20):
        if proc.poll() is not None:
            return
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)


def test_the_sandbox_command_accepts_a_management_key_and_never_prints_it(tmp_path: Path) -> None:
    port = _free_port()
    root = make_repo(tmp_path / "repo")
    env = {"POLYANT_URL": f"http://127.0.0.1:{port}", "POLYANT_TOKEN": "", **SECRETS_ENV}
    proc = _sandbox(tmp_path, "develop", port)
    try:
        _wait_for(port, proc)
        plan = cli(["plan", "--root", str(root)], {**env, "POLYANT_API_KEY": API_KEY})
        wrong = cli(["plan", "--root", str(root)], {**env, "POLYANT_API_KEY": UNKNOWN_KEY})
    finally:
        proc.terminate()
        printed, _ = proc.communicate(timeout=HANG_GUARD_S)
    banner = printed.splitlines()
    assert banner[0] == f"sandbox engine listening on http://127.0.0.1:{port}", printed
    assert '  export POLYANT_API_KEY="$POLYANT_SANDBOX_API_KEY"  # the key it accepts' in banner
    assert plan.code == 0 and "+ create instance/alpha" in plan.out, plan.text
    assert wrong.code == 1 and "rejected the token (or API key)" in wrong.err, wrong.text
    printed += plan.text + wrong.text
    assert API_KEY not in printed and UNKNOWN_KEY not in printed


def test_the_main_line_sandbox_refuses_a_management_key(tmp_path: Path) -> None:
    proc = _sandbox(tmp_path, "main", _free_port())
    out, _ = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 1
    assert out.strip().splitlines() == [
        "error: POLYANT_SANDBOX_API_KEY: management API keys exist on the develop line only; "
        "add --engine-line develop"
    ]
