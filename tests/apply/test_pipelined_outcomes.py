"""The pipelined apply's outcomes (reconciler/stream.py): verification, duplicates, creates
and deletes, secrets, each pinned through the real CLI on a 40-instance sandbox fleet."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from reconciler.model.secretenv import channel_var
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from tests.apply.pipefleet import (
    EDITED,
    FLEET,
    Fleet,
    config_writes,
    end_of_reads,
    error_lines,
    instance_reads,
    path_slug,
    slug_of,
    store_data,
    written_slugs,
)
from tests.cli.helpers import CANARIES, all_files_text, assert_no_canary

ALL = [slug_of(n) for n in range(FLEET)]
SLACK = '{"botToken":"xoxb-test-bot","appToken":"xapp-test-app","signingSecret":"test-sign"}'
TASK = """\
scheduledTasks:
  - name: Digest
    schedule:
      type: cron
      expression: 0 8 * * 1-5
    prompt: Summarise.
"""
TASK_BODY = {
    "name": "Digest",
    "schedule": {"type": "cron", "expression": "0 8 * * 1-5"},
    "prompt": "Summarise.",
}


def test_writes_confirmed_by_their_answers_are_not_read_again(fleet: Fleet) -> None:
    described = [slug_of(n) for n in (5, 6, 7, 8)]
    prompted = [slug_of(n) for n in (7, 8, 9, 10)]
    fleet.edit(described)
    for slug in prompted:
        fleet.edit_prompt(slug, f"# Identity\n\nYou are {slug}, now on billing.\n")
    # --force: every write goes out while reading, each verified where it ran.
    run = fleet.run("apply", "--auto-approve", "--force")
    assert run.code == 0, run.text

    log = fleet.log()
    assert set(written_slugs(log)) == {*described, *prompted}
    for slug in {*described, *prompted}:
        first = next(i for i, r in config_writes(log) if path_slug(r) == slug)
        after = [r.path for r in log[first:] if r.method == "GET" and path_slug(r) == slug]
        assert after == [], f"{slug} was read again after its write: {after}"
    # One read pass: every instance's export exactly once.
    assert Counter(slug for _, slug in instance_reads(log)) == Counter(
        slug_of(n) for n in range(FLEET)
    )


@pytest.mark.parametrize("force", [True, False], ids=["written-while-reading", "written-late"])
def test_a_write_that_does_not_stick_is_reported_not_converged(fleet: Fleet, force: bool) -> None:
    # A Slack start that fails fast: the engine answers the PUT with enabled:true, then
    # disables the row. The answer cannot confirm a channel write, so the instance is read
    # again (its export delayed, so the row is already disabled) and still differs.
    # With --force the write runs while reading (verified by the pipeline itself); without
    # it, agent-005 is diffed before the bound allows writes and runs after the last read.
    fleet.server.settings.channel_network = "invalid"
    delay = FaultRule(FaultKind.LATENCY, "GET /api/instances/:slug/export", delay_s=0.2)
    fleet.server.set_faults(FaultPlan([delay]))
    stuck, fine = slug_of(5), slug_of(6)
    fleet.append(stuck, "channels:\n  slack: {enabled: true}\n")
    fleet.edit([fine])
    flags = ["--force"] if force else []
    run = fleet.run("apply", "--auto-approve", *flags, env={channel_var(stuck, "slack"): SLACK})

    assert run.code == 1, run.text
    assert f"error: instance/{stuck} did not converge: a plan after apply still differs" in (
        error_lines(run.err)
    )
    assert not any(fine in line for line in error_lines(run.err)), run.err
    assert f"/api/instances/{stuck}/channels/slack" in [
        r.path for _, r in config_writes(fleet.log())
    ]
    assert store_data(fleet.server, stuck).channels["slack"].enabled is False


def _doubled_task(fleet: Fleet, slug: str) -> None:
    """The repo declares task Digest on `slug`; the engine holds two copies of it."""
    fleet.append(slug, TASK)
    for _ in range(2):
        fleet.call("POST", f"/api/instances/{slug}/scheduled-tasks", TASK_BODY)
    fleet.forget()


def test_duplicates_hold_back_their_instance_without_prune(fleet: Fleet) -> None:
    doubled, others = slug_of(20), [slug_of(21), slug_of(22)]
    _doubled_task(fleet, doubled)
    fleet.edit([doubled, *others])

    run = fleet.run("apply", "--auto-approve")
    assert run.code == 1, run.text
    dupes = [e for e in error_lines(run.err) if e.startswith("error: duplicates on the engine: ")]
    assert len(dupes) == 1, run.err
    assert f"extra scheduled task 'Digest' of instance/{doubled}" in dupes[0]
    assert sorted(written_slugs(fleet.log())) == others, "the doubled instance is not written"
    assert fleet.call("GET", f"/api/instances/{doubled}")["instance"]["description"] != EDITED
    assert f"applied: instance/{doubled}" not in run.out


def test_duplicates_are_deleted_under_prune(fleet: Fleet) -> None:
    doubled, others = slug_of(20), [slug_of(21), slug_of(22)]
    _doubled_task(fleet, doubled)
    fleet.edit([doubled, *others])

    run = fleet.run("apply", "--auto-approve", "--prune")
    assert run.code == 0, run.text
    writes = sorted((r.method, path_slug(r)) for _, r in config_writes(fleet.log()))
    assert writes == [("DELETE", doubled), ("PATCH", doubled), *(("PATCH", s) for s in others)]
    tasks = fleet.call("GET", f"/api/instances/{doubled}/scheduled-tasks")["tasks"]
    assert [t["name"] for t in tasks] == ["Digest"]
    assert fleet.call("GET", f"/api/instances/{doubled}")["instance"]["description"] == EDITED


def test_creates_go_out_while_reading_and_a_delete_waits_for_every_read(fleet: Fleet) -> None:
    new = ["new-a", "new-b"]
    for slug in new:
        fleet.add_instance(slug, f"name: {slug}\ndescription: {EDITED}\n")
    gone = slug_of(0)  # read first: a delete run as soon as diffed would show
    shutil.rmtree(fleet.instance_file(gone).parent)
    fleet.edit([slug_of(1)])

    # --force: nothing holds writes back but the order itself.
    run = fleet.run("apply", "--auto-approve", "--prune", "--force")
    assert run.code == 0, run.text
    log = fleet.log()
    live = [slug_of(n) for n in range(FLEET)]
    end = end_of_reads(log, among=live)  # verification reads the new ones after it
    creates = [(i, str(r.created)) for i, r in config_writes(log) if r.method == "POST"]
    assert sorted(slug for _, slug in creates) == new
    assert all(i < end for i, _ in creates), "a create needs no read"
    deletes = [(i, r.path) for i, r in config_writes(log) if r.method == "DELETE"]
    assert [path for _, path in deletes] == [f"/api/instances/{gone}"]
    assert deletes[0][0] > end, "a delete waits for the last read"
    assert gone in {slug for _, slug in instance_reads(log)}
    listed = {i["slug"] for i in fleet.call("GET", "/api/instances")["instances"]}
    assert set(new) <= listed and gone not in listed


def test_no_secret_reaches_any_output(fleet: Fleet, tmp_path: Path) -> None:
    # A new instance whose secrets and Slack tokens come from the canary variables, the
    # secrets PUT answered 500, in the same pipelined run as a fleet edit.
    fleet.server.settings.channel_network = "ok"
    fleet.add_instance(
        "helpdesk",
        "name: Helpdesk\ndescription: canary holder\n"
        "secrets: [openai_api_key, auth_api_key]\n"
        "channels:\n  slack: {enabled: true}\n",
    )
    fleet.edit([slug_of(n) for n in (2, 3)])
    failing = FaultRule(FaultKind.ERROR, "PUT /api/instances/:slug/secrets", status=500)
    fleet.server.set_faults(FaultPlan([failing]))
    report = tmp_path / "report.json"
    run = fleet.run("apply", "--auto-approve", "--report", str(report), env=CANARIES)

    assert run.code == 1, run.text
    assert any("instance/helpdesk" in line for line in error_lines(run.err)), run.err
    slack = store_data(fleet.server, "helpdesk").channels["slack"].config
    assert slack["botToken"] == "xoxb-canary-b0t"  # the canaries were really sent
    assert_no_canary(run.out, run.err, report.read_text(encoding="utf-8"))
    assert_no_canary(all_files_text(fleet.root))
    assert json.loads(report.read_text(encoding="utf-8"))["ok"] is False


def test_a_read_that_fails_part_way_stops_writing_and_reports_what_was_applied(
    fleet: Fleet,
) -> None:
    # The 31st export answers 500 (no retry for a 500): some instances are written by then.
    # The apply must say which ones, name the one it could not read, write nothing more,
    # and leave a state a second apply finishes (no traceback, no lost report).
    fleet.edit(ALL)
    export = "GET /api/instances/:slug/export"
    failing = FaultRule(FaultKind.ERROR, export, after=30, count=1, status=500)
    fleet.server.set_faults(FaultPlan([failing]))
    run = fleet.run("apply", "--auto-approve", "--force")

    assert run.code == 1, run.text
    assert "Traceback" not in run.text
    applied = {line.split()[1] for line in run.out.splitlines() if line.startswith("applied:")}
    written = set(written_slugs(fleet.log()))
    assert applied == {f"instance/{slug}" for slug in written}, run.text
    assert written and len(written) < len(ALL)
    failed = [e for e in error_lines(run.err) if "could not be read" in e]
    assert len(failed) == 1, run.err
    assert "nothing more was written" in failed[0] and "run apply again" in failed[0]

    fleet.server.set_faults(FaultPlan([]))
    fleet.forget()
    again = fleet.run("apply", "--auto-approve", "--force")
    assert again.code == 0, again.text
    assert set(written_slugs(fleet.log())) == set(ALL) - written
