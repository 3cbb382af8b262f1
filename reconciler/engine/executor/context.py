"""What one apply run shares across its changes and threads: secrets, caches, counters.

Secret values are looked up only here, through `reconciler.model.secretenv` names (an empty
value counts as absent), wrapped as `SecretValue` and remembered so any message can be
scrubbed of them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.engine.client import EngineClient
from reconciler.engine.executor.wire import SecretValue
from reconciler.engine.lists import read_skill_versions
from reconciler.errors import EngineError, NotFound
from reconciler.model import secretenv


class StepFailed(Exception):
    """A step could not be done; the message is one scrubbed line."""


class RunContext:
    """State shared by every change of one apply run (thread-safe)."""

    def __init__(
        self,
        client: EngineClient,
        env: Mapping[str, str],
        *,
        dry_run: bool,
        prune: bool,
        on_progress: Callable[[str], None] | None,
    ) -> None:
        self.client = client
        self.dry_run = dry_run
        self.prune = prune  # removals run only when the caller allows pruning
        self._env = env
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._versions: dict[str, dict[str, str]] = {}
        self._version_locks: dict[str, threading.Lock] = {}
        self.missing_secrets: set[str] = set()
        self.notices: list[str] = []
        self.failed_skills: set[str] = set()
        self.changed_skills: set[str] = set()
        self.created_skills: set[str] = set()
        self.writes = 0
        self.reads = 0

    def secret(self, var: str) -> SecretValue | None:
        """The value of env var `var` (empty = absent), remembered so it can be scrubbed."""
        value = secretenv.lookup(self._env, var)
        if value is None:
            return None
        with self._lock:
            self._secrets.add(value)
        return SecretValue(var, value)

    def channel_creds(self, slug: str, channel_type: str) -> dict[str, Any] | None:
        """A channel's credentials from its JSON env var, each value wrapped as a secret."""
        var = secretenv.channel_var(slug, channel_type)
        raw = self.secret(var)
        if raw is None:
            return None
        try:
            parsed = json.loads(raw.value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise StepFailed(f"${var} must hold a JSON object of the channel's config")
        with self._lock:
            self._secrets.update(v for v in parsed.values() if isinstance(v, str))
        return {str(k): SecretValue(var, v) for k, v in parsed.items()}

    def missing(self, var: str) -> None:
        """Record a variable that would have supplied a value but was not set."""
        with self._lock:
            self.missing_secrets.add(var)

    def notice(self, message: str) -> None:
        """Record something the user should know about the run."""
        with self._lock:
            self.notices.append(message)

    def scrub(self, text: str) -> str:
        """`text` with every secret value seen in this run blanked out (defence in depth)."""
        with self._lock:
            values = sorted(self._secrets, key=len, reverse=True)
        for value in values:
            if len(value) >= 4:
                text = text.replace(value, "••••")
        return text

    def progress(self, message: str) -> None:
        """Tell the caller what is happening (serialised: callbacks come from threads)."""
        if self._on_progress is not None:
            with self._lock:
                self._on_progress(message)

    def count(self, *, write: bool) -> None:
        """Count one request sent."""
        with self._lock:
            if write:
                self.writes += 1
            else:
                self.reads += 1

    def versions(self, skill: str) -> dict[str, str]:
        """Version string → UUID of a catalog skill, read once per run ({} when unknown)."""
        with self._lock:
            skill_lock = self._version_locks.setdefault(skill, threading.Lock())
        # Single flight: instances applied in parallel wait for the one read of this skill
        # instead of each spending a request of the same handler's budget.
        with skill_lock:
            return self._read_versions(skill)

    def _read_versions(self, skill: str) -> dict[str, str]:
        with self._lock:
            cached = self._versions.get(skill)
        if cached is not None:
            return cached
        self.count(write=False)
        try:
            found = read_skill_versions(self.client, skill)
        except NotFound:
            found = {}
        except EngineError as exc:
            raise StepFailed(f"cannot read the versions of skill {skill!r}: {exc}") from exc
        with self._lock:
            self._versions[skill] = found
        return found

    def current_version(self, skill: str) -> str | None:
        """The catalog's current version string of `skill`, None when not knowable yet."""
        if self.dry_run and skill in self.created_skills:
            return "0.1.0"  # import creates a skill at 0.1.0 whatever the bundle says (§6.8)
        if self.dry_run and skill in self.changed_skills:
            return None  # the import that creates the new version has not run
        versions = self.versions(skill)
        return next(reversed(versions)) if versions else None
