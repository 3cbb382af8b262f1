"""--instance / --skill targeting on plan, apply and drift, and saved targeted plans."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples, writes


def _keys(plan_file: Path) -> set[str]:
    doc = json.loads(plan_file.read_text(encoding="utf-8"))
    return {f"{c['kind']}/{c['slug']}" for c in doc["changes"]}


def test_targeted_plan_names_only_the_instance_and_its_skills(
    tmp_path: Path, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    saved = tmp_path / "plan.json"
    run = cli(
        ["plan", "--root", str(root), "--instance", "assist*", "--out", str(saved)], engine_env
    )
    assert run.code == 0, run.text
    # assistant assigns faq-search only: ticket-triage and helpdesk are not planned.
    assert _keys(saved) == {"instance/assistant", "skill/faq-search"}
    assert "Warning: targeted: this plan covers only instances assist*;" in run.out
    assert json.loads(saved.read_text())["targets"] == ["instance:assist*"]


def test_skill_target_plans_that_skill_alone(tmp_path: Path, engine_env: dict[str, str]) -> None:
    root = copy_examples(tmp_path / "repo")
    saved = tmp_path / "plan.json"
    args = ["plan", "--root", str(root), "--skill", "ticket-*", "--out", str(saved)]
    assert cli(args, engine_env).code == 0
    assert _keys(saved) == {"skill/ticket-triage"}


def test_a_targeted_run_loads_only_the_folders_its_globs_name(
    tmp_path: Path, engine_env: dict[str, str]
) -> None:
    # A broken file in an instance the run does not target is never parsed (issue 14: a
    # scoped run loads polyant.yaml, skills/ and the folders it can plan); the untargeted
    # plan still reads it and fails on it at file:line.
    root = copy_examples(tmp_path / "repo")
    broken = root / "instances" / "helpdesk" / "instance.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    targeted = cli(["plan", "--root", str(root), "--instance", "assist*"], engine_env)
    assert targeted.code == 0, targeted.text
    assert "instance/assistant" in targeted.out
    assert "instance.yaml" not in targeted.text and "Left out: helpdesk." in targeted.out
    whole = cli(["plan", "--root", str(root)], engine_env)
    assert whole.code == 1, whole.text
    assert "instances/helpdesk/instance.yaml:" in whole.err


def test_a_target_matching_nothing_is_a_usage_error(
    tmp_path: Path, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    for option in ("--instance", "--skill"):
        run = cli(["plan", "--root", str(root), option, "nope*"], engine_env)
        assert run.code == 2, run.text
        assert f"{option} 'nope*' matches no" in run.err


def test_apply_of_a_saved_targeted_plan_applies_exactly_its_targets(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    saved = tmp_path / "plan.json"
    assert (
        cli(["plan", "--root", str(root), "--instance", "helpdesk", "--out", str(saved)], env).code
        == 0
    )

    other = cli(
        ["apply", "--root", str(root), "--plan", str(saved), "--instance", "assistant"], env
    )
    assert other.code == 1 and "made for instances helpdesk" in other.err
    assert writes(sandbox.requests) == []

    run = cli(["apply", "--root", str(root), "--plan", str(saved)], env)
    assert run.code == 0, run.text
    listed = httpx.get(
        f"{sandbox.url}/api/instances", headers={"Authorization": f"Bearer {sandbox.token}"}
    ).json()
    slugs = {item["slug"] for item in listed["instances"]}
    assert "helpdesk" in slugs and "assistant" not in slugs
    # The rest is still pending, and a targeted re-plan of helpdesk is empty.
    assert (
        cli(
            ["plan", "--root", str(root), "--instance", "helpdesk", "--detailed-exitcode"], env
        ).code
        == 0
    )
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 3


def test_targeted_apply_and_drift(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    run = cli(["apply", "--auto-approve", "--root", str(root), "--instance", "assistant"], env)
    assert run.code == 0, run.text
    assert "this plan covers only instances assistant" in run.out
    assert cli(["drift", "--root", str(root), "--instance", "assistant"], env).code == 0
    assert cli(["drift", "--root", str(root), "--instance", "helpdesk"], env).code == 3
