"""Output sinks of a canary scenario: every stdout, stderr, file and log line, by name."""

from __future__ import annotations

import io
import logging
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.config.writer import write_repo
from tests.cli.helpers import cli
from tests.reliability.states import state_a

POLYANT_YAML = """\
version: 1
scope: {instances: ["*"], excludeInstances: [demo-agent]}
prune: {instances: true, skills: true, children: true, secrets: true}
safety: {maxDeletePercent: 100, maxUpdatePercent: 100, minObjects: 0}
"""
CREDENTIAL_WRITES = [
    "PUT /api/instances/:slug/secrets",
    "PUT /api/instances/:slug/channels/:type",
    "PUT /api/instances/:slug/skills/:skillSlug/env",
    "POST /api/instances/:slug/event-sources",
]


def make_repo(root: Path) -> Path:
    """A committed git repo holding state A (every kind of credential declared)."""
    root.mkdir()
    (root / "polyant.yaml").write_text(POLYANT_YAML, encoding="utf-8")
    write_repo(root, state_a())
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return root


class Sinks:
    """Everything the scenario printed, logged or wrote, by sink name."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.out: dict[str, bytes] = {}

    def run(self, name: str, args: list[str], env: dict[str, str], code: int) -> None:
        """Run the CLI; keep its stdout and stderr as two sinks; check its exit code."""
        result = cli(args, env)
        self.out[f"{name}: stdout"] = result.out.encode()
        self.out[f"{name}: stderr"] = result.err.encode()
        assert result.code == code, f"{name}: exit {result.code}\n{result.text}"
        assert "Traceback" not in result.text

    def files(self, prefix: str, folder: Path) -> None:
        """Every file under `folder` (raw bytes) as one sink each."""
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
            self.out[f"{prefix}: {path.relative_to(folder)}"] = path.read_bytes()

    def leaks(self, value: str) -> list[str]:
        """The sinks holding `value`, whole (UTF-8 or Latin-1, a header's bytes) or any run
        of 12+ ASCII characters of it (a line that printed the key up to a bad character)."""
        needles = {value.encode(), *(run.encode() for run in re.findall(r"[!-~]{12,}", value))}
        if all(ord(ch) < 256 for ch in value):
            needles.add(value.encode("latin-1"))
        return [name for name, data in self.out.items() if any(n in data for n in needles)]


# The HTTP stacks' own loggers: urllib3 (the engine transport) logs every connection and
# request line at DEBUG, httpx (the GitHub client) at INFO. Set to DEBUG by name, so that
# a level set on them elsewhere cannot hide a leak through them.
HTTP_LOGGERS = ("urllib3", "httpx", "httpcore")


@contextmanager
def debug_log() -> Iterator[io.StringIO]:
    """Capture every logger, the HTTP stacks' included, at DEBUG while the block runs."""
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in HTTP_LOGGERS)]
    old_levels = [logger.level for logger in loggers]
    loggers[0].addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield log
    finally:
        loggers[0].removeHandler(handler)
        for logger, level in zip(loggers, old_levels, strict=True):
            logger.setLevel(level)


def assert_http_logged(log: bytes) -> None:
    """The engine transport's DEBUG lines (connections, request lines) were captured."""
    assert b"Starting new HTTP connection" in log, "urllib3's DEBUG log was not captured"
    assert b'"GET /api/instances HTTP/1.1" 200' in log, "no request line in the debug log"
