"""Partial failure: independent changes go on, dependants are skipped, exit semantics hold."""

from __future__ import annotations

from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from tests.apply.conftest import Engine, calls_of, status_of
from tests.apply.states import ALPHA, BETA, CANARIES, FAQ_SEARCH, NOTES, edited, rich, state


def test_one_failing_instance_does_not_stop_another(engine: Engine) -> None:
    # Only alpha has a room: a 500 on the room route hits alpha alone.
    engine.sandbox.set_faults(
        FaultPlan([FaultRule(FaultKind.ERROR, "PUT /api/instances/:slug/room")])
    )
    report = engine.apply(rich(), CANARIES)

    assert not report.ok()
    assert status_of(report, "instance/alpha") == "failed"
    assert status_of(report, "instance/beta") == "applied"
    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert alpha.reason.startswith("room: instance 'alpha' room: the engine refused PUT (500)")
    assert "instance/alpha" in report.non_converged
    # The steps after the room still ran for alpha.
    assert ("POST", "/api/instances/alpha/scheduled-tasks") in calls_of(report, "instance/alpha")
    assert engine.get("/api/instances/beta/channels")["channels"][0]["enabled"] is True

    engine.sandbox.set_faults(None)
    assert engine.apply(rich(), CANARIES).ok()
    assert engine.plan(rich(), CANARIES).changes == ()


def test_failed_create_skips_every_child(engine: Engine) -> None:
    rule = FaultRule(FaultKind.ERROR, "POST /api/instances", count=1, status=500)
    engine.sandbox.set_faults(FaultPlan([rule]))
    report = engine.apply(state([ALPHA], [FAQ_SEARCH, NOTES]), CANARIES, check=False)

    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert alpha.status == "failed"
    assert [(c.method, c.path) for c in alpha.calls] == [("POST", "/api/instances")]
    assert alpha.skipped_parts == ["everything else: the instance could not be created"]
    assert not report.ok()


def test_failed_skill_import_skips_its_assignments_only(engine: Engine) -> None:
    rule = FaultRule(FaultKind.ERROR, "POST /api/skills/catalog/import", count=1)
    engine.sandbox.set_faults(FaultPlan([rule]))
    report = engine.apply(rich(), CANARIES, check=False)

    assert status_of(report, "skill/faq-search") == "failed"
    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert "skill faq-search: its catalog import failed, so it is left as it is" in (
        alpha.skipped_parts
    )
    assert ("POST", "/api/instances/alpha/skills/faq-search") not in calls_of(
        report, "instance/alpha"
    )
    # Everything else of alpha went on.
    assert ("PATCH", "/api/instances/alpha/prompts") in calls_of(report, "instance/alpha")
    assert not report.ok()

    engine.sandbox.set_faults(None)
    assert engine.apply(rich(), CANARIES).ok()


def test_auth_stays_off_without_its_key(engine: Engine) -> None:
    env = {k: v for k, v in CANARIES.items() if "AUTH_API_KEY" not in k}
    report = engine.apply(state([ALPHA, BETA], [FAQ_SEARCH, NOTES]), env, check=False)

    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert any(p.startswith("authEnabled: not turned on") for p in alpha.skipped_parts)
    assert "POLYANT_SECRET__ALPHA__AUTH_API_KEY" in report.missing_secrets
    assert engine.get("/api/instances/alpha")["instance"]["authEnabled"] is False
    assert not report.ok()


def test_new_channel_without_credentials_is_skipped(engine: Engine) -> None:
    env = {k: v for k, v in CANARIES.items() if "WHATSAPP" not in k}
    report = engine.apply(rich(), env, check=False)

    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert any(p.startswith("channel whatsapp: creating it needs") for p in alpha.skipped_parts)
    assert "POLYANT_CHANNEL__ALPHA__WHATSAPP" in report.missing_secrets
    types = {c["channelType"] for c in engine.get("/api/instances/alpha/channels")["channels"]}
    assert types == {"agent"}


def test_missing_credential_is_listed_not_invented(engine: Engine) -> None:
    env = {k: v for k, v in CANARIES.items() if "SIGNINGSECRET" not in k}
    report = engine.apply(rich(), env, check=False)

    assert "POLYANT_EVENTSOURCE__ALPHA__ORDERS__SIGNINGSECRET" in report.missing_secrets
    orders = next(
        s for s in engine.get("/api/instances/alpha/event-sources") if s["name"] == "Orders"
    )
    assert set(orders["config"]) == {"region"}
    # Supplying it later sends only the missing key, in place.
    engine.reset()
    engine.apply(rich(), CANARIES, check=False)
    assert engine.writes() == [("PUT", f"/api/instances/alpha/event-sources/{orders['id']}")]


def test_changed_source_type_is_a_flagged_replace(engine: Engine) -> None:
    engine.apply(rich(), CANARIES, check=False)
    before = next(
        s for s in engine.get("/api/instances/alpha/event-sources") if s["name"] == "Orders"
    )
    sources = [dict(s) for s in ALPHA["eventSources"]]
    sources[0]["sourceType"] = "custom"
    desired = state([edited(ALPHA, eventSources=sources), BETA], [FAQ_SEARCH, NOTES])

    report = engine.apply(desired, CANARIES)

    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert "event source 'Orders' replaced: sourceType cannot change" in alpha.reason
    assert alpha.status == "applied" and report.ok()
    after = [s for s in engine.get("/api/instances/alpha/event-sources") if s["name"] == "Orders"]
    assert len(after) == 1 and after[0]["sourceType"] == "custom"
    assert after[0]["webhookToken"] != before["webhookToken"]


def test_hubspot_source_without_its_secret_is_skipped(engine: Engine) -> None:
    env = {k: v for k, v in CANARIES.items() if "CLIENTSECRET" not in k}
    report = engine.apply(rich(), env, check=False)

    alpha = next(r for r in report.results if r.key == "instance/alpha")
    assert alpha.skipped_parts == [
        "event source 'CRM': a hubspot source needs "
        "$POLYANT_EVENTSOURCE__ALPHA__CRM__CLIENTSECRET to be created"
    ]
    names = [s["name"] for s in engine.get("/api/instances/alpha/event-sources")]
    assert names == ["Orders"]
    assert not report.ok()
