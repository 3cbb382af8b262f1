"""Prompts (§4) and tools (§5): sections, the catalog, manual/skill rows, recompute."""

from __future__ import annotations

from typing import Any

from . import catalog
from .common import body_obj, instance_or_404
from .errors import Reply, bad_request, invalid_body
from .jsutil import locale_key, now
from .routing import Ctx, Routes
from .state import InstanceData, Prompt, Store
from .zod import MISSING, Arr, Enum, Obj, Str, parse
from .zod_issues import with_paths

routes = Routes()
_PATCH_PROMPTS = Obj(
    {
        "sections": Arr(
            Obj({"key": Enum(*catalog.SECTION_KEYS), "content": Str(max_len=32_768)}),
            min_len=1,
            max_len=8,
        )
    }
)


def prompt_list(data: InstanceData) -> list[dict[str, Any]]:
    """Existing rows only, ordered by section key."""
    return [
        {"key": k, "filename": f"{k}.md", "title": p.title, "content": p.content}
        for k, p in sorted(data.prompts.items())
    ]


@routes.add("GET", "/api/instances/:slug/prompts", "InstancePromptsController.get")
async def get_prompts(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    return Reply({"prompts": prompt_list(data)})


@routes.add("PATCH", "/api/instances/:slug/prompts", "InstancePromptsController.update")
async def patch_prompts(ctx: Ctx) -> Reply:
    value, issues = parse(_PATCH_PROMPTS, ctx.body)
    if issues:
        raise bad_request(with_paths(issues))  # the body is checked before the lookup
    _, data = instance_or_404(ctx)
    for section in value["sections"]:
        key = section["key"]
        row = data.prompts.get(key)
        # A title in the body is ignored: existing rows keep theirs, new rows get the key.
        title = row.title if row else key
        data.prompts[key] = Prompt(title=title, content=section["content"], updated_at=now())
    return Reply({"prompts": prompt_list(data)})


def recompute(store: Store, data: InstanceData) -> None:
    """Desired = skill tools of enabled assignments' pinned versions + existing manual rows."""
    wanted: list[str] = []
    for a in data.assignments.values():
        skill = store.skills.get(a.skill_id)
        version = skill.version_by_id(a.pinned_version_id) if skill and a.enabled else None
        required = version.metadata.get("requiredTools") if version else None
        for name in required if isinstance(required, list) else []:
            if isinstance(name, str) and name in store.tools and name not in wanted:
                wanted.append(name)
    for name, source in list(data.tools.items()):
        if source == "skill" and name not in wanted:
            del data.tools[name]  # even if it was manual before: the row simply goes
    for name in wanted:
        if data.tools.get(name) != "skill":
            # Precedence: a manual row becomes skill-sourced. PostgreSQL writes an updated
            # row as a new tuple, so it moves to the end of the (unordered) row order.
            data.tools.pop(name, None)
            data.tools[name] = "skill"


def tool_list(data: InstanceData) -> list[dict[str, Any]]:
    """Every registry tool with enabled/source for this instance (agent tools hidden)."""
    return [
        {**info, "enabled": info["name"] in data.tools, "source": data.tools.get(info["name"])}
        for info in catalog.registry()
    ]


@routes.add("GET", "/api/tools", "ToolsController.list")
async def list_tools(ctx: Ctx) -> Reply:
    return Reply({"tools": list(catalog.registry())})


@routes.add("GET", "/api/instances/:slug/tools", "InstanceToolsController.list")
async def get_tools(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    return Reply({"tools": tool_list(data)})


def _wanted(body: dict[str, Any]) -> list[Any]:
    enabled = body.get("enabled", MISSING)
    if enabled is MISSING or enabled is None:
        return []  # treated as the empty set
    if isinstance(enabled, list):
        return enabled
    if isinstance(enabled, str):
        return list(enabled)  # new Set("abc") iterates characters
    raise invalid_body()  # not iterable: TypeError


@routes.add("PATCH", "/api/instances/:slug/tools", "InstanceToolsController.update")
async def patch_tools(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    _, data = instance_or_404(ctx)
    wanted = _wanted(body)
    names = {w for w in wanted if isinstance(w, str)}
    for name, source in data.tools.items():
        if source != "manual" and name not in names:
            raise bad_request(
                f'Cannot disable skill-sourced tool "{name}". '
                "It is required by the system or an active skill."
            )
    for name in wanted:
        if isinstance(name, str) and name not in data.tools and name in ctx.store.tools:
            data.tools[name] = "manual"
    for name, source in list(data.tools.items()):
        if source == "manual" and name not in names:
            del data.tools[name]
    return Reply({"tools": tool_list(data)})


@routes.add(
    "GET", "/api/instances/:slug/tools/required-secrets", "InstanceToolsController.requiredSecrets"
)
async def required_secrets(ctx: Ctx) -> Reply:
    _, data = instance_or_404(ctx)
    everything = not data.tools  # zero rows means every tool is enabled at runtime
    specs: dict[str, dict[str, Any]] = {}
    for info in catalog.registry():
        if everything or info["name"] in data.tools:
            for spec in info.get("requiredSecrets", []):
                specs.setdefault(spec["key"], spec)
    out = []
    for key in sorted(specs, key=locale_key):
        spec = dict(specs[key])
        if spec.get("type") == "select" and key in data.secrets:
            spec["currentValue"] = data.secrets[key]
        out.append(spec)
    return Reply({"requiredSecrets": out})
