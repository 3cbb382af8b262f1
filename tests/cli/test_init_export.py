"""`init` scaffolds a config repository; `export` fills one without losing uncommitted work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import git
import pytest

from reconciler import __version__
from reconciler.config.scaffold import FILES, VERSION_MARK, package_workflow, template
from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEMPLATES = ROOT / "reconciler" / "config" / "templates"


def _tool(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "HOME": str(tmp_path), "PRE_COMMIT_HOME": str(tmp_path / ".pc")},
    )


def test_init_scaffolds_a_repository_that_validates(tmp_path: Path) -> None:
    run = cli(["init", "--root", str(tmp_path / "config")])
    assert run.code == 0, run.text
    root = tmp_path / "config"
    for rel in FILES:
        assert (root / rel).is_file(), rel
        assert f"wrote {rel}" in run.out
    assert {p.name for p in (root / ".schemas").iterdir()} >= {"instance.json", "polyant.json"}
    assert cli(["validate", "--root", str(root)]).out.startswith("ok: 0 instance(s)")
    # The workflows install this very version from PyPI, never from source.
    for name in ("ci", "plan", "apply", "drift"):
        text = (root / f".github/workflows/{name}.yml").read_text()
        assert f'"polyant-gitops=={__version__}"' in text and VERSION_MARK not in text
        assert "uses: ./" not in text and "scripts/bootstrap" not in text

    (root / "polyant.yaml").write_text("version: 1\n")
    again = cli(["init", "--root", str(root)])
    assert again.code == 0 and "kept polyant.yaml (already there)" in again.out
    assert (root / "polyant.yaml").read_text() == "version: 1\n"


def test_scaffolded_workflows_are_actionlint_and_zizmor_clean(tmp_path: Path) -> None:
    assert cli(["init", "--root", str(tmp_path)]).code == 0
    workflows = sorted(str(p) for p in (tmp_path / ".github/workflows").iterdir())
    lint = _tool(tmp_path, "actionlint", "-no-color", *workflows)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audit = _tool(
        tmp_path, "zizmor", "--offline", "--no-progress", "--persona", "pedantic", *workflows
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.mark.parametrize("name", ["plan", "apply", "drift"])
def test_workflow_templates_follow_this_repositorys_workflows(name: str) -> None:
    source = (ROOT / f".github/workflows/{name}.yml").read_text(encoding="utf-8")
    expected = package_workflow(source)
    assert expected != source, "the install step changed: update scaffold.SOURCE_INSTALL"
    assert (TEMPLATES / f"workflows/{name}.yml").read_text(encoding="utf-8") == expected, (
        f"regenerate: python -c 'from reconciler.config.scaffold import package_workflow as p; "
        f'print(p(open(".github/workflows/{name}.yml").read()), end="")\' '
        f"> reconciler/config/templates/workflows/{name}.yml"
    )


def test_init_from_engine_exports_the_live_instances(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    source = copy_examples(tmp_path / "source")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(source)], env).code == 0
    root = tmp_path / "adopted"
    run = cli(["init", "--root", str(root), "--from-engine"], env)
    assert run.code == 0, run.text
    assert (root / "instances/helpdesk/instance.yaml").is_file()
    assert (root / "skills/faq-search/SKILL.md").is_file()
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 0


def test_export_into_an_empty_folder_makes_it_a_repository(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    source = copy_examples(tmp_path / "source")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(source)], env).code == 0
    target = tmp_path / "target"
    target.mkdir()
    run = cli(["export", "--root", str(target)], env)
    assert run.code == 0, run.text
    assert "wrote polyant.yaml" in run.err
    # The modelines of the written files resolve.
    assert (target / ".schemas/instance.json").is_file()
    first = (target / "instances/helpdesk/instance.yaml").read_text().splitlines()[0]
    assert first.endswith("$schema=../../.schemas/instance.json")
    assert cli(["validate", "--root", str(target)]).code == 0


def test_export_refuses_to_overwrite_uncommitted_changes(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    repo.git.commit(
        "-m",
        "config",
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
        },
    )
    prompt = root / "instances/helpdesk/prompts/01-identity.md"
    prompt.write_text("# Identity\n\nMy unsaved edit.\n")

    run = cli(["export", "--root", str(root)], env)
    assert run.code == 1
    assert run.err.strip().splitlines()[-1] == (
        "error: export would overwrite uncommitted changes in "
        "instances/helpdesk/prompts/01-identity.md: commit or stash them, or pass --force"
    )
    assert prompt.read_text() == "# Identity\n\nMy unsaved edit.\n"

    forced = cli(["export", "--root", str(root), "--force"], env)
    assert forced.code == 0, forced.text
    assert "My unsaved edit." not in prompt.read_text()


def test_pre_commit_hook_manifest_and_config_run_offline(tmp_path: Path) -> None:
    manifest = _tool(
        tmp_path, "pre-commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")
    )
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    root = tmp_path / "config"
    assert cli(["init", "--root", str(root)]).code == 0
    config = _tool(root, "pre-commit", "validate-config", ".pre-commit-config.yaml")
    assert config.returncode == 0, config.stdout + config.stderr
    git.Repo.init(root)
    bad = root / "instances/bot/instance.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("name: Bot\nmanualTools: []\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    ran = _pre_commit_all(root, tmp_path)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "instances/bot/instance.yaml:2:" in ran.stdout
    bad.write_text("name: Bot\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    ran = _pre_commit_all(root, tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "polyant-gitops validate" in ran.stdout and "Passed" in ran.stdout


def test_manifest_hook_is_the_one_init_configures() -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    local = YAML(typ="safe").load(template("pre-commit-config.yaml"))["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == [h["id"] for h in local] == ["polyant-gitops-validate"]
    assert hooks[0]["entry"] == local[0]["entry"] == "polyant-gitops validate"
    assert hooks[0]["pass_filenames"] is False and hooks[0]["files"] == local[0]["files"]


def _pre_commit_all(root: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit run --all-files` offline, its cache in `home`."""
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",  # the hook calls the polyant-gitops on PATH
            "HOME": str(home),
            "PRE_COMMIT_HOME": str(home / ".pc"),
        },
    )
