"""What an apply did: one result per change, the exact calls (secrets redacted), and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["applied", "failed", "skipped", "noop"]
REPORT_SCHEMA_VERSION = 1


@dataclass
class Call:
    """One write sent (or, in a dry run, that would be sent); secret values are redacted."""

    method: str
    path: str
    body: Any
    what: str
    note: str = ""
    op: int = -1  # index of the plan operation this call executes (not serialised)
    # The write's own answer showed the state it asked for (a DELETE's success counts):
    # verification need not read it again (not serialised).
    confirmed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; `note` only when there is one."""
        out: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "what": self.what,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ChangeResult:
    """The outcome of one planned change (an instance or a catalog skill)."""

    key: str
    action: str
    status: Status
    reason: str = ""
    calls: list[Call] = field(default_factory=list)
    # Parts that could not be done for lack of input (credentials, a failed dependency):
    # the change is incomplete even when everything that was sent succeeded.
    skipped_parts: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        """Everything was sent and every answer confirmed it: no verification re-read needed."""
        done = self.status == "applied" and not self.skipped_parts
        return done and all(c.confirmed for c in self.calls)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "key": self.key,
            "action": self.action,
            "status": self.status,
            "reason": self.reason,
            "skippedParts": list(self.skipped_parts),
            "calls": [c.to_dict() for c in self.calls],
        }


@dataclass
class ApplyReport:
    """Everything an apply did, in plan order; `ok()` decides the exit code."""

    results: list[ChangeResult] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)  # variable names, never values
    non_converged: list[str] = field(default_factory=list)
    calls_made: int = 0  # writes actually sent (0 in a dry run)
    reads_made: int = 0  # extra reads apply needed (version lookups, re-reads)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False

    def ok(self) -> bool:
        """True when every change reached its desired state (exit 0), else exit 1."""
        incomplete = any(r.status in ("failed", "skipped") or r.skipped_parts for r in self.results)
        return not incomplete and not self.non_converged

    def counts(self) -> dict[str, int]:
        """Number of results by status."""
        out = {"applied": 0, "failed": 0, "skipped": 0, "noop": 0}
        for result in self.results:
            out[result.status] += 1
        return out

    def to_json(self) -> str:
        """Deterministic JSON of the whole report (no secret value can be in it)."""
        payload = {
            "schemaVersion": REPORT_SCHEMA_VERSION,
            "dryRun": self.dry_run,
            "ok": self.ok(),
            "summary": self.counts(),
            "callsMade": self.calls_made,
            "readsMade": self.reads_made,
            "missingSecrets": sorted(self.missing_secrets),
            "nonConverged": sorted(self.non_converged),
            "notices": list(self.notices),
            "results": [r.to_dict() for r in self.results],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
