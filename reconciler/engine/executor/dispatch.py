"""The dispatch table: operation type → the handler that makes its engine calls.

``run_operations`` runs one change's operations in the plan's order, each as an
independent step: a failure is reported and the next operation goes on, except that
nothing runs on an instance whose create failed. Catalog imports are not here: they are
batched across changes (``skills.import_skills``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType

from reconciler.engine.executor import children, events, hooks, instance, skills
from reconciler.engine.executor.change import ChangeRun
from reconciler.plan import operations as op
from reconciler.plan.operations import Operation

Handler = Callable[[ChangeRun, Operation], None]

HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {
        op.INSTANCE_CREATE: instance.create,
        op.INSTANCE_DELETE: instance.delete,
        op.SECRETS_PUT: instance.put_secrets,
        op.SECRET_DELETE: instance.delete_secret,
        op.SETTINGS_PATCH: instance.patch_settings,
        op.ICON_PUT: instance.put_icon,
        op.ICON_DELETE: instance.delete_icon,
        op.PROMPTS_PATCH: instance.patch_prompts,
        op.ASSIGNMENT_ENABLE: skills.enable,
        op.ASSIGNMENT_DISABLE: skills.disable,
        op.ASSIGNMENT_UPGRADE: skills.upgrade,
        op.ASSIGNMENT_ROLLBACK: skills.rollback,
        op.ASSIGNMENT_AUTO_LOAD: skills.auto_load,
        op.TOOLS_PATCH: skills.patch_tools,
        op.CATALOG_ARCHIVE: skills.archive,
        op.SKILL_ENV_PUT: children.put_skill_env,
        op.SKILL_ENV_DELETE: children.delete_skill_env,
        op.CHANNEL_PUT: children.put_channel,
        op.CHANNEL_DELETE: children.delete_channel,
        op.ROOM_PUT: children.put_room,
        op.ROOM_DELETE: children.delete_room,
        op.TASK_CREATE: children.create_task,
        op.TASK_UPDATE: children.update_task,
        op.TASK_DELETE: children.delete_task,
        op.SOURCE_CREATE: events.create_source,
        op.SOURCE_UPDATE: events.update_source,
        op.SOURCE_DELETE: events.delete_source,
        op.DEFINITION_CREATE: events.create_definition,
        op.DEFINITION_UPDATE: events.update_definition,
        op.DEFINITION_DELETE: events.delete_definition,
        op.HOOK_CREATE: hooks.create_hook,
        op.HOOK_UPDATE: hooks.update_hook,
        op.HOOK_DELETE: hooks.delete_hook,
    }
)
_NEEDS_PRUNE = {
    op.INSTANCE_DELETE: "deleting an instance needs --prune (and prune.instances)",
    op.CATALOG_ARCHIVE: "archiving a skill needs --prune (and prune.skills)",
}
BATCHED = frozenset({op.CATALOG_IMPORT})  # sent across changes by skills.import_skills


def run_operations(run: ChangeRun, *, deferred: bool = False) -> None:
    """Run the change's operations in plan order (`deferred`: only the deferred ones)."""
    for index, operation in enumerate(run.change.operations):
        if operation.type in BATCHED or bool(operation.args.get("deferred")) != deferred:
            continue
        if "create" in run.failed_steps:
            run.skip("everything else", "the instance could not be created")
            return
        run.op_index = index
        if operation.args.get("prune") and not run.ctx.prune:
            # Whole objects say why they stay; a child simply stays (as before pruning).
            if operation.type in _NEEDS_PRUNE:
                run.skip(step_name(operation), _NEEDS_PRUNE[operation.type])
            continue
        run.step(step_name(operation), partial(HANDLERS[operation.type], run, operation))


def step_name(operation: Operation) -> str:
    """How a report names the step of an operation (e.g. ``scheduled task 'Digest'``)."""
    family, _, _ = operation.type.partition(".")
    target = operation.target
    named = {
        "assignment": f"skill {target}",
        "skill-env": f"skill env {target}",
        "channel": f"channel {target}",
        "event-source": f"event source {target!r}",
        "definition": f"event source {target.split('/', 1)[0]!r}",
        "task": f"scheduled task {target!r}",
        "hook": f"hook {target}",
        "secret": "secrets",
        "catalog": "archive",
    }
    if operation.type in (op.INSTANCE_CREATE, op.INSTANCE_DELETE):
        return operation.type.split(".")[1]
    return named.get(family, family)
