"""Environments end to end: variables and overrides resolve per engine, undefined ones fail."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.model.objects import CronSchedule
from tests.cli.helpers import cli
from tests.fleet.repos import Engines, live_state, write


def test_each_environment_gets_its_own_values(
    fleet_repo: Path, engines: Engines, fleet_env: dict[str, str]
) -> None:
    root = str(fleet_repo)
    for env in ("staging", "production"):
        assert cli(["validate", "--root", root, "--env", env]).code == 0
        applied = cli(["apply", "--auto-approve", "--root", root, "--env", env], fleet_env)
        assert applied.code == 0, applied.text
        again = cli(["plan", "--root", root, "--env", env, "--detailed-exitcode"], fleet_env)
        assert again.code == 0, again.text

    staging = live_state(engines.staging).instances["helpdesk"]
    production = live_state(engines.production).instances["helpdesk"]
    assert (staging.model, production.model) == ("gpt-4.1-mini", "gpt-4.1")  # override
    assert staging.description == "FAQ helpdesk for Staging team"  # variable
    assert production.description == "FAQ helpdesk for Support team"
    targets = [
        i.scheduled_tasks[0].outbound_target for i in (staging, production) if i.scheduled_tasks
    ]
    assert targets == ["#helpdesk-dev", "#helpdesk"]
    assert isinstance(production.scheduled_tasks[0].schedule, CronSchedule)


def test_plan_for_one_environment_never_touches_the_other(
    fleet_repo: Path, engines: Engines, fleet_env: dict[str, str]
) -> None:
    run = cli(["apply", "--auto-approve", "--root", str(fleet_repo), "--env", "staging"], fleet_env)
    assert run.code == 0, run.text
    assert [r for r in engines.production.requests if r.method != "GET"] == []
    assert "helpdesk" not in live_state(engines.production).instances


def test_an_undefined_variable_fails_validation_with_file_and_line(fleet_repo: Path) -> None:
    path = fleet_repo / "instances/helpdesk/instance.yaml"
    path.write_text(path.read_text().replace("${team}", "${teem}"))
    run = cli(["validate", "--root", str(fleet_repo), "--env", "production"])
    assert run.code == 1
    assert re.search(r"instances/helpdesk/instance\.yaml:2:\d+: .*variable 'teem'", run.err), (
        run.err
    )
    assert "environment 'production'" in run.err
    assert "Traceback" not in run.text


def test_a_variable_missing_in_one_environment_fails_only_there(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    yaml = fleet_repo / "polyant.yaml"
    yaml.write_text(yaml.read_text().replace('      digestChannel: "#helpdesk"\n', ""))
    assert cli(["validate", "--root", str(fleet_repo), "--env", "staging"]).code == 0
    run = cli(["plan", "--root", str(fleet_repo), "--env", "production"], fleet_env)
    assert run.code == 1
    assert re.search(r"instances/helpdesk/instance\.yaml:\d+:\d+: .*'digestChannel'", run.err)


def test_an_override_of_an_unknown_instance_is_reported_in_polyant_yaml(fleet_repo: Path) -> None:
    yaml = fleet_repo / "polyant.yaml"
    yaml.write_text(yaml.read_text().replace("      helpdesk:\n", "      helpdessk:\n"))
    run = cli(["validate", "--root", str(fleet_repo), "--env", "staging"])
    assert run.code == 1
    assert re.search(r"polyant\.yaml:\d+:\d+: .*helpdessk", run.err), run.err


def test_an_unknown_environment_is_a_clear_error(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    run = cli(["plan", "--root", str(fleet_repo), "--env", "prod"], fleet_env)
    assert run.code == 2  # a usage error
    assert "'prod'" in run.err and "production" in run.err


def test_each_environment_reads_its_own_token_variable(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    env = {**fleet_env, "PRODUCTION_TOKEN": ""}
    run = cli(["plan", "--root", str(fleet_repo), "--env", "production"], env)
    assert run.code == 1
    assert "PRODUCTION_TOKEN" in run.err
    assert cli(["plan", "--root", str(fleet_repo), "--env", "staging"], env).code == 0


def test_literal_dollar_braces_survive(
    fleet_repo: Path, engines: Engines, fleet_env: dict[str, str]
) -> None:
    path = fleet_repo / "instances/assistant/instance.yaml"
    path.write_text(path.read_text().replace("General assistant", "Costs $${price} per seat"))
    write(fleet_repo / "instances/assistant/prompts/01-identity.md", "Hi ${not_a_variable}\n")
    assert (
        cli(
            ["apply", "--auto-approve", "--root", str(fleet_repo), "--env", "staging"], fleet_env
        ).code
        == 0
    )
    live = live_state(engines.staging).instances["assistant"]
    assert live.description == "Costs ${price} per seat"
    # Prompt files are Markdown, not templates: their text goes to the engine as written.
    assert live.prompts["01-identity"].strip() == "Hi ${not_a_variable}"
