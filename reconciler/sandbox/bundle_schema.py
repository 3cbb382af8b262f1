"""The zod schema both instance imports validate bundles with (contract §14)."""

from __future__ import annotations

from .zod import Arr, Bool, Lit, Num, Obj, Str

_NS = Str().nullable()
_TASK = Obj(
    {
        "name": Str(),
        "description": _NS,
        "enabled": Bool(),
        "schedule": Obj({"type": Str()}, passthrough=True),
        "prompt": Str(),
        "outboundChannel": _NS,
        "outboundTarget": _NS,
        "keepHistory": Bool(),
        "deleteAfterRun": Bool(),
        "maxRetries": Num(),
        "createdBy": _NS,
    }
)
_ROOM = Obj(
    {
        "enabled": Bool(),
        "prompt": Str(),
        "outboundChannel": _NS,
        "outboundTarget": _NS,
        "evalIntervalMinutes": Num(),
    }
)
_DEFINITION = Obj(
    {"name": Str(), "matchingPrompt": Str(), "interpretationPrompt": Str(), "enabled": Bool()}
)
_INSTANCE = Obj(
    {
        "slug": Str(),
        "name": Str(),
        "description": _NS,
        "status": Str(),
        "provider": _NS,
        "model": _NS,
        "memoryEnabled": Bool(),
        "knowledgeEnabled": Bool(),
        "langsmithEnabled": Bool(),
        "authEnabled": Bool(),
        "icon": _NS.optional(),
        "prompts": Arr(Obj({"sectionKey": Str(), "title": Str(), "content": Str()})),
        "skills": Arr(
            Obj({"skillSlug": Str(), "enabled": Bool(), "autoLoad": Bool(), "pinnedVersion": _NS})
        ),
        "manualTools": Arr(Str()),
        "secrets": Arr(Obj({"key": Str(), "configured": Bool()})),
        "channels": Arr(Obj({"channelType": Str(), "enabled": Bool()})),
        "skillEnv": Arr(
            Obj({"skillSlug": Str(), "key": Str(), "encrypted": Bool(), "value": Str().optional()})
        ),
        "room": _ROOM.nullable(),
        "eventSources": Arr(
            Obj(
                {
                    "name": Str(),
                    "sourceType": Str(),
                    "enabled": Bool(),
                    "definitions": Arr(_DEFINITION),
                }
            )
        ),
        "scheduledTasks": Arr(_TASK).default([]),
    }
)
BUNDLE = Obj(
    {"version": Lit("1.0"), "exportedAt": Str(), "type": Lit("instance"), "instance": _INSTANCE}
)
