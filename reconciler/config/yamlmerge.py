"""Merge new values into a ruamel round-trip tree in place, keeping comments, order and style."""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString, ScalarString

from reconciler.config.variables import escape, resolve_text
from reconciler.config.yamlio import new_yaml, plain

# Lists whose items are matched by an identity key rather than by position.
IDENTITY_KEYS = {
    "skills": "slug",
    "eventSources": "name",
    "definitions": "name",
    "scheduledTasks": "name",
    "requiredEnv": "name",
}
# Lists that are sets: the user's order is kept, items are added or removed.
SET_LISTS = {"manualTools", "secrets", "requiredTools"}
# Nested keys written into new items even at their default value, so readers need not know it.
FORCED_KEYS = ("enabled", "sensitive", "action")
# Maps whose values the engine masks: only the key set is compared (values are the user's).
KEY_ONLY_MAPS = {("eventSources", "config")}


@dataclass
class Merger:
    """Merges one file's new content; `variables` resolve `${var}` in the existing values."""

    variables: Mapping[str, str] = field(default_factory=dict)
    changed: bool = False  # set by every edit, so an untouched file is never re-dumped

    def merge_top(
        self, node: CommentedMap, full: dict[str, Any], sparse: dict[str, Any], *, add_missing: bool
    ) -> None:
        """Top level: keys the file omits are unmanaged and stay omitted unless add_missing."""
        for key in list(node):
            if key in full:
                self._set(node, key, full[key], sparse.get(key, _MISSING), (str(key),))
        if add_missing:
            for key, value in full.items():
                if key not in node:
                    _insert(node, key, self.build(value, sparse.get(key, value)), list(full))
                    self.changed = True

    def merge_map(
        self,
        node: CommentedMap,
        full: dict[str, Any],
        sparse: dict[str, Any],
        path: tuple[str, ...],
    ) -> None:
        """Nested maps: keys gone from `full` are deleted, non-default new keys are added."""
        for key in list(node):
            if key not in full:
                del node[key]
                self.changed = True
            else:
                self._set(node, key, full[key], sparse.get(key, _MISSING), (*path, str(key)))
        for key, value in full.items():
            if key not in node and key in sparse:
                _insert(node, key, self.build(value, sparse[key]), list(full))
                self.changed = True

    def _set(self, node: Any, key: Any, full: Any, sparse: Any, path: tuple[str, ...]) -> None:
        old = node[key]
        new = self.merge_value(old, full, full if sparse is _MISSING else sparse, path)
        if new is not old:
            _replace(node, key, new)
            self.changed = True

    def merge_value(self, old: Any, full: Any, sparse: Any, path: tuple[str, ...]) -> Any:
        """`old` updated in place when possible, else a fresh node for the new value."""
        generic = "metadata" in path
        if isinstance(old, CommentedMap) and isinstance(full, dict):
            if not generic and _named(path) in KEY_ONLY_MAPS:
                return self._merge_keys(old, full, path)
            if "type" in full and self.resolved(old.get("type")) != full["type"]:
                return self.build(full, sparse)  # another schedule kind: nothing to keep
            self.merge_map(old, full, sparse if isinstance(sparse, dict) else full, path)
            return old
        if isinstance(old, CommentedSeq) and isinstance(full, list):
            return self._merge_list(old, full, sparse, path, generic)
        if not isinstance(old, (dict, list)) and self._same(old, full):
            return old
        return self.build(full, sparse)

    def _merge_keys(self, old: CommentedMap, full: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in list(old):
            if key not in full:
                del old[key]
                self.changed = True
        for key, value in full.items():
            if key not in old:
                _insert(old, key, self.fresh(value), list(full))
                self.changed = True
        return old

    def _merge_list(
        self, old: CommentedSeq, full: list[Any], sparse: Any, path: tuple[str, ...], generic: bool
    ) -> Any:
        sparse = sparse if isinstance(sparse, list) and len(sparse) == len(full) else full
        name = path[-1] if path else ""
        ident = None if generic else IDENTITY_KEYS.get(name)
        if ident and all(isinstance(f, dict) and ident in f for f in full):
            return self._merge_items(old, full, sparse, ident, path)
        if not generic and name in SET_LISTS:
            return self._merge_set(old, full)
        return old if self.resolved(old) == full else self.build(full, sparse)

    def _merge_items(
        self,
        old: CommentedSeq,
        full: list[Any],
        sparse: list[Any],
        ident: str,
        path: tuple[str, ...],
    ) -> Any:
        wanted = {f[ident]: (f, s) for f, s in zip(full, sparse, strict=True)}
        seen: set[Any] = set()
        for i in reversed(range(len(old))):
            item = old[i]
            item_id = self.resolved(item.get(ident)) if isinstance(item, CommentedMap) else None
            if item_id not in wanted or item_id in seen:
                del old[i]
                self.changed = True
                continue
            seen.add(item_id)
            new = self.merge_value(item, *wanted[item_id], path)
            if new is not item:
                old[i] = new
                self.changed = True
        for f, s in zip(full, sparse, strict=True):
            if f[ident] not in seen:
                old.append(self.build(f, s))
                self.changed = True
        return old

    def _merge_set(self, old: CommentedSeq, full: list[Any]) -> Any:
        wanted = set(map(_hashable, full))
        for i in reversed(range(len(old))):
            if _hashable(self.resolved(old[i])) not in wanted:
                del old[i]
                self.changed = True
        present = {_hashable(self.resolved(v)) for v in old}
        for value in full:
            if _hashable(value) not in present:
                old.append(self.fresh(value))
                self.changed = True
        return old

    def _same(self, old: Any, new: Any) -> bool:
        if isinstance(old, str) and "${" in old:
            text, errors = resolve_text(old, self.variables)
            # A reference this run cannot resolve is the user's template: never clobber it.
            return bool(errors) or text == new
        return self.resolved(old) == new and type(plain(old)) is type(new)

    def resolved(self, node: Any) -> Any:
        """The plain value of an existing node with its `${var}` references resolved."""
        value = plain(node)
        if isinstance(value, str):
            return resolve_text(value, self.variables)[0]
        if isinstance(value, list):
            return [self.resolved(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolved(v) for k, v in value.items()}
        return value

    def build(self, full: Any, sparse: Any) -> Any:
        """A new node for a new value: no defaults, except FORCED_KEYS a reader should see."""
        return self.fresh(force_keys(full, sparse))

    def fresh(self, value: Any) -> Any:
        """A new ruamel node for a plain value: `|` blocks for multi-line text, escaped `${`."""
        if isinstance(value, dict):
            out = CommentedMap()
            for k, v in value.items():
                out[k] = self.fresh(v)
            return out
        if isinstance(value, list):
            seq = CommentedSeq()
            seq.extend(self.fresh(v) for v in value)
            return seq
        if isinstance(value, str):
            return text_scalar(escape(value))
        return value


_MISSING: Any = object()
# Characters some YAML emitters treat as line breaks inside block scalars: quoted style only.
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def force_keys(full: Any, sparse: Any) -> Any:
    """`sparse` with FORCED_KEYS put back wherever `full` has them, in `full`'s key order."""
    if isinstance(full, dict) and isinstance(sparse, dict):
        return {
            k: force_keys(v, sparse.get(k, v))
            for k, v in full.items()
            if k in sparse or k in FORCED_KEYS
        }
    if isinstance(full, list) and isinstance(sparse, list) and len(full) == len(sparse):
        return [force_keys(f, s) for f, s in zip(full, sparse, strict=True)]
    return sparse


def _named(path: tuple[str, ...]) -> tuple[str, str]:
    return (path[0], path[-1]) if path else ("", "")


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, (dict, list)) else value


def _replace(node: CommentedMap, key: Any, value: Any) -> None:
    """node[key] = value, without ruamel re-applying the old value's string style to it."""
    if isinstance(value, str) and not isinstance(value, ScalarString):
        comment = node.ca.items.get(key)
        pos = list(node).index(key)
        del node[key]
        node.insert(pos, key, value)
        if comment is not None:
            node.ca.items[key] = comment
        return
    node[key] = value


def _insert(node: CommentedMap, key: str, value: Any, order: list[str]) -> None:
    """Insert `key` after the nearest preceding key (in `order`) the map already has."""
    before = order[: order.index(key)]
    pos = 0
    for i, existing in enumerate(node):
        if existing in before:
            pos = i + 1
    node.insert(pos, key, value)


def text_scalar(text: str) -> Any:
    """`text` as a `|` block when that style reproduces it exactly, else a plain string."""
    return LiteralScalarString(text) if _literal_ok(text) else text


@functools.lru_cache(maxsize=4096)
def _literal_ok(text: str) -> bool:
    if "\n" not in text or any(c in text for c in _OTHER_BREAKS):
        return False
    buf = io.StringIO()
    yaml = new_yaml()
    yaml.dump({"v": LiteralScalarString(text), "w": 0}, buf)  # a next key shows a bad block end
    try:
        return bool(yaml.load(buf.getvalue()) == {"v": text, "w": 0})
    except Exception:  # any failure just means the literal style cannot carry this text
        return False
