"""Issue 15 item 1 on the real engine: three simultaneous applies, one writer, no duplicate.

Part of the acceptance tier (scripts/acceptance): it runs once per engine line, on the
tier's real engine, and deletes what it creates.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx

from tests.acceptance.engines import RealEngine, require_tier

require_tier()

LEASE = "polyant-gitops-apply-lease"
TASKS = ("Inbox sweep", "Daily digest")


def _repo(root: Path, slug: str) -> None:
    (root / "instances" / slug).mkdir(parents=True)
    (root / "polyant.yaml").write_text(
        f"version: 1\nscope:\n  instances: [{slug}]\n  skills: [{slug}-none]\n"
        "safety:\n  minObjects: 100\n"
    )
    tasks = "".join(
        f"  - name: {name}\n    enabled: false\n    prompt: Say hello.\n"
        "    schedule: {type: cron, expression: 0 8 * * 1-5, timezone: UTC}\n"
        for name in TASKS
    )
    (root / "instances" / slug / "instance.yaml").write_text(
        f"name: Lease check {slug}\nstatus: inactive\nscheduledTasks:\n{tasks}"
    )


def _cleanup(client: httpx.Client, slug: str) -> None:
    # Tasks outlive their instance on the engine (§3.7): delete them first.
    got = client.get(f"/api/instances/{slug}/scheduled-tasks")
    for task in got.json().get("tasks", []) if got.status_code == 200 else []:
        client.delete(f"/api/instances/{slug}/scheduled-tasks/{task['id']}")
    client.delete(f"/api/instances/{slug}")


def test_three_simultaneous_applies_on_the_real_engine(
    tmp_path: Path, real: RealEngine, rid: str
) -> None:
    slug = f"rl-{rid}"
    _repo(tmp_path, slug)
    env = {**os.environ, "POLYANT_URL": real.url, "POLYANT_TOKEN": real.token}
    cmd = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--root", str(tmp_path)]
    headers = {"Authorization": f"Bearer {real.token}"}
    with httpx.Client(base_url=real.url, headers=headers, timeout=30) as client:
        try:
            procs = [
                subprocess.Popen(
                    cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                for _ in range(3)
            ]
            outs = [p.communicate(timeout=600) for p in procs]
            tasks = client.get(f"/api/instances/{slug}/scheduled-tasks").json()["tasks"]
            slugs = [i["slug"] for i in client.get("/api/instances").json()["instances"]]
        finally:
            _cleanup(client, slug)
    writers = [int(m.group(1)) for out, _ in outs if (m := re.search(r"apply: (\d+) write", out))]
    print(f"real engine: exit codes {[p.returncode for p in procs]}, writes per apply {writers}")
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    assert sum(1 for n in writers if n > 0) == 1
    assert Counter(t["name"] for t in tasks) == Counter(TASKS)
    assert slugs.count(slug) == 1 and LEASE not in slugs
