"""The sandbox is a second reading of the contract: it imports nothing else from reconciler."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.sandbox

PACKAGE = Path(reconciler.sandbox.__file__).parent


def test_sandbox_imports_only_itself_and_third_parties() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                if node.level > 1:
                    offenders.append(f"{path.name}: relative import beyond the package")
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "reconciler" and not name.startswith("reconciler.sandbox"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
