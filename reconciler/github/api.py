"""GitHub integration: sticky PR comments, drift issues, reviewed checksums, Actions files."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from reconciler.errors import GitOpsError, OutputError, UsageError
from reconciler.model.checks import is_loopback_host

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_AUTHOR = "github-actions[bot]"
MAX_BODY_CHARS = 65_536  # GitHub rejects comment and issue bodies above this
MAX_SUMMARY_BYTES = 1024 * 1024  # per step; the runner drops larger job summaries
MAX_PAGES = 50  # 5,000 comments or issues: far beyond any real pull request
_REPO_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA_RE = re.compile(r"[0-9a-fA-F]{7,40}")
_OUTPUT_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TRUNCATED = "\n\n… truncated: the full text is in the job summary and the workflow artifacts.\n"


class GitHubError(GitOpsError):
    """The GitHub API refused a call or could not be reached."""


@dataclass(frozen=True)
class GitHubContext:
    """Where and as whom to call the GitHub REST API; the token never shows in a repr."""

    api_url: str
    repository: str
    token: str = field(repr=False)
    event_path: Path | None = None
    # Only comments and issues written by this login are ever updated or trusted
    # (None = any author): a human quoting a marker must not hijack the bot's comment.
    author: str | None = DEFAULT_AUTHOR
    timeout_s: float = 20.0


def context_from_env(env: Mapping[str, str]) -> GitHubContext:
    """Build the context from the Actions variables; UsageError names what is missing."""
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        raise UsageError(
            "GITHUB_TOKEN is not set: add `GITHUB_TOKEN: ${{ github.token }}` to the step's env"
        )
    repository = env.get("GITHUB_REPOSITORY", "")
    if not _REPO_RE.fullmatch(repository):
        what = "is not set" if not repository else f"is {repository!r}, not owner/name"
        raise UsageError(f"GITHUB_REPOSITORY {what}: run inside GitHub Actions or set it")
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    _check_api_url(api_url)
    event = env.get("GITHUB_EVENT_PATH")
    author = env.get("POLYANT_GITHUB_AUTHOR", DEFAULT_AUTHOR)
    return GitHubContext(
        api_url=api_url,
        repository=repository,
        token=token,
        event_path=Path(event) if event else None,
        author=None if author in ("", "*") else author,
    )


def _check_api_url(url: str) -> None:
    # The token goes in a header: never send it in clear text off this machine.
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname or ""):
        return
    raise UsageError(f"GITHUB_API_URL {url!r} must be an https:// URL")


def pr_number(ctx: GitHubContext) -> int | None:
    """The pull request number of the triggering event, or None outside a pull request."""
    if ctx.event_path is None:
        return None
    try:
        event = json.loads(ctx.event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload {ctx.event_path}: {exc}") from exc
    if not isinstance(event, dict):
        return None
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return int(pull["number"])
    issue = event.get("issue")  # issue_comment events on a pull request
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return int(issue["number"])
    return None


def hidden_marker(marker: str) -> str:
    """The marker as an HTML comment (invisible on GitHub); plain text gets wrapped."""
    text = marker.strip()
    if not text or "\n" in text:
        raise UsageError("the marker must be one non-empty line")
    if text.startswith("<!--") and text.endswith("-->"):
        return text
    if "--" in text or ">" in text:
        raise UsageError(f"the marker {marker!r} cannot contain '--' or '>'")
    return f"<!-- {text} -->"


def checksum_line(key: str, checksum: str) -> str:
    """The hidden line a plan comment carries so that apply can find the reviewed checksum."""
    return f"<!-- polyant-gitops:checksum:{key}:{checksum} -->"


def drift_issue_marker(env_name: str) -> str:
    """The hidden line that identifies the drift issue of one environment."""
    return f"<!-- polyant-gitops:drift:{env_name} -->"


def upsert_comment(ctx: GitHubContext, *, pr: int, marker: str, body: str) -> tuple[str, int]:
    """Create, or update in place, the one comment of pull request `pr` carrying `marker`."""
    tag = hidden_marker(marker)
    text = _body_with_marker(body, tag)
    with _Api(ctx) as api:
        found = _first(api.paginate(f"issues/{pr}/comments"), ctx, tag)
        if found is None:
            created = api.call("POST", f"issues/{pr}/comments", {"body": text})
            return "created", int(created["id"])
        if found.get("body") != text:
            api.call("PATCH", f"issues/comments/{found['id']}", {"body": text})
        return "updated", int(found["id"])


def sync_drift_issue(
    ctx: GitHubContext, *, env_name: str, label: str, body: str | None
) -> tuple[str, int | None]:
    """Open, update or close the labelled drift issue of `env_name`; body None = clean."""
    if not env_name or not label:
        raise UsageError("the drift issue needs an environment name and a label")
    tag = drift_issue_marker(env_name)
    with _Api(ctx) as api:
        listed = api.paginate("issues", {"state": "open", "labels": label})
        issues = sorted(
            (i for i in listed if "pull_request" not in i and _owned(i, ctx, tag)),
            key=lambda i: int(i["number"]),
        )
        if body is None:
            for issue in issues:  # duplicates from an old race are closed too
                _close_issue(api, int(issue["number"]))
            return ("closed", int(issues[0]["number"])) if issues else ("none", None)
        text = _body_with_marker(body, tag)
        if not issues:
            payload = {"title": f"Polyant drift: {env_name}", "body": text, "labels": [label]}
            return "opened", int(api.call("POST", "issues", payload)["number"])
        number = int(issues[0]["number"])
        if issues[0].get("body") != text:
            api.call("PATCH", f"issues/{number}", {"body": text})
        return "updated", number


def _close_issue(api: _Api, number: int) -> None:
    note = "No drift any more: the engine matches the repository again. Closing."
    api.call("POST", f"issues/{number}/comments", {"body": note})
    api.call("PATCH", f"issues/{number}", {"state": "closed", "state_reason": "completed"})


def find_reviewed_checksum(ctx: GitHubContext, commit_sha: str, env_name: str) -> str | None:
    """The plan checksum for `env_name` on the pull request that merged `commit_sha`."""
    if not _SHA_RE.fullmatch(commit_sha):
        raise UsageError(f"{commit_sha!r} is not a commit sha")
    line = re.compile(
        re.escape(f"<!-- polyant-gitops:checksum:{env_name}:") + r"([0-9A-Za-z:_-]{8,200}) -->"
    )
    with _Api(ctx) as api:
        pulls = api.call("GET", f"commits/{commit_sha}/pulls")
        number = _merged_pull(pulls if isinstance(pulls, list) else [], commit_sha)
        if number is None:
            return None
        found: str | None = None
        for comment in api.paginate(f"issues/{number}/comments"):
            match = line.search(str(comment.get("body") or ""))
            if match and _trusted(comment, ctx):
                found = match.group(1)  # comments come oldest first: the last one wins
        return found


def _merged_pull(pulls: list[Any], sha: str) -> int | None:
    merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
    exact = [p for p in merged if str(p.get("merge_commit_sha") or "").startswith(sha.lower())]
    chosen = (exact or merged)[:1]
    return int(chosen[0]["number"]) if chosen else None


def _trusted(item: Mapping[str, Any], ctx: GitHubContext) -> bool:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return ctx.author is None or login == ctx.author


def _owned(item: Mapping[str, Any], ctx: GitHubContext, tag: str) -> bool:
    return tag in str(item.get("body") or "") and _trusted(item, ctx)


def _first(items: Iterator[dict[str, Any]], ctx: GitHubContext, tag: str) -> dict[str, Any] | None:
    return next((item for item in items if _owned(item, ctx, tag)), None)


def _body_with_marker(body: str, tag: str) -> str:
    text = body if tag in body else f"{tag}\n{body}"
    if len(text) <= MAX_BODY_CHARS:
        return text
    # The marker (and a checksum line) sit at the top, so cutting the tail keeps them.
    return text[: MAX_BODY_CHARS - len(_TRUNCATED)] + _TRUNCATED


class _Api:
    """A small GitHub REST client bound to one repository; errors become GitHubError."""

    def __init__(self, ctx: GitHubContext) -> None:
        self._ctx = ctx
        self._base = f"{ctx.api_url}/repos/{ctx.repository}/"
        self._client = httpx.Client(
            headers={
                "Authorization": f"Bearer {ctx.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "polyant-gitops",
            },
            timeout=ctx.timeout_s,
            follow_redirects=False,
        )

    def __enter__(self) -> _Api:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._client.close()

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        """One request under /repos/{owner}/{name}/; returns the decoded JSON."""
        return self._send(method, self._base + path, body).json()

    def paginate(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following the Link rel="next" pages."""
        url: str | None = f"{self._base}{path}?" + urlencode({"per_page": 100, **(params or {})})
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._send("GET", url, None)
            items = response.json()
            yield from (
                i for i in (items if isinstance(items, list) else []) if isinstance(i, dict)
            )
            url = response.links.get("next", {}).get("url")
            if url is not None and not url.startswith(self._ctx.api_url + "/"):
                raise GitHubError(f"GitHub API sent a next page outside {self._ctx.api_url}")

    def _send(self, method: str, url: str, body: object | None) -> httpx.Response:
        where = f"{method} {url.removeprefix(self._ctx.api_url).split('?')[0]}"
        try:
            response = self._client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise GitHubError(
                f"GitHub API unreachable ({where}): {type(exc).__name__}; check GITHUB_API_URL"
            ) from exc
        if response.status_code >= 400:
            raise GitHubError(self._redact(f"GitHub API {where} failed: {_explain(response)}"))
        return response

    def _redact(self, text: str) -> str:
        # An API or proxy echoing the request must not leak the token into a log.
        return text.replace(self._ctx.token, "***") if self._ctx.token else text


_HINTS = {
    401: "GITHUB_TOKEN is invalid or expired",
    403: "the token lacks a permission: the job needs `pull-requests: write` to comment, "
    "`issues: write` for drift issues (fork pull requests only get a read-only token)",
    404: "check GITHUB_REPOSITORY and the pull request or commit, and the token's access",
}


def _explain(response: httpx.Response) -> str:
    try:
        message = str(response.json().get("message", ""))
    except (ValueError, AttributeError):
        message = ""
    hint = _HINTS.get(response.status_code, "")
    parts = [p for p in (message[:300], hint) if p]
    return f"{response.status_code} " + ("; ".join(parts) if parts else response.reason_phrase)


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Append step outputs to $GITHUB_OUTPUT; multi-line values use a heredoc delimiter."""
    text = "".join(_output_entry(key, value) for key, value in values.items())
    try:
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write GITHUB_OUTPUT {path}: {exc.strerror or exc}") from exc


def _output_entry(key: str, value: str) -> str:
    if not _OUTPUT_KEY_RE.fullmatch(key):
        raise UsageError(f"{key!r} is not a valid step output name")
    if "\n" not in value and "\r" not in value:
        return f"{key}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:  # astronomically unlikely, but a collision would corrupt outputs
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{key}<<{delimiter}\n{value}\n{delimiter}\n"


def append_summary(path: Path, markdown: str) -> None:
    """Append Markdown to $GITHUB_STEP_SUMMARY, cut to the runner's 1 MiB per step."""
    try:
        _append_summary(path, markdown)
    except OSError as exc:
        raise OutputError(
            f"cannot write GITHUB_STEP_SUMMARY {path}: {exc.strerror or exc}"
        ) from exc


def _append_summary(path: Path, markdown: str) -> None:
    used = path.stat().st_size if path.is_file() else 0
    budget = MAX_SUMMARY_BYTES - used
    data = (markdown if markdown.endswith("\n") else markdown + "\n").encode("utf-8")
    note = "\n… summary truncated (GitHub keeps 1 MiB per step); see the artifacts.\n".encode()
    if len(data) > budget:
        if budget <= len(note):
            return
        data = data[: budget - len(note)].decode("utf-8", errors="ignore").encode() + note
    with path.open("ab") as handle:
        handle.write(data)
