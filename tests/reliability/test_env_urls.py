"""Issue 15 item 9: validate checks the environments' engine URLs (scheme, host, no path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import cli, copy_examples

BAD_URLS = [
    ("ftp://engine.example.com", "https://"),
    ("engine.example.com", "https://"),
    ("https://", "no host"),
    ("https://engine.example.com/api", "no path"),
    ("https://engine.example.com/?x=1", "no path"),
    ("https://engine.example.com:notaport", "port"),
]


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
def test_validate_refuses_a_bad_engine_url(tmp_path: Path, url: str, says: str) -> None:
    root = copy_examples(tmp_path)
    yaml = (root / "polyant.yaml").read_text()
    (root / "polyant.yaml").write_text(yaml.replace("http://127.0.0.1:4000", url, 1))
    run = cli(["validate", "--root", str(root)])
    assert run.code == 1, run.text
    assert "polyant.yaml" in run.err and says in run.err, run.err
    assert "Traceback" not in run.text


def test_validate_accepts_a_plain_engine_url(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    yaml = (root / "polyant.yaml").read_text()
    (root / "polyant.yaml").write_text(yaml.replace("http://127.0.0.1:4000", "https://x.io/", 1))
    assert cli(["validate", "--root", str(root)]).code == 0
