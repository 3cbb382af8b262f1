"""A fleet on a seeded sandbox for the pipelined-apply tests, and what its request log tells.

The repo and the seed describe the same N instances, so a plan starts empty; a test then
edits some instance files and runs the real CLI. The sandbox log lists requests in the
order the engine answered them (each is recorded before its answer leaves), which is what
the ordering rules of reconciler/stream.py are about.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reconciler.config.writer import write_repo
from reconciler.fleet.bundle_out import instance_bundle
from reconciler.model.objects import Instance, State
from reconciler.sandbox.app import RequestRecord
from reconciler.sandbox.server import SandboxServer
from reconciler.sandbox.state import InstanceData
from tests.cli.helpers import LEASE, Run, cli, is_lease_call
from tests.conftest import RATE_WINDOW_SECONDS, TIME_SCALE

FLEET = 40
DESCRIPTION = "fleet member"
EDITED = "fleet member, edited"
# Default safety: deletes above 25 %, or updates + deletes above 50 %, of the managed
# objects are refused from 4 objects up.
POLYANT_YAML = "version: 1\nscope:\n  excludeInstances: [demo-agent]\n"

_INSTANCE_READ = re.compile(r"^/api/instances/(?P<slug>[^/?]+)(?:/export)?$")
_INSTANCE_PATH = re.compile(r"^/api/instances/(?P<slug>[^/?]+)(?:[/?].*)?$")


def slug_of(n: int) -> str:
    """The slug of fleet instance `n` (sorted slugs are read in this order)."""
    return f"agent-{n:03d}"


def fleet_state(n: int) -> State:
    """N plain instances: name, description and one managed prompt."""
    instances = {
        slug_of(i): Instance(
            slug=slug_of(i),
            name=f"Agent {i:03d}",
            description=DESCRIPTION,
            prompts={"01-identity": f"# Identity\n\nYou are agent {i}."},
        )
        for i in range(n)
    }
    return State(instances=instances)


@dataclass
class Fleet:
    """A repo of N instances, a sandbox holding exactly them, and the CLI's environment."""

    root: Path
    server: SandboxServer
    env: dict[str, str]

    def run(self, command: str, *args: str, env: dict[str, str] | None = None) -> Run:
        """`polyant-gitops COMMAND --root ROOT ARGS` against this fleet's sandbox."""
        return cli([command, "--root", str(self.root), *args], {**self.env, **(env or {})})

    def instance_file(self, slug: str) -> Path:
        return self.root / "instances" / slug / "instance.yaml"

    def append(self, slug: str, yaml: str) -> None:
        """Add top-level keys (YAML text) to an instance file."""
        path = self.instance_file(slug)
        path.write_text(path.read_text(encoding="utf-8") + yaml, encoding="utf-8")

    def add_instance(self, slug: str, yaml: str) -> None:
        """A new instance folder in the repo."""
        path = self.instance_file(slug)
        path.parent.mkdir(parents=True)
        path.write_text(yaml, encoding="utf-8")

    def edit_prompt(self, slug: str, text: str) -> None:
        path = self.root / "instances" / slug / "prompts" / "01-identity.md"
        assert path.is_file(), path
        path.write_text(text, encoding="utf-8")

    def edit(self, slugs: Sequence[str], new: str = EDITED) -> None:
        """Change the description of these instances in the repo."""
        for slug in slugs:
            path = self.instance_file(slug)
            text = path.read_text(encoding="utf-8")
            assert DESCRIPTION in text, text
            path.write_text(text.replace(DESCRIPTION, new), encoding="utf-8")

    def log(self) -> list[RequestRecord]:
        """The sandbox's request log since the last `forget`."""
        return list(self.server.requests)

    def forget(self) -> None:
        self.server.reset_requests()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request straight to the engine (someone else's hand, not the reconciler's)."""
        headers = {"Authorization": f"Bearer {self.server.token}"}
        response = httpx.request(
            method, f"{self.server.url}{path}", json=body, headers=headers, timeout=10
        )
        assert response.status_code < 300, response.text
        return response.json()


def write_fleet(dest: Path, n: int) -> tuple[Path, Path]:
    """The repo of `fleet_state(n)` and the seed file that makes a sandbox match it."""
    root = dest / "repo"
    root.mkdir(parents=True)
    state = fleet_state(n)
    (root / "polyant.yaml").write_text(POLYANT_YAML, encoding="utf-8")
    write_repo(root, state)
    now = datetime.now(UTC)
    seed = {"instances": [instance_bundle(i, now)[0] for i in state.instances.values()]}
    seed_file = dest / "seed.json"
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    return root, seed_file


@contextmanager
def running_fleet(
    template: tuple[Path, Path], dest: Path, *, engine_line: str = "main"
) -> Iterator[Fleet]:
    """A private copy of a fleet repo and a fresh sandbox seeded to match it."""
    root = dest / "repo"
    shutil.copytree(template[0], root)
    seed = template[1]
    with SandboxServer(time_scale=TIME_SCALE, seed_file=seed, engine_line=engine_line) as server:
        env = {
            "POLYANT_URL": server.url,
            "POLYANT_TOKEN": server.token,
            "POLYANT_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
        }
        yield Fleet(root, server, env)


# -- the request log ----------------------------------------------------------------------


def store_data(server: SandboxServer, slug: str) -> InstanceData:
    """What the sandbox holds for one instance (read only; tests write through HTTP)."""
    inst = server.store.by_slug(slug)
    assert inst is not None, f"{slug} is not on the engine"
    return server.store.data[inst.id]


def path_slug(record: RequestRecord) -> str | None:
    """The instance a request is about (None for lists, models, the catalog)."""
    found = _INSTANCE_PATH.match(record.path)
    slug = found.group("slug") if found else None
    return None if slug in (None, "models", LEASE) else slug


def instance_reads(log: Sequence[RequestRecord]) -> list[tuple[int, str]]:
    """(position, slug) of every GET of one instance's export or detail."""
    out = []
    for i, record in enumerate(log):
        found = _INSTANCE_READ.match(record.path)
        if record.method == "GET" and found and found.group("slug") not in ("models", LEASE):
            out.append((i, found.group("slug")))
    return out


def config_writes(log: Sequence[RequestRecord]) -> list[tuple[int, RequestRecord]]:
    """(position, record) of every configuration write (the apply lease's calls aside)."""
    return [(i, r) for i, r in enumerate(log) if r.method != "GET" and not is_lease_call(r)]


def written_slugs(log: Sequence[RequestRecord]) -> list[str]:
    """The instance each configuration write was about, in log order."""
    return [path_slug(r) or str(r.created) for _, r in config_writes(log)]


def end_of_reads(log: Sequence[RequestRecord], among: Collection[str] | None = None) -> int:
    """Position of the read pass's last read: the latest first read of an instance (of the
    instances `among`, when given). Verification re-reads after writes do not count."""
    first: dict[str, int] = {}
    for i, slug in instance_reads(log):
        if among is None or slug in among:
            first.setdefault(slug, i)
    assert first, "no instance was read"
    return max(first.values())


def first_write(log: Sequence[RequestRecord]) -> int:
    found = config_writes(log)
    assert found, "nothing was written"
    return found[0][0]


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]
