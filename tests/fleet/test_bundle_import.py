"""`bundle import`: the engine's own export bundles become repo files that plan to nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import all_files_text, cli
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE
from tests.fleet.seeds import CANARIES, helpdesk, write_seed


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[SandboxServer]:
    """An engine holding the rich helpdesk instance and a two-skill catalog."""
    seed = write_seed(tmp_path / "seed.json", helpdesk())
    with SandboxServer(time_scale=TIME_SCALE, seed_file=seed) as server:
        yield server


def _env(server: SandboxServer) -> dict[str, str]:
    return {"POLYANT_URL": server.url, "POLYANT_TOKEN": server.token,
            "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS)}  # fmt: skip


def _download(server: SandboxServer, path: str, dest: Path) -> Path:
    """Save an export exactly as the admin panel's download button would."""
    headers = {"Authorization": f"Bearer {server.token}"}
    answer = httpx.get(server.url + path, headers=headers, timeout=10)
    assert answer.status_code == 200
    dest.write_bytes(answer.content)
    return dest


def _exports(server: SandboxServer, folder: Path) -> list[str]:
    folder.mkdir(exist_ok=True)
    return [
        str(_download(server, "/api/instances/helpdesk/export", folder / "helpdesk.json")),
        str(_download(server, "/api/skills/catalog/export", folder / "catalog.json")),
    ]


def test_engine_bundles_import_into_files_that_plan_to_nothing(
    tmp_path: Path, seeded: SandboxServer
) -> None:
    files = _exports(seeded, tmp_path / "downloads")
    root = tmp_path / "repo"
    run = cli(["bundle", "import", *files, "--root", str(root)])
    assert run.code == 0, run.text
    assert "2 skill(s)" in run.out and "1 instance(s)" in run.out
    assert "cannot carry thinkingEnabled" in run.err
    assert "definition 'Won' of event source 'Deals' has no interpretationPrompt" in run.err
    assert "never run" not in run.err  # API tasks are never in an export: nothing to warn
    assert cli(["validate", "--root", str(root)]).code == 0

    for extra in ([], ["--prune"]):
        plan = cli(["plan", "--root", str(root), "--detailed-exitcode", *extra], _env(seeded))
        assert plan.code == 0, plan.text

    text = (root / "instances/helpdesk/instance.yaml").read_text()
    for absent in ("thinkingEnabled", "langsmithProject", "sttProvider", "scheduledTasks",
                   "skillEnv", "action:"):  # fmt: skip
        assert absent not in text, absent  # unmanaged: the bundle cannot say
    assert "clientSecret: null" in text  # declared, a hubspot source needs it
    assert (root / "instances/helpdesk/icon.png").is_file()
    assert (root / "skills/faq-search/scripts/search.py").read_text() == "print(1)\n"
    for canary in CANARIES.values():
        assert canary not in all_files_text(root) + run.text


def test_importing_the_same_bundles_twice_changes_nothing(
    tmp_path: Path, seeded: SandboxServer
) -> None:
    files = _exports(seeded, tmp_path / "downloads")
    root = tmp_path / "repo"
    assert cli(["bundle", "import", *files, "--root", str(root)]).code == 0
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    again = cli(["bundle", "import", *files, "--root", str(root)])
    assert again.code == 0, again.text
    assert "0 file(s) written" in again.out
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_what_the_repo_knows_beyond_the_bundle_is_kept(
    tmp_path: Path, seeded: SandboxServer
) -> None:
    """Export to files (the full truth), then import the bundle over them: nothing is lost."""
    root = tmp_path / "repo"
    root.mkdir()
    assert cli(["export", "--root", str(root)], _env(seeded)).code == 0
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    text = (root / "instances/helpdesk/instance.yaml").read_text()
    assert "thinkingEnabled: true" in text and "action: conversation" in text

    files = _exports(seeded, tmp_path / "downloads")
    run = cli(["bundle", "import", *files, "--root", str(root)])
    assert run.code == 0, run.text
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    changed = [str(p.relative_to(root)) for p in after if after[p] != before.get(p)]
    assert changed == []
    plan = cli(["plan", "--root", str(root), "--detailed-exitcode", "--prune"], _env(seeded))
    assert plan.code == 0, plan.text


def test_tasks_stored_by_an_earlier_import_are_written_only_on_request(tmp_path: Path) -> None:
    body = helpdesk()
    bundle = {"version": "1.0", "exportedAt": "x", "type": "instance", "instance": body}
    path = tmp_path / "helpdesk.json"
    path.write_text(json.dumps(bundle))
    root = tmp_path / "repo"
    run = cli(["bundle", "import", str(path), "--root", str(root)])
    assert run.code == 0, run.text
    assert "'Digest'" in run.err and "never run" in run.err
    assert "scheduledTasks" not in (root / "instances/helpdesk/instance.yaml").read_text()
    # Like every field an existing file omits, tasks are added to a new file (or with --full).
    fresh = tmp_path / "fresh"
    run = cli(["bundle", "import", str(path), "--root", str(fresh), "--tasks"])
    assert run.code == 0, run.text
    assert "name: Digest" in (fresh / "instances/helpdesk/instance.yaml").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"version": "2.0", "type": "instance", "instance": {"slug": "x"}}', "not a Polyant"),
        ('{"version": "1.0", "type": "skills", "skills": {}}', "not a Polyant"),
    ],
)
def test_a_file_that_is_not_a_bundle_is_one_clear_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "thing.json"
    path.write_text(content)
    run = cli(["bundle", "import", str(path), "--root", str(tmp_path / "repo")])
    assert run.code == 1
    assert f"{path}: {message}" in run.err
    assert "Traceback" not in run.text
    assert not (tmp_path / "repo").exists()


def test_out_of_scope_instances_are_not_written(tmp_path: Path, seeded: SandboxServer) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    demo = _download(seeded, "/api/instances/demo-agent/export", folder / "demo.json")
    run = cli(["bundle", "import", str(demo), "--root", str(tmp_path / "repo")])
    assert run.code == 0
    assert "instance/demo-agent: outside this repo's scope" in run.err
    assert not (tmp_path / "repo/instances/demo-agent").exists()


def test_an_environment_override_is_not_overwritten_by_an_import(
    tmp_path: Path, seeded: SandboxServer
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    assert cli(["export", "--root", str(root)], _env(seeded)).code == 0
    path = root / "instances/helpdesk/instance.yaml"
    path.write_text(path.read_text().replace("model: gpt-4.1-mini", "model: gpt-4.1"))
    (root / "polyant.yaml").write_text(
        "version: 1\nenvironments:\n  staging:\n    overrides:\n"
        "      helpdesk: {model: gpt-4.1-mini, description: Staging desk}\n"
    )
    files = _exports(seeded, tmp_path / "downloads")
    run = cli(["bundle", "import", *files, "--root", str(root), "--env", "staging"])
    assert run.code == 0, run.text
    text = path.read_text()
    assert "model: gpt-4.1\n" in text and "description: FAQ helpdesk" in text
    assert "bundle's description differs from environment 'staging'" in run.err
    assert "bundle's model" not in run.err  # same as the override: nothing to say
