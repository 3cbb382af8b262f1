"""What the engine in front of us can do, detected once per run from what it answers (pure).

Nothing here is a fixed list of "the" engine: the lines we know (main 172e0bc, develop
5e59498) only name what was seen. Three answers decide: the instance DTOs (which settings
exist), `GET /api/instances/models` (the models, and develop's `supportsTemperature`) and
a probe of the hooks route (develop answers "Instance not found", main "Cannot GET").
An engine answering anything we do not know is planned as the newest known line, with a
warning naming what was not understood, never silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MAIN = "main"
DEVELOP = "develop"
NEWER = "newer"
LINE_COMMITS = {MAIN: "172e0bc", DEVELOP: "5e59498"}
# Bundle versions each line exports (and so accepts on import).
BUNDLE_VERSIONS = {MAIN: ("1.0",), DEVELOP: ("1.0", "1.1")}
KNOWN_BUNDLE_VERSIONS = frozenset({"1.0", "1.1"})

MAIN_DTO_FIELDS = frozenset(
    """id slug name description status provider model memoryEnabled knowledgeEnabled
    langsmithEnabled langsmithProject authEnabled thinkingEnabled sttProvider icon createdAt
    updatedAt""".split()
)
# Instance settings develop added (engine names); all manageable through PATCH.
DEVELOP_SETTINGS: tuple[str, ...] = (
    "temperature",
    "stateInPromptEnabled",
    "toolResultsInHistoryEnabled",
    "debugEnabled",
    "optoutEnabled",
    "optoutStopKeywords",
    "optoutResumeKeywords",
    "optoutClosingMessage",
    "optoutResumeMessage",
    "optoutInjectPromptHint",
    "embeddingProvider",
    "embeddingDim",
)
KNOWN_DTO_FIELDS = MAIN_DTO_FIELDS | set(DEVELOP_SETTINGS) | {"memory"}
_MODEL_KEYS = frozenset({"id", "tier", "costInput", "costOutput", "supportsThinking"})


@dataclass(frozen=True)
class Capabilities:
    """The engine's line and what it offers; every read, plan and write asks this."""

    line: str = MAIN
    models: Mapping[str, frozenset[str]] = field(default_factory=dict)
    settings: frozenset[str] = frozenset()
    hooks: bool = False
    paginated_tasks: bool = False
    unknown: tuple[str, ...] = ()
    # False when the skills catalog answers 403 to everyone (develop, AUTHZ_ENFORCE=true).
    catalog: bool = True

    @property
    def label(self) -> str:
        """How plans name the line, e.g. 'develop (5e59498)'."""
        if self.line == NEWER:
            return f"newer than develop ({LINE_COMMITS[DEVELOP]})"
        return f"{self.line} ({LINE_COMMITS[self.line]})"

    @property
    def bundle_version(self) -> str:
        """The newest instance bundle version the engine accepts on import."""
        return "1.0" if self.line == MAIN else "1.1"

    @property
    def deletes_instance_data(self) -> bool:
        """True when DELETE of an instance also deletes its conversations, memories, knowledge."""
        return self.line != MAIN

    def warnings(self) -> list[str]:
        """What the plan must say about the engine (empty for a known line)."""
        if not self.unknown:
            return []
        return [
            f"the engine is newer than any line this tool knows (it answers "
            f"{', '.join(self.unknown)}); planned as develop ({LINE_COMMITS[DEVELOP]}): "
            "what it adds is not managed and may be left as it is; upgrade polyant-gitops"
        ]


def detect(
    dtos: Iterable[Mapping[str, Any]], models_answer: Any, hooks_route: bool | None
) -> Capabilities:
    """Capabilities from the instance list, the models answer and the hooks probe."""
    seen: set[str] = set()
    for dto in dtos:
        seen |= set(dto)
    models, model_keys = _models(models_answer)
    temperature = "supportsTemperature" in model_keys
    settings = frozenset(seen & set(DEVELOP_SETTINGS))
    develop = bool(settings) or temperature or bool(hooks_route)
    unknown = sorted(seen - KNOWN_DTO_FIELDS)
    unknown += sorted(
        f"model field {k}" for k in model_keys - _MODEL_KEYS - {"supportsTemperature"}
    )
    if develop and not seen:  # no instance to look at: assume the line's full set
        settings = frozenset(DEVELOP_SETTINGS)
    line = NEWER if unknown else DEVELOP if develop else MAIN
    return Capabilities(
        line=line,
        models=models,
        settings=settings,
        hooks=bool(hooks_route) if hooks_route is not None else develop,
        paginated_tasks=develop,
        unknown=tuple(f"instance field {u}" if " " not in u else u for u in unknown),
    )


def _models(answer: Any) -> tuple[dict[str, frozenset[str]], set[str]]:
    providers = answer.get("providers") if isinstance(answer, dict) else None
    out: dict[str, frozenset[str]] = {}
    keys: set[str] = set()
    for name, entry in (providers or {}).items():
        listed = entry.get("models") if isinstance(entry, dict) else None
        rows = [m for m in listed or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
        out[str(name)] = frozenset(str(m["id"]) for m in rows)
        for row in rows:
            keys |= set(row)
    return out, keys


def with_bundle_version(caps: Capabilities, version: str) -> Capabilities:
    """Caps updated by an export's version: an unknown one marks a newer engine."""
    if version in KNOWN_BUNDLE_VERSIONS or f"bundle version {version}" in caps.unknown:
        return caps
    return replace(caps, line=NEWER, unknown=(*caps.unknown, f"bundle version {version}"))
