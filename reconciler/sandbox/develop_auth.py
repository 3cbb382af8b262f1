"""develop's credentials and permission guard: X-Polyant-Key management keys, enforce mode.

A management key carries an explicit permission set and is checked before any Bearer token.
The permission guard runs in shadow mode (never denies) unless `enforce` is on; then a key
lacking a route's permission gets 403 "Missing permission: <p>", and routes that declare
no permission (the skills catalog, skill enable/disable) answer 403 to everyone.
The admin Bearer user is a platform admin: every declared permission passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import Reply

HEADER = "x-polyant-key"
# Path segment after /api/instances/:slug → permission family (develop's controllers).
_FAMILY = {
    "secrets": "agent.secret",
    "channels": "agent.channel",
    "tools": "agent.tool",
    "prompts": "agent.prompt",
    "room": "agent.room",
    "scheduled-tasks": "agent.task",
    "hooks": "agent.governance",
    "event-sources": "agent.room",
    "skills": "agent.skill",
}
# Every permission a route declares: what an org owner's key holds (the sandbox CLI's key).
ALL_PERMISSIONS = frozenset(
    [f"{family}:{mode}" for family in {"agent", *_FAMILY.values()} for mode in ("read", "write")]
    + ["agent:delete", "agent.export:read"]
)
# Routes of skills/instance-skills.controller.ts (enable, disable): no permission declared.
_UNDECLARED_SKILL_ROUTES = {("POST", 5), ("DELETE", 5)}


def permission_for(method: str, template: str) -> str | None:
    """The permission a route declares on develop, or None when it declares none."""
    parts = template.strip("/").split("/")
    write = method != "GET"
    if parts[:2] == ["api", "skills"] or parts == ["api", "users"]:
        return None
    if parts[:2] == ["api", "tools"]:
        return "agent.tool:read"
    if parts[:2] != ["api", "instances"]:
        return None
    if len(parts) <= 3:
        if method == "DELETE":
            return "agent:delete"
        return "agent:write" if write else "agent:read"
    family = _FAMILY.get(parts[3])
    if parts[3] == "skills" and (method, len(parts)) in _UNDECLARED_SKILL_ROUTES:
        return None
    if parts[3] == "export":
        return "agent.export:read"
    if parts[3] in ("import", "icon"):
        return "agent:write"
    if family is None:
        return None
    return f"{family}:{'write' if write else 'read'}"


def _forbidden(message: str) -> Reply:
    return Reply({"message": message, "error": "Forbidden", "statusCode": 403}, status=403)


@dataclass(frozen=True)
class Verdict:
    """A key's outcome: refused (with the reply) or let in (refusal None)."""

    refusal: Reply | None = None


@dataclass
class KeyGuard:
    """Management keys (key → permissions) and the guard's mode."""

    keys: Mapping[str, frozenset[str]] = field(default_factory=dict)
    enforce: bool = False

    def check(self, method: str, template: str, headers: Mapping[str, str]) -> Verdict | None:
        """The verdict for a request with a management key; None: not a key request."""
        key = headers.get(HEADER)
        if not key:
            return None
        granted = self.keys.get(key)
        if granted is None:
            body = {"message": "Invalid management API key", "error": "Unauthorized"}
            return Verdict(Reply(body | {"statusCode": 401}, status=401))
        return Verdict(self._decide(permission_for(method, template), granted))

    def after_bearer(self, method: str, template: str) -> Reply | None:
        """What the guard says to an authenticated platform admin."""
        return self._decide(permission_for(method, template), None)

    def _decide(self, needed: str | None, granted: frozenset[str] | None) -> Reply | None:
        if not self.enforce:
            return None  # shadow mode: logs, never denies
        if needed is None:
            return _forbidden("Route declares no permission")
        if granted is not None and needed not in granted:
            return _forbidden(f"Missing permission: {needed}")
        return None
