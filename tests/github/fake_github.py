"""A small fake of the GitHub REST API (an external service): comments, issues, commit pulls.

Served by uvicorn on 127.0.0.1 in a thread, in-memory, with the pagination (Link headers),
auth (Bearer token → user) and error envelopes the real API uses for these endpoints.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT = {"login": "github-actions[bot]", "type": "Bot"}
HUMAN = {"login": "octocat", "type": "User"}
TOKEN = "ghs_fakeToken_canary_5e1f0b9d"
REPOSITORY = "acme/config"


@dataclass
class Store:
    """Everything the fake knows; tests read and seed it directly."""

    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    commit_pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    users: dict[str, dict[str, str]] = field(default_factory=lambda: {TOKEN: BOT})
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        """Forget everything (the server is shared by the tests of one worker)."""
        self.__init__()  # type: ignore[misc]

    def add_issue(
        self, *, title: str, body: str, labels: list[str], user: dict[str, str], pull: bool = False
    ) -> dict[str, Any]:
        number = next(self.numbers)
        issue: dict[str, Any] = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "labels": [{"name": n} for n in labels],
            "user": dict(user),
        }
        if pull:
            issue["pull_request"] = {"url": f"https://example.invalid/pulls/{number}"}
        self.issues[number] = issue
        return issue

    def add_comment(self, number: int, body: str, user: dict[str, str]) -> dict[str, Any]:
        ident = next(self.ids)
        comment = {"id": ident, "issue_number": number, "body": body, "user": dict(user)}
        self.comments[ident] = comment
        return comment

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue_number"] == number]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"message": message, "documentation_url": "https://docs.github.com"}, status_code=status
    )


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    per_page = min(int(request.query_params.get("per_page", "30")), 100)
    page = int(request.query_params.get("page", "1"))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {}
    if page * per_page < len(items):
        nxt = request.url.include_query_params(page=page + 1)
        headers["Link"] = f'<{nxt}>; rel="next"'
    return JSONResponse(chunk, headers=headers)


def build_app(store: Store) -> Starlette:
    """The ASGI app over `store`."""

    def user_of(request: Request) -> dict[str, str] | None:
        auth = request.headers.get("authorization", "")
        return store.users.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            store.requests.append((request.method, request.url.path))
            user = user_of(request)
            if user is None:
                # Like a misbehaving proxy, echo the credential: the client must redact it.
                return _error(401, f"Bad credentials ({request.headers.get('authorization')})")
            repo = f"{request.path_params['owner']}/{request.path_params['name']}"
            if repo != REPOSITORY:
                return _error(404, "Not Found")
            body = await request.json() if request.method in ("POST", "PATCH") else None
            response: Response = handler(request, user, body)
            return response

        return endpoint

    def list_comments(request: Request, user: Any, body: Any) -> Response:
        return _page(request, store.comments_on(int(request.path_params["number"])))

    def create_comment(request: Request, user: dict[str, str], body: Any) -> Response:
        number = int(request.path_params["number"])
        if number not in store.issues:
            return _error(404, "Not Found")
        if not isinstance(body, dict) or len(body.get("body", "")) > 65_536:
            return _error(422, "Validation Failed: body is too long (maximum is 65536 characters)")
        return JSONResponse(store.add_comment(number, body["body"], user), status_code=201)

    def edit_comment(request: Request, user: dict[str, str], body: Any) -> Response:
        comment = store.comments.get(int(request.path_params["id"]))
        if comment is None:
            return _error(404, "Not Found")
        if len(body.get("body", "")) > 65_536:
            return _error(422, "Validation Failed: body is too long")
        comment["body"] = body["body"]
        return JSONResponse(comment)

    def list_issues(request: Request, user: Any, body: Any) -> Response:
        state = request.query_params.get("state", "open")
        labels = [x for x in request.query_params.get("labels", "").split(",") if x]
        found = [
            i
            for i in store.issues.values()
            if (state == "all" or i["state"] == state)
            and all(any(lb["name"] == x for lb in i["labels"]) for x in labels)
        ]
        return _page(request, found)

    def create_issue(request: Request, user: dict[str, str], body: Any) -> Response:
        issue = store.add_issue(
            title=body["title"],
            body=body.get("body", ""),
            labels=list(body.get("labels", [])),
            user=user,
        )
        return JSONResponse(issue, status_code=201)

    def edit_issue(request: Request, user: Any, body: Any) -> Response:
        issue = store.issues.get(int(request.path_params["number"]))
        if issue is None:
            return _error(404, "Not Found")
        for key in ("body", "state", "state_reason", "title"):
            if key in body:
                issue[key] = body[key]
        return JSONResponse(issue)

    def commit_pulls(request: Request, user: Any, body: Any) -> Response:
        return JSONResponse(store.commit_pulls.get(request.path_params["sha"], []))

    def route(path: str, handler: Any, method: str) -> Route:
        return Route("/repos/{owner}/{name}" + path, guarded(handler), methods=[method])

    routes = [
        route("/issues/{number:int}/comments", list_comments, "GET"),
        route("/issues/{number:int}/comments", create_comment, "POST"),
        route("/issues/comments/{id:int}", edit_comment, "PATCH"),
        route("/issues", list_issues, "GET"),
        route("/issues", create_issue, "POST"),
        route("/issues/{number:int}", edit_issue, "PATCH"),
        route("/commits/{sha}/pulls", commit_pulls, "GET"),
    ]
    return Starlette(routes=routes)


class FakeGitHub:
    """The fake API served on loopback for the duration of a `with` block."""

    def __init__(self) -> None:
        self.store = Store()
        config = uvicorn.Config(
            build_app(self.store), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake GitHub API did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
