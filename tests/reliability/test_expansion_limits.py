"""Issue 15 item 4: variable expansion is bounded ("billion laughs") and `${name` is an error."""

from __future__ import annotations

import resource
from pathlib import Path

from tests.cli.helpers import cli, copy_examples

MAX_RSS_GROWTH = 256 * 1024 * 1024


def _repo(tmp_path: Path, big: str, description: str, extra: str = "") -> Path:
    root = copy_examples(tmp_path)
    yaml = (root / "polyant.yaml").read_text()
    (root / "polyant.yaml").write_text(
        yaml.replace("    variables:\n", f"    variables:\n      big: {big}\n", 1)
    )
    inst = root / "instances" / "helpdesk" / "instance.yaml"
    text = inst.read_text().replace(
        "description: Internal FAQ helpdesk on Slack", f"description: {description}"
    )
    inst.write_text(text + extra)
    return root


def _validate(root: Path) -> tuple[int, str, int]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run = cli(["validate", "--root", str(root)])
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert "Traceback" not in run.text and "internal error" not in run.text, run.text[-2000:]
    return run.code, run.err, growth


def test_a_huge_value_from_one_variable_is_refused_at_its_place(tmp_path: Path) -> None:
    root = _repo(tmp_path, "x" * 200_000, '"${big}"')
    code, err, _ = _validate(root)
    assert code == 1
    assert "instances/helpdesk/instance.yaml:3:" in err and "over 100 KB" in err, err[-800:]


def test_billion_laughs_is_bounded_in_memory_and_named(tmp_path: Path) -> None:
    # 200 KB used 5,000 times in one value, and 30 KB used in 2,000 values of one file.
    many = "".join(f"\n  - name: t{i}\n    prompt: '${{big}}'" for i in range(2000))
    root = _repo(tmp_path, "y" * 30_000, '"' + "${big}" * 5000 + '"', f"\nx_junk:{many}\n")
    code, err, growth = _validate(root)
    assert code == 1
    assert "over 100 KB" in err and "over 2 MB in this file" in err, err[-1500:]
    assert err.count("over 2 MB in this file") == 1
    assert growth < MAX_RSS_GROWTH, f"validate grew by {growth // 2**20} MB"


def test_an_unclosed_reference_is_an_error(tmp_path: Path) -> None:
    root = _repo(tmp_path, "ok", '"Helpdesk ${big"')
    code, err, _ = _validate(root)
    assert code == 1
    assert "instances/helpdesk/instance.yaml:3:" in err and "'${' is not closed" in err, err


def test_an_escaped_reference_stays_literal(tmp_path: Path) -> None:
    root = _repo(tmp_path, "ok", '"costs $${price} and ${big}"')
    code, err, _ = _validate(root)
    assert code == 0, err
