"""Issue 15 item 5: values the engine cannot take fail `validate` and `plan`, before any write.

Each case used to pass validation and then fail half-way through apply (an instance
created without its room, a task refused after other writes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, cli, copy_examples, writes

INSTANCE = "instances/helpdesk/instance.yaml"
BIG = "x" * 200_000


def _edit(root: Path, old: str, new: str) -> None:
    path = root / INSTANCE
    text = path.read_text()
    for before, after in zip(old.split("|||"), new.split("|||"), strict=True):
        assert before in text, before
        text = text.replace(before, after, 1)
    path.write_text(text)


CASES = {
    "room prompt 200 KB": (
        "  prompt: |\n    Watch the backlog",
        f"  prompt: |\n    {BIG}\n    Watch the backlog",
        "the room would send",
    ),
    "description 200 KB": (
        "description: Internal FAQ helpdesk on Slack",
        f"description: {BIG}",
        "the instance settings would send",
    ),
    # Each value is under 100 KB; together they make the task's POST body too large.
    "outboundTarget grown by a variable": (
        "outboundTarget: ${digestChannel}|||description: Morning summary",
        "outboundTarget: ${digestChannel}"
        + "${digestChannel}" * 5000
        + "|||description: "
        + "y" * 60_000,
        "scheduled task 'Daily digest' would send",
    ),
    "cron minute 61": (
        "expression: 0 8 * * 1-5",
        "expression: 61 8 * * 1-5",
        "61 is out of range 0-59",
    ),
    "cron month 13": (
        "expression: 0 8 * * 1-5",
        "expression: 0 8 1 13 *",
        "13 is out of range 1-12",
    ),
    "evalIntervalMinutes over int4": (
        "evalIntervalMinutes: 10",
        "evalIntervalMinutes: 2147483648",
        "2147483647",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_names_the_value(tmp_path: Path, case: str) -> None:
    old, new, says = CASES[case]
    root = copy_examples(tmp_path)
    _edit(root, old, new)
    run = cli(["validate", "--root", str(root)])
    assert run.code == 1, f"accepted:\n{run.text[-500:]}"
    assert f"{INSTANCE}:" in run.err and says in run.err, run.err[-1500:]


@pytest.mark.parametrize("case", ["room prompt 200 KB", "cron minute 61"])
def test_apply_writes_nothing_when_a_call_is_known_to_fail(
    tmp_path: Path, case: str, sandbox: SandboxServer, engine_env: dict[str, str]
) -> None:
    old, new, says = CASES[case]
    root = copy_examples(tmp_path)
    _edit(root, old, new)
    env = {**engine_env, **CANARIES}
    assert cli(["plan", "--root", str(root)], env).code == 1
    run = cli(["apply", "--auto-approve", "--root", str(root)], env)
    assert run.code == 1 and says in run.err, run.text[-1500:]
    assert writes(sandbox.requests) == []
    assert "helpdesk" not in {i.slug for i in sandbox.store.instances.values()}
