"""Run the real CLI in-process and collect everything it printed or wrote."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
CANARIES = {
    "POLYANT_SECRET__HELPDESK__OPENAI_API_KEY": "canary-openai-7f3a9c1e",
    "POLYANT_SECRET__HELPDESK__AUTH_API_KEY": "canary-auth-51d0b2aa",
    "POLYANT_SECRET__ASSISTANT__OPENAI_API_KEY": "canary-openai-assist-99e1",
    "POLYANT_CHANNEL__HELPDESK__SLACK": (
        '{"botToken":"xoxb-canary-b0t","appToken":"xapp-canary-4pp","signingSecret":"canary-s1gn"}'
    ),
    "POLYANT_SKILLENV__ASSISTANT__FAQ_SEARCH__FAQ_API_KEY": "canary-skillenv-c0ffee",
}
CANARY_VALUES = [
    "canary-openai-7f3a9c1e",
    "canary-auth-51d0b2aa",
    "canary-openai-assist-99e1",
    "xoxb-canary-b0t",
    "xapp-canary-4pp",
    "canary-s1gn",
    "canary-skillenv-c0ffee",
]


@dataclass
class Run:
    """The outcome of one CLI invocation."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(args: Sequence[str], env: Mapping[str, str] | None = None) -> Run:
    """Invoke `polyant-gitops ARGS` in-process with `env` added to the environment."""
    result = CliRunner().invoke(main, list(args), env=dict(env or {}), catch_exceptions=False)
    return Run(code=result.exit_code, out=result.stdout, err=result.stderr)


def copy_examples(dest: Path) -> Path:
    """A private copy of this repository's example config (instances, skills, polyant.yaml)."""
    for name in ("instances", "skills"):
        shutil.copytree(REPO_ROOT / name, dest / name)
    shutil.copy(REPO_ROOT / "polyant.yaml", dest / "polyant.yaml")
    return dest


LEASE = "polyant-gitops-apply-lease"


def writes(requests: Sequence[object]) -> list[object]:
    """The configuration writes among a sandbox request log (the apply lease's calls aside)."""
    return [r for r in requests if getattr(r, "method", "GET") != "GET" and not is_lease_call(r)]


def is_lease_call(record: object) -> bool:
    """A call about the apply lease (engine/lease.py), not about configuration."""
    return LEASE in str(getattr(record, "path", "")) or getattr(record, "created", None) == LEASE


def assert_no_canary(*texts: str) -> None:
    """Fail if any planted secret value appears in any of `texts`."""
    for text in texts:
        for canary in CANARY_VALUES:
            assert canary not in text, f"secret canary {canary!r} leaked"


def all_files_text(root: Path) -> str:
    """The text of every file under `root` (for leak scans)."""
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file()
    )
