"""Config trees for the fleet tests, written as a user would write them, and live reads."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from reconciler.engine import EngineClient, EngineConfig
from reconciler.engine.read import read_live
from reconciler.model.objects import State
from reconciler.model.project import Scope
from reconciler.sandbox.server import SandboxServer
from tests.conftest import RATE_WINDOW_SECONDS


@dataclass
class Engines:
    """The two engines of a promotion: staging first, production second."""

    staging: SandboxServer
    production: SandboxServer


POLYANT_YAML = """\
version: 1
environments:
  staging:
    url: {staging}
    tokenEnv: STAGING_TOKEN
    variables:
      team: Staging team
      digestChannel: "#helpdesk-dev"
    overrides:
      helpdesk:
        model: gpt-4.1-mini   # cheaper in staging
  production:
    url: {production}
    tokenEnv: PRODUCTION_TOKEN
    variables:
      team: Support team
      digestChannel: "#helpdesk"
scope:
  excludeInstances: [demo-agent]
"""

HELPDESK = """\
name: Helpdesk
description: FAQ helpdesk for ${team}
provider: openai
model: gpt-4.1
memoryEnabled: true
skills:
  - slug: faq-search
    enabled: true
manualTools: [readSkill, spawnTask, searchKnowledge]
scheduledTasks:
  - name: Daily digest
    schedule:
      type: cron
      expression: 0 8 * * 1-5
      timezone: Europe/Paris
    prompt: Summarise yesterday's questions.
    outboundChannel: slack
    outboundTarget: ${digestChannel}
"""

ASSISTANT = """\
name: Assistant
description: General assistant
provider: anthropic
model: claude-sonnet-4-5-20250929
manualTools: [readSkill, spawnTask]
"""

FAQ_SKILL = """\
---
name: faq-search
description: Search the FAQ
requiredTools: [httpRequest]
---

# FAQ search

Quote the best FAQ entry.
"""


def write(path: Path, text: str) -> None:
    """Write `text` (dedented) to `path`, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def write_fleet_repo(root: Path, engines: Engines) -> Path:
    """polyant.yaml with two environments, two instances and one skill."""
    urls = {"staging": engines.staging.url, "production": engines.production.url}
    write(root / "polyant.yaml", POLYANT_YAML.format(**urls))
    write(root / "instances/helpdesk/instance.yaml", HELPDESK)
    write(root / "instances/helpdesk/prompts/01-identity.md", "You are the helpdesk.\n")
    write(root / "instances/assistant/instance.yaml", ASSISTANT)
    write(root / "skills/faq-search/SKILL.md", FAQ_SKILL)
    return root


def live_state(server: SandboxServer, scope: Scope | None = None) -> State:
    """The engine's live state as the reconciler reads it."""
    config = EngineConfig(url=server.url, token=server.token, rate_window_s=RATE_WINDOW_SECONDS)
    with EngineClient(config) as client:
        return read_live(client, scope=scope or Scope()).state
