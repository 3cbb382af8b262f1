"""Helpers of the git-scope tests: real git repositories holding a small config tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git

PROJECT = """\
version: 1
environments:
  local:
    url: http://127.0.0.1:4000
scope:
  excludeInstances: [demo-agent]
safety:
  maxDeletePercent: 25
"""

SKILL_MD = "---\nname: {slug}\ndescription: {slug} skill\n---\nDo {slug} things.\n"

TREE: dict[str, str] = {
    "polyant.yaml": PROJECT,
    "README.md": "# config\n",
    ".gitignore": "*.log\n",
    "instances/helpdesk/instance.yaml": "name: Helpdesk\nskills:\n  - slug: faq-search\n",
    "instances/helpdesk/prompts/01-identity.md": "You are the helpdesk.\n",
    "instances/helpdesk/prompts/04-safety.md": "Be careful.\n",
    "instances/assistant/instance.yaml": "name: Assistant\nskills:\n  - slug: faq-search\n",
    "instances/assistant/prompts/01-identity.md": "You are an assistant.\n",
    "instances/sales/instance.yaml": "name: Sales\nskills:\n  - slug: crm-lookup\n",
    "instances/sales/prompts/01-identity.md": "You sell.\n",
    "skills/faq-search/SKILL.md": SKILL_MD.format(slug="faq-search"),
    "skills/faq-search/scripts/search.py": "print('search')\n",
    "skills/crm-lookup/SKILL.md": SKILL_MD.format(slug="crm-lookup"),
}


@dataclass
class ConfigRepo:
    """A git repository in tmp_path with a config tree at `root` (the repo top or a subdir)."""

    repo: git.Repo
    root: Path

    def write(self, path: str, text: str) -> None:
        """Write one file of the config tree (no git command)."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, message: str = "change") -> str:
        """Stage everything and commit; the new commit's sha."""
        self.repo.git.add(A=True)
        self.repo.git.commit("--allow-empty", m=message)
        return str(self.repo.head.commit.hexsha)


def make_repo(top: Path, *, subdir: str = "") -> ConfigRepo:
    """A fresh repository at `top` with TREE under `subdir`, committed once."""
    repo = git.Repo.init(top, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test")
        cfg.set_value("user", "email", "test@example.com")
        cfg.set_value("commit", "gpgsign", "false")
        cfg.set_value("tag", "gpgsign", "false")
    cfg_repo = ConfigRepo(repo, top / subdir if subdir else top)
    for path, text in TREE.items():
        cfg_repo.write(path, text)
    cfg_repo.commit("initial config")
    return cfg_repo
