"""Issue 15 item 6: control characters and ANSI escapes never reach an output raw.

From the repository they are refused (file:line:col); from the engine they are spelled
out (\\x1b) in the terminal, the Markdown comment and GitHub annotations.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples

RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EVIL = "Evil\x1b[2J\x1b]8;;http://x\x07B\x9b"


def _clean(*texts: str) -> None:
    for text in texts:
        found = RAW.search(text)
        assert found is None, f"raw control character {found.group()!r} in output"


def test_a_yaml_escape_in_a_name_is_refused_at_its_place(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    inst = root / "instances" / "helpdesk" / "instance.yaml"
    inst.write_text(inst.read_text().replace("name: Helpdesk", 'name: "A\\x07B"', 1))
    run = cli(["validate", "--root", str(root)], {"GITHUB_ACTIONS": "true"})
    assert run.code == 1, run.text
    assert "instances/helpdesk/instance.yaml:2:" in run.err and "\\x07" in run.err, run.err
    assert "::error file=instances/helpdesk/instance.yaml,line=2" in run.out, run.out
    _clean(run.out, run.err)


def test_an_escape_in_a_prompt_file_is_refused_at_its_line(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    prompt = root / "instances" / "helpdesk" / "prompts" / "01-identity.md"
    prompt.write_text("Hello.\nYou are \x1b[31mred\x1b[0m.\n")
    run = cli(["validate", "--root", str(root)])
    assert run.code == 1, run.text
    assert "instances/helpdesk/prompts/01-identity.md:2:9:" in run.err, run.err
    _clean(run.out, run.err)


def test_engine_names_with_escapes_are_spelled_out_everywhere(
    tmp_path: Path, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**engine_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    task = {
        "name": EVIL,
        "prompt": "x",
        "schedule": {"type": "cron", "expression": "0 8 * * 1-5", "timezone": "UTC"},
    }
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    for _ in range(2):
        url = f"{sandbox.url}/api/instances/helpdesk/scheduled-tasks"
        httpx.post(url, json=task, headers=headers).raise_for_status()
    stopped = cli(["plan", "--root", str(root)], env)
    assert stopped.code == 1 and "Evil\\x1b[2J" in stopped.err, stopped.err
    summary, md = tmp_path / "summary.md", tmp_path / "plan.md"
    github = {**env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["plan", "--root", str(root), "--prune", "--markdown-out", str(md)]
    run = cli(args, github)
    assert run.code == 0, run.text
    assert "Evil\\x1b[2J" in run.out and "Evil\\x1b[2J" in md.read_text()
    _clean(stopped.out, stopped.err, run.out, run.err, md.read_text(), summary.read_text())
