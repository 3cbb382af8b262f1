"""A write whose answer shows the state it leaves needs no verification read (issue 14).

Each confirmed change type is applied against the sandbox over loopback: its change is
`settled`, `core.verify` sends no request at all, and a fresh plan is empty. Writes whose
answer carries no state (or only part of it) are still read again. A confirmed route whose
answer does not show the write (an injected 200 that never ran the write) is not settled,
and verification reports the instance non-converged, as before.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from reconciler import core
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.engine.executor.hooks import _hook_holds
from reconciler.engine.report import ApplyReport, ChangeResult
from reconciler.model.objects import State
from reconciler.model.project import Project, Prune
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from reconciler.sandbox.server import SandboxServer
from reconciler.stream import apply_pipelined
from tests.apply.conftest import PROJECT, Engine
from tests.apply.states import ALPHA, BETA, CANARIES, FAQ_SEARCH, NOTES, edited, state
from tests.conftest import RATE_WINDOW_SECONDS

# Beta follows faq-search, which requires curl: curl is skill-sourced and also listed.
BETA_TOOLS = edited(BETA, skills=[{"slug": "faq-search"}], manualTools=["readSkill", "curl"])
SKILLS = [FAQ_SEARCH, NOTES]
CHILDREN = Project(prune=Prune(instances=False, children=True))
TAVILY = {"POLYANT_SECRET__ALPHA__TAVILY_API_KEY": "canary-tavily-31337"}


def _tasks(**changes: Any) -> list[dict[str, Any]]:
    tasks = [dict(t) for t in ALPHA["scheduledTasks"]]
    tasks[0].update(changes)
    return tasks


def _sources(**changes: Any) -> list[dict[str, Any]]:
    sources = [dict(s) for s in ALPHA["eventSources"]]
    sources[0].update(changes)
    return sources


DAILY_CRON = {"type": "cron", "expression": "30 8 * * 1-5", "timezone": "UTC"}
SKILL_ENV = {"faq-search": {"FAQ_INDEX": "helpdesk-v3", "FAQ_API_KEY": None}}
# change type → (instance, its edited fields, extra environment)
CONFIRMED: dict[str, tuple[str, dict[str, Any], Mapping[str, str]]] = {
    "settings": ("alpha", {"description": "Changed"}, {}),
    "prompts": ("alpha", {"prompts": dict(ALPHA["prompts"], **{"04-safety": "Be kind."})}, {}),
    "secrets": ("alpha", {"secrets": ["openai_api_key", "auth_api_key", "tavily_api_key"]}, TAVILY),
    "tools": ("beta", {"manualTools": ["readSkill", "curl", "searchMemory"]}, {}),
    "skill env": ("alpha", {"skillEnv": SKILL_ENV}, {}),
    "channel switched off": (
        "alpha",
        {"channels": {"agent": {"enabled": True}, "whatsapp": {"enabled": False}}},
        {},
    ),
    "agent channel switched off": (
        "alpha",
        {"channels": {"agent": {"enabled": False}, "whatsapp": {"enabled": True}}},
        {},
    ),
    "task schedule": ("alpha", {"scheduledTasks": _tasks(schedule=DAILY_CRON)}, {}),
    "task outbound and history": (
        "alpha",
        {"scheduledTasks": _tasks(outboundTarget="+15550009", keepHistory=False)},
        {},
    ),
}
WEEKLY = {
    "name": "Weekly",
    "schedule": {"type": "interval", "everyMs": 604_800_000},
    "prompt": "Weekly report.",
}
NOT_CONFIRMED: dict[str, tuple[str, dict[str, Any]]] = {
    "task prompt (not in the PATCH answer)": ("alpha", {"scheduledTasks": _tasks(prompt="New.")}),
    "room (answer is success:true)": ("alpha", {"room": dict(ALPHA["room"], prompt="Watch.")}),
    "event source (answer is success:true)": ("alpha", {"eventSources": _sources(enabled=False)}),
    "tools naming agent:beta (in no tool list)": (
        "alpha",
        {"manualTools": [*ALPHA["manualTools"], "searchMemory"]},
    ),
    "new task (partial answer)": ("beta", {"scheduledTasks": [*BETA["scheduledTasks"], WEEKLY]}),
}
# The confirmed routes, each with a change that writes through it.
LYING_ROUTES = {
    "PATCH /api/instances/:slug": "settings",
    "PATCH /api/instances/:slug/prompts": "prompts",
    "PUT /api/instances/:slug/secrets": "secrets",
    "PATCH /api/instances/:slug/tools": "tools",
    "PUT /api/instances/:slug/skills/:skillSlug/env": "skill env",
    "PUT /api/instances/:slug/channels/:type": "channel switched off",
    "PATCH /api/instances/:slug/scheduled-tasks/:id": "task schedule",
}


def _desired(slug: str, changes: Mapping[str, Any]) -> State:
    alpha = edited(ALPHA, **changes) if slug == "alpha" else ALPHA
    beta = edited(BETA_TOOLS, **changes) if slug == "beta" else BETA_TOOLS
    return state([alpha, beta], SKILLS)


def _seed(engine: Engine, alpha: dict[str, Any] = ALPHA) -> None:
    report = engine.apply(state([alpha, BETA_TOOLS], SKILLS), CANARIES, check=False)
    assert report.ok(), report.to_json()
    engine.reset()


def _result(report: ApplyReport, key: str) -> ChangeResult:
    return next(r for r in report.results if r.key == key)


def _verified(engine: Engine, report: ApplyReport, desired: State, env: Mapping[str, str]) -> int:
    """Run verification as apply does; the number of requests it sent."""
    engine.reset()
    supplied = core.supplied_vars(desired, env)
    core.verify(engine.client, report, desired, PROJECT, core.Policy(), supplied=supplied)
    engine.settle()
    return len(engine.sandbox.requests)


@pytest.mark.parametrize("case", sorted(CONFIRMED))
def test_a_confirmed_change_needs_no_verification_read(engine: Engine, case: str) -> None:
    slug, changes, extra = CONFIRMED[case]
    env = {**CANARIES, **extra}
    _seed(engine)
    desired = _desired(slug, changes)

    report = engine.apply(desired, env, check=False)

    changed = _result(report, f"instance/{slug}")
    assert changed.status == "applied" and changed.calls, report.to_json()
    assert changed.settled, [(c.method, c.path, c.confirmed) for c in changed.calls]
    assert _verified(engine, report, desired, env) == 0
    assert report.non_converged == []
    assert engine.plan(desired, env).changes == ()


@pytest.mark.parametrize("case", sorted(NOT_CONFIRMED))
def test_a_change_no_answer_shows_is_read_again(engine: Engine, case: str) -> None:
    slug, changes = NOT_CONFIRMED[case]
    _seed(engine)
    desired = _desired(slug, changes)

    report = engine.apply(desired, CANARIES, check=False)

    changed = _result(report, f"instance/{slug}")
    assert changed.status == "applied" and not changed.settled, report.to_json()
    assert _verified(engine, report, desired, CANARIES) > 0
    assert report.non_converged == []
    assert engine.plan(desired, CANARIES).changes == ()


@pytest.mark.parametrize("route", sorted(LYING_ROUTES))
def test_an_answer_that_does_not_show_the_write_is_not_trusted(engine: Engine, route: str) -> None:
    # The engine answers 200 without running the write: nothing sticks, and the answer
    # shows no state; verification must read the instance and report it.
    slug, changes, extra = CONFIRMED[LYING_ROUTES[route]]
    env = {**CANARIES, **extra}
    _seed(engine)
    desired = _desired(slug, changes)
    faults = FaultPlan([FaultRule(FaultKind.ERROR, route, status=200, count=1)])
    engine.sandbox.set_faults(faults)

    report = engine.apply(desired, env, check=False)
    engine.sandbox.set_faults(None)

    assert faults.fired == [1]
    assert not _result(report, f"instance/{slug}").settled
    assert _verified(engine, report, desired, env) > 0
    assert report.non_converged == [f"instance/{slug}"]
    again = engine.apply(desired, env)
    assert again.ok() and again.non_converged == [], again.to_json()


@pytest.fixture
def impatient(sandbox: SandboxServer) -> Iterator[Engine]:
    """The sandbox with a client that gives up after 1 s (a slow answer is lost)."""
    config = EngineConfig(
        url=sandbox.url, token=sandbox.token, rate_window_s=RATE_WINDOW_SECONDS, timeout_s=1.0
    )
    with EngineClient(config) as client:
        yield Engine(sandbox, client, [])


LOST = {
    "PUT /api/instances/:slug/room": ("alpha", {"room": dict(ALPHA["room"], prompt="Watch.")}),
    "PATCH /api/instances/:slug/tools": CONFIRMED["tools"][:2],
    "PUT /api/instances/:slug/skills/:skillSlug/env": CONFIRMED["skill env"][:2],
    "PATCH /api/instances/:slug/scheduled-tasks/:id": CONFIRMED["task schedule"][:2],
}


@pytest.mark.parametrize("route", sorted(LOST))
def test_a_lost_answer_settled_by_a_re_read_of_the_state_needs_no_second_read(
    impatient: Engine, route: str
) -> None:
    # The write lands, its answer never comes; the narrow GET that settles the outcome
    # carries the state (even the room's, whose PUT answers only success:true).
    slug, changes = LOST[route]
    _seed(impatient)
    desired = _desired(slug, changes)
    impatient.sandbox.set_faults(FaultPlan([FaultRule(FaultKind.SLOW, route, delay_s=2.0)]))

    report = impatient.apply(desired, CANARIES, check=False)
    impatient.sandbox.set_faults(None)

    changed = _result(report, f"instance/{slug}")
    assert changed.status == "applied", changed.reason
    assert ["re-read" in c.note for c in changed.calls] == [True]
    assert changed.settled
    assert _verified(impatient, report, desired, CANARIES) == 0
    assert impatient.plan(desired, CANARIES).changes == ()


@pytest.mark.parametrize(
    ("channels", "prune"),
    [
        ({"agent": {"enabled": False}, "whatsapp": {"enabled": True}}, False),
        ({"whatsapp": {"enabled": True}}, True),
    ],
    ids=["switched off", "removed"],
)
def test_turning_off_the_agent_channel_an_instance_calls_itself_through_is_read_again(
    engine: Engine, channels: dict[str, Any], prune: bool
) -> None:
    # Turning agent off deletes the tool agent:alpha everywhere (§9.5), alpha's own row
    # too: the channel's answer is right, but alpha's tools are not what the repo says.
    calls_itself = edited(ALPHA, manualTools=[*ALPHA["manualTools"], "agent:alpha"])
    _seed(engine, calls_itself)
    desired = state([edited(calls_itself, channels=channels), BETA_TOOLS], SKILLS)
    project = CHILDREN if prune else PROJECT  # demo-agent stays

    report = engine.apply(desired, CANARIES, prune=prune, project=project, check=False)

    alpha = _result(report, "instance/alpha")
    assert [c.path for c in alpha.calls] == ["/api/instances/alpha/channels/agent"]
    assert not alpha.settled
    engine.reset()
    supplied = core.supplied_vars(desired, CANARIES)
    policy = core.Policy(prune=prune)
    assert core.verify(engine.client, report, desired, project, policy, supplied=supplied) == [
        "instance/alpha"
    ]


def test_a_plain_value_replacing_an_encrypted_one_is_read_again(engine: Engine) -> None:
    # The env answer shows the value decrypted and never whether it is stored encrypted
    # (§7.8): replacing a value the plan could not see, it cannot prove the write landed.
    _seed(engine)
    path = "/api/instances/alpha/skills/faq-search/env"
    secret = {"key": "FAQ_INDEX", "value": "helpdesk-v2", "sensitive": True}
    engine.client.request("PUT", path, {"env": [secret]}, what="setup")
    desired = _desired("alpha", {})
    engine.reset()

    report = engine.apply(desired, CANARIES, check=False)

    alpha = _result(report, "instance/alpha")
    assert [(c.method, c.path) for c in alpha.calls] == [("PUT", path)]
    answer = engine.get(path)["env"]
    row = next(e for e in answer if e["key"] == "FAQ_INDEX")
    # The same value as before the apply: only the flag shows the PUT replaced it.
    assert row["value"] == "helpdesk-v2" and row["sensitive"] is False, row
    assert not alpha.settled
    assert _verified(engine, report, desired, CANARIES) > 0
    assert report.non_converged == []


SLACK = {
    "POLYANT_CHANNEL__GAMMA__SLACK": json.dumps(
        {"botToken": "xoxb-canary-1", "appToken": "xapp-canary-2", "signingSecret": "canary-sig3"}
    )
}


def test_a_channel_switched_on_is_read_again_as_its_start_may_fail_later(
    engine: Engine,
) -> None:
    # A failed adapter start switches the row off after the answer said enabled:true.
    engine.sandbox.settings.channel_network = "invalid"
    gamma = {"slug": "gamma", "name": "Gamma", "channels": {"slack": {"enabled": True}}}
    desired = state([gamma])

    report = engine.apply(desired, SLACK, check=False)

    put = _result(report, "instance/gamma").calls[-1]
    assert put.path == "/api/instances/gamma/channels/slack" and not put.confirmed
    deadline = time.monotonic() + 5.0
    while engine.get("/api/instances/gamma/channels")["channels"][0]["enabled"]:
        assert time.monotonic() < deadline, "the sandbox never switched the channel off"
        time.sleep(0.01)
    assert _verified(engine, report, desired, SLACK) > 0
    assert report.non_converged == ["instance/gamma"]


def _exports(engine: Engine, slug: str) -> int:
    engine.settle()
    return sum(r.path == f"/api/instances/{slug}/export" for r in engine.sandbox.requests)


@pytest.mark.parametrize(
    ("changes", "reads"),
    [
        ({"scheduledTasks": _tasks(schedule=DAILY_CRON)}, 1),
        ({"room": dict(ALPHA["room"], prompt="Watch.")}, 2),
    ],
    ids=["confirmed", "not confirmed"],
)
def test_the_pipelined_apply_reads_a_settled_instance_once(
    engine: Engine, changes: dict[str, Any], reads: int
) -> None:
    _seed(engine)
    desired = _desired("alpha", changes)
    policy = core.Policy(force=True)
    supplied = core.supplied_vars(desired, CANARIES)

    done = apply_pipelined(
        engine.client, desired, PROJECT, policy, secrets=CANARIES, supplied=supplied
    )

    assert done.report.ok(), done.report.to_json()
    assert _result(done.report, "instance/alpha").settled is (reads == 1)
    assert _exports(engine, "alpha") == reads  # the diff's read (+ verification's)
    assert engine.plan(desired, CANARIES).changes == ()


HOOK = {
    "event": "message_received",
    "actionConfig": {"toolName": "webSearch", "args": {"query": "{{message.text}}"}},
    "timeoutMs": 5000,
}
DELTA = {"slug": "delta", "name": "Delta", "hooks": [HOOK]}


@pytest.fixture
def develop(sandbox_develop: SandboxServer) -> Iterator[Engine]:
    """The develop-line sandbox (hooks) and the plan/apply cycle."""
    config = EngineConfig(
        url=sandbox_develop.url, token=sandbox_develop.token, rate_window_s=RATE_WINDOW_SECONDS
    )
    with EngineClient(config) as client:
        yield Engine(sandbox_develop, client, [])


@pytest.mark.parametrize(
    ("hooks", "method"),
    [
        ([HOOK | {"enabled": False, "timeoutMs": 8000}], "PATCH"),
        ([HOOK, {"event": "response_sent", "actionConfig": {"toolName": "saveMemory"}}], "POST"),
    ],
    ids=["update", "create"],
)
def test_hook_writes_are_confirmed_by_their_answer(
    develop: Engine, hooks: list[dict[str, Any]], method: str
) -> None:
    assert develop.apply(state([DELTA]), {}, check=False).ok()
    develop.reset()
    desired = state([edited(DELTA, hooks=hooks)])

    report = develop.apply(desired, {}, check=False)

    delta = _result(report, "instance/delta")
    assert [c.method for c in delta.calls] == [method]
    assert delta.settled
    assert _verified(develop, report, desired, {}) == 0
    assert develop.plan(desired, {}).changes == ()


def test_a_hook_answer_that_does_not_show_the_write_is_not_trusted(develop: Engine) -> None:
    assert develop.apply(state([DELTA]), {}, check=False).ok()
    desired = state([edited(DELTA, hooks=[HOOK | {"timeoutMs": 8000}])])
    rule = FaultRule(FaultKind.ERROR, "PATCH /api/instances/:slug/hooks/:id", status=200, count=1)
    develop.sandbox.set_faults(FaultPlan([rule]))

    report = develop.apply(desired, {}, check=False)
    develop.sandbox.set_faults(None)

    assert not _result(report, "instance/delta").settled
    assert _verified(develop, report, desired, {}) > 0
    assert report.non_converged == ["instance/delta"]


def test_a_hook_answer_confirms_only_the_hook_and_keys_sent(develop: Engine) -> None:
    # The pure check on a real answer: another hook, or another value, is no confirmation.
    body = {"event": "message_received", "actionConfig": {"toolName": "webSearch"}}
    answer = develop.client.request("POST", "/api/instances/demo-agent/hooks", body, what="hook")
    key = "message_received#0:webSearch"
    sent = {"enabled": True, "timeoutMs": 10_000}

    assert _hook_holds(key, sent, answer)
    assert not _hook_holds("message_received#1:webSearch", sent, answer)
    assert not _hook_holds(key, sent | {"timeoutMs": 8000}, answer)
    assert not _hook_holds(
        key, {"actionConfig": {"toolName": "webSearch", "args": {"q": 1}}}, answer
    )
