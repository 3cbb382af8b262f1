"""What export prepares before writing: safe target paths, file contents, icons, field values."""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.tree import ICON_TYPES, MAX_ICON_BYTES, magic_ok
from reconciler.config.yamlio import MAX_FILE_BYTES
from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.objects import Instance, Skill

COLLECTIONS = frozenset(
    """skills manual_tools secrets channels skill_env room event_sources scheduled_tasks
    hooks""".split()
)
# Keys the engine itself masks as credentials (contract §9.2).
CREDENTIAL_RE = re.compile(r"token|secret|password|key|credential", re.IGNORECASE)
_DATA_URI_RE = re.compile(r"^data:(image/(?:png|jpeg|webp));base64,([A-Za-z0-9+/=\s]+)$")
_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and a rename: never half a file.

    A rewritten file keeps its permission bits; a new one gets rw-r--r--.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Refused(Exception):
    """An object cannot be written safely; the message says why (no traceback, no secret)."""


@dataclass
class FileSet:
    """Every file export will write or remove, prepared in memory before anything is touched."""

    root: Path
    writes: dict[Path, bytes] = field(default_factory=dict)
    removals: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def target(self, *parts: str) -> Path:
        """root/parts after checking each part is one plain name and the path stays inside."""
        for part in parts:
            if not part or part in {".", ".."} or "/" in part or "\\" in part or "\0" in part:
                raise Refused(f"{part!r} is not a plain file or folder name")
        path = self.root.joinpath(*parts)
        self.check_safe(path)
        return path

    def check_safe(self, path: Path) -> None:
        """Refuse a path that leaves the root or passes through a symlink."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            raise Refused(f"{path} is outside the repository") from None
        current = self.root
        for part in rel.parts:
            current = current / part
            if current.is_symlink():
                raise Refused(f"{self.rel(current)} is a symlink; refusing to write through it")
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise Refused(f"{self.rel(path)} resolves outside the repository")

    def rel(self, path: Path) -> str:
        """`path` relative to the root, with forward slashes."""
        return path.relative_to(self.root).as_posix()

    def put(self, path: Path, text: str) -> None:
        """Plan writing `text` (UTF-8) to `path`; never a file the loader would refuse."""
        data = text.encode("utf-8")
        if len(data) > MAX_FILE_BYTES:
            raise Refused(
                f"{path.name} would be {len(data):,} bytes, over the {MAX_FILE_BYTES:,}-byte "
                "limit the repository loader accepts; shorten the value on the engine"
            )
        self.put_bytes(path, data)

    def put_bytes(self, path: Path, data: bytes) -> None:
        """Plan writing `data` to `path`."""
        self.check_safe(path)
        self.writes[path] = data

    def remove(self, path: Path) -> None:
        """Plan removing the regular file `path` if it exists."""
        self.check_safe(path)
        if self.exists(path):
            self.removals.append(path)

    def exists(self, path: Path) -> bool:
        """True for an existing regular file (symlinks never count)."""
        try:
            return stat.S_ISREG(path.lstat().st_mode)
        except OSError:
            return False

    def current(self, path: Path) -> bytes | None:
        """The bytes a regular file holds now, or None."""
        return path.read_bytes() if self.exists(path) else None

    def names(self, folder: Path, suffix: str) -> set[str]:
        """Names (without `suffix`) of the visible regular files in `folder`."""
        if folder.is_symlink() or not folder.is_dir():
            return set()
        return {
            p.name.removesuffix(suffix) if suffix else p.name
            for p in folder.iterdir()
            if not p.name.startswith(".") and p.name.endswith(suffix) and self.exists(p)
        }


@dataclass
class IconPlan:
    """How the icon of one instance is written: file name, bytes, and files to drop."""

    name: str | None = None
    data: bytes | None = None
    stale: list[str] = field(default_factory=list)
    unsupported: bool = False
    warnings: list[str] = field(default_factory=list)


def icon_file(uri: str | None, existing: Any, files: FileSet, folder: Path) -> IconPlan:
    """Decode the live icon's data URI and pick its file name (the user's one when it fits)."""
    old = existing.get("icon") if isinstance(existing, Mapping) else None
    old_name = old if isinstance(old, str) and _plain_name(old) else None
    plan = IconPlan()
    if uri is not None:
        decoded = _decode(uri)
        if decoded is None:
            plan.unsupported = True
            plan.warnings.append(
                f"{files.rel(folder)}: the engine's icon is not a png/jpeg/webp image of at "
                f"most {MAX_ICON_BYTES} bytes; icon left out of instance.yaml"
            )
            return plan
        mime, plan.data = decoded
        same_type = old_name and ICON_TYPES.get(Path(old_name).suffix.lower(), ("",))[0] == mime
        plan.name = old_name if same_type else f"icon{_EXT[mime]}"
    if old_name and old_name != plan.name and files.exists(folder / old_name):
        plan.stale.append(old_name)
    return plan


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


def _decode(uri: str) -> tuple[str, bytes] | None:
    match = _DATA_URI_RE.match(uri)
    if not match:
        return None
    try:
        raw = base64.b64decode(re.sub(r"\s", "", match.group(2)), validate=True)
    except (binascii.Error, ValueError):
        return None
    mime = match.group(1)
    ext = _EXT[mime]
    if len(raw) > MAX_ICON_BYTES or not magic_ok(raw, ext):
        return None
    return mime, raw


def instance_values(inst: Instance, live_skills: Mapping[str, Skill]) -> tuple[dict[str, Any], ...]:
    """(full, sparse) instance.yaml values: full compares, sparse (no nested defaults) adds."""
    exclude = {"slug", "prompts", "confirm_wipe"}
    full_all = inst.model_dump(mode="json", by_alias=True, exclude=exclude)
    sparse_all = inst.model_dump(mode="json", by_alias=True, exclude=exclude, exclude_defaults=True)
    full: dict[str, Any] = {}
    sparse: dict[str, Any] = {}
    for name, info in Instance.model_fields.items():
        alias = info.alias or name
        if name in exclude or alias not in full_all:
            continue
        if (
            name in COLLECTIONS
            and getattr(inst, name) is None
            and name not in inst.model_fields_set
        ):
            continue  # a collection the live side did not read: unmanaged
        if name in (*NEWER_SETTINGS, "hooks") and name not in inst.model_fields_set:
            continue  # a setting this engine does not have (main 172e0bc)
        full[alias] = full_all[alias]
        sparse[alias] = sparse_all.get(alias, full_all[alias])
    _unpin(full, sparse, live_skills)
    for source in [*(full.get("eventSources") or []), *(sparse.get("eventSources") or [])]:
        if isinstance(source.get("config"), dict):
            source["config"] = {k: _declared(k, v) for k, v in source["config"].items()}
    return full, sparse


def _declared(key: str, value: Any) -> Any:
    # Credentials are declared (null), never written: masked values and credential-like keys.
    masked = isinstance(value, str) and value.startswith("\u2022\u2022\u2022\u2022")
    return None if masked or CREDENTIAL_RE.search(key) else value


def _unpin(full: dict[str, Any], sparse: dict[str, Any], skills: Mapping[str, Skill]) -> None:
    # No pin means "follow the catalog's current version": a pin on the current one is noise.
    for f, s in zip(full.get("skills") or [], sparse.get("skills") or [], strict=True):
        skill = skills.get(f["slug"])
        if skill is not None and skill.version is not None and f["pinnedVersion"] == skill.version:
            f["pinnedVersion"] = None
            s.pop("pinnedVersion", None)


def skill_values(skill: Skill) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(full, sparse, keys of a new file) for the SKILL.md front matter."""
    env_full = [e.model_dump(mode="json", by_alias=True) for e in skill.required_env]
    env_sparse = [
        e.model_dump(mode="json", by_alias=True, exclude_defaults=True) for e in skill.required_env
    ]
    full: dict[str, Any] = {
        "name": skill.name,
        "description": skill.description,
        "category": skill.category,
        "requiredEnv": env_full,
        "requiredTools": list(skill.required_tools),
        "metadata": dict(skill.metadata),
        "scripts": {s.file: s.description for s in skill.scripts},
    }
    defaults = {"name": skill.slug, "description": "", "category": "general"}
    sparse = {k: v for k, v in full.items() if v not in ([], {}) and v != defaults.get(k)}
    sparse["scripts"] = {s.file: s.description for s in skill.scripts if s.description}
    if sparse.get("requiredEnv"):
        sparse["requiredEnv"] = env_sparse
    if not sparse["scripts"]:
        del sparse["scripts"]
    new_keys = ["name", "description", "category"]
    new_keys += [k for k in ("requiredEnv", "requiredTools", "metadata", "scripts") if k in sparse]
    return full, sparse, new_keys
