"""Each change type of the minimal-writes table (engine/apply.py) on the real engine."""

from __future__ import annotations

from pathlib import Path

from tests.acceptance.engines import require_tier
from tests.acceptance.proxy import RecordingProxy
from tests.cli.helpers import cli

require_tier()

INSTANCE = """\
name: Minimal {rid}
description: one change at a time
memoryEnabled: true
skills:
  - slug: notes-{rid}
    enabled: true
manualTools: [readSkill, spawnTask]
secrets: [openai_api_key]
skillEnv:
  notes-{rid}:
    NOTES_INDEX: v1
room:
  enabled: true
  prompt: watch the backlog
  evalIntervalMinutes: 10
eventSources:
  - name: Hooks
    sourceType: webhook
    enabled: true
    definitions:
      - name: New
        matchingPrompt: a new item
        interpretationPrompt: summarise it
        action: backlog
scheduledTasks:
  - name: Digest
    prompt: summarise the day
    schedule: {{type: cron, expression: 0 8 * * 1-5, timezone: UTC}}
  - name: Sweep
    prompt: sweep the inbox
    schedule: {{type: interval, everyMs: 3600000}}
"""
SKILL = """\
---
name: notes-{rid}
description: keep notes
requiredEnv:
  - name: NOTES_INDEX
    description: which index
    sensitive: false
requiredTools: []
---
# Notes
{body}
"""


def _repo(root: Path, rid: str) -> Path:
    (root / "instances" / f"mini-{rid}").mkdir(parents=True)
    (root / "skills" / f"notes-{rid}").mkdir(parents=True)
    (root / "polyant.yaml").write_text(
        f"version: 1\nscope:\n  instances: ['*-{rid}']\n  skills: ['*-{rid}']\n"
        "prune:\n  children: true\n"
    )
    (root / "instances" / f"mini-{rid}" / "instance.yaml").write_text(INSTANCE.format(rid=rid))
    _skill(root, rid, "Version one.")
    return root


def _skill(root: Path, rid: str, body: str) -> None:
    path = root / "skills" / f"notes-{rid}" / "SKILL.md"
    path.write_text(SKILL.format(rid=rid, body=body))


def _edit(root: Path, rid: str, old: str, new: str) -> None:
    path = root / "instances" / f"mini-{rid}" / "instance.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _writes(
    proxy: RecordingProxy, root: Path, env: dict[str, str], *extra: str
) -> list[tuple[str, str]]:
    proxy.reset()
    applied = cli(["apply", "--auto-approve", "--root", str(root), *extra], env)
    assert applied.code == 0, applied.text
    writes = [(m, p.split("?")[0]) for m, p in proxy.writes()]
    again = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert again.code == 0, again.text
    return writes


def _shape(writes: list[tuple[str, str]], rid: str) -> list[str]:
    # Ids differ per run: keep the method and the path's last meaningful segment.
    out = []
    for method, path in writes:
        tail = path.replace(f"-{rid}", "").split("/")[3:]
        tail = ["<id>" if len(part) == 36 and part.count("-") == 4 else part for part in tail]
        out.append(f"{method} {'/'.join(tail)}")
    return out


def test_each_change_type_costs_its_minimal_writes(
    tmp_path: Path, proxied_env: dict[str, str], proxy: RecordingProxy, rid: str, cleanup: None
) -> None:
    root = _repo(tmp_path / "repo", rid)
    env = {**proxied_env, f"POLYANT_SECRET__MINI_{rid.upper()}__OPENAI_API_KEY": "sk-min"}
    assert _writes(proxy, root, env), "the first apply creates everything"

    def change(old: str, new: str) -> list[str]:
        _edit(root, rid, old, new)
        return _shape(_writes(proxy, root, env), rid)

    def change_pruned(old: str, new: str) -> list[str]:
        _edit(root, rid, old, new)
        return _shape(_writes(proxy, root, env, "--prune"), rid)

    counted: dict[str, list[str]] = {}
    counted["settings"] = change("memoryEnabled: true", "memoryEnabled: false")
    prompts = root / "instances" / f"mini-{rid}" / "prompts"
    prompts.mkdir()
    (prompts / "04-safety.md").write_text("Be careful.\n")
    counted["prompt"] = _shape(_writes(proxy, root, env), rid)
    counted["tools"] = change(
        "manualTools: [readSkill, spawnTask]", "manualTools: [readSkill, spawnTask, webSearch]"
    )
    counted["skill env"] = change("NOTES_INDEX: v1", "NOTES_INDEX: v2")
    counted["auto-load"] = change(
        "    enabled: true\nmanualTools", "    enabled: true\n    autoLoad: true\nmanualTools"
    )
    counted["room"] = change("evalIntervalMinutes: 10", "evalIntervalMinutes: 20")
    counted["definition"] = change("summarise it", "summarise it briefly")
    counted["schedule"] = change("0 8 * * 1-5", "30 8 * * 1-5")
    counted["new task"] = change(
        "scheduledTasks:\n",
        "scheduledTasks:\n  - name: Once\n"
        "    prompt: remind me\n    schedule: {type: one-shot, "
        "runAt: '2031-06-01T09:00:00.000Z'}\n",
    )
    counted["task removed"] = change_pruned(
        "  - name: Sweep\n    prompt: sweep the inbox\n"
        "    schedule: {type: interval, everyMs: 3600000}\n",
        "",
    )
    _skill(root, rid, "Version two.")
    counted["skill update"] = _shape(_writes(proxy, root, env), rid)
    for kind, writes in counted.items():
        print(f"{kind}: {len(writes)} write(s) {writes}")

    assert counted["settings"] == ["PATCH mini"]
    assert counted["prompt"] == ["PATCH mini/prompts"]
    assert counted["tools"] == ["PATCH mini/tools"]
    assert counted["skill env"] == ["PUT mini/skills/notes/env"]
    assert counted["auto-load"] == ["POST mini/skills/notes/auto-load"]
    assert counted["room"] == ["PUT mini/room"]
    assert counted["definition"] == ["PUT mini/event-sources/<id>/definitions/<id>"]
    assert counted["schedule"] == ["PATCH mini/scheduled-tasks/<id>"]
    assert counted["new task"] == ["POST mini/scheduled-tasks"]
    assert counted["task removed"] == ["DELETE mini/scheduled-tasks/<id>"]
    assert counted["skill update"] == [
        "POST catalog/import",
        "POST mini/skills/notes/upgrade",
    ]
