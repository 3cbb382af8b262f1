"""Apply reads a skill's version list once per run, however many instances need it."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.writer import write_repo
from reconciler.model.objects import Instance, Skill, SkillAssignment, State
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import cli


def test_parallel_instances_share_one_versions_read(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    skill = Skill(slug="shared", name="shared", description="d", content="# shared\n")
    instances = {
        f"i{n}": Instance(slug=f"i{n}", name=f"I{n}", skills=[SkillAssignment(slug="shared")])
        for n in range(6)
    }
    (tmp_path / "polyant.yaml").write_text("version: 1\n")
    write_repo(tmp_path, State(instances=instances, skills={"shared": skill}))
    run = cli(["apply", "--root", str(tmp_path)], engine_env)
    assert run.code == 0, run.text
    reads = [r for r in sandbox.requests if r.path == "/api/skills/shared/versions"]
    assert len(reads) == 1
