"""Apply reads a skill's version list once per run, however many instances need it."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.writer import write_repo
from reconciler.model.objects import Instance, Skill, SkillAssignment, State
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli


def _apply(root: Path, state: State, env: dict[str, str]) -> None:
    write_repo(root, state)
    run = cli(["apply", "--auto-approve", "--root", str(root)], env)
    assert run.code == 0, run.text


def test_parallel_instances_share_one_versions_read(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    (tmp_path / "polyant.yaml").write_text("version: 1\n")
    skill = Skill(slug="shared", name="shared", description="d", content="# shared\n")
    _apply(tmp_path, State(skills={"shared": skill}), engine_env)
    newer = skill.model_copy(update={"content": "# shared\n\nv2\n"})
    _apply(tmp_path, State(skills={"shared": newer}), engine_env)
    # Six new assignments pinned to the first version: each is enabled at the current
    # version and rolled back, and every rollback needs the version's UUID.
    pinned = SkillAssignment(slug="shared", pinnedVersion="0.1.0")
    instances = {f"i{n}": Instance(slug=f"i{n}", name=f"I{n}", skills=[pinned]) for n in range(6)}
    sandbox.reset_requests()
    _apply(tmp_path, State(instances=instances, skills={"shared": newer}), engine_env)
    rollbacks = [r for r in sandbox.requests if r.path.endswith("/skills/shared/rollback")]
    assert len(rollbacks) == 6
    reads = [r for r in sandbox.requests if r.path == "/api/skills/shared/versions"]
    assert len(reads) == 1
