"""Per-environment `${var}` values in YAML strings; `$${` writes a literal `${`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.config.yamlio import plain

# Leftmost match wins, so "$${" is consumed as an escape before "${" can start a reference.
_REF_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Reports an unresolvable reference at a path: (path, message).
Report = Callable[[tuple[Any, ...], str], None]


def escape(text: str) -> str:
    """The file form of a literal value: every `${` becomes `$${` so it is not a reference."""
    return text.replace("${", "$${")


def resolve_text(text: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """`text` with references replaced, and the messages for references that failed."""
    errors: list[str] = []

    def repl(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "${"
        name = match.group(1)
        if not _NAME_RE.match(name):
            errors.append(f"'${{{name}}}' is not a valid variable reference; use ${{name}}")
        elif name in variables:
            return variables[name]
        else:
            errors.append(f"variable {name!r} is not defined")
        return match.group(0)

    return _REF_RE.sub(repl, text), errors


def substitute(
    node: Any, variables: Mapping[str, str], report: Report, path: tuple[Any, ...] = ()
) -> Any:
    """A plain copy of a ruamel tree with every string value's references resolved."""
    if isinstance(node, list):
        return [substitute(v, variables, report, (*path, i)) for i, v in enumerate(node)]
    if isinstance(node, dict):
        return {str(k): substitute(v, variables, report, (*path, str(k))) for k, v in node.items()}
    if isinstance(node, str):
        text, errors = resolve_text(str(node), variables)
        for message in errors:
            report(path, message)
        return text
    return plain(node)
