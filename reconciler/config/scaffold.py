"""`init`: the files that make a folder a config repository, from the package's templates.

The workflow templates are this repository's own plan/apply/drift workflows with one step
changed: they install a pinned polyant-gitops release from PyPI instead of building the
checked-out source through `uses: ./` (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from reconciler import __version__
from reconciler.config.exportfiles import atomic_write
from reconciler.config.tree import PROJECT_FILE

VERSION_MARK = "__POLYANT_GITOPS_VERSION__"
SOURCE_INSTALL = """\
      - name: Install polyant-gitops
        uses: ./ # zizmor: ignore[self-repository] this checkout's action.yml
        with:
          from-source: "true"
"""
RELEASE_INSTALL = f"""\
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0
        with:
          python-version: "3.12"
      - name: Install polyant-gitops
        run: python -m pip install --disable-pip-version-check "polyant-gitops=={VERSION_MARK}"
"""
WORKFLOWS = ("ci", "plan", "apply", "drift")
# Repository path → template name inside reconciler/config/templates/.
FILES = {
    PROJECT_FILE: "polyant.yaml",
    ".gitignore": "gitignore",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    **{f".github/workflows/{name}.yml": f"workflows/{name}.yml" for name in WORKFLOWS},
}


@dataclass
class Scaffolded:
    """What init did: files written, and existing ones it left alone."""

    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def template(name: str) -> str:
    """A template's text with the running version pinned in it."""
    text = resources.files("reconciler.config").joinpath("templates", name).read_text("utf-8")
    return text.replace(VERSION_MARK, __version__)


def package_workflow(source_workflow: str) -> str:
    """A source-installing workflow of this repository as a config repository's template."""
    return source_workflow.replace(SOURCE_INSTALL, RELEASE_INSTALL)


def scaffold(root: Path, *, only: tuple[str, ...] | None = None) -> Scaffolded:
    """Write every missing scaffold file under `root`; existing files are never touched."""
    done = Scaffolded()
    for rel, name in FILES.items():
        if only is not None and rel not in only:
            continue
        path = root / rel
        if path.exists():
            done.kept.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, template(name).encode("utf-8"))
        done.written.append(rel)
    return done
