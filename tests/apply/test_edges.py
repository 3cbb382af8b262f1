"""Engine traps apply works around: hanging channel PUTs, zero tool rows, body limits, ignores."""

from __future__ import annotations

import json
from typing import Any

from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.model.enginefacts import SECTION_IDS
from reconciler.model.project import Project
from reconciler.sandbox.server import SandboxServer
from tests.apply.conftest import Engine, calls_of
from tests.apply.states import BETA, CANARY_VALUES, edited, state
from tests.conftest import RATE_WINDOW_SECONDS

SLACK = {
    "POLYANT_CHANNEL__GAMMA__SLACK": json.dumps(
        {"botToken": "xoxb-canary-1", "appToken": "xapp-canary-2", "signingSecret": "canary-sig3"}
    )
}
GAMMA: dict[str, Any] = {"slug": "gamma", "name": "Gamma", "channels": {"slack": {"enabled": True}}}


def test_hanging_channel_put_is_settled_by_a_re_read(sandbox: SandboxServer) -> None:
    # Slack is unreachable: the engine stores the row, then hangs (contract §18.5).
    sandbox.settings.channel_hang_s = 200.0  # engine seconds: 10 s real at time_scale 20
    config = EngineConfig(
        url=sandbox.url, token=sandbox.token, rate_window_s=RATE_WINDOW_SECONDS, timeout_s=1.0
    )
    with EngineClient(config) as client:
        engine = Engine(sandbox, client, [])
        report = engine.apply(state([GAMMA]), SLACK, check=False)

        gamma = report.results[0]
        assert gamma.status == "applied", gamma.reason
        put = next(c for c in gamma.calls if c.path.endswith("/channels/slack"))
        assert "re-read shows the write landed" in put.note
        assert put.body["config"] == {
            "botToken": "<from $POLYANT_CHANNEL__GAMMA__SLACK>",
            "appToken": "<from $POLYANT_CHANNEL__GAMMA__SLACK>",
            "signingSecret": "<from $POLYANT_CHANNEL__GAMMA__SLACK>",
        }
        assert not any(s in report.to_json() for s in ("xoxb-canary-1", "canary-sig3"))


def test_empty_tool_set_keeps_one_harmless_tool(engine: Engine) -> None:
    engine.apply(state([BETA]), {}, check=False)
    report = engine.apply(state([edited(BETA, manualTools=[])]), {}, check=False)

    beta = report.results[0]
    patch = next(c for c in beta.calls if c.path == "/api/instances/beta/tools")
    assert patch.body == {"enabled": ["readSkill"]}
    assert any("ALL tools" in n for n in report.notices)
    tools = engine.get("/api/instances/beta/tools")["tools"]
    assert [t["name"] for t in tools if t["enabled"]] == ["readSkill"]


def test_large_prompts_are_split_under_the_body_limit(engine: Engine) -> None:
    prompts = {key: f"{key} " + "x" * 30_000 for key in SECTION_IDS}
    desired = state([edited(BETA, prompts=prompts)])
    report = engine.apply(desired, {})

    patches = [c for c in report.results[0].calls if c.path.endswith("/prompts")]
    assert len(patches) == 3
    for call in patches:
        size = len(json.dumps(call.body, separators=(",", ":")).encode())
        assert size < 102_400 and len(call.body["sections"]) <= 8
    assert report.ok(), report.to_json()
    assert engine.plan(desired, {}).changes == ()


def test_ignored_fields_are_left_to_the_engine(engine: Engine) -> None:
    engine.apply(state([BETA]), {}, check=False)
    engine.reset()
    project = Project(ignore=["instances.beta.description", "instances.beta.scheduledTasks*"])
    tasks = [dict(BETA["scheduledTasks"][0], prompt="Changed.")]
    desired = state([edited(BETA, description="Changed", status="inactive", scheduledTasks=tasks)])

    report = engine.apply(desired, {}, project=project, check=False)

    assert engine.writes() == [("PATCH", "/api/instances/beta")]
    assert calls_of(report, "instance/beta")
    assert report.results[0].calls[0].body == {"status": "inactive"}


def test_canaries_in_failures_are_scrubbed(engine: Engine) -> None:
    # The sandbox refuses a sensitive env value over its limit? Use a bad secret key instead:
    # the key is fine for the model but the value is too long for the engine (> 8192).
    long_value = CANARY_VALUES[0] * 1000
    env = {"POLYANT_SECRET__BETA__OPENAI_API_KEY": long_value}
    report = engine.apply(state([edited(BETA, secrets=["openai_api_key"])]), env, check=False)

    assert report.results[0].status == "failed"
    assert CANARY_VALUES[0] not in report.to_json()
    assert "secrets" in report.results[0].reason
