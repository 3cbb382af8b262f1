"""A rich engine state built through the API: exported, validated and re-planned to nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.acceptance.diffops import PNG
from tests.acceptance.engines import Paced, require_tier
from tests.cli.helpers import all_files_text, cli

require_tier()

SECRET = "canary-rich-skillenv-5e1f"


def _ok(r: Any) -> Any:
    assert r.status_code < 300, f"{r.request.method} {r.request.url}: {r.text[:300]}"
    return r.json()


def _skill(api: Paced, name: str) -> None:
    env = [
        {"name": "PLAIN", "description": "a plain value", "sensitive": False},
        {"name": "TOKEN", "description": "a secret", "sensitive": True},
    ]
    body = {
        "name": name,
        "description": "rich skill",
        "content": "# v1\n",
        "requiredEnv": env,
        "requiredTools": ["httpRequest"],
    }
    _ok(api.post("/api/skills", body))
    _ok(api.put(f"/api/skills/{name}", {**body, "content": "# v2\n"}))  # 0.2.0 is current


def _build(api: Paced, rid: str) -> str:
    slug, pinned, plain = f"rich-{rid}", f"pinned-{rid}", f"loaded-{rid}"
    base = f"/api/instances/{slug}"
    _skill(api, pinned)
    _skill(api, plain)
    _ok(api.post("/api/instances", {"slug": slug, "name": f"Rich {rid}"}))
    _ok(
        api.patch(
            base,
            {
                "description": "every object type",
                "provider": "openai",
                "model": "gpt-4.1-mini",
                "memoryEnabled": False,
                "knowledgeEnabled": True,
                "thinkingEnabled": False,
            },
        )
    )
    _ok(api.put(f"{base}/icon", {"icon": PNG}))
    _ok(
        api.patch(
            f"{base}/prompts",
            {
                "sections": [
                    {"key": "01-identity", "content": f"# Rich {rid}\n"},
                    {"key": "04-safety", "content": "Be careful.\n"},
                ]
            },
        )
    )
    _ok(api.put(f"{base}/secrets", {"secrets": [{"key": "openai_api_key", "value": "sk-r"}]}))
    for skill in (pinned, plain):
        _ok(api.post(f"{base}/skills/{skill}"))
    versions = _ok(api.get(f"/api/skills/{pinned}/versions"))["versions"]
    first = next(v["id"] for v in versions if v["version"] == "0.1.0")
    _ok(api.post(f"{base}/skills/{pinned}/rollback", {"versionId": first}))
    _ok(api.post(f"{base}/skills/{plain}/auto-load", {"autoLoad": True}))
    tools = ["readSkill", "spawnTask", "webSearch", "httpRequest"]
    _ok(api.patch(f"{base}/tools", {"enabled": tools}))
    _ok(
        api.put(
            f"{base}/skills/{plain}/env",
            {
                "env": [
                    {"key": "PLAIN", "value": "plain-value", "sensitive": False},
                    {"key": "TOKEN", "value": SECRET, "sensitive": True},
                ]
            },
        )
    )
    _ok(api.put(f"{base}/channels/agent", {"enabled": True, "config": {}}))
    _ok(
        api.put(
            f"{base}/room",
            {
                "enabled": True,
                "prompt": "watch",
                "evalIntervalMinutes": 15,
                "outboundChannel": "agent",
                "outboundTarget": "ops",
            },
        )
    )
    src = _ok(
        api.post(
            f"{base}/event-sources",
            {"name": "Tickets", "sourceType": "webhook", "config": {}, "enabled": True},
        )
    )["id"]
    _ok(
        api.post(
            f"{base}/event-sources/{src}/definitions",
            {
                "name": "New",
                "matchingPrompt": "a new ticket",
                "interpretationPrompt": "summarise it",
                "action": "backlog",
            },
        )
    )
    _ok(
        api.post(
            f"{base}/event-sources/{src}/definitions",
            {
                "name": "Urgent",
                "matchingPrompt": "an outage",
                "action": "conversation",
                "contextPrompt": "reply fast",
                "outboundChannel": "agent",
                "outboundTarget": "ops",
            },
        )
    )
    for name, schedule in (
        ("Cron", {"type": "cron", "expression": "0 8 * * 1-5", "timezone": "Europe/Paris"}),
        ("Interval", {"type": "interval", "everyMs": 3_600_000}),
        ("Once", {"type": "one-shot", "runAt": "2031-06-01T09:00:00.000Z"}),
    ):
        _ok(
            api.post(
                f"{base}/scheduled-tasks",
                {"name": name, "prompt": f"do {name}", "schedule": schedule},
            )
        )
    return slug


def test_a_rich_engine_state_exports_validates_and_replans_to_nothing(
    tmp_path: Path, api: Paced, cli_env: dict[str, str], rid: str, cleanup: None
) -> None:
    slug = _build(api, rid)
    root = tmp_path / "exported"
    root.mkdir()
    (root / "polyant.yaml").write_text(
        f"version: 1\nscope:\n  instances: ['*-{rid}']\n  skills: ['*-{rid}']\n"
    )
    exported = cli(["export", "--root", str(root)], cli_env)
    assert exported.code == 0, exported.text
    text = (root / "instances" / slug / "instance.yaml").read_text()
    for needle in (
        "pinnedVersion",
        "autoLoad",
        "Europe/Paris",
        "everyMs",
        "runAt",
        "contextPrompt",
        "outboundTarget",
        "PLAIN",
        "icon",
    ):
        assert needle in text, f"{needle} missing from the export"
    assert cli(["validate", "--root", str(root)]).code == 0

    plan = cli(["plan", "--root", str(root), "--detailed-exitcode"], cli_env)
    assert plan.code == 0, plan.text
    assert SECRET not in exported.text + plan.text + all_files_text(root)
