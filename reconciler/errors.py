"""The project's one error tree; third-party errors are translated into it at the boundary.

GitOpsError                  every error the CLI turns into one clear line and exit 1
├── ConfigError              the repo or polyant.yaml is invalid (carries Problems)
├── UsageError               a command was asked for something it cannot do
│   └── ArgumentError        a bad option value (--shard 5/4, unknown --env): exit 2
├── NotARepo                 no polyant.yaml where the command looked: never "clean"
├── PlanError                a saved plan is stale, foreign, tampered with or unsafe
│   └── UnsafePlan           a safety threshold refused the plan (exit 4)
├── GitError                 a git revision is missing or the clone is too shallow
└── EngineError              anything that went wrong talking to the engine
    ├── EngineUnavailable    connection refused / DNS / TLS: the URL is wrong or down
    ├── EngineTimeout        the engine did not answer in time
    ├── AuthRejected         401: the token is missing, wrong or expired
    ├── NotFound             404: the named object does not exist
    ├── Throttled            429 storm: the budget is shared with another client
    ├── RequestTooLarge      500 after a body over 100 KB: names the object
    └── EngineRejected       any other 4xx/5xx, with the engine's message
"""

from __future__ import annotations

from dataclasses import dataclass

# The CLI's exit codes (design §5): every command returns one of these.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CHANGES, EXIT_UNSAFE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Problem:
    """One finding in the repo: where it is and what to do about it."""

    file: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class GitOpsError(Exception):
    """Base of every error the CLI reports as one line with exit code 1."""

    exit_code = EXIT_ERROR


class ConfigError(GitOpsError):
    """The repository or polyant.yaml is invalid; every problem is listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the repository")


class UsageError(GitOpsError):
    """A command was asked for something it cannot do."""


class ArgumentError(UsageError):
    """An option or argument value the command cannot accept (exit 2, like click's)."""

    exit_code = 2


class NotARepo(GitOpsError):
    """The folder is not a config repository: no polyant.yaml there or above."""


class OutputError(GitOpsError):
    """A file the run must write (a plan, a report, a GitHub Actions file) cannot be written."""


class PlanError(GitOpsError):
    """A saved plan cannot be applied as it is."""


class UnsafePlan(PlanError):
    """A safety threshold refused the plan; --force overrides."""

    exit_code = EXIT_UNSAFE


class GitError(GitOpsError):
    """A git revision is missing, or the clone lacks the history needed."""


class EngineError(GitOpsError):
    """Anything that went wrong talking to the engine.

    ``maybe_committed`` is True when a write may have landed although no answer came
    (connection dropped or timed out after sending): callers re-read instead of retrying.
    """

    maybe_committed: bool = False


class EngineUnavailable(EngineError):
    """The engine could not be reached at its URL."""


class EngineTimeout(EngineError):
    """The engine did not answer within the client timeout."""


class AuthRejected(EngineError):
    """The engine rejected the token (401)."""


class NotFound(EngineError):
    """The engine says the named object does not exist (404)."""


class Throttled(EngineError):
    """The engine kept answering 429 although we paced ourselves."""


class RequestTooLarge(EngineError):
    """The engine failed on a request body over its 100 KB parser limit."""


class EngineRejected(EngineError):
    """The engine refused a request with a 4xx/5xx status."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)
