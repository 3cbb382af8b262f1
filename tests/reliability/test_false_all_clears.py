"""A folder that is not a config repository is never reported clean (issue 15 item 8).

Before the fix `validate /nonexistent` printed "ok: 0 instance(s)", `plan --root /nonexistent`
and `drift` in an empty folder exited 0 with "No changes", and `plan` from a subfolder of a
repository planned an empty repository. Every command now finds the nearest polyant.yaml
upward or refuses with exit 1 and one line saying what to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli.helpers import cli, copy_examples

COMMANDS = [
    "validate",
    "schema",
    "plan",
    "apply --auto-approve",
    "drift",
    "bundle export --skills --out b",
]


@contextmanager
def working_dir(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_root_is_an_error_not_a_clean_result(
    tmp_path: Path, engine_env: dict[str, str], command: str
) -> None:
    missing = tmp_path / "nonexistent"
    run = cli([*command.split(), "--root", str(missing)], env=engine_env)
    assert run.code == 1, run.text
    assert "ok:" not in run.out and "No changes" not in run.out
    assert run.err.strip().splitlines()[-1].endswith("run `polyant-gitops init` there first")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_folder_is_not_a_clean_repository(
    tmp_path: Path, engine_env: dict[str, str], command: str
) -> None:
    with working_dir(tmp_path):
        run = cli(command.split(), env=engine_env)
    assert run.code == 1, run.text
    last = run.err.strip().splitlines()[-1]
    assert last == (
        f"error: no polyant.yaml in {tmp_path.resolve()} or any parent; run `polyant-gitops init`"
    )


def test_a_root_without_polyant_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "instances").mkdir()
    run = cli(["validate", "--root", str(tmp_path)])
    assert run.code == 1 and "ok:" not in run.out
    assert f"no polyant.yaml in {tmp_path.resolve()}; run `polyant-gitops init`" in run.err


def test_plan_from_a_subfolder_plans_the_repository(
    tmp_path: Path, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    with working_dir(root / "instances" / "helpdesk"):
        validated = cli(["validate"])
        planned = cli(["plan", "--detailed-exitcode"], env=engine_env)
    assert validated.code == 0 and "ok: 2 instance(s)" in validated.out, validated.text
    # The sandbox starts without the example instances: a real plan has creates.
    assert planned.code == 3, planned.text
    assert "No changes" not in planned.out and "helpdesk" in planned.out
