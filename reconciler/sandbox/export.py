"""Instance export (§13): the bundle exactly as the engine builds it, quirks included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import Reply, instance_not_found
from .jsutil import iso, now
from .room import room_export
from .routing import Ctx, Routes
from .state import Instance, InstanceData, Store, Task
from .tasks import tasks_of

routes = Routes()
_C = "InstanceExportController"


def _skills(store: Store, data: InstanceData) -> list[dict[str, Any]]:
    out = []
    for a in data.assignments.values():  # disabled and archived ones included
        skill = store.skills[a.skill_id]
        pinned = skill.version_by_id(a.pinned_version_id)
        out.append(
            {
                "skillSlug": skill.slug,
                "enabled": a.enabled,
                "autoLoad": a.auto_load,
                "pinnedVersion": pinned.version if pinned else None,
            }
        )
    return out


def _task_export(t: Task) -> dict[str, Any]:
    return {
        "name": t.name,
        "description": t.description,
        "enabled": t.enabled,
        "schedule": t.schedule,
        "prompt": t.prompt,
        "outboundChannel": t.outbound_channel,
        "outboundTarget": t.outbound_target,
        "keepHistory": t.keep_history,
        "deleteAfterRun": t.delete_after_run,
        "maxRetries": t.max_retries,
        "createdBy": t.created_by,
    }


task_export = _task_export  # develop's 1.1 bundle fills scheduledTasks with the same rows


def _skill_env(data: InstanceData) -> list[dict[str, Any]]:
    return [
        {
            "skillSlug": r.skill_slug,
            "key": r.key,
            "encrypted": r.encrypted,
            "hasValue": r.value != "",
        }
        for r in data.env.values()
    ]


def _event_sources(data: InstanceData) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "sourceType": s.source_type,
            "enabled": s.enabled,
            "definitions": [
                {
                    "name": d.name,
                    "matchingPrompt": d.matching_prompt,
                    "interpretationPrompt": d.interpretation_prompt,
                    "enabled": d.enabled,
                }
                for d in s.definitions.values()
            ],
        }
        for s in data.sources.values()
    ]


def export_bundle(store: Store, inst: Instance) -> dict[str, Any]:
    """The instance bundle exactly as the engine builds it (key order verified)."""
    data = store.data[inst.id]
    body = {
        "slug": inst.slug,
        "name": inst.name,
        "description": inst.description,
        "status": inst.status,
        "provider": inst.provider,
        "model": inst.model,
        "memoryEnabled": inst.memory_enabled,
        "knowledgeEnabled": inst.knowledge_enabled,
        "langsmithEnabled": inst.langsmith_enabled,
        "authEnabled": inst.auth_enabled,
        "icon": inst.icon,  # the raw data URI, not the DTO's URL
        "prompts": [
            {"sectionKey": k, "title": p.title, "content": p.content}
            for k, p in sorted(data.prompts.items())
        ],
        "skills": _skills(store, data),
        "manualTools": [n for n, src in data.tools.items() if src == "manual"],
        "secrets": [{"key": k, "configured": True} for k in sorted(data.secrets)],
        "channels": [{"channelType": t, "enabled": c.enabled} for t, c in data.channels.items()],
        "skillEnv": _skill_env(data),
        "room": room_export(data.room),
        "eventSources": _event_sources(data),
        # Looked up by the instance UUID while API tasks are keyed by slug: [] for them.
        "scheduledTasks": [_task_export(t) for t in tasks_of(store, inst.id)],
    }
    return {"version": "1.0", "exportedAt": iso(now()), "type": "instance", "instance": body}


@routes.add("GET", "/api/instances/:slug/export", f"{_C}.export")
async def export_instance(ctx: Ctx) -> Reply:
    slug = ctx.p("slug")  # not format-validated
    inst = ctx.store.by_slug(slug)
    if inst is None:
        raise instance_not_found(slug)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    headers = {"Content-Disposition": f'attachment; filename="{slug}-export-{day}.json"'}
    return Reply(export_bundle(ctx.store, inst), headers=headers, pretty=True)
