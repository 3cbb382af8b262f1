"""Promotion staging → production through compare → plan → apply, on two real engines."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE
from tests.fleet.repos import Engines, live_state, write
from tests.fleet.seeds import CANARIES, helpdesk, write_seed


def _apply_both(root: Path, env: dict[str, str]) -> None:
    for name in ("staging", "production"):
        run = cli(["apply", "--auto-approve", "--root", str(root), "--env", name], env)
        assert run.code == 0, run.text


def _compare(root: Path, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    run = cli(["compare", "--root", str(root), "--env", "staging", "--env", "production",
               "--detailed-exitcode", *extra], env)  # fmt: skip
    return run.code, run.out, run.err


def test_promoting_a_change_from_staging_to_production(
    fleet_repo: Path, engines: Engines, fleet_env: dict[str, str]
) -> None:
    _apply_both(fleet_repo, fleet_env)
    code, out, _ = _compare(fleet_repo, fleet_env, "--mode", "live")
    assert code == 0, out  # only designed differences (model override, variables) remain
    assert "differs by design" in out and "model" in out

    # A change lands in the repo and is applied to staging only.
    write(fleet_repo / "instances/helpdesk/prompts/01-identity.md", "You are the new helpdesk.\n")
    assert (
        cli(
            ["apply", "--auto-approve", "--root", str(fleet_repo), "--env", "staging"], fleet_env
        ).code
        == 0
    )

    code, out, _ = _compare(fleet_repo, fleet_env, "--mode", "live", "--format", "json")
    assert code == 3
    live = json.loads(out)["live"]
    assert [(c["kind"], c["action"], c["slug"]) for c in live["changes"]] == [
        ("instance", "update", "helpdesk")
    ]
    paths = [f["path"] for f in live["changes"][0]["fields"]]
    assert paths == ["prompts.01-identity"]  # not the model: that differs by design

    # Promote: the production plan shows the same change; apply it.
    plan = cli(["plan", "--root", str(fleet_repo), "--env", "production", "--detailed-exitcode"],
               fleet_env)  # fmt: skip
    assert plan.code == 3 and "prompts.01-identity" in plan.out
    assert (
        cli(
            ["apply", "--auto-approve", "--root", str(fleet_repo), "--env", "production"], fleet_env
        ).code
        == 0
    )
    assert _compare(fleet_repo, fleet_env, "--mode", "live")[0] == 0
    prod = live_state(engines.production).instances["helpdesk"]
    assert prod.prompts["01-identity"].startswith("You are the new helpdesk.")
    assert prod.model == "gpt-4.1"  # the staging override was not promoted


def test_the_repo_side_shows_the_designed_differences(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    code, out, _ = _compare(fleet_repo, fleet_env, "--mode", "repo")
    assert code == 3
    assert '~ model: "gpt-4.1" → "gpt-4.1-mini"' in out
    assert "scheduledTasks[Daily digest].outboundTarget" in out
    assert "description" in out and "Support team" in out
    assert "Live:" not in out


def test_live_side_shows_what_only_one_engine_has(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    assert (
        cli(
            ["apply", "--auto-approve", "--root", str(fleet_repo), "--env", "staging"], fleet_env
        ).code
        == 0
    )
    code, out, _ = _compare(fleet_repo, fleet_env, "--mode", "live")
    assert code == 3
    assert "+ create instance/helpdesk" in out and "+ create skill/faq-search" in out
    # The staging override is a designed difference even on a create: not its own change.
    assert '+ model = "gpt-4.1-mini"' in out


def test_markdown_output_is_a_single_comment(fleet_repo: Path, fleet_env: dict[str, str]) -> None:
    _apply_both(fleet_repo, fleet_env)
    out_file = fleet_repo.parent / "compare.md"
    code, _, _ = _compare(fleet_repo, fleet_env, "--format", "markdown", "--out", str(out_file))
    assert code == 3  # both sides: the repo side always shows the designed differences
    text = out_file.read_text()
    assert text.startswith("<!-- polyant-gitops:compare:staging:production -->")
    assert "Promotion staging → production" in text
    assert "| field | production | staging |" in text and "| engine |" not in text
    assert "Live: staging engine vs production engine" in text and "same." in text


def test_compare_needs_two_distinct_environments(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    for args in (["--env", "staging"], ["--env", "staging", "--env", "staging"]):
        run = cli(["compare", "--root", str(fleet_repo), *args], fleet_env)
        assert run.code == 2  # a usage error
        assert "two different environments" in run.err


def test_without_detailed_exitcode_differences_exit_zero(
    fleet_repo: Path, fleet_env: dict[str, str]
) -> None:
    run = cli(["compare", "--root", str(fleet_repo), "--env", "staging", "--env", "production",
               "--mode", "repo"], fleet_env)  # fmt: skip
    assert run.code == 0
    assert "instance/helpdesk" in run.out


LIVE_ONLY = """\
version: 1
environments:
  staging: {{url: "{}", tokenEnv: STAGING_TOKEN}}
  production: {{url: "{}", tokenEnv: PRODUCTION_TOKEN}}
"""


def test_live_compare_of_seeded_engines_leaks_nothing(tmp_path: Path) -> None:
    changed = helpdesk()
    changed["room"] = {**changed["room"], "prompt": "Watch the backlog closely."}
    seeds = [write_seed(tmp_path / "a.json", helpdesk()), write_seed(tmp_path / "b.json", changed)]
    with (
        SandboxServer(time_scale=TIME_SCALE, seed_file=seeds[0]) as staging,
        SandboxServer(time_scale=TIME_SCALE, seed_file=seeds[1]) as production,
    ):
        root = tmp_path / "repo"  # nothing in the repo: live against live only
        write(root / "polyant.yaml", LIVE_ONLY.format(staging.url, production.url))
        env = {"STAGING_TOKEN": staging.token, "PRODUCTION_TOKEN": production.token,
               "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS)}  # fmt: skip
        headers = {"Authorization": f"Bearer {staging.token}"}
        hooks = httpx.get(f"{staging.url}/api/instances/helpdesk/event-sources", headers=headers)
        tokens = [s["webhookToken"] for s in hooks.json()]
        outputs = []
        for fmt in ("text", "markdown", "json"):
            code, out, err = _compare(root, env, "--mode", "live", "--format", fmt)
            assert code == 3, out + err
            outputs.append(out)
            assert secret_free(out + err, [staging.token, production.token, *tokens])
    live = json.loads(outputs[2])["live"]
    assert [f["path"] for c in live["changes"] for f in c["fields"]] == ["room.prompt"]


def secret_free(text: str, more: list[str]) -> bool:
    """True when no planted secret, engine token or webhook token is in `text`."""
    return not any(secret in text for secret in [*CANARIES.values(), *more])


def test_one_token_variable_for_both_engines_is_called_out(
    tmp_path: Path, engines: Engines
) -> None:
    root = tmp_path / "repo"
    shared = LIVE_ONLY.replace("STAGING_TOKEN", "POLYANT_TOKEN").replace(
        "PRODUCTION_TOKEN", "POLYANT_TOKEN"
    )
    write(root / "polyant.yaml", shared.format(engines.staging.url, engines.production.url))
    env = {"POLYANT_TOKEN": engines.staging.token, "POLYANT_URL": ""}
    code, out, err = _compare(root, env, "--mode", "live")
    assert code == 1  # production rejects staging's token
    assert "both environments read their token from POLYANT_TOKEN" in err
    assert engines.staging.token not in out + err
