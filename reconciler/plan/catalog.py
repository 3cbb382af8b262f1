"""Catalog skills in a plan: the import entry of a new or changed skill (pure).

ONE ``POST /api/skills/catalog/import`` carries every new or changed skill (batched under
the body limit by apply) because it is the only route that sets display name, category,
extra metadata and scripts. Each entry has a single version string that cannot exist on
the engine (``gitops-<hash>``), so the engine creates or updates it instead of skipping it
(§6.8). A skill is imported only when the plan says it differs, because every import of an
existing skill adds a version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.model.managed import managed_fields
from reconciler.model.objects import Skill

ENTRY_FIELDS = ("name", "description", "category", "required_env", "required_tools", "metadata")


def catalog_entry(desired: Skill, live: Skill | None) -> dict[str, Any]:
    """One import entry; fields the repo leaves unmanaged keep their live values."""
    managed = managed_fields(desired)
    src = {
        n: getattr(live if live is not None and n not in managed else desired, n)
        for n in (*ENTRY_FIELDS, "scripts")
    }
    meta = dict(src["metadata"])
    if src["required_env"]:
        meta["requiredEnv"] = [e.model_dump(exclude_none=True) for e in src["required_env"]]
    if src["required_tools"]:
        meta["requiredTools"] = list(src["required_tools"])
    version = {
        "content": desired.content,
        "metadata": meta,
        "scripts": [s.model_dump() for s in src["scripts"]],
    }
    head = {"name": src["name"], "description": src["description"], "category": src["category"]}
    digest = hashlib.sha256(json.dumps([head, version], sort_keys=True).encode()).hexdigest()
    version |= {"version": f"gitops-{digest[:12]}", "changelog": "Applied by polyant-gitops"}
    return {"slug": desired.slug, **head, "isDefault": False, "versions": [version]}
