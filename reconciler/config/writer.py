"""The file side of export: a live State written into the repo, merged into existing files."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config import skillfile
from reconciler.config.exportfiles import (
    FileSet,
    Refused,
    atomic_write,
    icon_file,
    instance_values,
    skill_values,
)
from reconciler.config.tree import INSTANCE_FILE, PROMPTS_DIR, SCRIPTS_DIR, SKILL_FILE
from reconciler.config.yamlio import CONTROL_RE, Problems, dump_yaml, parse_yaml, read_text
from reconciler.config.yamlmerge import Merger
from reconciler.errors import ConfigError, Problem
from reconciler.model import checks
from reconciler.model.enginefacts import AGENT_OWNED_SECTIONS, SECTION_IDS
from reconciler.model.objects import Instance, Skill, State

INSTANCE_MODELINE = "# yaml-language-server: $schema=../../.schemas/instance.json"
SKILL_MODELINE = "# yaml-language-server: $schema=../../.schemas/skill.json"


@dataclass
class WriteResult:
    """What an export did to the repo's files."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def write_repo(
    root: Path,
    state: State,
    *,
    only_instances: Collection[str] | None = None,
    skills: bool = True,
    agent_owned_prompts: Collection[str] = AGENT_OWNED_SECTIONS,
    full: bool = False,
    variables: Mapping[str, str] | None = None,
    before_write: Callable[[list[Path]], None] | None = None,
) -> WriteResult:
    """Write `state` into the repo at `root`; nothing is written unless every object renders.

    Existing files are merged: unchanged ones are not touched at all, changed ones keep the
    user's comments, key order and choice of managed fields (all fields when `full`).
    `variables` resolve `${var}` in existing files so templated values are kept.
    `before_write` sees the existing files about to change or go, and may refuse.
    """
    files = FileSet(root.resolve())
    writer = _Writer(files, Merger(dict(variables or {})), full, set(agent_owned_prompts))
    _render_all(writer, state, only_instances, skills)
    if before_write is not None:
        changing = [p for p, data in files.writes.items() if files.current(p) not in (None, data)]
        before_write(changing + [p for p in files.removals if files.exists(p)])
    try:
        return _commit(files)
    except OSError as exc:  # disk full, permissions: one clear line, never a traceback
        where = exc.filename or str(root)
        raise ConfigError([Problem(str(where), 0, 0, f"cannot write: {exc.strerror}")]) from exc


def _render_all(
    writer: _Writer, state: State, only_instances: Collection[str] | None, skills: bool
) -> None:
    """Render every chosen object into the writer's file set, or raise all problems at once."""
    problems: list[Problem] = []
    for slug, inst in sorted(state.instances.items()):
        if only_instances is None or slug in only_instances:
            writer.guard(problems, f"instance {slug!r}", writer.instance, slug, inst, state)
    for slug, skill in sorted(state.skills.items()) if skills else []:
        if not skill.archived:  # archived skills cannot be revived, so they are not config
            writer.guard(problems, f"skill {slug!r}", writer.skill, slug, skill)
    if problems:
        raise ConfigError(problems)


class _Writer:
    def __init__(self, files: FileSet, merger: Merger, full: bool, owned: set[str]) -> None:
        self.files, self.merger, self.full, self.owned = files, merger, full, owned

    def guard(self, problems: list[Problem], what: str, render: Any, *args: Any) -> None:
        """Run one object's render; a refusal becomes a problem naming the object."""
        try:
            render(*args)
        except Refused as exc:
            problems.append(Problem("(engine)", 0, 0, f"{what}: {exc}; nothing was written"))

    def instance(self, slug: str, inst: Instance, state: State) -> None:
        if problem := checks.slug_problem(slug):
            raise Refused(f"{problem}; refusing to write it")
        folder = self.files.target("instances", slug)
        full, sparse = instance_values(inst, state.skills)
        existing = self._existing_yaml(folder / INSTANCE_FILE)
        icon = icon_file(inst.icon, existing, self.files, folder)
        self.files.warnings.extend(icon.warnings)
        for values in (full, sparse):
            values["icon"] = icon.name if icon.name is not None else values.get("icon")
        if icon.unsupported:
            full.pop("icon"), sparse.pop("icon")
        if existing is None:
            doc = self.merger.build(full, {k: sparse.get(k, v) for k, v in full.items()})
        else:
            doc = existing
            self.merger.changed = False
            self.merger.merge_top(doc, full, sparse, add_missing=self.full)
        self._put_yaml(folder / INSTANCE_FILE, doc, existing is not None, INSTANCE_MODELINE)
        if icon.data is not None and "icon" in doc and icon.name:
            self.files.put_bytes(folder / icon.name, icon.data)
        for stale in icon.stale:
            self.files.remove(folder / stale)
        self._prompts(folder, inst.prompts, new=existing is None)

    def _prompts(self, folder: Path, prompts: dict[str, str], *, new: bool) -> None:
        base = folder / PROMPTS_DIR
        for section in sorted(set(prompts) | self.files.names(base, ".md")):
            if section not in SECTION_IDS:
                if section in prompts:
                    raise Refused(f"unknown prompt section {section!r}")
                continue
            path = base / f"{section}.md"
            exists = self.files.exists(path)
            if section not in prompts:
                self.files.remove(path)
            elif exists or ((new or self.full) and section not in self.owned):
                self.files.put(path, _text(f"prompt {section}", prompts[section]) + "\n")

    def _put_yaml(self, path: Path, doc: Any, merged: bool, modeline: str) -> None:
        current = self.files.current(path)
        if merged and not self.merger.changed and current is not None:
            # Nothing changed: keep the user's exact bytes, whatever ruamel would re-emit.
            self.files.put_bytes(path, current)
        else:
            self.files.put(path, dump_yaml(doc, modeline=modeline))

    def _existing_yaml(self, path: Path) -> Any:
        if not self.files.exists(path):
            return None
        problems = Problems()
        rel = self.files.rel(path)
        text = read_text(path, rel, problems)
        root = parse_yaml(text, rel, problems) if text is not None else None
        if problems or not isinstance(root, dict):
            why = str(problems[0]) if problems else f"{rel} is not a mapping"
            raise Refused(f"the existing file cannot be merged ({why}); fix or delete it")
        return root

    def skill(self, slug: str, skill: Skill) -> None:
        if problem := checks.slug_problem(slug, skill=True):
            raise Refused(f"{problem}; refusing to write it")
        folder = self.files.target("skills", slug)
        path = folder / SKILL_FILE
        full, sparse, new_keys = skill_values(skill)
        content = _text("the skill body", skill.content)
        existing = self._existing_skill(path)
        if existing is None:
            doc = self.merger.build(full, {k: sparse.get(k, full[k]) for k in new_keys})
            self.files.put(path, skillfile.join(dump_yaml(doc, modeline=SKILL_MODELINE), content))
        else:
            doc, parts = existing
            self.merger.changed = False
            self.merger.merge_map(doc, full, sparse, ())
            # Untouched parts keep the user's exact text; only what changed is re-emitted.
            front = dump_yaml(doc, modeline=SKILL_MODELINE) if self.merger.changed else parts.front
            same = not self.merger.changed and parts.body == content
            current = self.files.current(path) or b""
            self.files.put_bytes(path, current if same else _skill_md(front, content))
        self._scripts(folder / SCRIPTS_DIR, skill)

    def _existing_skill(self, path: Path) -> tuple[Any, skillfile.SkillText] | None:
        if not self.files.exists(path):
            return None
        problems = Problems()
        rel = self.files.rel(path)
        text = read_text(path, rel, problems)
        parts = skillfile.split(text) if text is not None else "unreadable"
        root = None
        if not isinstance(parts, str):
            root = parse_yaml(parts.front, rel, problems, line_offset=1)
        if problems or isinstance(parts, str) or not isinstance(root, dict | None):
            why = str(problems[0]) if problems else f"{rel}: {parts}"
            raise Refused(f"the existing file cannot be merged ({why}); fix or delete it")
        return (root if root is not None else self.merger.fresh({})), parts

    def _scripts(self, base: Path, skill: Skill) -> None:
        wanted = {s.file: s for s in skill.scripts}
        for name in wanted:
            if problem := skillfile.script_name_problem(name):
                raise Refused(f"{problem}; refusing to write it")
        for name in sorted(self.files.names(base, "") - set(wanted)):
            if not skillfile.script_name_problem(name):
                self.files.remove(base / name)
        for name, script in sorted(wanted.items()):
            self.files.put(base / name, _text(f"script {name}", script.content))


def _text(what: str, text: str) -> str:
    """`text` for a Markdown or script file, refused when the loader would reject it."""
    if match := CONTROL_RE.search(text):
        code = f"U+{ord(match.group()):04X}"
        raise Refused(f"{what} holds control character {code}, which a repo file cannot carry")
    return text


def _skill_md(front: str, content: str) -> bytes:
    return skillfile.join(front, content).encode("utf-8")


def _commit(files: FileSet) -> WriteResult:
    """Write every prepared file (temp file + rename), then remove what is gone."""
    result = WriteResult(warnings=list(files.warnings))
    for path, data in files.writes.items():
        if files.current(path) == data:
            result.unchanged.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
        result.written.append(path)
    for path in files.removals:
        if path not in files.writes and files.exists(path):
            path.unlink()
            result.removed.append(path)
    return result
