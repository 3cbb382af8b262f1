"""A loaded repository: the desired State plus where every field came from (file:line:col)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.docs import Doc
from reconciler.config.scope import TouchedSet
from reconciler.errors import Problem
from reconciler.model.objects import State
from reconciler.model.project import Project


@dataclass
class Sources:
    """Where one object's fields came from, to point problems at file:line:col."""

    main: Doc
    files: dict[str, str] = field(default_factory=dict)  # section id / script / 'content'
    body_line: int = 1
    overrides: set[str] = field(default_factory=set)
    override_doc: Doc | None = None
    override_prefix: tuple[Any, ...] = ()
    scripts: list[str] = field(default_factory=list)

    def locate(self, path: tuple[Any, ...], key: bool = False) -> tuple[str, int, int]:
        """(file, line, col) of a field path of this object."""
        head = path[0] if path else None
        if head in self.overrides and self.override_doc is not None:
            line, col = self.override_doc.at((*self.override_prefix, *path), key=key)
            return self.override_doc.file, line, col
        if head == "prompts" and len(path) > 1 and path[1] in self.files:
            return self.files[str(path[1])], 1, 1
        if head == "content" and "content" in self.files:
            return self.files["content"], self.body_line, 1
        if head == "scripts" and len(path) > 1 and isinstance(path[1], int | tuple):
            name = self._script(path[1])
            if name in self.files:
                return self.files[name], 1, 1
        line, col = self.main.at(path, key=key)
        return self.main.file, line, col

    def _script(self, sel: int | tuple[str, Any]) -> str:
        if isinstance(sel, tuple):
            return str(sel[1])
        return self.scripts[sel] if 0 <= sel < len(self.scripts) else ""


@dataclass
class LoadedRepo:
    """The desired state read from a repo, with what is needed to report problems precisely."""

    root: Path
    project: Project
    state: State
    sources: dict[str, Path]
    docs: dict[str, Sources]
    project_doc: Doc
    environment: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # found while loading the files
    findings: list[Problem] = field(default_factory=list)  # every warning, validation's too
    folders: frozenset[str] = frozenset()  # every instance folder, loaded or not
    partial: bool = False  # only some instance folders were loaded (a scoped run)
    touched: dict[str, TouchedSet] = field(default_factory=dict)  # git ref → what changed

    def locate(self, key: str, path: tuple[Any, ...] = (), *, at_key: bool = False) -> Problem:
        """A problem template (empty message) at a field of object `key` ('instance/x')."""
        src = self.docs.get(key)
        if src is None:
            file, (line, col) = self.project_doc.file, self.project_doc.at(path, key=at_key)
        else:
            file, line, col = src.locate(path, at_key)
        return Problem(file, line, col, "")

    def problem(
        self, key: str, path: tuple[Any, ...], message: str, *, warning: bool = False
    ) -> Problem:
        """A problem about a field of object `key`, positioned in its file."""
        where = self.locate(key, path)
        return Problem(
            where.file, where.line, where.col, message, "warning" if warning else "error"
        )
