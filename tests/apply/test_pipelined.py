"""The pipelined apply's rules (reconciler/stream.py), pinned through the real CLI.

Each test runs `polyant-gitops apply` (pipelined: no --dry-run, --shard or targets) against a
sandbox seeded with a 40-instance fleet that matches the repo, then reads the sandbox's
request log: which writes were sent, and in what order against the instance reads.

Why the orders asserted here are not races: the engine allows 30 requests per window per
route handler, so of 40 instance exports the last 10 wait a whole window (3 s here) for
budget, while a write goes out as soon as its instance is diffed and the bound allows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.develop import add_data_rows, extra
from reconciler.sandbox.faults import FaultKind, FaultPlan, FaultRule
from tests.apply.pipefleet import (
    EDITED,
    FLEET,
    Fleet,
    config_writes,
    end_of_reads,
    error_lines,
    first_write,
    instance_reads,
    path_slug,
    running_fleet,
    slug_of,
    written_slugs,
)

ALL = [slug_of(n) for n in range(FLEET)]


def test_forced_fleet_edit_writes_while_reading_one_write_per_instance(fleet: Fleet) -> None:
    fleet.edit(ALL)
    run = fleet.run("apply", "--auto-approve", "--force")
    assert run.code == 0, run.text

    log = fleet.log()
    assert first_write(log) < end_of_reads(log), "reads and writes must overlap"
    writes = config_writes(log)
    assert [(r.method, r.path) for _, r in writes if r.method != "PATCH"] == []
    assert sorted(written_slugs(log)) == ALL  # one PATCH per instance, nothing else
    assert "apply: 40 write call(s)" in run.out

    fleet.forget()
    again = fleet.run("apply", "--auto-approve")
    assert again.code == 0, again.text
    assert config_writes(fleet.log()) == []
    assert "apply: 0 write call(s)" in again.out


def test_fleet_edit_above_the_update_threshold_writes_nothing(fleet: Fleet) -> None:
    fleet.edit(ALL)
    run = fleet.run("apply", "--auto-approve")
    assert run.code == 4, run.text
    assert "above safety.maxUpdatePercent 50%" in run.err
    assert config_writes(fleet.log()) == []
    assert {slug for _, slug in instance_reads(fleet.log())} == set(ALL)


def test_edit_under_the_thresholds_writes_as_soon_as_the_bound_allows(fleet: Fleet) -> None:
    # 40 managed instances, at most 50 % updated: nothing may be written while the changes
    # diffed so far plus the unread instances exceed 20. Eight read workers: the read of
    # agent-028 starts only once 21 reads are done, 20 of them unchanged, so by then at most
    # 20 instances count as updates and writes may start, well before the last 10 exports
    # (the export handler's budget is 30 per window).
    early, late = slug_of(1), [slug_of(28), slug_of(29)]
    fleet.edit([early, *late])
    run = fleet.run("apply", "--auto-approve")
    assert run.code == 0, run.text

    log = fleet.log()
    assert sorted(written_slugs(log)) == [early, *late]
    start = first_write(log)
    read_before = {slug for i, slug in instance_reads(log) if i < start}
    assert len(read_before) >= 20, "nothing is written while a threshold could be crossed"
    assert start < end_of_reads(log), "writes start before the last read once the bound allows"
    for slug in (early, *late):
        assert fleet.call("GET", f"/api/instances/{slug}")["instance"]["description"] == EDITED


def test_changes_diffed_before_the_bound_allowed_writing_go_out_when_it_does(
    fleet: Fleet,
) -> None:
    # A create (diffed before any read) and an early edit wait while a threshold could be
    # crossed; once 20 reads came back unchanged the bound allows writing, and both go out
    # then, before the last ten exports (each held a second by the sandbox, so the order
    # does not depend on how fast this machine is).
    fleet.add_instance("new-a", f"name: new-a\ndescription: {EDITED}\n")
    early = slug_of(1)
    fleet.edit([early])
    export = "GET /api/instances/:slug/export"
    fleet.server.set_faults(FaultPlan([FaultRule(FaultKind.LATENCY, export, after=30, delay_s=1)]))
    run = fleet.run("apply", "--auto-approve")
    assert run.code == 0, run.text

    log = fleet.log()
    end = end_of_reads(log, among=ALL)
    writes = config_writes(log)
    create = [i for i, r in writes if r.method == "POST" and r.created == "new-a"]
    edit = [i for i, r in writes if path_slug(r) == early]
    assert len(create) == 1 and edit, run.text
    read_before = {slug for i, slug in instance_reads(log) if i < min(create[0], edit[0])}
    assert len(read_before) >= 20, "nothing is written while a threshold could be crossed"
    assert create[0] < end, "a create diffed early goes out once the bound allows writing"
    assert edit[0] < end, "an edit diffed early goes out once the bound allows writing"


def test_reviewed_plan_gates_each_object(fleet: Fleet, tmp_path: Path) -> None:
    edited = [slug_of(n) for n in range(10, 16)]
    fleet.edit(edited)
    saved = tmp_path / "plan.json"
    assert fleet.run("plan", "--out", str(saved)).code == 0
    moved, vanished, touched = slug_of(12), slug_of(13), slug_of(14)
    fleet.call("PATCH", f"/api/instances/{moved}", {"description": "changed by hand"})
    # The engine already shows the reviewed change: it vanished, and that is reported too.
    fleet.call("PATCH", f"/api/instances/{vanished}", {"description": EDITED})
    # Same change, but the live object moved elsewhere (a field the repo leaves alone).
    fleet.call("PATCH", f"/api/instances/{touched}", {"langsmithProject": "by-hand"})
    fleet.forget()

    run = fleet.run("apply", "--auto-approve", "--plan", str(saved))
    assert run.code == 1, run.text
    errors = error_lines(run.err)
    for slug in (moved, vanished, touched):
        line = f"error: instance/{slug} changed since the plan was reviewed"
        assert sum(e.startswith(line) for e in errors) == 1, run.err
    rest = [s for s in edited if s not in (moved, vanished, touched)]
    assert sorted(written_slugs(fleet.log())) == rest
    assert fleet.call("GET", f"/api/instances/{moved}")["instance"]["description"] == (
        "changed by hand"
    )
    for slug in rest:
        assert f"applied: instance/{slug} (update)" in run.out


def test_wrong_checksum_writes_nothing_and_says_so_once(fleet: Fleet) -> None:
    fleet.edit([slug_of(n) for n in (3, 4)])
    run = fleet.run("apply", "--auto-approve", "--expect-checksum", "0" * 64)
    assert run.code == 1, run.text
    said = [line for line in run.text.splitlines() if "nothing was written" in line]
    assert len(said) == 1, run.text
    assert said[0].startswith("error: the change set differs from the reviewed plan")
    assert config_writes(fleet.log()) == []


def test_right_checksum_applies_once_the_whole_change_set_is_known(
    fleet: Fleet, tmp_path: Path
) -> None:
    edited = [slug_of(n) for n in (3, 4)]
    fleet.edit(edited)
    saved = tmp_path / "plan.json"
    assert fleet.run("plan", "--out", str(saved)).code == 0
    checksum = json.loads(saved.read_text(encoding="utf-8"))["checksum"]
    fleet.forget()

    run = fleet.run("apply", "--auto-approve", "--expect-checksum", checksum)
    assert run.code == 0, run.text
    log = fleet.log()
    assert sorted(written_slugs(log)) == edited
    # A checksum judges the whole change set: no write before every instance was read.
    assert first_write(log) > end_of_reads(log)


def test_agent_callees_and_callers_wait_for_the_last_read(fleet: Fleet) -> None:
    plain, callee, caller = slug_of(0), slug_of(1), slug_of(2)
    fleet.edit([plain, caller])
    fleet.append(callee, "channels:\n  agent: {enabled: true}\n")
    fleet.append(caller, f"manualTools: [agent:{callee}]\n")
    run = fleet.run("apply", "--auto-approve", "--force")
    assert run.code == 0, run.text

    log = fleet.log()
    end = end_of_reads(log)
    at: dict[str, list[int]] = {}
    for i, record in config_writes(log):
        at.setdefault(path_slug(record) or "", []).append(i)
    assert sorted(at) == [plain, callee, caller]
    assert at[plain][0] < end, "a plain edit goes out while reading"
    assert min(at[callee]) > end, "an agent channel change waits for the last read"
    assert min(at[caller]) > end, "an instance naming agent:* tools waits for the last read"
    assert max(at[callee]) < min(at[caller]), "the callee's wave runs before its callers"


@pytest.fixture
def develop_fleet(fleet_template: tuple[Path, Path], tmp_path: Path) -> Iterator[Fleet]:
    """The fleet on a develop-line engine (it has embeddingProvider, and wipes on a switch)."""
    with running_fleet(fleet_template, tmp_path, engine_line="develop") as running:
        yield running


def _wiping(fleet: Fleet, slug: str) -> None:
    """The repo switches `slug`'s embedding provider (no confirmWipe); it holds 3 memories."""
    fleet.append(slug, "embeddingProvider: bedrock\n")
    add_data_rows(fleet.server.store, slug, 3)


def _data_rows(fleet: Fleet, slug: str) -> int:
    inst = fleet.server.store.by_slug(slug)
    assert inst is not None
    return extra(fleet.server.store, inst).data_rows


def test_a_wipe_is_unsafe_even_forced_and_nothing_is_written(develop_fleet: Fleet) -> None:
    fleet, wiping = develop_fleet, slug_of(FLEET - 1)
    fleet.edit([s for s in ALL if s != wiping])
    _wiping(fleet, wiping)
    run = fleet.run("apply", "--auto-approve", "--force")

    assert run.code == 4, run.text
    assert f"instance/{wiping}: embeddingProvider openai → bedrock permanently deletes" in run.err
    assert config_writes(fleet.log()) == [], "an unsafe plan writes nothing, --force or not"
    assert _data_rows(fleet, wiping) == 3


def test_an_unread_instance_that_may_wipe_holds_every_write_back(develop_fleet: Fleet) -> None:
    # The edits alone would be written while reading (see the test above).
    fleet, wiping = develop_fleet, slug_of(FLEET - 1)
    fleet.edit([slug_of(n) for n in (1, 28, 29)])
    _wiping(fleet, wiping)
    run = fleet.run("apply", "--auto-approve")

    assert run.code == 4, run.text
    assert config_writes(fleet.log()) == []
    assert _data_rows(fleet, wiping) == 3
