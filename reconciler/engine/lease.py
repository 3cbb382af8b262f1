"""The apply lease: one apply at a time per engine, held on the engine itself.

The engine has no lock API, but `POST /api/instances` is atomic: the slug column is unique
and a second create of the same slug answers 409 (contract §3.5; the engine relies on the
database constraint, not on a read-then-write). So the lease is an instance with a reserved
slug, status `inactive` (no channels, no tasks), whose description names the holder and the
expiry; an admin sees it in the instance list and may delete it. The holder renews it while
apply runs and deletes it at the end. A lease past its expiry is taken over: the taker first
creates a marker instance named after the stale lease's id (again atomic, so exactly one
taker wins per stale lease), checks the stale lease is still the same one, deletes it,
creates its own and removes the marker. Lease and markers are never read as managed
objects (read.py filters the reserved prefix), so they are never planned, exported or pruned.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.engine.client import EngineClient
from reconciler.errors import EngineError, EngineRejected, NotFound
from reconciler.model.checks import LEASE_PREFIX

LEASE_SLUG = LEASE_PREFIX
MARKER_PREFIX = f"{LEASE_PREFIX}-takeover-"
_PATTERN = re.compile(r"held by (?P<holder>.+?) until (?P<until>\S+Z) \(run (?P<run>[0-9a-f]+)\)")


def is_lease_slug(slug: str) -> bool:
    """True for the lease and its takeover markers: never managed, planned or exported."""
    return slug.startswith(LEASE_PREFIX)


class LeaseHeld(EngineError):
    """Another apply holds this engine's lease and did not let go within the wait."""


@dataclass(frozen=True)
class LeaseInfo:
    """What a lease instance says about itself."""

    id: str
    holder: str
    until: datetime | None
    run: str

    def expired(self, now: datetime) -> bool:
        # A lease whose description cannot be read is treated as live: only an admin may
        # decide about an instance we cannot explain.
        return self.until is not None and now >= self.until


@dataclass
class Lease:
    """One attempt to hold the lease; `acquire`, then `release` (or use `held`)."""

    client: EngineClient
    holder: str
    ttl_s: float = 600.0
    wait_s: float = 300.0
    poll_s: float = 2.0
    on_wait: Callable[[str], None] | None = None
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    _stop: threading.Event = field(default_factory=threading.Event)
    _beat: threading.Thread | None = None

    def acquire(self) -> None:
        """Hold the lease, waiting up to `wait_s` for another holder; else LeaseHeld."""
        deadline = time.monotonic() + self.wait_s
        told = False
        while True:
            if self._try_create():
                self._start_heartbeat()
                return
            current = self._read(LEASE_SLUG)
            if current is None:
                continue  # released between our create and our read: try again at once
            if current.expired(_now()):
                self._take_over(current)
                continue
            if time.monotonic() + self.poll_s > deadline:
                raise LeaseHeld(_held_message(current, self.client.url, self.wait_s))
            if self.on_wait is not None and not told:
                self.on_wait(_waiting_message(current))
                told = True
            time.sleep(self.poll_s)

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours (else it expires)."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=self.client.config.timeout_s)
        try:
            current = self._read(LEASE_SLUG)
            if current is not None and current.run == self.run:
                self._delete(LEASE_SLUG)
        except EngineError:
            pass  # unreachable now: the lease expires on its own after ttl_s

    def _try_create(self) -> bool:
        body = {"slug": LEASE_SLUG, "name": "polyant-gitops apply lease"}
        if not self._create({**body, "description": self._description()}):
            return False
        # Inactive: no channel adapter starts and no task runs for it (§3.0).
        self.client.patch(f"/api/instances/{LEASE_SLUG}", {"status": "inactive"}, what="lease")
        return True

    def _create(self, body: dict[str, Any]) -> bool:
        try:
            self.client.post("/api/instances", body, what="apply lease")
        except EngineRejected as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def _take_over(self, stale: LeaseInfo) -> None:
        marker = f"{MARKER_PREFIX}{stale.id}"[:100]
        body = {
            "slug": marker,
            "name": "polyant-gitops apply lease takeover",
            "description": f"taking over the expired apply lease {stale.id}: "
            + self._description(ttl_s=60.0),
        }
        if not self._create(body):
            found = self._read(marker)
            if found is not None and found.expired(_now()):
                self._delete(marker)  # a taker died half-way: let the next one try
            else:
                time.sleep(self.poll_s)
            return
        try:
            again = self._read(LEASE_SLUG)
            if again is not None and again.id == stale.id:
                self._delete(LEASE_SLUG)
        finally:
            self._delete(marker)

    def _start_heartbeat(self) -> None:
        self._beat = threading.Thread(target=self._renew, name="apply-lease", daemon=True)
        self._beat.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self.client.patch(
                    f"/api/instances/{LEASE_SLUG}",
                    {"description": self._description()},
                    what="apply lease renewal",
                )
            except EngineError:
                continue  # the next beat tries again; the lease outlives a missed beat

    def _description(self, ttl_s: float | None = None) -> str:
        until = _now() + timedelta(seconds=ttl_s if ttl_s is not None else self.ttl_s)
        return (
            f"polyant-gitops apply lease: held by {self.holder} until {_iso(until)} "
            f"(run {self.run}). Other applies wait for it or refuse; it expires on its own. "
            "Delete this instance only if that apply is no longer running."
        )

    def _read(self, slug: str) -> LeaseInfo | None:
        try:
            body = self.client.get(f"/api/instances/{slug}", what="apply lease")
        except NotFound:
            return None
        dto = body.get("instance") if isinstance(body, dict) else None
        if not isinstance(dto, dict):
            return None
        return parse_lease(str(dto.get("id", "")), str(dto.get("description") or ""))

    def _delete(self, slug: str) -> None:
        with suppress(NotFound):
            self.client.delete(f"/api/instances/{slug}", what="apply lease")


def parse_lease(ident: str, description: str) -> LeaseInfo:
    """The holder, expiry and run id written in a lease's description."""
    found = _PATTERN.search(description)
    if found is None:
        return LeaseInfo(ident, "an unknown holder", None, "")
    try:
        until: datetime | None = datetime.fromisoformat(found["until"].replace("Z", "+00:00"))
    except ValueError:
        until = None
    return LeaseInfo(ident, found["holder"], until, found["run"])


@contextmanager
def held(lease: Lease | None) -> Iterator[None]:
    """Hold `lease` for the block (None: no lease, for rehearsals with --no-lock)."""
    if lease is None:
        yield
        return
    lease.acquire()
    try:
        yield
    finally:
        lease.release()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _until(info: LeaseInfo) -> str:
    return _iso(info.until) if info.until else "an unreadable time (ask an admin)"


def _held_message(info: LeaseInfo, url: str, waited: float) -> str:
    return (
        f"another apply holds the apply lease on {url}: {info.holder}, until {_until(info)}; "
        f"waited {waited:g} s. Retry after it finishes (or raise lease wait with "
        f"POLYANT_LEASE_WAIT_SECONDS); if that apply is dead, delete the instance {LEASE_SLUG} "
        "or wait for the expiry"
    )


def _waiting_message(info: LeaseInfo) -> str:
    return f"waiting for the apply lease held by {info.holder} until {_until(info)}"
