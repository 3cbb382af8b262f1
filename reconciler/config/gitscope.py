"""Git-scoped plans: which instances and skills changed between a commit and the work tree.

`touched_since` compares the base commit with the WORKING TREE (committed, staged, unstaged
and untracked-not-ignored files) as a two-point diff, not from the merge base: a file that
differs from the base for any reason is planned. Planning too much is only slower; planning
too little would hide a change. The pure scope decision lives in `reconciler.config.scope`, the
git boundary and the applied-commit tag in `reconciler.config.gitrepo`; all are re-exported here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import git
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from reconciler.config.gitrepo import (
    head_commit,
    last_applied,
    open_repo,
    record_applied,
    resolve,
    run,
)
from reconciler.config.scope import TouchedSet, project_widening, scope_instances
from reconciler.errors import ConfigError, Problem
from reconciler.model import checks
from reconciler.model.project import Project

__all__ = [
    "TouchedSet",
    "head_commit",
    "instances_to_load",
    "last_applied",
    "project_at",
    "project_widening",
    "record_applied",
    "scope_instances",
    "touched_since",
]

PROJECT_FILE = "polyant.yaml"
MAX_PROJECT_BYTES = 1024 * 1024
_KINDS = {"instances": "instance", "skills": "skill"}
_DEFINING_FILE = {"instance": "instance.yaml", "skill": "SKILL.md"}


@dataclass
class _Found:
    """Touched objects accumulated while walking the changed paths."""

    slugs: dict[str, set[str]] = field(default_factory=lambda: {"instance": set(), "skill": set()})
    project_changed: bool = False
    other: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Sides:
    """The base commit's tree and the work tree, seen from the config root."""

    tree: git.Tree
    prefix: str  # the config root inside the repository: '' or 'sub/dir/'
    root: Path

    def blob_sha(self, kind: str, slug: str) -> str | None:
        """Blob id of the object's defining file at the base, None when absent there."""
        try:
            return str((self.tree / f"{self.prefix}{kind}s/{slug}/{_DEFINING_FILE[kind]}").hexsha)
        except KeyError:
            return None

    def here(self, kind: str, slug: str) -> Path | None:
        """The object's defining file in the work tree, None when absent."""
        path = self.root / f"{kind}s" / slug / _DEFINING_FILE[kind]
        return path if path.is_file() else None


def touched_since(root: Path, ref: str) -> TouchedSet:
    """Files changed between `ref` and the working tree of the repo holding `root`."""
    repo, prefix = open_repo(root)
    base = resolve(repo, ref)
    changed, pairs = _changed_paths(repo, base, prefix)
    found = _Found()
    for path in changed:
        _classify(path, found)
    sides = _Sides(repo.commit(base).tree, prefix, root)
    deleted = {
        kind: {s for s in slugs if sides.blob_sha(kind, s) and not sides.here(kind, s)}
        for kind, slugs in found.slugs.items()
    }
    added = {
        kind: {s for s in slugs if sides.here(kind, s) and not sides.blob_sha(kind, s)}
        for kind, slugs in found.slugs.items()
    }
    return TouchedSet(
        instances=frozenset(found.slugs["instance"]),
        skills=frozenset(found.slugs["skill"]),
        project_changed=found.project_changed,
        deleted_instances=frozenset(deleted["instance"]),
        deleted_skills=frozenset(deleted["skill"]),
        renamed=_renames(pairs, deleted, added, sides),
        other_files=tuple(sorted(found.other)),
        base=base,
        ignored=tuple(sorted(found.ignored)),
    )


def instances_to_load(root: Path, touched: TouchedSet, project: Project) -> set[str] | None:
    """The instance folders a scoped run must load (None = all of them).

    The touched folders, and when a skill changed every folder that may assign it: its
    instance.yaml names the skill or uses a `${variable}`, or polyant.yaml overrides it. A
    changed polyant.yaml may widen the plan to every instance (or reach live-only ones), so
    it loads everything. Loading more than needed is only slower; `scoping` checks that
    every instance it plans was loaded.
    """
    if touched.project_changed:
        return None
    out = set(touched.instances)
    if touched.skills:
        out |= {slug for env in project.environments.values() for slug in env.overrides}
        needles = [s.encode("utf-8") for s in touched.skills] + [b"${"]
        out |= _folders_mentioning(root / "instances", needles)
    return out


def _folders_mentioning(base: Path, needles: list[bytes]) -> set[str]:
    """Instance folders whose defining file contains any of `needles` (or cannot be read)."""
    out: set[str] = set()
    try:
        folders = list(base.iterdir())
    except OSError:
        return out
    for folder in folders:
        try:
            data = (folder / _DEFINING_FILE["instance"]).read_bytes()
        except FileNotFoundError:
            continue
        except OSError:
            data = needles[0]  # unreadable: load it, and let the loader say why
        if any(needle in data for needle in needles):
            out.add(folder.name)
    return out


def project_at(root: Path, ref: str) -> Project | None:
    """polyant.yaml as of `ref` (None when it did not exist there)."""
    repo, prefix = open_repo(root)
    sha = resolve(repo, ref)
    try:
        blob = repo.commit(sha).tree / f"{prefix}{PROJECT_FILE}"
    except KeyError:
        return None
    label = f"{PROJECT_FILE} at {ref}"
    if blob.type != "blob" or blob.size > MAX_PROJECT_BYTES:
        raise ConfigError([Problem(label, 1, 1, "is not a file of at most 1 MiB")])
    try:
        text = blob.data_stream.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(label, 1, 1, "is not UTF-8 text")]) from exc
    return _parse_project(text, label)


def _changed_paths(
    repo: git.Repo, base: str, prefix: str
) -> tuple[set[str], list[tuple[str, str]]]:
    """Root-relative changed paths, and the (old, new) pairs git saw as renames."""
    spec = ["--", f":(literal){prefix}"] if prefix else []
    diff = run(
        repo, "diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", base, *spec
    )
    untracked = run(repo, "ls-files", "--others", "--exclude-standard", "-z", *spec)
    tokens = diff.split("\0")
    paths = {p for p in untracked.split("\0") if p}
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        # -z --name-status: "M\0path\0", or "R087\0old\0new\0" for a rename.
        if tokens[i][0] in "RC":
            pairs.append((tokens[i + 1], tokens[i + 2]))
            paths.update(pairs[-1])
            i += 3
        else:
            paths.add(tokens[i + 1])
            i += 2
    cut = len(prefix)
    inside = [(a[cut:], b[cut:]) for a, b in pairs if a.startswith(prefix) and b.startswith(prefix)]
    return {p[cut:] for p in paths if p.startswith(prefix)}, inside


def _owner(path: str) -> tuple[str, str] | None:
    """(kind, slug) of the object folder holding `path`, if it is inside a valid one."""
    parts = path.split("/")
    kind = _KINDS.get(parts[0])
    if kind is None or len(parts) < 3 or checks.slug_problem(parts[1], skill=kind == "skill"):
        return None
    return kind, parts[1]


def _classify(path: str, found: _Found) -> None:
    """File one changed path under the object it belongs to (or say why it belongs to none)."""
    parts = path.split("/")
    owner = _owner(path)
    if owner:
        found.slugs[owner[0]].add(owner[1])
    elif path == PROJECT_FILE:
        found.project_changed = True
    elif parts[0] not in _KINDS:
        found.other.add(path)
    elif len(parts) < 3:
        found.ignored.add(f"{path}: not inside an object folder ({parts[0]}/<slug>/)")
    else:
        problem = checks.slug_problem(parts[1], skill=parts[0] == "skills")
        found.ignored.add(f"{path}: {problem}")


def _renames(
    pairs: list[tuple[str, str]],
    deleted: dict[str, set[str]],
    added: dict[str, set[str]],
    sides: _Sides,
) -> tuple[tuple[str, str], ...]:
    """Folder renames: a folder gone since the base whose content reappears under a new slug.

    git's rename detection covers committed and staged moves; a plain `mv` left unstaged
    shows as delete + untracked, so the defining file's content hash pairs those.
    """
    out: dict[tuple[str, str], str] = {}
    for old_path, new_path in pairs:
        old, new = _owner(old_path), _owner(new_path)
        same_kind = bool(old and new and old[0] == new[0])
        if old and new and same_kind and old[1] in deleted[old[0]] and new[1] in added[new[0]]:
            out.setdefault(old, new[1])
    for kind, gone in deleted.items():
        for slug in sorted(gone):
            free = added[kind] - {new for (k, _), new in out.items() if k == kind}
            twin = _twin(sides, kind, slug, free)
            if twin and (kind, slug) not in out:
                out[(kind, slug)] = twin
    return tuple(sorted((f"{k}/{old}", f"{k}/{new}") for (k, old), new in out.items()))


def _twin(sides: _Sides, kind: str, slug: str, candidates: set[str]) -> str | None:
    """The new slug whose defining file is byte-identical to `slug`'s at the base, if any."""
    old_sha = sides.blob_sha(kind, slug)
    for new in sorted(candidates):
        path = sides.here(kind, new)
        data = path.read_bytes() if path else b""
        # git's blob id: sha1 over "blob <size>\0" + content. No clean/smudge filters here:
        # a miss only reports the rename as a delete plus an add, which scopes the same.
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == old_sha:
            return new
    return None


def _parse_project(text: str, label: str) -> Project:
    """Parse an old polyant.yaml strictly (YAML 1.2, no aliases, no duplicate keys)."""
    yaml = YAML(typ="safe", pure=True)
    hint = "fix it at that commit, or plan without --changed-since"
    try:
        if any(isinstance(event, AliasEvent) for event in yaml.parse(text)):
            raise ConfigError([Problem(label, 1, 1, f"uses YAML aliases, refused; {hint}")])
        data = yaml.load(text)
    except YAMLError as exc:
        mark = exc.problem_mark if isinstance(exc, MarkedYAMLError) else None
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([Problem(label, line, col, f"{reason}; {hint}")]) from exc
    try:
        return Project.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise ConfigError(
            [
                Problem(label, 1, 1, f"{'.'.join(map(str, e['loc'])) or 'top'}: {e['msg']}; {hint}")
                for e in exc.errors()
            ]
        ) from exc
