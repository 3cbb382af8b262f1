"""The pure core (model, plan, render) does no I/O: found by package, not by a hand-kept list."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reconciler

PURE_PACKAGES = ("model", "plan", "render")
BANNED = {
    "httpx",
    "urllib3",
    "ruamel",
    "yaml",
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
    "requests",
    "starlette",
    "uvicorn",
}
BANNED_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}
ROOT = Path(reconciler.__file__).parent
# Lower layers never import higher ones: the pure core sees only itself and the error tree.
ALLOWED_INTERNAL = (*(f"reconciler.{p}" for p in PURE_PACKAGES), "reconciler.errors")
PURE_MODULES = sorted(
    f"{pkg}.{path.stem}" for pkg in PURE_PACKAGES for path in (ROOT / pkg).glob("*.py")
)


def test_the_pure_packages_are_found() -> None:
    assert {m.split(".")[0] for m in PURE_MODULES} == set(PURE_PACKAGES)
    assert "plan.diff" in PURE_MODULES and "render.markdown" in PURE_MODULES


def _imports(tree: ast.Module) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


@pytest.mark.parametrize("name", PURE_MODULES)
def test_module_imports_nothing_effectful(name: str) -> None:
    path = ROOT / (name.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = _imports(tree)
    assert {m.split(".")[0] for m in imported} & BANNED == set()
    assert not {m for m in imported if m.startswith("urllib.") and m != "urllib.parse"}
    internal = {m for m in imported if m.startswith("reconciler")}
    outside = {
        m for m in internal if not any(m == a or m.startswith(a + ".") for a in ALLOWED_INTERNAL)
    }
    assert outside == set()
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert calls & BANNED_CALLS == set()


def test_importing_the_pure_core_loads_no_effectful_library() -> None:
    code = (
        "import sys\n"
        + "".join(f"import reconciler.{name}\n" for name in PURE_MODULES)
        + "bad = [m for m in ('httpx', 'urllib3', 'ruamel', 'yaml', 'git', 'click', 'rich',"
        " 'reconciler.engine', 'reconciler.sandbox', 'reconciler.cli', 'reconciler.config')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
