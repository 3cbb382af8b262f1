"""The plan layer is pure: no I/O modules, no network, no YAML, no git, no click."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reconciler

PURE = [
    "plan",
    "diffing",
    "diff_instance",
    "diff_nested",
    "safety",
    "render",
    "render_format",
    "render_markdown",
    "planfile",
]
BANNED = {
    "httpx",
    "ruamel",
    "git",
    "click",
    "rich",
    "os",
    "pathlib",
    "subprocess",
    "socket",
    "shutil",
    "tempfile",
    "io",
    "sys",
    "urllib",
    "requests",
    "starlette",
    "uvicorn",
}
BANNED_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}
ROOT = Path(reconciler.__file__).parent


@pytest.mark.parametrize("name", PURE)
def test_module_imports_nothing_effectful(name: str) -> None:
    tree = ast.parse((ROOT / f"{name}.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert {m.split(".")[0] for m in imported} & BANNED == set()
    internal = {m for m in imported if m.startswith("reconciler.")}
    effectful = ("reconciler.engine", "reconciler.sandbox", "reconciler.cli", "reconciler.repo")
    # Whole module paths: reconciler.enginefacts is pure data, reconciler.engine is not.
    assert not {m for m in internal for p in effectful if m == p or m.startswith(p + ".")}
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert calls & BANNED_CALLS == set()


def test_importing_the_plan_layer_loads_no_effectful_library() -> None:
    code = (
        "import sys\n"
        + "".join(f"import reconciler.{name}\n" for name in PURE)
        + "bad = [m for m in ('httpx', 'ruamel', 'git', 'click', 'rich', 'reconciler.engine',"
        " 'reconciler.sandbox', 'reconciler.cli') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
