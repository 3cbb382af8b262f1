"""The CLI against the sandbox as either engine line (main 172e0bc, develop 5e59498)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler.sandbox.server import SandboxServer
from tests.cli.helpers import CANARIES, all_files_text, assert_no_canary, cli, copy_examples

LINES = {"main": "main (172e0bc)", "develop": "develop (5e59498)"}


_YAML = YAML(typ="safe", pure=True)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = _YAML.load(path.read_text())
    return data


def _set(root: Path, slug: str, **fields: object) -> None:
    path = root / "instances" / slug / "instance.yaml"
    data = _load(path)
    data.update(fields)
    with path.open("w") as handle:
        _YAML.dump(data, handle)


def test_the_example_converges_and_the_plan_names_the_line(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**line_env, **CANARIES}
    first = cli(["plan", "--root", str(root)], env)
    assert f"Planned against engine line {LINES[line_sandbox.engine_line]}." in first.out
    applied = cli(["apply", "--auto-approve", "--root", str(root)], env)
    assert applied.code == 0, applied.text
    again = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert again.code == 0, again.text
    saved = cli(["plan", "--root", str(root), "--out", str(tmp_path / "p.json")], env)
    assert saved.code == 0, saved.text
    assert (
        json.loads((tmp_path / "p.json").read_text())["engineLine"]
        == LINES[line_sandbox.engine_line]
    )
    assert_no_canary(first.text, applied.text, again.text, all_files_text(tmp_path))


def test_plain_skill_env_values_read_back_on_both_lines(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    # develop's bundle 1.1 sends `value` instead of `hasValue`: read either way.
    root = copy_examples(tmp_path / "repo")
    env = {**line_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    out = tmp_path / "exported"
    out.mkdir()
    (out / "polyant.yaml").write_text((root / "polyant.yaml").read_text())
    assert cli(["export", "--root", str(out)], env).code == 0
    helpdesk = _load(out / "instances" / "helpdesk" / "instance.yaml")
    assert helpdesk["skillEnv"]["faq-search"]["FAQ_INDEX"] == "helpdesk-v2"
    assert cli(["plan", "--root", str(out), "--detailed-exitcode"], env).code == 0


def test_develop_settings_are_managed_on_develop_and_unmanaged_on_main(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    settings = {"temperature": 0.4, "debugEnabled": True, "optoutEnabled": True}
    _set(root, "assistant", optoutStopKeywords=["STOP", "ARRET"], **settings)
    env = {**line_env, **CANARIES}
    offline = cli(["validate", "--root", str(root)])
    assert offline.code == 0 and "instances/assistant/instance.yaml:" in offline.text
    assert "temperature, debugEnabled, optoutEnabled, optoutStopKeywords: managed on " in (
        offline.text)  # fmt: skip
    plan = cli(["plan", "--root", str(root)], env)
    assert plan.code == 0, plan.text
    applied = cli(["apply", "--auto-approve", "--root", str(root)], env)
    assert applied.code == 0, applied.text
    live = {i.slug: i for i in line_sandbox.store.instances.values()}["assistant"]
    answer = cli(["plan", "--root", str(root), "--detailed-exitcode"], env)
    assert answer.code == 0, answer.text
    if line_sandbox.engine_line == "develop":
        assert "temperature = 0.4" in plan.out and "unmanaged" not in plan.out
        from reconciler.sandbox.develop import extra

        assert extra(line_sandbox.store, live).settings["optoutStopKeywords"] == ["STOP", "ARRET"]
    else:
        assert "temperature" not in plan.out.split("+ create")[1]
        assert "has no such setting; left unmanaged" in plan.out
        assert "temperature, debugEnabled, optoutEnabled, optoutStopKeywords" in plan.out


def test_an_embedding_provider_switch_is_refused_unless_confirmed(
    tmp_path: Path, sandbox_develop: SandboxServer, develop_env: dict[str, str]
) -> None:
    from reconciler.sandbox.develop import add_data_rows, extra

    root = copy_examples(tmp_path / "repo")
    env = {**develop_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    add_data_rows(sandbox_develop.store, "assistant", 3)
    _set(root, "assistant", embeddingProvider="bedrock")
    refused = cli(["plan", "--root", str(root), "--force"], env)
    assert refused.code == 4, refused.text
    assert "deletes this instance's memories" in refused.out and "confirmWipe" in refused.out
    assert cli(["apply", "--auto-approve", "--root", str(root), "--force"], env).code == 4
    _set(root, "assistant", confirmWipe=True)
    allowed = cli(["plan", "--root", str(root)], env)
    assert allowed.code == 0 and "confirmWipe: true allows it" in allowed.out
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    live = next(i for i in sandbox_develop.store.instances.values() if i.slug == "assistant")
    assert (extra(sandbox_develop.store, live).embedding_provider, extra(
        sandbox_develop.store, live).data_rows) == ("bedrock", 0)  # fmt: skip
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 0


def test_prune_warns_that_develop_deletes_an_instances_data(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    env = {**line_env, **CANARIES}
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    for path in sorted((root / "instances" / "assistant").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "instances" / "assistant").rmdir()
    plan = cli(["plan", "--root", str(root), "--prune", "--force"], env)
    warned = "also deletes its conversations, memories, knowledge base" in plan.out
    assert warned == (line_sandbox.engine_line == "develop"), plan.text


def test_models_come_from_the_engine(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    _set(root, "assistant", provider="anthropic", model="claude-sonnet-4-6")
    offline = cli(["validate", "--root", str(root)])
    assert offline.code == 0, offline.text  # develop offers it: not even a warning offline
    _set(root, "assistant", provider="anthropic", model="claude-nonexistent-9")
    unknown = cli(["validate", "--root", str(root)])
    assert (
        unknown.code == 0 and "warning" in unknown.text and "claude-nonexistent-9" in unknown.text
    )
    _set(root, "assistant", provider="anthropic", model="claude-sonnet-4-6")
    plan = cli(["plan", "--root", str(root)], {**line_env, **CANARIES})
    if line_sandbox.engine_line == "develop":
        assert plan.code == 0, plan.text
    else:
        assert plan.code == 1 and "not offered by provider 'anthropic' on this engine" in plan.text


def test_hooks_are_an_object_type_on_develop_and_unmanaged_on_main(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    hook = {"event": "message_received", "actionConfig": {"toolName": "webSearch",
            "args": {"query": "{{message.text}}"}}, "timeoutMs": 5000}  # fmt: skip
    _set(root, "assistant", hooks=[hook])
    env = {**line_env, **CANARIES}
    plan = cli(["plan", "--root", str(root)], env)
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 0
    if line_sandbox.engine_line == "main":
        assert "hooks: set in the repository" in plan.out and "left unmanaged" in plan.out
        return
    from reconciler.sandbox.develop import extra

    live = next(i for i in line_sandbox.store.instances.values() if i.slug == "assistant")
    rows = list(extra(line_sandbox.store, live).hooks.values())
    assert [(h["event"], h["timeoutMs"], h["actionConfig"]["args"]) for h in rows] == [
        ("message_received", 5000, {"query": "{{message.text}}"})
    ]
    _set(root, "assistant", hooks=[hook | {"enabled": False}])
    changed = cli(["plan", "--root", str(root)], env)
    assert "hooks[message_received#0:webSearch].enabled: true → false" in changed.out
    assert cli(["apply", "--auto-approve", "--root", str(root)], env).code == 0
    assert [h["enabled"] for h in extra(line_sandbox.store, live).hooks.values()] == [False]
    _set(root, "assistant", hooks=[])
    assert (
        cli(["apply", "--auto-approve", "--root", str(root), "--prune", "--force"], env).code == 0
    )
    assert extra(line_sandbox.store, live).hooks == {}
    assert cli(["plan", "--root", str(root), "--detailed-exitcode"], env).code == 0


def test_old_bedrock_secret_keys_are_flagged_on_develop(
    tmp_path: Path, line_sandbox: SandboxServer, line_env: dict[str, str]
) -> None:
    root = copy_examples(tmp_path / "repo")
    keys = ["openai_api_key", "aws_access_key_id", "aws_secret_access_key", "aws_region"]
    model = "eu.amazon.nova-micro-v1:0" if line_sandbox.engine_line == "develop" else (
        "amazon.nova-micro-v1:0")  # fmt: skip
    _set(root, "assistant", provider="bedrock", model=model, secrets=keys)
    plan = cli(["plan", "--root", str(root)], {**line_env, **CANARIES})
    assert plan.code == 0, plan.text
    flagged = "aws_access_key_id → aws_provider_access_key_id" in plan.out
    assert flagged == (line_sandbox.engine_line == "develop"), plan.out
