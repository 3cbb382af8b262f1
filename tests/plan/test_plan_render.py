"""Renderers and the saved plan: escaping, truncation, colour, no secrets, round trips."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import PlanError
from reconciler.model.objects import Instance, Skill
from reconciler.plan.changes import Change, FieldChange, Notice, Plan
from reconciler.plan.planfile import plan_from_json, plan_to_json
from reconciler.plan.safety import checksum
from reconciler.render.markdown import code, fence, md
from reconciler.render.text import NO_CHANGES, to_json, to_markdown, to_text

from .builders import faq_skill, helpdesk, live_faq, live_helpdesk, make_plan, state

ANSI = re.compile(r"\x1b\[")


def _update(*fields: FieldChange, notices: list[Notice] | None = None) -> Plan:
    change = Change("instance", "update", "helpdesk", tuple(fields))
    return Plan(changes=[change], notices=notices or [])


def test_text_colour_is_optional() -> None:
    plan = make_plan(state(helpdesk(description="new"), faq_skill()), state(live_helpdesk()))
    assert not ANSI.search(to_text(plan))
    coloured = to_text(plan, color=True)
    assert ANSI.search(coloured) and ANSI.sub("", coloured).count("update instance/helpdesk") == 1


def test_text_escapes_control_characters_from_user_text() -> None:
    plan = _update(
        FieldChange("description", "a", "evil\x1b[2J\x07"),
        notices=[Notice("info", "instance/x\x1b]0;t\x07", "m\x9b31m")],
    )
    text = to_text(plan)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\\u001b[2J" in text and "\\x1b]0;t" in text


def test_no_changes_messages() -> None:
    empty = Plan()
    assert to_text(empty) == NO_CHANGES + "\n"
    assert to_markdown(empty, marker="<!-- m -->") == (
        "<!-- m -->\n**Polyant plan**: no changes. The engine matches the repository.\n"
    )
    warned = Plan(notices=[Notice("warning", "instance/a", "secret missing")])
    assert "**Warnings**" in to_markdown(warned) and "No changes." in to_markdown(warned)


def test_markdown_escapes_user_text() -> None:
    nasty = "a|b `c` <img src=x onerror=alert(1)> **bold** @org/team"
    plan = _update(
        FieldChange("description", "old", nasty),
        notices=[Notice("warning", "instance/helpdesk", nasty)],
    )
    text = to_markdown(plan, title="<script>x</script>")
    outside_code = re.sub(r"(`+).*?\1", "", text)  # code spans show HTML as text
    assert "<img" not in outside_code and "<script>" not in text
    assert "&lt;img" in text
    assert "&lt;script&gt;" in text
    assert "@org" not in outside_code  # no mention pings from user text (code spans are inert)
    row = next(line for line in text.splitlines() if line.startswith("| `description`"))
    assert row.count("|") - row.count("\\|") == 4  # the cell's pipes cannot split the row


def test_code_spans_and_fences_outlast_backticks() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert fence(["```", "x"], "diff")[0] == "````diff"
    assert md("*x* _y_ [z](u)") == "\\*x\\* \\_y\\_ \\[z\\](u)"


def test_long_texts_render_as_unified_diffs() -> None:
    old = "line one\nline two\nline three\n"
    new = "line one\nline 2\nline three\n"
    plan = _update(FieldChange("prompts.01-identity", old, new))
    text = to_text(plan)
    assert "-line two" in text and "+line 2" in text and " line one" in text
    markdown = to_markdown(plan)
    assert "```diff\n@@ -1,3 +1,3 @@" in markdown and "\n-line two\n+line 2\n" in markdown


def test_markdown_stays_under_the_limit_and_says_what_was_cut() -> None:
    bots = [
        Instance(slug=f"bot-{n:02d}", name=f"Bot {n}", prompts={"01-identity": "line\n" * 1500})
        for n in range(40)
    ]
    plan = make_plan(state(*bots), state(), force=True)
    for limit in (3_000, 10_000, 65_000):
        text = to_markdown(plan, limit=limit)
        assert len(text) <= limit
        cut = re.search(r"truncated: (\d+) of 40 object", text)
        assert cut is not None and "plan.json" in text
        assert text.count("<details><summary><code>") == 40 - int(cut.group(1))


def test_markdown_caps_one_huge_diff() -> None:
    plan = _update(FieldChange("prompts.01-identity", None, "word\n" * 20_000))
    text = to_markdown(plan, limit=20_000)
    assert len(text) <= 20_000 and "more line(s): see the plan.json artifact" in text


def test_markdown_with_many_notices_stays_under_the_limit() -> None:
    notices = [Notice("warning", f"instance/i{n}", "w" * 200) for n in range(2_000)]
    text = to_markdown(_update(FieldChange("description", "a", "b"), notices=notices), limit=8_000)
    assert len(text) <= 8_000 and "more notice(s)" in text


def _canary_plan() -> tuple[Plan, list[str]]:
    """States with canary strings wherever a secret value could sneak into a plan."""
    canaries = [f"CANARY-{n}-7f3a" for n in range(6)]
    want = helpdesk(secrets=["auth_api_key", "openai_api_key", "github_token"])
    (want.event_sources or [])[0].config = {"signingSecret": None, "apiToken": None}
    live = live_helpdesk(
        secrets=["openai_api_key", "slack_bot_token"],
        skillEnv={
            "faq-search": {"FAQ_API_KEY": canaries[0], "OLD_TOKEN": canaries[1]},
            "gone-skill": {"TOKEN": canaries[2]},
        },
    )
    source = (live.event_sources or [])[0]
    source.config = {"signingSecret": canaries[3], "extra": canaries[4]}  # a leaky reader
    live_skill = live_faq(requiredEnv=[{"name": "FAQ_API_KEY", "sensitive": True}])
    want_skill = faq_skill(requiredEnv=[{"name": "FAQ_API_KEY", "sensitive": True}])
    want.skill_env = {"faq-search": {"FAQ_API_KEY": "plain-now", "FAQ_INDEX": "v2"}}
    plan = make_plan(state(want, want_skill), state(live, live_skill), prune=True, force=True)
    return plan, canaries


def test_no_secret_value_reaches_any_output() -> None:
    plan, canaries = _canary_plan()
    assert plan.has_changes  # the plan does touch the places the canaries live in
    outputs = [to_text(plan), to_text(plan, color=True), to_markdown(plan), to_json(plan)]
    for output in outputs:
        for canary in canaries:
            assert canary not in output
    paths = {f.path for c in plan.changes for f in c.fields}
    assert {"skillEnv.faq-search.FAQ_API_KEY", "skillEnv.faq-search.OLD_TOKEN"} <= paths


def test_saved_plan_round_trips() -> None:
    plan, _ = _canary_plan()
    plan = replace(plan, notices=(*plan.notices, Notice("info", "instance/x", "note")))
    text = plan_to_json(plan)
    again = plan_from_json(text)
    assert checksum(again) == checksum(plan)
    assert plan_to_json(again) == text
    assert again.fingerprints == plan.fingerprints and again.notices == plan.notices
    [before] = [c for c in plan.changes if c.key == "instance/helpdesk"]
    [after] = [c for c in again.changes if c.key == "instance/helpdesk"]
    assert isinstance(after.desired, Instance) and isinstance(before.desired, Instance)
    assert after.desired.model_fields_set == before.desired.model_fields_set
    assert after.desired == before.desired and after.live is None


def test_saved_plan_keeps_unmanaged_fields_unmanaged() -> None:
    want = Instance(slug="helpdesk", name="Helpdesk", description="d")
    plan = make_plan(state(want), state(live_helpdesk()))
    [change] = plan_from_json(to_json(plan)).changes
    assert change.desired is not None
    assert change.desired.model_fields_set == {"slug", "name", "description"}


def test_json_schema_shape() -> None:
    plan = make_plan(
        state(helpdesk(description="new"), faq_skill(description="x")),
        state(live_helpdesk(), live_faq()),
        env="prod",
    )
    data = json.loads(to_json(plan))
    assert data["schemaVersion"] == 2 and data["environment"] == "prod"
    assert data["summary"] == {"create": 0, "update": 2, "delete": 0}
    assert data["checksum"] == checksum(plan) and data["unsafe"] is False
    assert [c["kind"] for c in data["changes"]] == ["skill", "instance"]
    keys = {"kind", "action", "slug", "fields", "fingerprint", "desired"}
    assert set(data["changes"][0]) == keys | {"operations", "wave", "unsupplied"}
    assert [o["type"] for o in data["changes"][0]["operations"]] == ["catalog.import"]
    assert list(data) == sorted(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "not a polyant-gitops plan"),
        ('{"schemaVersion": 3}', "schemaVersion 3"),
        ('{"schemaVersion": 2, "changes": []}', "damaged"),
    ],
)
def test_bad_plan_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_from_json(text)


def _tampered(edit: Any) -> str:
    plan = make_plan(state(helpdesk(description="new"), faq_skill()), state(live_helpdesk()))
    data = json.loads(to_json(plan))
    edit(data)
    return json.dumps(data)


def test_edited_plan_is_refused() -> None:
    def change_value(data: dict[str, Any]) -> None:
        data["changes"][-1]["desired"]["description"] = "sneaky"

    with pytest.raises(PlanError, match="checksum mismatch"):
        plan_from_json(_tampered(change_value))

    def break_model(data: dict[str, Any]) -> None:
        data["changes"][0]["desired"]["name"] = ""

    with pytest.raises(PlanError, match="invalid desired object at name"):
        plan_from_json(_tampered(break_model))


def test_skill_changes_round_trip_with_their_model() -> None:
    plan = make_plan(state(faq_skill()), state())
    [change] = plan_from_json(to_json(plan)).changes
    assert isinstance(change.desired, Skill) and change.desired.scripts[0].file == "search.py"
