"""Git-scoped plans against a 200-instance sandbox: only what a change touches is read."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest

from reconciler.cli.scoping import shard_of
from reconciler.config.writer import write_repo
from reconciler.fleet.bundle_out import instance_bundle, skills_bundle
from reconciler.model.objects import Instance, SkillAssignment, State
from reconciler.model.objects import Skill as CatalogSkill
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE

FLEET = 200
PER_INSTANCE_HANDLERS = ("export", "scheduled", "event")  # handler-name fragments per instance


def _fleet() -> State:
    skills = {
        slug: CatalogSkill(slug=slug, name=slug, description=f"{slug} skill", content=f"# {slug}\n")
        for slug in ("lookup", "triage")
    }
    instances = {}
    for n in range(FLEET):
        slug = f"agent-{n:03d}"
        assigned = [SkillAssignment(slug="triage")] if n % 40 == 0 else []
        instances[slug] = Instance(
            slug=slug,
            name=f"Agent {n:03d}",
            description="fleet member",
            prompts={"01-identity": f"# Identity\n\nYou are agent {n}."},
            skills=assigned,
        )
    return State(instances=instances, skills=skills)


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A committed 200-instance repo and the seed file that makes the sandbox match it."""
    base = tmp_path_factory.mktemp("fleet")
    repo_root = base / "repo"
    repo_root.mkdir()
    state = _fleet()
    (repo_root / "polyant.yaml").write_text("version: 1\n")
    write_repo(repo_root, state)
    now = datetime.now(UTC)
    seed = {
        "skills": skills_bundle(state.skills.values(), now)[0],
        "instances": [instance_bundle(i, now)[0] for i in state.instances.values()],
    }
    seed_file = base / "seed.json"
    seed_file.write_text(json.dumps(seed))
    yield repo_root, seed_file


@pytest.fixture
def fleet(
    fleet_dir: tuple[Path, Path], tmp_path: Path
) -> Iterator[tuple[Path, SandboxServer, dict[str, str]]]:
    """A private git clone of the fleet repo and a sandbox seeded to match it."""
    root = tmp_path / "repo"
    shutil.copytree(fleet_dir[0], root)
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    repo.git.commit(
        m="fleet",
        author="t <t@example.com>",
        env={"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"},
    )
    with SandboxServer(time_scale=TIME_SCALE, seed_file=fleet_dir[1]) as server:
        env = {
            "POLYANT_URL": server.url,
            "POLYANT_TOKEN": server.token,
            "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
        }
        yield root, server, env


def _read_slugs(server: SandboxServer) -> set[str]:
    """Instances whose per-instance read routes the sandbox served."""
    slugs = set()
    for record in server.requests:
        parts = record.path.split("?")[0].split("/")
        if record.method == "GET" and len(parts) > 4 and parts[2] == "instances":
            slugs.add(parts[3])
    return slugs - {"models"}


def test_scoped_plan_of_one_prompt_reads_only_that_instance(fleet: tuple) -> None:
    root, server, env = fleet
    prompt = root / "instances/agent-007/prompts/01-identity.md"
    prompt.write_text("# Identity\n\nYou are agent 7, now in charge of billing.\n")
    server.reset_requests()
    run = cli(
        [
            "plan",
            "--root",
            str(root),
            "--changed-since",
            "HEAD",
            "--format",
            "markdown",
            "--detailed-exitcode",
        ],
        env,
    )
    assert run.code == 3, run.text
    assert _read_slugs(server) == {"agent-007"}
    assert "instance/agent-007" in run.out and "prompts.01-identity" in run.out
    assert "**Scoped plan**: only instance(s) `agent-007`." in run.out
    assert "Left out: `agent-000`" in run.out and "and 189 more" in run.out


def test_changed_skill_pulls_in_exactly_the_instances_that_assign_it(fleet: tuple) -> None:
    root, server, env = fleet
    skill = root / "skills/triage/SKILL.md"
    skill.write_text(skill.read_text().replace("# triage", "# triage\n\nNow with urgency levels."))
    server.reset_requests()
    run = cli(["plan", "--root", str(root), "--changed-since", "HEAD"], env)
    assert run.code == 0, run.text
    assigning = {f"agent-{n:03d}" for n in range(0, FLEET, 40)}
    assert _read_slugs(server) == assigning
    assert "skill/triage" in run.out


def test_deleted_instance_folder_is_a_delete_under_prune(fleet: tuple) -> None:
    root, server, env = fleet
    shutil.rmtree(root / "instances/agent-123")
    server.reset_requests()
    without = cli(["plan", "--root", str(root), "--changed-since", "HEAD"], env)
    assert without.code == 0, without.text
    assert "- delete instance/agent-123" not in without.out
    pruned = cli(
        ["plan", "--root", str(root), "--changed-since", "HEAD", "--prune", "--format", "json"], env
    )
    assert pruned.code == 0, pruned.text
    doc = json.loads(pruned.out)
    deletes = [c["slug"] for c in doc["changes"] if c["action"] == "delete"]
    assert deletes == ["agent-123"]
    assert _read_slugs(server) == {"agent-123"}


def test_full_plan_of_the_fleet_is_empty_and_reads_everything(fleet: tuple) -> None:
    root, server, env = fleet
    server.reset_requests()
    run = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert run.code == 0, run.text
    assert len(_read_slugs(server)) == FLEET


def _commit(root: Path, message: str) -> None:
    repo = git.Repo(root)
    repo.git.add(A=True)
    repo.git.commit(
        m=message,
        author="t <t@example.com>",
        env={"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"},
    )


def test_scoped_plan_loads_only_the_touched_instance_folders(fleet: tuple) -> None:
    root, _server, env = fleet
    # An untouched folder that no longer loads: a scoped run never opens it, a full one does.
    (root / "instances/agent-150/instance.yaml").write_text("name: [unclosed\n")
    _commit(root, "break agent-150")
    prompt = root / "instances/agent-007/prompts/01-identity.md"
    prompt.write_text("# Identity\n\nYou are agent 7, now in charge of billing.\n")
    scoped = cli(["plan", "--root", str(root), "--changed-since", "HEAD", "--format", "json"], env)
    assert scoped.code == 0, scoped.text
    assert [c["slug"] for c in json.loads(scoped.out)["changes"]] == ["agent-007"]
    full = cli(["validate", "--root", str(root)], env)
    assert full.code == 1 and "instances/agent-150/instance.yaml:2:1:" in full.text, full.text


def test_scoped_shard_plan_loads_only_its_shard(fleet: tuple) -> None:
    root, _server, env = fleet
    (root / "instances/agent-150/instance.yaml").write_text("name: [unclosed\n")
    index = 1 if shard_of("agent-150", 2) == 2 else 2
    run = cli(["plan", "--root", str(root), "--shard", f"{index}/2", "--format", "json"], env)
    assert run.code == 0, run.text
    assert json.loads(run.out)["changes"] == []
    other = cli(["plan", "--root", str(root), "--shard", f"{3 - index}/2"], env)
    assert other.code == 1 and "instances/agent-150/instance.yaml:2:1:" in other.text
