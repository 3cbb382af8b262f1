"""What a plan must do differently per engine line (pure): unmanaged settings, wipes, prunes.

- Settings the engine does not have (develop's instance settings on main 172e0bc) are
  dropped from the desired side with a warning, so they are neither planned nor written.
- An `embeddingProvider` change on an existing instance wipes its memories and knowledge:
  the plan is unsafe unless the instance file says `confirmWipe: true`, and then the
  change carries that acknowledgement to the engine.
- Deleting an instance on an engine that deletes its conversations, memories and
  knowledge with it (develop on) is said in the plan.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic.alias_generators import to_camel

from reconciler.model.enginefacts import NEWER_SETTINGS
from reconciler.model.engineline import MAIN, Capabilities
from reconciler.model.managed import managed_fields, with_managed
from reconciler.model.objects import Instance, State
from reconciler.plan.changes import Notice, Plan

WIPE_FIELD = "embeddingProvider"
# develop reads the AI provider's AWS credentials under new keys (the fileUpload tool still
# uses the old ones): a bedrock instance that declares only the old ones has no provider keys.
RENAMED_SECRETS = {
    "aws_access_key_id": "aws_provider_access_key_id",
    "aws_secret_access_key": "aws_provider_secret_access_key",
    "aws_region": "aws_provider_region",
}


def fit_desired(state: State, caps: Capabilities) -> tuple[State, list[Notice]]:
    """The desired state without settings the engine lacks, and a warning for each."""
    notices: list[Notice] = []
    instances: dict[str, Instance] = {}
    for slug, original in state.instances.items():
        inst = original
        if not caps.catalog:
            # enable/disable answer 403 there too, and which tools the skills bring cannot
            # be read, so the manual tool list cannot be told apart from them either.
            inst = _without(original, {"skills", "manual_tools"})
        missing = _lacking(inst, caps)
        if missing:
            names = ", ".join(to_camel(n) for n in missing)
            message = (
                f"{names}: set in the repository, but engine {caps.label} has no such "
                "setting; left unmanaged (it takes effect on a newer engine)"
            )
            notices.append(Notice("warning", f"instance/{slug}", message))
            inst = _without(inst, set(missing))
        instances[slug] = inst
        notices += _renamed(slug, inst, caps)
    skills = state.skills if caps.catalog else {}
    return State.model_construct(instances=instances, skills=skills), notices


def _lacking(inst: Instance, caps: Capabilities) -> list[str]:
    """The fields `inst` manages that the engine does not have."""
    fields = inst.model_fields_set
    out = [n for n in NEWER_SETTINGS if n in fields and to_camel(n) not in caps.settings]
    return out + (["hooks"] if not caps.hooks and "hooks" in fields else [])


def _renamed(slug: str, inst: Instance, caps: Capabilities) -> list[Notice]:
    if caps.line == MAIN or inst.provider != "bedrock" or inst.secrets is None:
        return []
    old = [k for k, new in RENAMED_SECRETS.items() if k in inst.secrets and new not in inst.secrets]
    if not old:
        return []
    pairs = ", ".join(f"{k} → {RENAMED_SECRETS[k]}" for k in old)
    return [
        Notice(
            "warning",
            f"instance/{slug}",
            f"engine {caps.label} reads Bedrock's AWS credentials under new secret keys "
            f"({pairs}; or bedrock_api_key): declare and supply the new ones",
        )
    ]


def _without(inst: Instance, names: set[str]) -> Instance:
    # Collections are managed when not None; scalars when in the managed set.
    cleared = dict.fromkeys(names & {"hooks", "skills", "manual_tools"})
    return with_managed(inst, cleared, managed=managed_fields(inst) - names)


def review(plan: Plan, caps: Capabilities) -> Plan:
    """The plan with the engine line, wipe refusals and data-loss warnings added."""
    notices: list[Notice] = []
    unsafe: list[str] = []
    for change in plan.changes:
        if change.kind != "instance":
            continue
        key = change.key
        if change.action == "delete" and caps.deletes_instance_data:
            notices.append(_data_loss(key, caps))
        wipe = next((f for f in change.fields if f.path == WIPE_FIELD), None)
        if change.action == "update" and wipe is not None:
            what = _wipe(wipe.old, wipe.new)
            if _confirmed(change.desired):
                notices.append(Notice("warning", key, f"{what}; confirmWipe: true allows it"))
            else:
                unsafe.append(
                    f"{key}: {what}; write confirmWipe: true in its instance file to allow it"
                )
    return replace(
        plan,
        engine_line=caps.label,
        notices=(*plan.notices, *notices),
        unsafe_reasons=(*plan.unsafe_reasons, *unsafe),
    )


def _data_loss(key: str, caps: Capabilities) -> Notice:
    """The warning that deleting instance `key` on this engine line deletes its data too."""
    return Notice(
        "warning",
        key,
        f"deleting this instance on engine {caps.label} also deletes its "
        "conversations, memories, knowledge base and scheduled tasks, for good",
    )


def _confirmed(desired: Any) -> bool:
    return isinstance(desired, Instance) and desired.confirm_wipe


def _wipe(old: Any, new: Any) -> str:
    return (
        f"embeddingProvider {old} → {new} permanently deletes this instance's memories "
        "and its whole knowledge base (embeddings cannot be converted)"
    )
