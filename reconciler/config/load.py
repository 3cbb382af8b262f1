"""Load the config tree (polyant.yaml, instances/, skills/) into a normalized desired State.

Loading validates once (``config.validate``); the LoadedRepo carries the warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from reconciler.config import skillfile
from reconciler.config.docs import Doc
from reconciler.config.loaded import LoadedRepo, Sources
from reconciler.config.modelcheck import (
    RESERVED,
    channel_problems,
    model_problems,
    secrets_problems,
    snake_case_keys,
)
from reconciler.config.tree import INSTANCE_FILE, PROJECT_FILE, SKILL_FILE, Tree
from reconciler.config.validate import validate_state
from reconciler.config.variables import Budget, substitute
from reconciler.config.yamlio import Problems, plain
from reconciler.errors import ArgumentError, ConfigError, Problem
from reconciler.model import checks
from reconciler.model.checks import CONTROL_RE
from reconciler.model.managed import normalize_instance, normalize_skill
from reconciler.model.objects import Instance, Skill, State
from reconciler.model.project import Project

__all__ = ["LoadedRepo", "Sources", "load_project", "load_repo"]
M = TypeVar("M", Instance, Skill)
ENV_NOTE = "pass --env or set defaultEnvironment in polyant.yaml"


def load_repo(
    root: Path, *, env: str | None = None, instances: Callable[[str], bool] | None = None
) -> LoadedRepo:
    """Read and check the repo; raise ConfigError with every problem found at once.

    `instances` picks the instance folders to load (a scoped run); polyant.yaml and every
    skill are always loaded, and `folders` still lists every instance folder.
    """
    tree = Tree(root.resolve(), Problems())
    project, pdoc = _load_project(tree)
    chosen = _environment(project, env, pdoc, tree.problems)
    loader = _Loader(tree, project, pdoc, chosen)
    objects, skills = loader.instances(instances), loader.skills()
    loader.check_overrides()
    for src in loader.docs.values():
        src.main.release()  # the models hold the values; positions come back from the text
    loaded = LoadedRepo(
        root=tree.root,
        project=project,
        # As `normalize` builds it; instances were normalized one by one as they loaded, so
        # the un-normalized copies never pile up (peak memory).
        state=State.model_construct(
            instances={k: objects[k] for k in sorted(objects)},
            skills={k: normalize_skill(skills[k]) for k in sorted(skills)},
        ),
        sources=loader.sources,
        docs=loader.docs,
        project_doc=pdoc,
        environment=chosen,
        variables=loader.variables,
        folders=frozenset(loader.folders),
        partial=instances is not None,
    )
    problems = tree.problems
    findings = validate_state(loaded)  # the one full validation of this command
    problems.extend(p for p in findings if p.severity == "error")
    if problems.errors:
        raise ConfigError(sorted(problems, key=_order))
    loaded.warnings = sorted(problems, key=_order)  # the files' own
    loaded.findings = sorted([*problems, *findings], key=_order)
    return loaded


def load_project(root: Path, *, env: str | None = None) -> LoadedRepo:
    """Only polyant.yaml (for commands such as export that do not read the objects)."""
    tree = Tree(root.resolve(), Problems())
    project, pdoc = _load_project(tree)
    chosen = _environment(project, env, pdoc, tree.problems)
    if tree.problems.errors:
        raise ConfigError(sorted(tree.problems, key=_order))
    variables = dict(project.environments[chosen].variables) if chosen else {}
    return LoadedRepo(tree.root, project, State(), {}, {}, pdoc, chosen, variables)


def _order(p: Problem) -> tuple[str, int, int, str]:
    return p.file, p.line, p.col, p.message


def _load_project(tree: Tree) -> tuple[Project, Doc]:
    doc = tree.yaml_doc(tree.root / PROJECT_FILE, required=False)
    if doc is None or doc.root is None:
        return Project(), doc or Doc(PROJECT_FILE)
    if not isinstance(doc.root, dict):
        tree.problems.add(doc.file, 1, 1, "polyant.yaml must be a mapping of settings")
        return Project(), doc
    data = plain(doc.root)
    for path, message in snake_case_keys(Project, data):
        tree.problems.add(doc.file, *doc.at(path, key=True), message)
    try:
        return Project.model_validate(data, strict=True), doc
    except ValidationError as exc:
        tree.problems.extend(model_problems(exc, data, lambda p, k: (doc.file, *doc.at(p, key=k))))
        return Project(), doc


def _environment(project: Project, env: str | None, pdoc: Doc, problems: Problems) -> str | None:
    """The environment in force: the one asked for, else polyant.yaml's default, else none."""
    names = sorted(project.environments)
    if env is not None:
        if env not in project.environments:
            known = ", ".join(names) or "none"
            raise ArgumentError(
                f"environment {env!r} is not defined in polyant.yaml (defined: {known})"
            )
        return env
    default = project.default_environment
    if default is not None and default not in project.environments:
        line, col = pdoc.at(("defaultEnvironment",))
        problems.add(pdoc.file, line, col, f"defaultEnvironment {default!r} is not defined")
        return None
    return default


class _Loader:
    """Builds models from instance and skill folders, recording every problem on the way."""

    def __init__(self, tree: Tree, project: Project, pdoc: Doc, env: str | None) -> None:
        self.tree, self.pdoc, self.env = tree, pdoc, env
        chosen = project.environments.get(env) if env else None
        self.variables: dict[str, str] = dict(chosen.variables) if chosen else {}
        self.budget = Budget()
        self.overrides = dict(chosen.overrides) if chosen else {}
        self.sources: dict[str, Path] = {}
        self.docs: dict[str, Sources] = {}
        self.folders: set[str] = set()  # instance folder names, loaded or not

    def instances(self, wanted: Callable[[str], bool] | None) -> dict[str, Instance]:
        out: dict[str, Instance] = {}
        for folder in self.tree.object_folders("instances"):
            self.folders.add(folder.name)
            if wanted is not None and not wanted(folder.name):
                continue
            inst = self._instance(folder)
            if inst is not None:
                out[inst.slug] = inst
        return out

    def skills(self) -> dict[str, Skill]:
        out: dict[str, Skill] = {}
        for folder in self.tree.object_folders("skills"):
            skill = self._skill(folder)
            if skill is not None:
                out[skill.slug] = skill
        return out

    def _report(self, doc: Doc, prefix: tuple[Any, ...] = ()) -> Any:
        suffix = f" in environment {self.env!r}" if self.env else f" (no environment: {ENV_NOTE})"

        def report(path: tuple[Any, ...], message: str) -> None:
            self.tree.problems.add(doc.file, *doc.at((*prefix, *path)), message + suffix)

        return report

    def _substitute(self, doc: Doc) -> dict[str, Any]:
        """The document's data with `${var}` resolved; without a `${` in the text there is
        nothing to resolve, and the (already plain) data is used as it is."""
        # Plain text without "${", a backslash escape or a control character cannot yield a
        # reference or a control character in any value: nothing to check or resolve.
        text = doc.text
        if (
            text is not None
            and "${" not in text
            and "\\" not in text
            and not CONTROL_RE.search(text)
        ):
            return dict(doc.root)
        return dict(
            substitute(doc.root, self.variables, self._report(doc), budget=self.budget.file())
        )

    def _instance(self, folder: Path) -> Instance | None:
        slug, tree = folder.name, self.tree
        doc = tree.object_doc(folder, INSTANCE_FILE, checks.slug_problem(slug), "instance")
        if doc is None:
            return None
        src = Sources(doc)
        self.docs[f"instance/{slug}"], self.sources[f"instance/{slug}"] = src, folder
        data = self._substitute(doc)
        self._apply_overrides(slug, data, src)
        icon = data.get("icon")
        prompts, src.files = tree.prompts(folder)
        allowed = {INSTANCE_FILE, "prompts", icon if isinstance(icon, str) else ""}
        tree.extra_entries(folder, allowed)
        if isinstance(icon, str):
            data["icon"] = tree.icon_uri(folder, icon, src.locate(("icon",)))
        if not self._precheck(slug, data, src, ("slug", "prompts")):
            return None
        inst = self._validate(Instance, {**data, "slug": slug, "prompts": prompts}, src)
        return None if inst is None else normalize_instance(inst)

    def _apply_overrides(self, slug: str, data: dict[str, Any], src: Sources) -> None:
        over = self.overrides.get(slug)
        if not over or self.env is None or not isinstance(self.pdoc.root, dict):
            return
        prefix = ("environments", self.env, "overrides", slug)
        node = self.pdoc.root["environments"][self.env]["overrides"][slug]
        src.override_doc, src.override_prefix = self.pdoc, prefix
        for name in over:
            data[name] = substitute(
                node[name], self.variables, self._report(self.pdoc, prefix), budget=self.budget
            )
            src.overrides.add(name)

    def check_overrides(self) -> None:
        """Overrides must name instance folders of this repo."""
        for slug in self.overrides:
            if slug not in self.folders and self.env is not None:
                path = ("environments", self.env, "overrides", slug)
                line, col = self.pdoc.at(path, key=True)
                msg = f"overrides name instance {slug!r}, which has no folder instances/{slug}/"
                self.tree.problems.add(self.pdoc.file, line, col, msg)

    def _precheck(
        self, slug: str, data: dict[str, Any], src: Sources, reserved: tuple[str, ...]
    ) -> bool:
        """Checks pydantic would word poorly or with a secret in the message."""
        problems, before = self.tree.problems, len(self.tree.problems)
        for name in reserved:
            if name in data:
                file, line, col = src.locate((name,), True)
                problems.add(file, line, col, f"remove {name!r}: {RESERVED[name]}")
        for path, message in snake_case_keys(Instance if "prompts" in reserved else Skill, data):
            problems.add(*src.locate(path, True), message)
        problems.extend(secrets_problems(data, slug, src.locate))
        problems.extend(channel_problems(data, slug, src.locate))
        return len(problems) == before

    def _validate(self, model: type[M], data: dict[str, Any], src: Sources) -> M | None:
        try:
            # Strict: YAML 1.2 reads `yes` as a string, and so must we (no lax coercion).
            obj = model.model_validate(data, strict=True)
        except ValidationError as exc:
            self.tree.problems.extend(model_problems(exc, data, src.locate))
            return None
        return obj

    def _skill(self, folder: Path) -> Skill | None:
        slug, tree = folder.name, self.tree
        text_doc = tree.object_doc(
            folder, SKILL_FILE, checks.slug_problem(slug, skill=True), "skill", skill_md=True
        )
        if text_doc is None:
            return None
        src = Sources(text_doc, body_line=text_doc.extra["body_line"])
        src.files["content"] = text_doc.file
        tree.no_controls(text_doc.extra["body"], text_doc.file, src.body_line)
        self.docs[f"skill/{slug}"], self.sources[f"skill/{slug}"] = src, folder
        front = self._substitute(text_doc)
        scripts, files = tree.scripts(folder, front.get("scripts"), src.locate)
        src.scripts, src.files = [s["file"] for s in scripts], {**src.files, **files}
        tree.extra_entries(folder, {SKILL_FILE, "scripts"})
        unknown = [k for k in front if k not in skillfile.FRONT_KEYS]
        for name in unknown:
            where = src.locate((name,), True)
            allowed = ", ".join(skillfile.FRONT_KEYS)
            msg = (
                f"unknown front matter key {name!r}; allowed: {allowed} (put others under metadata)"
            )
            tree.problems.add(where[0], where[1], where[2], msg)
        if unknown or not self._precheck(slug, front, src, ()):
            return None
        data = {**front, "slug": slug, "content": text_doc.extra["body"], "scripts": scripts}
        data.setdefault("name", slug)
        return self._validate(Skill, data, src)
