"""Map a request to the engine's route handler: the throttle budget is per handler, not per path."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# (method, path template, handler) in the engine's declaration order where it matters: a
# literal segment declared before a parameter shadows it (contract §1.7), so literals come
# first here and the first match wins. Handler names are Controller.method.
_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/api/instances", "Instances.list"),
    ("GET", "/api/instances/models", "Instances.models"),
    ("POST", "/api/instances", "Instances.create"),
    ("POST", "/api/instances/import", "InstanceImport.importNew"),
    ("GET", "/api/instances/:slug", "Instances.get"),
    ("PATCH", "/api/instances/:slug", "Instances.update"),
    ("DELETE", "/api/instances/:slug", "Instances.remove"),
    ("GET", "/api/instances/:slug/icon", "Instances.getIcon"),
    ("PUT", "/api/instances/:slug/icon", "Instances.setIcon"),
    ("DELETE", "/api/instances/:slug/icon", "Instances.deleteIcon"),
    ("GET", "/api/instances/:slug/export", "InstanceExport.export"),
    ("POST", "/api/instances/:slug/import", "InstanceImport.importOverwrite"),
    ("GET", "/api/instances/:slug/prompts", "InstancePrompts.list"),
    ("PATCH", "/api/instances/:slug/prompts", "InstancePrompts.update"),
    ("GET", "/api/tools", "Tools.list"),
    ("GET", "/api/instances/:slug/tools", "InstanceTools.list"),
    ("PATCH", "/api/instances/:slug/tools", "InstanceTools.update"),
    ("GET", "/api/instances/:slug/tools/required-secrets", "InstanceTools.requiredSecrets"),
    ("GET", "/api/skills", "Skills.list"),
    ("POST", "/api/skills", "Skills.create"),
    ("GET", "/api/skills/catalog/export", "SkillsExport.exportCatalog"),
    ("POST", "/api/skills/catalog/import", "SkillsExport.importCatalog"),
    ("GET", "/api/skills/:name", "Skills.get"),
    ("PUT", "/api/skills/:name", "Skills.update"),
    ("DELETE", "/api/skills/:name", "Skills.archive"),
    ("GET", "/api/skills/:name/export", "SkillsExport.exportSkill"),
    ("GET", "/api/skills/:name/versions", "Skills.versions"),
    ("GET", "/api/skills/:name/versions/:version", "Skills.version"),
    ("GET", "/api/instances/:slug/skills", "InstanceSkillsView.list"),
    ("PATCH", "/api/instances/:slug/skills", "InstanceSkills.bulkUpdate"),
    ("POST", "/api/instances/:slug/skills/:skill", "InstanceSkills.enable"),
    ("DELETE", "/api/instances/:slug/skills/:skill", "InstanceSkills.disable"),
    ("POST", "/api/instances/:slug/skills/:skill/upgrade", "InstanceSkills.upgrade"),
    ("POST", "/api/instances/:slug/skills/:skill/rollback", "InstanceSkills.rollback"),
    ("POST", "/api/instances/:slug/skills/:skill/auto-load", "InstanceSkills.autoLoad"),
    ("GET", "/api/instances/:slug/skills/:skill/env", "InstanceSkills.getEnv"),
    ("PUT", "/api/instances/:slug/skills/:skill/env", "InstanceSkills.putEnv"),
    ("DELETE", "/api/instances/:slug/skills/:skill/env/:key", "InstanceSkills.deleteEnv"),
    ("GET", "/api/instances/:slug/secrets", "InstanceSecrets.list"),
    ("PUT", "/api/instances/:slug/secrets", "InstanceSecrets.upsert"),
    ("DELETE", "/api/instances/:slug/secrets/:key", "InstanceSecrets.remove"),
    ("GET", "/api/instances/:slug/channels", "InstanceChannels.list"),
    ("PUT", "/api/instances/:slug/channels/:type", "InstanceChannels.upsert"),
    ("DELETE", "/api/instances/:slug/channels/:type", "InstanceChannels.remove"),
    ("GET", "/api/instances/:slug/room", "Room.get"),
    ("PUT", "/api/instances/:slug/room", "Room.upsert"),
    ("DELETE", "/api/instances/:slug/room", "Room.remove"),
    ("GET", "/api/instances/:slug/room/backlog", "Room.backlog"),
    ("GET", "/api/instances/:slug/room/activity", "Room.activity"),
    ("GET", "/api/instances/:slug/event-sources", "WebhookSources.list"),
    ("POST", "/api/instances/:slug/event-sources", "WebhookSources.create"),
    ("PUT", "/api/instances/:slug/event-sources/:id", "WebhookSources.update"),
    ("DELETE", "/api/instances/:slug/event-sources/:id", "WebhookSources.remove"),
    ("POST", "/api/instances/:slug/event-sources/:id/rotate-token", "WebhookSources.rotateToken"),
    ("GET", "/api/instances/:slug/event-sources/:id/definitions", "WebhookSources.listDefinitions"),
    (
        "POST",
        "/api/instances/:slug/event-sources/:id/definitions",
        "WebhookSources.createDefinition",
    ),
    (
        "PUT",
        "/api/instances/:slug/event-sources/:id/definitions/:def",
        "WebhookSources.updateDefinition",
    ),
    (
        "DELETE",
        "/api/instances/:slug/event-sources/:id/definitions/:def",
        "WebhookSources.deleteDefinition",
    ),
    ("GET", "/api/instances/:slug/hooks", "InstanceHooks.list"),
    ("POST", "/api/instances/:slug/hooks", "InstanceHooks.create"),
    ("PATCH", "/api/instances/:slug/hooks/:id", "InstanceHooks.update"),
    ("DELETE", "/api/instances/:slug/hooks/:id", "InstanceHooks.remove"),
    ("GET", "/api/instances/:slug/scheduled-tasks", "ScheduledTasks.list"),
    ("POST", "/api/instances/:slug/scheduled-tasks", "ScheduledTasks.create"),
    ("GET", "/api/instances/:slug/scheduled-tasks/runs", "ScheduledTasks.runs"),
    ("GET", "/api/instances/:slug/scheduled-tasks/:id", "ScheduledTasks.get"),
    ("PATCH", "/api/instances/:slug/scheduled-tasks/:id", "ScheduledTasks.update"),
    ("DELETE", "/api/instances/:slug/scheduled-tasks/:id", "ScheduledTasks.remove"),
    ("POST", "/api/instances/:slug/scheduled-tasks/:id/run", "ScheduledTasks.runNow"),
)

# Routes the engine does not throttle at all (contract §1.3).
_UNTHROTTLED = frozenset({"/health", "/api/activity-stream/live"})
_UUID_RE = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$", re.IGNORECASE)


def _segments(path: str) -> list[str]:
    return [s for s in urlsplit(path).path.split("/") if s]


def _pattern(template: str) -> str:
    # A :parameter matches one whole segment; a literal only itself.
    parts = ("[^/]+" if p.startswith(":") else re.escape(p) for p in _segments(template))
    return "/" + "/".join(parts)


def _compiled(method: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation of every `method` route, in declaration order (the first match wins,
    as in the engine's router), each alternative a named group mapped to its handler."""
    routes = [(t, h) for m, t, h in _ROUTES if m == method]
    groups = {f"r{i}": handler for i, (_, handler) in enumerate(routes)}
    alternatives = "|".join(f"(?P<r{i}>{_pattern(t)})" for i, (t, _) in enumerate(routes))
    return re.compile(alternatives), groups


_BY_METHOD = {m: _compiled(m) for m in sorted({m for m, _, _ in _ROUTES})}


def handler_for(method: str, path: str) -> str | None:
    """The engine's route handler for a request, or None when the route is not throttled."""
    method = method.upper()
    segments = _segments(path)
    joined = "/" + "/".join(segments)
    if joined in _UNTHROTTLED:
        return None
    if method in _BY_METHOD:
        pattern, groups = _BY_METHOD[method]
        found = pattern.fullmatch(joined)
        if found is not None and found.lastgroup is not None:
            return groups[found.lastgroup]
    return f"{method} {_fallback_template(segments)}"


def _fallback_template(segments: list[str]) -> str:
    # A route we do not know: generalise the instance slug and ids so that different
    # objects still share one budget, which errs on the slow side rather than on 429s.
    out = list(segments)
    if len(out) > 2 and out[:2] == ["api", "instances"]:
        out[2] = ":slug"
    out = [":id" if _UUID_RE.match(s) else s for s in out]
    return "/" + "/".join(out)
