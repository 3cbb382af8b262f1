"""A corpus of hostile repository contents: each case breaks one file of a valid base repo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

INSTANCE = "instances/alpha/instance.yaml"
PROMPT = "instances/alpha/prompts/01-identity.md"
SKILL = "skills/notes/SKILL.md"
SCRIPT = "skills/notes/scripts/run.py"
PROJECT = "polyant.yaml"
BASE_INSTANCE = """\
name: Alpha
description: The base instance
status: active
provider: openai
model: gpt-4.1-mini
manualTools: [readSkill, spawnTask]
skills:
  - slug: notes
scheduledTasks:
  - name: Daily
    schedule: {type: cron, expression: "0 9 * * *", timezone: UTC}
    prompt: Summarise.
room:
  enabled: true
  prompt: Watch.
"""
BASE_SKILL = "---\nname: notes\ndescription: Take notes\n---\n# Notes\n\nKeep notes.\n"
BASE_PROJECT = "version: 1\nscope: {instances: ['*'], excludeInstances: [demo-agent]}\n"


def write_base(root: Path) -> None:
    """A small valid repo: polyant.yaml, one instance with a prompt, one skill with a script."""
    files = {
        PROJECT: BASE_PROJECT,
        INSTANCE: BASE_INSTANCE,
        PROMPT: "You are Alpha.\n",
        SKILL: BASE_SKILL,
        SCRIPT: "print('hello')\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Case:
    """One hostile input: how to break the base repo and which file the error must name."""

    name: str
    apply: Callable[[Path, Path], None]  # (repo root, a folder outside the repo)
    names: str  # a substring the error output must contain (the file or object)
    # For inputs that could blow up (size, depth, expansion, long numbers): the exact refusal
    # line, which shows the input was refused by a countable limit before any unbounded work.
    says: str = ""


def _put(rel: str, data: str | bytes) -> Callable[[Path, Path], None]:
    def apply(root: Path, outside: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")

    return apply


def _append(rel: str, text: str) -> Callable[[Path, Path], None]:
    def apply(root: Path, outside: Path) -> None:
        with (root / rel).open("a", encoding="utf-8") as handle:
            handle.write(text)

    return apply


def _link(rel: str, target: str) -> Callable[[Path, Path], None]:
    """Replace `rel` by a symlink to `target` (relative to the outside folder, or absolute)."""

    def apply(root: Path, outside: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            for child in sorted(path.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            path.rmdir()
        elif path.exists():
            path.unlink()
        (outside / "secret.yaml").write_text("name: Outside\n", encoding="utf-8")
        (outside / "folder").mkdir(exist_ok=True)
        (outside / "folder" / "instance.yaml").write_text("name: Outside\n", encoding="utf-8")
        path.symlink_to(target if target.startswith("/") else outside / target)

    return apply


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x", encoding="utf-8")


def _deep_seq(depth: int) -> str:
    return "name: Alpha\nroom: " + "[" * depth + "]" * depth + "\n"


def _deep_map(depth: int) -> str:
    lines = ["name: Alpha", "room:"]
    lines += [f"{'  ' * (i + 1)}k{i}:" for i in range(depth)]
    return "\n".join(lines) + " x\n"


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)
MB = 1024 * 1024

CASES: list[Case] = [
    Case("unclosed bracket", _put(INSTANCE, "name: Alpha\nmanualTools: [readSkill\n"), INSTANCE),
    Case("tab indentation", _put(INSTANCE, "name: Alpha\nroom:\n\tenabled: true\n"), INSTANCE),
    Case("bad indentation", _put(INSTANCE, "name: Alpha\n  description: x\n bad: y\n"), INSTANCE),
    Case(
        "huge instance.yaml",
        _put(INSTANCE, "name: Alpha\ndescription: " + "x" * (2 * MB)),
        INSTANCE,
        says=f"{INSTANCE}:1:1: file is 2097177 bytes; the limit is 1048576 bytes",
    ),
    Case(
        "huge prompt file",
        _put(PROMPT, "y" * (2 * MB)),
        PROMPT,
        says=f"{PROMPT}:1:1: file is 2097152 bytes; the limit is 1048576 bytes",
    ),
    Case(
        "huge SKILL.md",
        _put(SKILL, BASE_SKILL + "z" * (2 * MB)),
        SKILL,
        says=f"{SKILL}:1:1: file is 2097217 bytes; the limit is 1048576 bytes",
    ),
    Case(
        "huge script",
        _put(SCRIPT, "#" * (2 * MB)),
        SCRIPT,
        says=f"{SCRIPT}:1:1: file is 2097152 bytes; the limit is 1048576 bytes",
    ),
    Case(
        "deep flow nesting",
        _put(INSTANCE, _deep_seq(5000)),
        INSTANCE,
        says=f"{INSTANCE}:2:26: nesting deeper than 20 levels is not allowed",  # at level 21
    ),
    Case(
        "deep block nesting",
        _put(INSTANCE, _deep_map(200)),
        INSTANCE,
        says=f"{INSTANCE}:22:41: nesting deeper than 20 levels is not allowed",
    ),
    Case(
        "anchor and alias",
        _put(INSTANCE, "name: &n Alpha\ndescription: *n\n"),
        INSTANCE,
        says=f"{INSTANCE}:1:7: YAML anchors (&name) are not allowed; write the value out",
    ),
    Case(
        "billion laughs",
        _put(INSTANCE, "name: Alpha\n" + LAUGHS),
        INSTANCE,
        # Refused at the first anchor (line 2), before any alias is expanded.
        says=f"{INSTANCE}:2:4: YAML anchors (&name) are not allowed; write the value out",
    ),
    Case(
        "merge key",
        _put(INSTANCE, "base: &b {status: active}\nname: A\n<<: *b\n"),
        INSTANCE,
        says=f"{INSTANCE}:1:7: YAML anchors (&name) are not allowed; write the value out",
    ),
    Case("NUL byte in yaml", _put(INSTANCE, "name: Al\x00pha\n"), INSTANCE),
    Case("escape sequence in yaml", _put(INSTANCE, "name: \x1b[31mAlpha\n"), INSTANCE),
    Case("NUL byte in prompt", _put(PROMPT, "You are\x00 Alpha.\n"), PROMPT),
    Case("bell in SKILL.md", _put(SKILL, BASE_SKILL + "\x07\n"), SKILL),
    Case(
        "latin-1 yaml",
        _put(INSTANCE, "name: Alpha\ndescription: caf\xe9\n".encode("latin-1")),
        INSTANCE,
    ),
    Case("invalid utf-8 prompt", _put(PROMPT, b"You are \xff\xfe Alpha.\n"), PROMPT),
    Case("utf-16 yaml", _put(INSTANCE, "name: Alpha\n".encode("utf-16")), INSTANCE),
    Case("binary script", _put(SCRIPT, b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))), SCRIPT),
    Case("duplicate keys", _put(INSTANCE, "name: Alpha\nname: Beta\n"), INSTANCE),
    Case(
        "duplicate nested keys",
        _put(INSTANCE, "name: A\nroom: {enabled: true, enabled: false}\n"),
        INSTANCE,
    ),
    Case("name is a list", _put(INSTANCE, "name: [Alpha]\n"), INSTANCE),
    Case("skills is a string", _put(INSTANCE, "name: Alpha\nskills: notes\n"), INSTANCE),
    Case("room is a number", _put(INSTANCE, "name: Alpha\nroom: 7\n"), INSTANCE),
    Case("boolean as string", _put(INSTANCE, "name: Alpha\nmemoryEnabled: 'yes'\n"), INSTANCE),
    Case("unknown key", _put(INSTANCE, "name: Alpha\nnmae: typo\n"), INSTANCE),
    Case("top level list", _put(INSTANCE, "- name: Alpha\n"), INSTANCE),
    Case("top level scalar", _put(INSTANCE, "just a string\n"), INSTANCE),
    Case("empty instance.yaml", _put(INSTANCE, ""), INSTANCE),
    Case("two documents", _put(INSTANCE, "name: Alpha\n---\nname: Beta\n"), INSTANCE),
    Case(
        "python tag", _put(INSTANCE, "name: !!python/object/apply:os.system ['true']\n"), INSTANCE
    ),
    Case("custom tag", _put(INSTANCE, "name: !secret Alpha\n"), INSTANCE),
    Case(
        "10000-digit integer",
        _put(INSTANCE, "name: A\nroom: {evalIntervalMinutes: " + "9" * 10000 + "}\n"),
        INSTANCE,
        says=f"{INSTANCE}:2:29: a number this long is not allowed; quote it if it is text",
    ),
    Case(
        "float overflow",
        _put(INSTANCE, "name: A\nroom: {evalIntervalMinutes: 1e400}\n"),
        INSTANCE,
        says=f"{INSTANCE}:2:29: room.evalIntervalMinutes: Input should be a valid integer",
    ),
    Case(
        "12k-item list",
        _put(INSTANCE, "name: A\nmanualTools:\n" + "- readSkill\n" * 12_000),
        INSTANCE,
        # Named once, not once per copy; the check's own cost is bounded in the test module.
        says=f"{INSTANCE}:4:3: manualTools names must be unique: readSkill",
    ),
    Case(
        "10k-char key",
        _put(INSTANCE, "name: A\n" + "k" * 10_000 + ": v\n"),
        INSTANCE,
        says=f"{INSTANCE}:2:10001: invalid YAML: could not find expected ':'",
    ),
    Case("invalid cron", _put(INSTANCE, BASE_INSTANCE.replace("0 9 * * *", "every day")), INSTANCE),
    Case(
        "unknown timezone", _put(INSTANCE, BASE_INSTANCE.replace("UTC", "Mars/Olympus")), INSTANCE
    ),
    Case(
        "everyMs zero",
        _put(
            INSTANCE,
            "name: A\nscheduledTasks:\n  - name: T\n    prompt: p\n"
            "    schedule: {type: interval, everyMs: 0}\n",
        ),
        INSTANCE,
    ),
    Case(
        "unparseable runAt",
        _put(
            INSTANCE,
            "name: A\nscheduledTasks:\n  - name: T\n    prompt: p\n"
            "    schedule: {type: one-shot, runAt: 'next tuesday'}\n",
        ),
        INSTANCE,
    ),
    Case("bad secret key", _put(INSTANCE, "name: A\nsecrets: ['BAD KEY']\n"), INSTANCE),
    Case(
        "duplicate task names",
        _put(
            INSTANCE,
            "name: A\nscheduledTasks:\n"
            + "  - {name: T, prompt: p, schedule: {type: interval, everyMs: 3600000}}\n" * 2,
        ),
        INSTANCE,
    ),
    Case("prompt over 32768 chars", _put(PROMPT, "w" * 40_000), PROMPT),
    Case("unknown prompt section", _put("instances/alpha/prompts/09-extra.md", "hi\n"), "09-extra"),
    Case("undefined variable", _put(INSTANCE, "name: A\ndescription: ${nowhere}\n"), INSTANCE),
    Case(
        "invalid slug folder", _put("instances/Bad Slug/instance.yaml", "name: Bad\n"), "Bad Slug"
    ),
    Case(
        "homoglyph slug folder", _put("instances/\u0430lpha2/instance.yaml", "name: A\n"), "lpha2"
    ),
    Case(
        "dots in folder name",
        _put("instances/alpha..beta/instance.yaml", "name: A\n"),
        "alpha..beta",
    ),
    Case("instance.yaml is a folder", lambda root, out: _folder(root / INSTANCE), INSTANCE),
    Case("icon path traversal", _append(INSTANCE, "icon: ../../../secret.png\n"), INSTANCE),
    Case("icon absolute path", _append(INSTANCE, "icon: /etc/passwd\n"), INSTANCE),
    Case("symlinked instance.yaml", _link(INSTANCE, "secret.yaml"), INSTANCE),
    Case("symlink to /etc/passwd", _link(PROMPT, "/etc/passwd"), PROMPT),
    Case("symlinked instance folder", _link("instances/alpha", "folder"), "instances/alpha"),
    Case("symlinked script", _link(SCRIPT, "secret.yaml"), SCRIPT),
    Case("symlinked polyant.yaml", _link(PROJECT, "secret.yaml"), PROJECT),
    Case("SKILL.md without front matter", _put(SKILL, "# Notes\n\nNo front matter.\n"), SKILL),
    Case("broken front matter", _put(SKILL, "---\nname: [notes\n---\nbody\n"), SKILL),
    Case("unterminated front matter", _put(SKILL, "---\nname: notes\nbody without end\n"), SKILL),
    Case("front matter is a list", _put(SKILL, "---\n- notes\n---\nbody\n"), SKILL),
    Case("bad skill folder slug", _put("skills/Not_A_Slug/SKILL.md", BASE_SKILL), "Not_A_Slug"),
    Case("script name with spaces", _put("skills/notes/scripts/run me.sh", "echo\n"), "run me.sh"),
    Case("broken polyant.yaml", _put(PROJECT, "version: [1\n"), PROJECT),
    Case("polyant.yaml wrong version", _put(PROJECT, "version: 2\n"), PROJECT),
    Case("polyant.yaml wrong types", _put(PROJECT, "version: 1\nenvironments: [a, b]\n"), PROJECT),
    Case("polyant.yaml unknown key", _put(PROJECT, "version: 1\nscopes: {}\n"), PROJECT),
    Case(
        "polyant.yaml huge",
        _put(PROJECT, "version: 1\n# " + "c" * (2 * MB) + "\n"),
        PROJECT,
        says=f"{PROJECT}:1:1: file is 2097166 bytes; the limit is 1048576 bytes",
    ),
]
