"""Route → handler mapping: the throttle budget is shared per handler, never per path."""

from __future__ import annotations

from reconciler.engine.routes import handler_for


def test_same_template_shares_one_handler_whatever_the_slug() -> None:
    a = handler_for("GET", "/api/instances/a/room")
    b = handler_for("GET", "/api/instances/b-2/room")
    assert a == b == "Room.get"


def test_methods_and_templates_are_different_handlers() -> None:
    names = {
        handler_for("GET", "/api/instances/a/export"),
        handler_for("GET", "/api/instances/a/scheduled-tasks"),
        handler_for("GET", "/api/instances/a/event-sources"),
        handler_for("PUT", "/api/instances/a/room"),
        handler_for("GET", "/api/instances/a/room"),
    }
    assert len(names) == 5
    assert handler_for("GET", "/api/instances/a/export") == "InstanceExport.export"


def test_literal_segments_shadow_parameters() -> None:
    # Contract §1.7: these literals are declared before the :slug / :name routes.
    assert handler_for("GET", "/api/instances/models") == "Instances.models"
    assert handler_for("GET", "/api/instances/helpdesk") == "Instances.get"
    assert handler_for("GET", "/api/skills/catalog/export") == "SkillsExport.exportCatalog"
    assert handler_for("GET", "/api/skills/faq/export") == "SkillsExport.exportSkill"
    assert handler_for("POST", "/api/skills/catalog/import") == "SkillsExport.importCatalog"
    assert handler_for("GET", "/api/instances/a/scheduled-tasks/runs") == "ScheduledTasks.runs"


def test_query_strings_and_encoded_segments_are_ignored_for_matching() -> None:
    assert handler_for("GET", "/api/instances/a/room/backlog?limit=5") == "Room.backlog"
    assert handler_for("GET", "/api/skills/Bad%20Slug!!") == "Skills.get"


def test_health_is_not_throttled_and_unknown_routes_are_generalised() -> None:
    assert handler_for("GET", "/health") is None
    first = handler_for("GET", "/api/instances/a/knowledge/123e4567-e89b-12d3-a456-426614174000")
    second = handler_for("GET", "/api/instances/b/knowledge/00000000-0000-0000-0000-000000000000")
    assert first == second == "GET /api/instances/:slug/knowledge/:id"


def test_every_declared_route_maps_to_its_own_handler() -> None:
    from reconciler.engine.routes import _ROUTES

    for method, template, handler in _ROUTES:
        path = "/".join("x1" if s.startswith(":") else s for s in template.split("/"))
        assert handler_for(method.lower(), path + "?page=2") == handler, (method, template)
        assert handler_for(method, path + "/extra") != handler  # whole paths only
