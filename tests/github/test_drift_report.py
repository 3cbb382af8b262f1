"""The drift report: objects and fields named, framed against branch@sha, who moved."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import reconciler.render.drift
from reconciler.model.objects import EventSource, Instance
from reconciler.plan.changes import Change, FieldChange, Notice, Plan
from reconciler.render.drift import drift_json, drift_markdown, public_url

HEAD = "0123456789abcdef0123456789abcdef01234567"
APPLIED = "fedcba9876543210fedcba9876543210fedcba98"
MARKER = "<!-- polyant-gitops:drift:staging -->"
CANARY = "canary-9d2e7c41"


def _live(description: str) -> Instance:
    # Everything but the changed field carries a canary: the report must show field
    # changes only, never whole objects (event-source configs may hold credentials).
    source = EventSource(name="Orders", source_type="webhook", config={"token": CANARY})
    return Instance(
        slug="helpdesk", name=f"Help {CANARY}", description=description, event_sources=[source]
    )


def drifted_plan() -> Plan:
    update = Change(
        kind="instance",
        action="update",
        slug="helpdesk",
        fields=(
            FieldChange("description", "edited in the admin panel", "Internal FAQ"),
            FieldChange(
                "scheduledTasks[Daily digest].schedule",
                {"type": "cron", "expression": "0 8 * * *"},
                {"type": "cron", "expression": "0 9 * * *"},
            ),
            FieldChange(
                "prompts.01-identity",
                "You are Help.\nBe brief.\n",
                "You are Helpdesk.\nBe brief.\n",
            ),
        ),
        desired=_live("Internal FAQ"),
        live=_live("edited in the admin panel"),
    )
    return Plan(
        changes=[
            Change(kind="skill", action="create", slug="faq-search"),
            update,
            Change(kind="instance", action="delete", slug="shadow-bot"),
        ],
        notices=[Notice("warning", "instance/helpdesk", "task Daily digest was auto-disabled")],
        environment="staging",
        engine_url=f"https://ops:{CANARY}@engine.example.com/?token={CANARY}",
        commit=HEAD,
    )


def test_markdown_names_each_object_and_field_against_branch_and_sha() -> None:
    text = drift_markdown(
        drifted_plan(), branch="main", commit=HEAD, last_applied=APPLIED, marker=MARKER
    )
    assert text.splitlines()[0] == MARKER
    assert "differs from `main@0123456789ab`" in text
    for needle in (
        "`skill/faq-search`",
        "`instance/helpdesk`",
        "`instance/shadow-bot`",
        "`description`",
        "`scheduledTasks[Daily digest].schedule`",
        "`prompts.01-identity`",
        "missing on the engine",
        "changed on the engine",
        "only on the engine",
    ):
        assert needle in text, needle
    row = next(line for line in text.splitlines() if line.startswith("| `instance/helpdesk`"))
    assert "`description`" in row and "`prompts.01-identity`" in row
    assert "-You are Help." in text and "+You are Helpdesk." in text  # details: a text diff
    assert "task Daily digest was auto-disabled" in text


def test_repository_moved() -> None:
    text = drift_markdown(drifted_plan(), branch="main", commit=HEAD, last_applied=APPLIED)
    assert "**The repository moved**" in text and "`fedcba987654`" in text
    assert "engine moved" not in text.lower()  # unknown without the applied commit's plan


def test_engine_moved_when_the_repository_did_not() -> None:
    text = drift_markdown(drifted_plan(), branch="main", commit=HEAD, last_applied=HEAD[:12])
    assert "**The repository did not move**" in text and "**The engine moved**" in text
    data = json.loads(drift_json(drifted_plan(), branch="main", commit=HEAD, last_applied=HEAD))
    assert data["repoMoved"] is False and data["engineMoved"] is True


def test_applied_plan_tells_whether_the_engine_moved() -> None:
    plan = drifted_plan()
    quiet = drift_markdown(
        plan,
        branch="main",
        commit=HEAD,
        last_applied=APPLIED,
        applied_plan=Plan(environment="staging"),
    )
    assert "**The engine did not move**" in quiet
    moved = drift_json(plan, branch="main", commit=HEAD, last_applied=APPLIED, applied_plan=plan)
    assert json.loads(moved)["engineMoved"] is True and json.loads(moved)["repoMoved"] is True


def test_unknown_applied_commit_is_said_plainly() -> None:
    text = drift_markdown(drifted_plan(), branch="main", commit=HEAD, last_applied=None)
    assert "No applied commit is recorded" in text and "polyant-applied/staging" in text


def test_clean_engine_is_one_line_of_news() -> None:
    plan = Plan(environment="staging", engine_url="https://engine.example.com", commit=HEAD)
    text = drift_markdown(plan, branch="main", commit=HEAD, last_applied=HEAD, marker=MARKER)
    assert "**No drift**: the engine `staging` matches `main@0123456789ab`." in text
    assert "WARNING" not in text and "<details>" not in text
    data = json.loads(drift_json(plan, branch="main", commit=HEAD, last_applied=HEAD))
    assert data["drifted"] is False and data["objects"] == []


def test_json_report_shape() -> None:
    data = json.loads(drift_json(drifted_plan(), branch="main", commit=HEAD, last_applied=APPLIED))
    assert data["schemaVersion"] == 1 and data["kind"] == "polyant-gitops/drift"
    assert data["drifted"] is True and data["summary"] == {"missing": 1, "changed": 1, "extra": 1}
    helpdesk = next(o for o in data["objects"] if o["key"] == "instance/helpdesk")
    assert helpdesk["drift"] == "changed"
    assert helpdesk["fields"][0] == {
        "path": "description",
        "engine": "edited in the admin panel",
        "repository": "Internal FAQ",
    }
    assert data["engineUrl"] == "https://engine.example.com"
    assert len(data["checksum"]) == 64


def test_no_credential_or_unchanged_value_leaks() -> None:
    plan = drifted_plan()
    outputs = [
        drift_markdown(plan, branch="main", commit=HEAD, last_applied=APPLIED, marker=MARKER),
        drift_json(plan, branch="main", commit=HEAD, last_applied=APPLIED),
    ]
    for text in outputs:
        assert CANARY not in text


def test_hostile_field_paths_cannot_break_the_table() -> None:
    change = Change(
        kind="instance",
        action="update",
        slug="helpdesk",
        fields=(FieldChange("scheduledTasks[a | b <img src=x>].prompt", "x", "y"),),
    )
    text = drift_markdown(
        Plan(changes=[change], environment="staging"),
        branch="main",
        commit=HEAD,
        last_applied=APPLIED,
    )
    row = next(line for line in text.splitlines() if line.startswith("| `instance/helpdesk`"))
    assert row.replace("\\|", "").count("|") == 4


def test_huge_drift_stays_under_the_issue_size_limit() -> None:
    changes = [
        Change(
            kind="instance",
            action="update",
            slug=f"bot-{n:04d}",
            fields=(FieldChange("prompts.01-identity", "a\n" * 200, "b\n" * 200),),
        )
        for n in range(400)
    ]
    plan = Plan(changes=changes, environment="staging", commit=HEAD)
    text = drift_markdown(plan, branch="main", commit=HEAD, last_applied=APPLIED, marker=MARKER)
    assert len(text) <= 65_536
    assert "`instance/bot-0399`" in text  # the table names every object
    assert "truncated" in text


def test_thousands_of_drifted_objects_still_fit() -> None:
    changes = [
        Change(
            kind="instance",
            action="update",
            slug=f"bot-{n:05d}",
            fields=(FieldChange("description", "a", "b"),),
        )
        for n in range(5_000)
    ]
    plan = Plan(changes=changes, environment="staging", commit=HEAD)
    text = drift_markdown(plan, branch="main", commit=HEAD, last_applied=APPLIED)
    assert len(text) <= 65_536 and "more object(s)" in text
    assert "5000 object(s)" in text


def test_public_url_drops_credentials() -> None:
    assert public_url("https://u:p@h.example:8443/api?t=1#f") == "https://h.example:8443/api"
    assert public_url("http://[::1]:4000/") == "http://[::1]:4000"
    assert public_url(None) is None


def test_drift_module_is_pure() -> None:
    tree = ast.parse(Path(reconciler.render.drift.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert not roots & {"httpx", "ruamel", "git", "click", "os", "subprocess", "pathlib"}
