"""Capability detection against a live engine; the facts and rules live in model.engineline."""

from __future__ import annotations

from functools import partial

from reconciler.engine.client import EngineClient
from reconciler.model.engineline import Capabilities, detect

TASK_PAGE = 500  # develop's hard maximum per page of scheduled tasks


def detect_engine(client: EngineClient) -> Capabilities:
    """The engine's capabilities on their own (two GETs), for commands that do not read."""
    jobs = [
        partial(client.get, "/api/instances", what="instance list"),
        partial(client.get, "/api/instances/models", what="the engine's model list"),
    ]
    listing, models = client.parallel(jobs)
    dtos = listing.get("instances") if isinstance(listing, dict) else None
    rows = [d for d in dtos or [] if isinstance(d, dict)]
    return detect(rows, models, None)
