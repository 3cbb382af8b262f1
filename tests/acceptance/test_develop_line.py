"""Issue 18 against the real engines: both lines converge, read completely, import bundles.

Part of the acceptance tier: runs once per engine line of POLYANT_ACCEPTANCE_LINES on the
engine the tier starts (scripts/acceptance). Every run uses fresh slugs (a random suffix),
so leftovers of earlier runs never matter; catalog skills are shared and never deleted.
The 150-task test writes 300 times to two throttled handlers: about 5 minutes per line.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.model.secretenv import event_source_var, secret_var, skill_env_var
from tests.acceptance.engines import RealEngine, require_tier

require_tier()

ROOT = Path(__file__).resolve().parents[2]
LABELS = {"main": "main (172e0bc)", "develop": "develop (5e59498)"}


@dataclass
class Engine:
    """One configured real engine and the CLI environment that reaches it."""

    line: str
    url: str
    token: str

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"POLYANT_URL": self.url, "POLYANT_TOKEN": self.token, **(extra or {})}

    def get(self, path: str) -> object:
        headers = {"Authorization": f"Bearer {self.token}"}
        answer = httpx.get(self.url + path, headers=headers, timeout=30)
        answer.raise_for_status()
        return answer.json()


@pytest.fixture
def engine(real: RealEngine) -> Engine:
    """The tier's real engine for this line (started once per session by conftest)."""
    return Engine(real.line, real.url.rstrip("/"), real.token)


def cli(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def suffix() -> str:
    return secrets.token_hex(3)


def example(dest: Path, sfx: str) -> tuple[Path, dict[str, str]]:
    """The example repo with slugs made unique, channels that reach the network removed,
    and every credential it declares supplied (throwaway values)."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "skills", dest / "skills")
    for slug in ("assistant", "helpdesk"):
        shutil.copytree(ROOT / "instances" / slug, dest / "instances" / f"{slug}-{sfx}")
    helpdesk = dest / "instances" / f"helpdesk-{sfx}" / "instance.yaml"
    # Keep channels off the network (real-engine README): no Slack channel here.
    helpdesk.write_text(re.sub(r"channels:\n  slack: .*\n", "", helpdesk.read_text()))
    (dest / "polyant.yaml").write_text(
        (ROOT / "polyant.yaml").read_text().replace('instances: ["*"]', f'instances: ["*-{sfx}"]')
    )
    a, h = f"assistant-{sfx}", f"helpdesk-{sfx}"
    creds = {
        secret_var(h, "openai_api_key"): "sk-test", secret_var(h, "auth_api_key"): "chat-key",
        secret_var(h, "slack_allowed_channels"): "#x", secret_var(a, "openai_api_key"): "sk-a",
        secret_var(a, "tavily_api_key"): "tvly", secret_var(a, "http_api_key"): "http-key",
        secret_var(a, "http_allowed_domains"): "api.example.com",
        skill_env_var(h, "faq-search", "FAQ_API_KEY"): "faq",
        skill_env_var(a, "faq-search", "FAQ_API_KEY"): "faq",
        event_source_var(h, "Zendesk tickets", "signingSecret"): "sign",
    }  # fmt: skip
    return dest, creds


def converge(engine: Engine, root: Path, creds: dict[str, str]) -> None:
    code, out = cli(["apply", "--auto-approve", "--root", str(root)], engine.env(creds))
    assert code == 0, out
    code, out = cli(["plan", "--root", str(root), "--detailed-exitcode"], engine.env(creds))
    assert code == 0, out
    assert f"Planned against engine line {LABELS[engine.line]}." in out, out


def test_the_example_applies_from_scratch_and_replans_to_nothing(
    engine: Engine, tmp_path: Path, suffix: str
) -> None:
    root, creds = example(tmp_path / "repo", suffix)
    code, out = cli(["plan", "--root", str(root)], engine.env(creds))
    assert code == 0 and "+ create instance/helpdesk-" in out, out
    converge(engine, root, creds)


def test_a_rich_exported_state_replans_to_nothing(
    engine: Engine, tmp_path: Path, suffix: str
) -> None:
    root, creds = example(tmp_path / "repo", suffix)
    inst = root / "instances" / f"assistant-{suffix}" / "instance.yaml"
    inst.write_text(
        inst.read_text()
        + "temperature: 0.3\ndebugEnabled: true\noptoutEnabled: true\n"
        + "optoutStopKeywords: [STOP, ARRET]\nhooks:\n  - event: message_received\n"
        + "    actionConfig: {toolName: webSearch, args: {query: '{{message.text}}'}}\n"
    )
    converge(engine, root, creds)
    fresh = tmp_path / "exported"
    fresh.mkdir()
    shutil.copy(root / "polyant.yaml", fresh / "polyant.yaml")
    code, out = cli(["export", "--root", str(fresh)], engine.env())
    assert code == 0, out
    text = (fresh / "instances" / f"assistant-{suffix}" / "instance.yaml").read_text()
    assert ("temperature: 0.3" in text) == (engine.line == "develop"), text
    assert ("toolName: webSearch" in text) == (engine.line == "develop"), text
    code, out = cli(["plan", "--root", str(fresh), "--detailed-exitcode"], engine.env(creds))
    assert code == 0, out


def test_a_bundle_of_the_engine_imports_to_files_that_plan_to_nothing(
    engine: Engine, tmp_path: Path, suffix: str
) -> None:
    root, creds = example(tmp_path / "repo", suffix)
    converge(engine, root, creds)
    files = []
    for path in (f"instances/helpdesk-{suffix}/export", "skills/catalog/export"):
        files.append(tmp_path / f"{len(files)}.json")
        files[-1].write_text(json.dumps(engine.get(f"/api/{path}")))
    version = json.loads(files[0].read_text())["version"]
    assert version == ("1.1" if engine.line == "develop" else "1.0")
    fresh = tmp_path / "imported"
    fresh.mkdir()
    shutil.copy(root / "polyant.yaml", fresh / "polyant.yaml")
    code, out = cli(["bundle", "import", "--root", str(fresh), *map(str, files)], engine.env())
    assert code == 0, out
    code, out = cli(["plan", "--root", str(fresh), "--detailed-exitcode"], engine.env(creds))
    assert code == 0, out


@pytest.mark.slow
def test_an_instance_with_150_tasks_is_read_completely(
    engine: Engine, tmp_path: Path, suffix: str
) -> None:
    root = tmp_path / "repo"
    slug = f"tasks150-{suffix}"
    (root / "instances" / slug).mkdir(parents=True)
    (root / "polyant.yaml").write_text(f'version: 1\nscope:\n  instances: ["{slug}"]\n')
    tasks = "".join(
        f"  - name: task-{n:03d}\n    schedule: {{type: interval, everyMs: 3600000}}\n"
        f"    prompt: Check item {n}\n"
        for n in range(150)
    )
    (root / "instances" / slug / "instance.yaml").write_text(
        f"name: Tasks {suffix}\nscheduledTasks:\n{tasks}"
    )
    converge(engine, root, {})
    listed = engine.get(f"/api/instances/{slug}/scheduled-tasks")
    assert isinstance(listed, dict)
    # develop answers one page of 100; the plan above still saw all 150.
    assert len(listed["tasks"]) == (100 if engine.line == "develop" else 150)
