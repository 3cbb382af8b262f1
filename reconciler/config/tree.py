"""Walking the config tree safely: folders, symlinks, prompt files, icons and skill scripts."""

from __future__ import annotations

import base64
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config import skillfile
from reconciler.config.docs import Doc
from reconciler.config.modelcheck import Locate
from reconciler.config.yamlio import Problems, load_yaml, read_text
from reconciler.errors import Problem
from reconciler.model.checks import CONTROL_RE, control_problem
from reconciler.model.enginefacts import SECTION_IDS

PROJECT_FILE = "polyant.yaml"
INSTANCE_FILE = "instance.yaml"
SKILL_FILE = "SKILL.md"
PROMPTS_DIR = "prompts"
SCRIPTS_DIR = "scripts"
MAX_ICON_BYTES = 75 * 1024  # the engine's 100 KB body limit leaves about 75 KB of image
MAX_SCRIPT_BYTES = 1024 * 1024
ICON_TYPES: dict[str, tuple[str, bytes]] = {
    ".png": ("image/png", b"\x89PNG"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".webp": ("image/webp", b"RIFF"),
}
SECTION_FILES = ", ".join(f"{s}.md" for s in SECTION_IDS)


@dataclass
class Tree:
    """The repo root and the problems found while reading it."""

    root: Path
    problems: Problems

    def rel(self, path: Path) -> str:
        """`path` relative to the root, with forward slashes, safe to print (escaped)."""
        text = path.relative_to(self.root).as_posix()
        return text if text.isprintable() else text.encode("unicode_escape", "replace").decode()

    def kind_of(self, path: Path) -> str | None:
        """'dir', 'file', 'link' or 'other' without following symlinks; None when absent."""
        try:
            mode = path.lstat().st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return "link"
        return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"

    def entries(self, folder: Path) -> list[Path]:
        """Visible children, sorted; symlinks are reported and left out."""
        out = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if self.kind_of(path) == "link":
                msg = "symlinks are not allowed in the config tree; replace it with a real file"
                self.problems.add(self.rel(path), 1, 1, msg)
                continue
            out.append(path)
        return out

    def object_folders(self, top: str) -> list[Path]:
        """The folders under instances/ or skills/; stray files there are reported."""
        base = self.root / top
        kind = self.kind_of(base)
        if kind is None:
            return []
        if kind != "dir":
            self.problems.add(top, 1, 1, f"{top} must be a folder (not a symlink or a file)")
            return []
        folders = []
        for path in self.entries(base):
            if self.kind_of(path) == "dir":
                folders.append(path)
                continue
            noun = "an instance" if top == "instances" else "a skill"
            msg = f"expected a folder {top}/<slug>/ for {noun}, found a file; move it into one"
            severity = "warning" if path.suffix == ".md" else "error"
            self.problems.add(self.rel(path), 1, 1, msg, severity)
        return folders

    def yaml_doc(self, path: Path, *, required: bool = True) -> Doc | None:
        """Parse a YAML file into a Doc; None (problem recorded) when unusable."""
        rel = self.rel(path)
        kind = self.kind_of(path)
        if kind is None and not required:
            return None
        if kind != "file":
            self.problems.add(rel, 1, 1, f"{path.name} must be a regular file")
            return None
        text = read_text(path, rel, self.problems)
        if text is None:
            return None
        before = len(self.problems)
        root = load_yaml(text, rel, self.problems)
        return None if len(self.problems) > before else Doc(rel, root, text=text)

    def object_doc(
        self,
        folder: Path,
        name: str,
        slug_problem: str | None,
        noun: str,
        *,
        skill_md: bool = False,
    ) -> Doc | None:
        """The main file of an instance or skill folder as a Doc holding a mapping, or None."""
        rel = self.rel(folder)
        if slug_problem:
            self.problems.add(rel, 1, 1, f"the folder name is the {noun} slug: {slug_problem}")
            return None
        path = folder / name
        if self.kind_of(path) is None:
            hint = _case_hint(folder, name)
            self.problems.add(rel, 1, 1, f"{noun} folder has no {name}{hint}; add it")
            return None
        doc = self._skill_doc(path) if skill_md else self.yaml_doc(path)
        if doc is None:
            return None
        if doc.root is None:
            doc.root = {}
            if not skill_md:
                self.problems.add(doc.file, 1, 1, "file is empty; write at least 'name: ...'")
                return None
        if not isinstance(doc.root, dict):
            line = 1 + doc.line_offset
            self.problems.add(doc.file, line, 1, "the top level must be a mapping of fields")
            return None
        return doc

    def _skill_doc(self, path: Path) -> Doc | None:
        rel = self.rel(path)
        if self.kind_of(path) != "file":
            self.problems.add(rel, 1, 1, f"{path.name} must be a regular file")
            return None
        text = read_text(path, rel, self.problems)
        if text is None:
            return None
        parts = skillfile.split(text)
        if isinstance(parts, str):
            self.problems.add(rel, 1, 1, parts)
            return None
        before = len(self.problems)
        root = load_yaml(parts.front, rel, self.problems, line_offset=1)
        if len(self.problems) > before:
            return None
        extra = {"body": parts.body, "body_line": parts.body_line}
        return Doc(rel, root, 1, extra, text=parts.front)

    def extra_entries(self, folder: Path, allowed: set[str]) -> None:
        """Warn about files an object folder holds that this tool does not read."""
        for path in self.entries(folder):
            if path.name not in allowed:
                msg = f"{path.name} is not part of the config and is ignored"
                self.problems.add(self.rel(path), 1, 1, msg, "warning")

    def prompts(self, folder: Path) -> tuple[dict[str, str], dict[str, str]]:
        """Section id → content, and section id → file, from the prompts/ folder."""
        base = folder / PROMPTS_DIR
        kind = self.kind_of(base)
        contents: dict[str, str] = {}
        files: dict[str, str] = {}
        if kind is None:
            return contents, files
        if kind != "dir":
            self.problems.add(self.rel(base), 1, 1, "prompts must be a folder of section files")
            return contents, files
        for path in self.entries(base):
            rel = self.rel(path)
            section = path.name.removesuffix(".md") if path.name.endswith(".md") else ""
            if section not in SECTION_IDS or self.kind_of(path) != "file":
                msg = f"{path.name!r} is not a prompt section file; valid names: {SECTION_FILES}"
                self.problems.add(rel, 1, 1, msg)
                continue
            text = read_text(path, rel, self.problems)
            if text is not None:
                self.no_controls(text, rel)
                contents[section], files[section] = text.removesuffix("\n"), rel
        return contents, files

    def no_controls(self, text: str, rel: str, first_line: int = 1) -> None:
        """A problem at the first control character of a text file (ANSI escapes etc.)."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        found = CONTROL_RE.search(text)
        if found is None:
            return
        before = text[: found.start()]
        line, col = before.count("\n") + first_line, found.start() - before.rfind("\n")
        problem = control_problem(found.group())
        self.problems.add(rel, line, col, f"the text {problem}".replace(" at position 1", ""))

    def icon_uri(self, folder: Path, name: str, where: tuple[str, int, int]) -> str | None:
        """The data URI for the icon file `name` of an instance folder, or None (problem)."""
        path = folder / name
        ext = path.suffix.lower()
        problem = _icon_name_problem(name, ext) or self._icon_file_problem(path)
        raw = b"" if problem else path.read_bytes()
        if not problem and len(raw) > MAX_ICON_BYTES:
            problem = f"icon {name} is {len(raw)} bytes; the limit is {MAX_ICON_BYTES} bytes"
        if not problem and not magic_ok(raw, ext):
            problem = f"icon {name} does not contain a {ext[1:].upper()} image; re-save it"
        if problem:
            self.problems.append(Problem(*where, problem))
            return None
        mime = ICON_TYPES[ext][0]
        return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"

    def _icon_file_problem(self, path: Path) -> str | None:
        kind = self.kind_of(path)
        if kind == "file":
            return None
        return f"icon file {path.name} {'must be a regular file' if kind else 'does not exist'}"

    def scripts(
        self, folder: Path, described: Any, locate: Locate
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The skill's scripts/ files as {file, description, content} items, and their files."""
        base = folder / SCRIPTS_DIR
        descriptions = described if isinstance(described, dict) else {}
        if described is not None and not isinstance(described, dict):
            msg = "scripts must map a file name in scripts/ to its description"
            self.problems.append(Problem(*locate(("scripts",), True), msg))
        out: list[dict[str, Any]] = []
        files: dict[str, str] = {}
        kind = self.kind_of(base)
        if kind not in (None, "dir"):
            self.problems.add(self.rel(base), 1, 1, "scripts must be a folder of script files")
        for path in self._script_paths(base) if kind == "dir" else []:
            text = read_text(path, self.rel(path), self.problems, limit=MAX_SCRIPT_BYTES)
            if text is not None:
                desc = descriptions.get(path.name, "")
                out.append({"file": path.name, "description": desc, "content": text})
                files[path.name] = self.rel(path)
        for name in descriptions:
            if name not in files:
                msg = f"scripts lists {name!r} but {SCRIPTS_DIR}/{name} does not exist"
                self.problems.append(Problem(*locate(("scripts", name), True), msg))
        return out, files

    def _script_paths(self, base: Path) -> list[Path]:
        out = []
        for path in sorted(base.iterdir()):
            name, rel = path.name, self.rel(path)
            kind = self.kind_of(path)
            problem = skillfile.script_name_problem(name)
            if kind == "link":
                self.problems.add(rel, 1, 1, "symlinks are not allowed; use a real file")
            elif kind == "dir":
                self.problems.add(rel, 1, 1, "scripts/ is flat: move the files out of the folder")
            elif problem and name.startswith("."):
                self.problems.add(rel, 1, 1, f"{problem}; it is ignored", "warning")
            elif problem:
                self.problems.add(rel, 1, 1, problem)
            else:
                out.append(path)
        return out


def _icon_name_problem(name: str, ext: str) -> str | None:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return f"icon must be a file name in the instance folder, such as icon.png, not {name!r}"
    if ext not in ICON_TYPES:
        return "icon must be a .png, .jpg, .jpeg or .webp file"
    return None


def magic_ok(raw: bytes, ext: str) -> bool:
    magic = ICON_TYPES[ext][1]
    if ext == ".webp":
        return raw.startswith(magic) and raw[8:12] == b"WEBP"
    return raw.startswith(magic)


def _case_hint(folder: Path, name: str) -> str:
    try:
        names = [p.name for p in folder.iterdir()]
        near = [n for n in names if n.lower() in {name.lower(), "instance.yml"}]
    except OSError:
        return ""
    return f" (found {near[0]!r}: rename it to {name!r})" if near else ""
