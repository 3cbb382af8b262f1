"""Per-environment `${var}` values in YAML strings; `$${` writes a literal `${`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.config.yamlio import plain
from reconciler.model.checks import control_problem

# Leftmost match wins, so "$${" is consumed as an escape before "${" can start a reference;
# a "${" with no closing brace matches the last alternative and is an error.
_REF_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
# Expansion limits ("billion laughs"): one value never needs more than the engine takes in
# one request; a file or a whole repository far less than what would exhaust memory.
MAX_VALUE_BYTES = 102_400
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_RUN_BYTES = 16 * 1024 * 1024
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Reports an unresolvable reference at a path: (path, message).
Report = Callable[[tuple[Any, ...], str], None]


def escape(text: str) -> str:
    """The file form of a literal value: every `${` becomes `$${` so it is not a reference."""
    return text.replace("${", "$${")


class Budget:
    """Bytes that expansion may add: per file (reset by `file`) and for the whole run."""

    def __init__(self, run: int = MAX_RUN_BYTES, per_file: int = MAX_FILE_BYTES) -> None:
        self.run_left, self.per_file = run, per_file
        self.file_left = per_file
        self.told: set[str] = set()

    def file(self) -> Budget:
        """Start a new file's allowance (the run's keeps counting)."""
        self.file_left = self.per_file
        self.told.discard("file")
        return self

    def take(self, size: int) -> str | None:
        """Use `size` bytes: None when within the limits, else the message ('' once told)."""
        if self.run_left - size < 0:
            return self._tell("run", f"over {MAX_RUN_BYTES // 2**20} MB in the whole repository")
        if self.file_left - size < 0:
            return self._tell("file", f"over {self.per_file // 2**20} MB in this file")
        self.file_left -= size
        self.run_left -= size
        return None

    def _tell(self, which: str, limit: str) -> str:
        if which in self.told:
            return ""
        self.told.add(which)
        return f"variables expand to {limit}: use fewer or shorter references"


def resolve_text(
    text: str, variables: Mapping[str, str], budget: Budget | None = None
) -> tuple[str, list[str]]:
    """`text` with references replaced, and the messages for references that failed."""
    errors: list[str] = []
    grown = [len(text)]

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "${":
            errors.append("'${' is not closed: write ${name}, or $${ for a literal ${")
            return match.group(0)
        if match.group(1) is None:
            return "${"
        if errors and errors[-1].startswith(("the value", "variables expand")):
            return ""  # a limit was passed: stop growing this value
        name = match.group(1)
        if not _NAME_RE.match(name):
            errors.append(f"'${{{name}}}' is not a valid variable reference; use ${{name}}")
        elif name in variables:
            return _grow(variables[name], match, grown, errors, budget)
        else:
            errors.append(f"variable {name!r} is not defined")
        return match.group(0)

    return _REF_RE.sub(repl, text), errors


def _grow(
    value: str, match: re.Match[str], grown: list[int], errors: list[str], budget: Budget | None
) -> str:
    added = len(value.encode("utf-8")) - len(match.group(0))
    grown[0] += added
    if grown[0] > MAX_VALUE_BYTES:
        errors.append(
            f"the value grows to over {MAX_VALUE_BYTES // 1024} KB with ${{{match.group(1)}}} "
            "(the engine takes at most 100 KB per request): shorten the variable or the value"
        )
        return ""
    problem = budget.take(max(added, 0)) if budget is not None else None
    if problem is not None:
        errors.append(problem or "variables expand to over a limit")
        return ""
    return value


def substitute(
    node: Any,
    variables: Mapping[str, str],
    report: Report,
    path: tuple[Any, ...] = (),
    budget: Budget | None = None,
) -> Any:
    """A plain copy of a ruamel tree with every string value's references resolved."""
    if isinstance(node, list):
        return [substitute(v, variables, report, (*path, i), budget) for i, v in enumerate(node)]
    if isinstance(node, dict):
        for key in node:
            if (problem := control_problem(str(key))) is not None:
                report((*path, str(key)), f"the key {problem}")
        return {
            str(k): substitute(v, variables, report, (*path, str(k)), budget)
            for k, v in node.items()
        }
    if isinstance(node, str):
        if (problem := control_problem(str(node))) is not None:
            report(path, f"the value {problem}")
        text, errors = resolve_text(str(node), variables, budget)
        for message in dict.fromkeys(errors):
            if message != "variables expand to over a limit":  # already reported once
                report(path, message)
        return text
    return plain(node)
