"""Indentation mistakes get a hint that says what to check, not only the parser's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import cli


def _validate(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "polyant.yaml").write_text("version: 1\n")
    folder = tmp_path / "instances/bot"
    folder.mkdir(parents=True)
    (folder / "instance.yaml").write_text(text)
    run = cli(["validate", "--root", str(tmp_path)])
    assert run.code == 1 and "Traceback" not in run.text
    return run.err.strip().splitlines()


def test_a_dedented_key_points_at_its_indentation(tmp_path: Path) -> None:
    lines = _validate(tmp_path, "name: Bot\nroom:\n  enabled: true\nevalIntervalMinutes: 10\n")
    assert lines[0] == (
        "instances/bot/instance.yaml:4:1: evalIntervalMinutes: unknown field "
        "'evalIntervalMinutes'; 'evalIntervalMinutes' belongs under 'room:': check its indentation"
    )
    assert "did you mean 'evalIntervalMinutes'" not in "\n".join(lines)


def test_an_over_indented_top_level_key_points_at_indentation(tmp_path: Path) -> None:
    lines = _validate(tmp_path, "name: Bot\nroom:\n  enabled: true\n  model: gpt-4.1\n")
    assert lines[0].endswith(
        "unknown field 'model'; 'model' is a field of another mapping: check its indentation"
    )


def test_a_typo_still_gets_did_you_mean(tmp_path: Path) -> None:
    lines = _validate(tmp_path, "name: Bot\ndescripton: x\n")
    assert lines[0].endswith("unknown field 'descripton'; did you mean 'description'?")


@pytest.mark.parametrize(
    "text",
    [
        "name: Bot\n description: x\n",
        "name: Bot\nroom:\n  enabled: true\n   evalIntervalMinutes: 10\n",
        "scheduledTasks:\n  - name: a\n   prompt: b\n",
    ],
)
def test_parser_indentation_errors_get_a_hint(tmp_path: Path, text: str) -> None:
    first = _validate(tmp_path, text)[0]
    assert first.startswith("instances/bot/instance.yaml:") and "invalid YAML:" in first
    assert "check the indentation of this line and the one before it" in first
