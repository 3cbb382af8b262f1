"""A Polyant-compatible sandbox engine (an independent second reading of the contract)."""

from .app import RequestRecord
from .auth import mint_token, verify_token
from .faults import FaultKind, FaultPlan, FaultRule
from .server import SandboxServer, serve

__all__ = [
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "RequestRecord",
    "SandboxServer",
    "mint_token",
    "serve",
    "verify_token",
]
