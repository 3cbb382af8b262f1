"""Response shapes of the scheduled-task routes (each route has its own key list)."""

from __future__ import annotations

from typing import Any

from .jsutil import iso
from .schedule import label
from .state import Task


def task_view(task: Task, keys: tuple[str, ...]) -> dict[str, Any]:
    human = label(task.schedule)
    values = {
        "id": task.id,
        "instanceId": task.instance_key,
        "name": task.name,
        "description": task.description,
        "schedule": task.schedule,
        "scheduleHuman": human,
        "prompt": task.prompt,
        "enabled": task.enabled,
        "nextRunAt": iso(task.next_run_at),
        "lastRunAt": iso(task.last_run_at),
        "lastRunStatus": task.last_run_status,
        "lastError": task.last_error,
        "lastConversationId": task.last_conversation_id,
        "consecutiveErrors": task.consecutive_errors,
        "totalRuns": task.total_runs,
        "outboundChannel": task.outbound_channel,
        "outboundTarget": task.outbound_target,
        "keepHistory": task.keep_history,
        "deleteAfterRun": task.delete_after_run,
        "maxRetries": task.max_retries,
        "createdBy": task.created_by,
        "createdAt": iso(task.created_at),
        "updatedAt": iso(task.updated_at),
    }
    # An unknown schedule type has no label: the key is simply absent.
    return {k: values[k] for k in keys if not (k == "scheduleHuman" and human is None)}


CREATED = (
    "id",
    "name",
    "schedule",
    "scheduleHuman",
    "enabled",
    "outboundChannel",
    "outboundTarget",
    "keepHistory",
    "nextRunAt",
    "createdAt",
)
LISTED = (
    "id",
    "name",
    "description",
    "schedule",
    "scheduleHuman",
    "prompt",
    "enabled",
    "nextRunAt",
    "lastRunAt",
    "lastRunStatus",
    "lastError",
    "lastConversationId",
    "consecutiveErrors",
    "totalRuns",
    "deleteAfterRun",
    "maxRetries",
    "createdBy",
    "createdAt",
    "outboundChannel",
    "outboundTarget",
    "keepHistory",
    "updatedAt",
)
SINGLE = (
    "id",
    "instanceId",
    "name",
    "description",
    "enabled",
    "schedule",
    "prompt",
    "nextRunAt",
    "lastRunAt",
    "lastRunStatus",
    "lastError",
    "lastConversationId",
    "consecutiveErrors",
    "totalRuns",
    "outboundChannel",
    "outboundTarget",
    "keepHistory",
    "deleteAfterRun",
    "maxRetries",
    "createdBy",
    "createdAt",
    "updatedAt",
    "scheduleHuman",
)
PATCHED = (
    "id",
    "name",
    "schedule",
    "scheduleHuman",
    "enabled",
    "nextRunAt",
    "lastRunStatus",
    "outboundChannel",
    "outboundTarget",
    "keepHistory",
    "updatedAt",
)
