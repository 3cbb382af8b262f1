"""SKILL.md: YAML front matter between `---` lines, then the Markdown body (the skill content)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from reconciler.model.objects import EnvSpec, Model

FENCE = "---"
FRONT_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "category",
    "requiredEnv",
    "requiredTools",
    "metadata",
    "scripts",
)
_CLOSE_RE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
# Script file names come from the repo and from the engine: one flat, visible file name.
SCRIPT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")


class FrontMatter(Model):
    """The SKILL.md front matter; the JSON Schema for editors is generated from it."""

    name: str | None = Field(
        None, min_length=1, max_length=255, description="Display name; defaults to the slug."
    )
    description: str = ""
    category: str = Field("general", max_length=100)
    required_env: list[EnvSpec] = Field(default_factory=list)
    required_tools: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Other metadata keys, stored as they are."
    )
    scripts: dict[str, str] = Field(
        default_factory=dict, description="Script file name (in scripts/) to its description."
    )


@dataclass
class SkillText:
    """The two parts of a SKILL.md file and where the body starts."""

    front: str
    body: str
    body_line: int


def script_name_problem(name: str) -> str | None:
    """Why `name` cannot be a script file name (flat, no leading dot), or None."""
    if SCRIPT_NAME_RE.match(name) and name not in {".", ".."}:
        return None
    return (
        f"script file name {name!r} must be a plain file name (letters, digits, . _ -), "
        "without folders and not starting with a dot"
    )


def split(text: str) -> SkillText | str:
    """Front matter and body of a SKILL.md text, or the reason it has no front matter."""
    first, sep, rest = text.partition("\n")
    if first.rstrip("\r") != FENCE or not sep:
        return "SKILL.md must start with a '---' line opening the YAML front matter"
    match = _CLOSE_RE.search(rest)
    if match is None:
        return "the front matter is never closed; add a '---' line after it"
    front = rest[: match.start()]
    body = rest[match.end() :].removeprefix("\n")
    body_line = front.count("\n") + 3
    if body.startswith("\n") and body.strip("\n"):  # the blank line after the front matter
        body, body_line = body[1:], body_line + 1
    return SkillText(front, body.removesuffix("\n"), body_line)


def join(front_yaml: str, content: str) -> str:
    """The SKILL.md text for a front matter (YAML text) and a body."""
    return f"{FENCE}\n{front_yaml}{FENCE}\n\n{content}\n"


def body_has_front_matter(content: str) -> bool:
    """True when the body itself starts with a `---` block the engine would show verbatim."""
    return content.split("\n", 1)[0].rstrip("\r") == FENCE
