"""Talking to the Polyant engine: the paced HTTP client, the live read, the plan executor."""

from reconciler.engine.client import ClientStats, EngineClient, EngineConfig
from reconciler.engine.lists import read_skill_versions
from reconciler.engine.read import read_live

__all__ = ["ClientStats", "EngineClient", "EngineConfig", "read_live", "read_skill_versions"]
