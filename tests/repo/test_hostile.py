"""Hostile and invalid repos: each reports a specific, positioned, one-line problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from repo_trees import Tree, build_tree, collect, render

INST = "instances/a/instance.yaml"
SKILL = "skills/faq/SKILL.md"
FAQ_SKILL = """---
name: faq
requiredEnv:
  - name: FAQ_KEY
    sensitive: true
  - name: FAQ_INDEX
    sensitive: false
---

Search the FAQ.
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
LEAK = "sk-proj-AbCdEf0123456789SECRETVALUE"


@dataclass
class Case:
    """One broken repo: its files, where the problem must point, and what it must say."""

    id: str
    files: Tree
    file: str
    line: int
    fragment: str
    secret: str | None = None  # must not appear anywhere in the output
    extra: dict[str, object] = field(default_factory=dict)


def inst(text: str, **more: str | bytes | tuple[str, str]) -> Tree:
    """A repo with one instance 'a' whose instance.yaml is `text`."""
    return {INST: text, **more}


def task(schedule: str) -> str:
    return f"name: A\nscheduledTasks:\n  - name: T\n    prompt: p\n    schedule: {schedule}\n"


CASES = [
    Case("duplicate-key", inst("name: A\nname: B\n"), INST, 2, "duplicate key 'name'"),
    Case("anchor", inst("name: &n A\ndescription: *n\n"), INST, 1, "anchors (&name)"),
    Case(
        "billion-laughs",
        {"polyant.yaml": 'a: &a ["lol","lol"]\nb: &b [*a,*a]\nc: [*b,*b]\n'},
        "polyant.yaml",
        1,
        "anchors (&name)",
    ),
    Case("alias-only", inst("name: A\ndescription: *n\n"), INST, 2, "aliases (*name)"),
    Case("python-tag", inst("name: !!python/object:os.system A\n"), INST, 1, "YAML tag"),
    Case("custom-tag", inst("name: A\ndescription: !secret x\n"), INST, 2, "YAML tag '!secret'"),
    Case(
        "deep-nesting",
        {SKILL: "---\nmetadata: " + "[" * 30 + "]" * 30 + "\n---\n\nBody\n"},
        SKILL,
        2,
        "nesting deeper than 20",
    ),
    Case("control-char", inst("name: A\x07\n"), INST, 1, "control character U+0007"),
    Case("escape-sequence", inst("name: A\ndescription: \x1b[31mred\n"), INST, 2, "U+001B"),
    Case(
        "oversized",
        inst("name: A\ndescription: " + "x" * (1024 * 1024) + "\n"),
        INST,
        1,
        "the limit is 1048576 bytes",
    ),
    Case("not-utf8", inst(b"name: A\ndescription: caf\xe9\n"), INST, 2, "not valid UTF-8"),  # type: ignore[arg-type]
    Case("utf16", inst("name: A\n".encode("utf-16")), INST, 1, "not valid UTF-8"),  # type: ignore[arg-type]
    Case("tab-indent", inst("name: A\nroom:\n\tenabled: true\n"), INST, 3, "tab is used"),
    Case("top-level-list", inst("- name: A\n"), INST, 1, "top level must be a mapping"),
    Case("merge-key", inst("name: A\nroom:\n  <<: {enabled: true}\n"), INST, 3, "merge keys (<<)"),
    Case(
        "polyant-symlink",
        {"polyant.yaml": ("symlink", "/etc/hostname")},
        "polyant.yaml",
        1,
        "must be a regular file",
    ),
    Case(
        "instance-yaml-is-dir",
        {"instances/a/instance.yaml/x": "name: A\n"},
        INST,
        1,
        "must be a regular file",
    ),
    Case(
        "escape-in-folder-name",
        {"instances/a\x1b[2J/instance.yaml": "name: A\n"},
        "instances/a\\x1b[2J",
        1,
        "must use only",
    ),
    Case("empty-file", inst(""), INST, 1, "file is empty"),
    Case("comment-only", inst("# nothing yet\n"), INST, 1, "file is empty"),
    Case("two-documents", inst("name: A\n---\nname: B\n"), INST, 2, "only one YAML document"),
    Case("complex-key", inst("? [a, b]\n: 1\nname: A\n"), INST, 1, "keys must be plain strings"),
    Case(
        "symlink-prompt",
        inst("name: A\n", **{"instances/a/prompts/01-identity.md": ("symlink", "/etc/passwd")}),
        "instances/a/prompts/01-identity.md",
        1,
        "symlinks are not allowed",
    ),
    Case(
        "symlink-folder",
        inst("name: A\n", **{"instances/b": ("symlink", "a")}),
        "instances/b",
        1,
        "symlinks are not allowed",
    ),
    Case(
        "symlink-top",
        {"instances": ("symlink", "/tmp")},
        "instances",
        1,
        "must be a folder (not a symlink",
    ),
    Case("icon-escape", inst("name: A\nicon: ../../etc/passwd\n"), INST, 2, "icon must be a file"),
    Case("icon-missing", inst("name: A\nicon: logo.png\n"), INST, 2, "does not exist"),
    Case(
        "icon-magic",
        inst("name: A\nicon: logo.png\n", **{"instances/a/logo.png": "not an image"}),
        INST,
        2,
        "does not contain a PNG image",
    ),
    Case(
        "icon-too-big",
        inst("name: A\nicon: i.png\n", **{"instances/a/i.png": PNG + b"\0" * 80000}),
        INST,
        2,
        "the limit is 76800 bytes",
    ),
    Case("icon-gif", inst("name: A\nicon: i.gif\n"), INST, 2, ".png, .jpg, .jpeg or .webp"),
    Case(
        "no-instance-yaml",
        {"instances/b/prompts/01-identity.md": "Hi\n"},
        "instances/b",
        1,
        "has no instance.yaml",
    ),
    Case(
        "instance-yml",
        {"instances/b/instance.yml": "name: B\n"},
        "instances/b",
        1,
        "rename it to 'instance.yaml'",
    ),
    Case(
        "file-not-folder",
        {"instances/b.yaml": "name: B\n"},
        "instances/b.yaml",
        1,
        "expected a folder",
    ),
    Case(
        "prompts-is-file",
        inst("name: A\n", **{"instances/a/prompts": "x"}),
        "instances/a/prompts",
        1,
        "prompts must be a folder",
    ),
    Case(
        "unknown-prompt",
        inst("name: A\n", **{"instances/a/prompts/09-extra.md": "x\n"}),
        "instances/a/prompts/09-extra.md",
        1,
        "valid names: 01-identity.md",
    ),
    Case(
        "bad-slug",
        {"instances/Bad Slug/instance.yaml": "name: B\n"},
        "instances/Bad Slug",
        1,
        "must use only",
    ),
    Case(
        "reserved-slug",
        {"instances/models/instance.yaml": "name: M\n"},
        "instances/models",
        1,
        "reserved",
    ),
    Case(
        "reserved-skill",
        {"skills/catalog/SKILL.md": "---\n---\nBody\n"},
        "skills/catalog",
        1,
        "reserved",
    ),
    Case("slug-key", inst("slug: x\nname: A\n"), INST, 1, "remove 'slug'"),
    Case("prompts-key", inst("name: A\nprompts: {}\n"), INST, 2, "prompt sections live in"),
    Case(
        "typo-field",
        inst("name: A\nmemoryEnabeld: true\n"),
        INST,
        2,
        "did you mean 'memoryEnabled'",
    ),
    Case("snake-case", inst("name: A\nmemory_enabled: true\n"), INST, 2, "write 'memoryEnabled'"),
    Case("missing-name", inst("description: no name\n"), INST, 1, "required field 'name'"),
    Case("yes-is-a-string", inst("name: A\nmemoryEnabled: yes\n"), INST, 2, "write true or false"),
    Case(
        "unquoted-version",
        inst("name: A\nskills:\n  - slug: s\n    pinnedVersion: 1.2\n"),
        INST,
        4,
        "in quotes",
    ),
    Case("name-too-long", inst("name: " + "n" * 300 + "\n"), INST, 1, "at most 255 characters"),
    Case("status-too-long", inst("name: A\nstatus: " + "s" * 21 + "\n"), INST, 2, "at most 20"),
    Case(
        "stt-provider",
        inst("name: A\nsttProvider: bogus\n"),
        INST,
        2,
        "'openai', 'aws' or 'deepgram'",
    ),
    Case("cron-fields", inst(task("{type: cron, expression: '* *'}")), INST, 5, "has 2 fields"),
    Case(
        "cron-timezone",
        inst(task("{type: cron, expression: '0 8 * * *', timezone: Mars/Base}")),
        INST,
        5,
        "IANA",
    ),
    Case(
        "every-ms",
        inst(task("{type: interval, everyMs: 1000}")),
        INST,
        5,
        "greater than or equal to 60000",
    ),
    Case("relative-runat", inst(task("{type: one-shot, runAt: '+2h'}")), INST, 5, "relative runAt"),
    Case(
        "poison-runat",
        inst(task("{type: one-shot, runAt: tomorrow}")),
        INST,
        5,
        "absolute ISO-8601",
    ),
    Case(
        "schedule-type",
        inst(task("{type: weekly}")),
        INST,
        5,
        "does not match any of the expected tags",
    ),
    Case("schedule-no-type", inst(task("{expression: '* * * * *'}")), INST, 5, "needs a 'type'"),
    Case(
        "dup-task",
        inst(
            task("{type: interval, everyMs: 60000}") + "  - name: T\n    prompt: q\n"
            "    schedule: {type: interval, everyMs: 60000}\n"
        ),
        INST,
        6,
        "scheduledTasks names must be unique: T",
    ),
    Case(
        "dup-source",
        inst(
            "name: A\neventSources:\n  - {name: S, sourceType: webhook}\n"
            "  - {name: S, sourceType: webhook}\n"
        ),
        INST,
        4,
        "eventSources names must be unique: S",
    ),
    Case(
        "conversation-def",
        inst(
            "name: A\neventSources:\n  - name: S\n    sourceType: webhook\n    definitions:\n"
            "      - {name: D, matchingPrompt: m, action: conversation}\n"
        ),
        INST,
        6,
        "needs contextPrompt and outboundChannel",
    ),
    Case(
        "hubspot-secret",
        inst("name: A\neventSources:\n  - name: H\n    sourceType: hubspot\n"),
        INST,
        3,
        "config.clientSecret",
    ),
    Case(
        "secrets-mapping",
        inst(f"name: A\nsecrets:\n  openai_api_key: {LEAK}\n"),
        INST,
        2,
        "secrets must be a list of key names",
        secret=LEAK,
    ),
    Case(
        "secret-value-in-list",
        inst(f"name: A\nsecrets: [openai_api_key, {LEAK}]\n"),
        INST,
        2,
        "looks like a secret value",
        secret=LEAK,
    ),
    Case(
        "secret-key-format",
        inst("name: A\nsecrets: [Bad-Key]\n"),
        INST,
        2,
        "must match ^[a-z0-9_]+$",
    ),
    Case(
        "channel-type",
        inst("name: A\nchannels:\n  email: {enabled: true}\n"),
        INST,
        3,
        "'telegram', 'slack'",
    ),
    Case(
        "channel-credential",
        inst(f"name: A\nchannels:\n  slack: {{enabled: true, botToken: {LEAK}}}\n"),
        INST,
        3,
        "channel credentials are secrets",
        secret=LEAK,
    ),
    Case(
        "unknown-tool",
        inst("name: A\nmanualTools: [readSkill, webSerch]\n"),
        INST,
        2,
        "did you mean 'webSearch'",
    ),
    Case(
        "sensitive-env-value",
        inst(f"name: A\nskillEnv:\n  faq:\n    FAQ_KEY: {LEAK}\n", **{SKILL: FAQ_SKILL}),
        INST,
        4,
        "POLYANT_SKILLENV__A__FAQ__FAQ_KEY",
        secret=LEAK,
    ),
    Case(
        "plain-env-null",
        inst("name: A\nskillEnv:\n  faq:\n    FAQ_INDEX: null\n", **{SKILL: FAQ_SKILL}),
        INST,
        4,
        "needs a value here",
    ),
    Case(
        "undeclared-env",
        inst("name: A\nskillEnv:\n  faq:\n    OTHER: x\n", **{SKILL: FAQ_SKILL}),
        INST,
        4,
        "not in the requiredEnv of skills/faq/SKILL.md",
    ),
    Case(
        "event-credential",
        inst(
            f"name: A\neventSources:\n  - name: Z\n    sourceType: webhook\n    config:\n"
            f"      signingSecret: {LEAK}\n"
        ),
        INST,
        6,
        "POLYANT_EVENTSOURCE__A__Z__SIGNINGSECRET",
        secret=LEAK,
    ),
    Case(
        "prompt-too-long",
        inst("name: A\n", **{"instances/a/prompts/01-identity.md": "p" * 40000 + "\n"}),
        "instances/a/prompts/01-identity.md",
        1,
        "the limit is 32768",
    ),
    Case(
        "skill-no-front-matter", {SKILL: "# Just markdown\n"}, SKILL, 1, "must start with a '---'"
    ),
    Case("skill-unclosed", {SKILL: "---\nname: faq\n\nBody\n"}, SKILL, 1, "never closed"),
    Case("skill-empty-body", {SKILL: "---\nname: faq\n---\n\n"}, SKILL, 4, "body is empty"),
    Case(
        "skill-second-front-matter",
        {SKILL: "---\nname: faq\n---\n\n---\nname: again\n---\nBody\n"},
        SKILL,
        5,
        "second '---' block",
    ),
    Case(
        "skill-unknown-key",
        {SKILL: "---\nname: faq\nlicense: MIT\n---\nBody\n"},
        SKILL,
        3,
        "put others under metadata",
    ),
    Case(
        "skill-front-dup",
        {SKILL: "---\nname: a\nname: b\n---\nBody\n"},
        SKILL,
        3,
        "duplicate key 'name'",
    ),
    Case(
        "skill-env-string",
        {SKILL: "---\nrequiredEnv: [API_KEY]\n---\nBody\n"},
        SKILL,
        2,
        "valid dictionary",
    ),
    Case(
        "script-subfolder",
        {SKILL: "---\n---\nBody\n", "skills/faq/scripts/lib/x.py": "x\n"},
        "skills/faq/scripts/lib",
        1,
        "scripts/ is flat",
    ),
    Case(
        "script-listed-missing",
        {SKILL: "---\nscripts:\n  gone.py: vanished\n---\nBody\n"},
        SKILL,
        3,
        "scripts/gone.py does not exist",
    ),
    Case(
        "script-binary",
        {SKILL: "---\n---\nBody\n", "skills/faq/scripts/x.bin": b"\x00\x01\xff"},
        "skills/faq/scripts/x.bin",
        1,
        "not valid UTF-8",
    ),
    Case(
        "undefined-variable",
        inst("name: ${teamName}\n"),
        INST,
        1,
        "variable 'teamName' is not defined",
    ),
    Case(
        "bad-variable-ref",
        inst("name: A ${team-name}\n"),
        INST,
        1,
        "not a valid variable reference",
    ),
    Case(
        "polyant-threshold",
        {"polyant.yaml": "safety:\n  maxDeletePercent: 200\n"},
        "polyant.yaml",
        2,
        "less than or equal to 100",
    ),
    Case(
        "polyant-default-env",
        {"polyant.yaml": "defaultEnvironment: prod\nenvironments:\n  dev: {}\n"},
        "polyant.yaml",
        1,
        "defaultEnvironment 'prod' is not defined",
    ),
    Case(
        "override-unknown-instance",
        {
            "polyant.yaml": "defaultEnvironment: dev\nenvironments:\n  dev:\n    overrides:\n"
            "      ghost: {status: inactive}\n"
        },
        "polyant.yaml",
        5,
        "has no folder instances/ghost/",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_repo_reports_a_positioned_problem(tmp_path: Path, case: Case) -> None:
    root = build_tree(tmp_path / "repo", case.files)
    problems = collect(root)
    text = render(problems)
    hits = [p for p in problems if p.file == case.file and case.fragment in p.message]
    assert hits, f"no problem in {case.file} containing {case.fragment!r}; got:\n{text}"
    assert hits[0].line == case.line, text
    assert hits[0].severity == "error", text
    assert "Traceback" not in text and all("\n" not in p.message for p in problems)
    if case.secret:
        assert case.secret not in text


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 35


def test_all_problems_of_several_files_are_reported_at_once(tmp_path: Path) -> None:
    root = build_tree(
        tmp_path / "repo",
        {
            "polyant.yaml": "safety:\n  minObjects: -1\n",
            "instances/a/instance.yaml": "name: A\nname: B\n",
            "instances/b/instance.yaml": "name: B\nstatus: " + "s" * 30 + "\n",
            "instances/b/prompts/99-x.md": "x\n",
            "instances/c/instance.yaml": "name: C\nmanualTools: [nope]\n",
            "skills/s/SKILL.md": "no front matter\n",
        },
    )
    found = {(p.file, p.line) for p in collect(root)}
    assert {
        ("polyant.yaml", 2),
        ("instances/a/instance.yaml", 2),
        ("instances/b/instance.yaml", 2),
        ("instances/b/prompts/99-x.md", 1),
        ("instances/c/instance.yaml", 2),
        ("skills/s/SKILL.md", 1),
    } <= found


def test_a_huge_plain_number_is_refused_but_long_text_is_not(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "repo", {INST: "name: A\nstatus: " + "9" * 5000 + "\n"})
    [problem] = collect(root)
    assert (problem.line, "a number this long") == (2, problem.message[:18])
    text = build_tree(tmp_path / "ok", {INST: "name: A\ndescription: " + "abcdef" * 40 + "\n"})
    assert collect(text) == []
