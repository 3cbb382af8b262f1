"""This repository's example config, copied with run-unique slugs and names, channels off."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.model.secretenv import event_source_var, secret_var, skill_env_var
from tests.cli.helpers import copy_examples

INSTANCES = ("helpdesk", "assistant")
SKILLS = ("faq-search", "ticket-triage")


def unique_examples(dest: Path, rid: str) -> Path:
    """Copy instances/, skills/ and polyant.yaml; every slug and name gets `-rid`.

    The scope is narrowed to this run's objects (prune must never reach other objects on
    a shared engine) and the Slack channel is left out: enabling it makes the real
    engine dial out, which takes over a minute (contract §17.6).
    """
    root = copy_examples(dest)
    for slug in INSTANCES:
        (root / "instances" / slug).rename(root / "instances" / f"{slug}-{rid}")
    for slug in SKILLS:
        (root / "skills" / slug).rename(root / "skills" / f"{slug}-{rid}")
    slugs = re.compile(r"(?<![\w-])(" + "|".join(INSTANCES + SKILLS) + r")(?![\w])")
    for path in [*root.glob("instances/*/instance.yaml"), *root.glob("skills/*/SKILL.md")]:
        text = slugs.sub(lambda m: f"{m.group(1)}-{rid}", path.read_text())
        text = re.sub(r"(?m)^name: (\w+)$", rf"name: \1 {rid}", text)
        text = re.sub(r"(?m)^channels:\n  slack: .*$", "channels: {}", text)
        path.write_text(text)
    project = (root / "polyant.yaml").read_text()
    project = project.replace('instances: ["*"]', f'instances: ["*-{rid}"]')
    project = project.replace('skills: ["*"]', f'skills: ["*-{rid}"]')
    (root / "polyant.yaml").write_text(project)
    return root


def canaries(rid: str) -> dict[str, str]:
    """Made-up secret values for the run's instances (scanned for in every output)."""
    helpdesk, assistant = f"helpdesk-{rid}", f"assistant-{rid}"
    return {
        secret_var(helpdesk, "openai_api_key"): f"canary-openai-{rid}",
        secret_var(helpdesk, "auth_api_key"): f"canary-auth-{rid}",
        secret_var(assistant, "openai_api_key"): f"canary-openai-assist-{rid}",
        skill_env_var(assistant, f"faq-search-{rid}", "FAQ_API_KEY"): f"canary-skillenv-{rid}",
        skill_env_var(helpdesk, f"faq-search-{rid}", "FAQ_API_KEY"): f"canary-skillenv2-{rid}",
        event_source_var(helpdesk, "Zendesk tickets", "signingSecret"): f"canary-sign-{rid}",
    }
