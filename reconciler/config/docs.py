"""A parsed document's positions: paths of keys and list items to file:line:col, on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler.config.yamlio import Problems, load_yaml, parse_yaml


@dataclass
class Doc:
    """A parsed YAML document and where it came from, to turn paths into file:line:col.

    `root` holds plain data while the repo is loaded and is released afterwards; positions
    are rebuilt from `text` with the round-trip parser the first time a message needs one,
    so a clean run never builds (or keeps) a positioned tree.
    """

    file: str
    root: Any = None
    line_offset: int = 0  # lines before the YAML text (SKILL.md front matter opener)
    extra: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    _tree: Any = field(default=None, repr=False)
    _released: bool = field(default=False, repr=False)

    def at(self, path: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
        """1-based position of `path` in this document, or of its nearest existing parent."""
        if self._tree is None and self.text is not None:
            self._tree = parse_yaml(self.text, self.file, Problems(), line_offset=0)
        line, col = node_position(self._tree, path, key=key)
        return line + self.line_offset, col

    def data(self) -> Any:
        """The document's plain data (parsed again if it was released)."""
        if self._released and self.text is not None:
            return load_yaml(self.text, self.file, Problems())
        return self.root

    def release(self) -> None:
        """Drop the parsed data and the body copy; positions and data stay obtainable."""
        self.root, self._tree, self._released = None, None, True
        self.extra.pop("body", None)


def _find_item(seq: CommentedSeq, sel: tuple[str, Any]) -> int | None:
    """Index of the item selected by ('name', value) or ('=', value) in a sequence."""
    attr, value = sel
    for i, item in enumerate(seq):
        if attr == "=" and item == value:
            return i
        if attr != "=" and isinstance(item, CommentedMap) and item.get(attr) == value:
            return i
    return None


def node_position(root: Any, path: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
    """1-based (line, col) of a path of map keys / list indexes / selectors in a ruamel tree.

    Path elements that do not exist (pydantic union tags, '[key]' markers) are skipped, so
    a path always lands on the nearest node that exists.
    """
    node, pos = root, _own_position(root)
    for i, part in enumerate(path):
        last = i == len(path) - 1 or all(p == "[key]" for p in path[i + 1 :])
        if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
            pos = node.lc.key(part) if key and last else node.lc.value(part)
            if node[part] is None:
                # ruamel has no useful value position for an empty value; use the key's.
                pos = node.lc.key(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, (int, tuple)):
            idx = part if isinstance(part, int) else _find_item(node, part)
            if idx is None or not 0 <= idx < len(node):
                continue
            pos, node = node.lc.item(idx), node[idx]
    return pos[0] + 1, pos[1] + 1


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 0, 0
    return lc.line, lc.col
