"""Sticky comments, drift issues and reviewed checksums against the fake GitHub API."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import UsageError
from reconciler.github.api import (
    MAX_BODY_CHARS,
    GitHubContext,
    GitHubError,
    checksum_line,
    find_reviewed_checksum,
    sync_drift_issue,
    upsert_comment,
)

from .fake_github import BOT, HUMAN, TOKEN, FakeGitHub

STAGING = "<!-- polyant-gitops:plan:staging -->"
PRODUCTION = "<!-- polyant-gitops:plan:production -->"
SHA = "a" * 64


def _pr(fake: FakeGitHub) -> int:
    return int(
        fake.store.add_issue(title="PR", body="", labels=[], user=HUMAN, pull=True)["number"]
    )


def test_upsert_twice_keeps_one_comment_updated_in_place(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    pr = _pr(fake_github)
    first = upsert_comment(gh_ctx, pr=pr, marker=STAGING, body=f"{STAGING}\nplan one")
    second = upsert_comment(gh_ctx, pr=pr, marker=STAGING, body=f"{STAGING}\nplan two")
    comments = fake_github.store.comments_on(pr)
    assert first[0] == "created" and second == ("updated", first[1])
    assert len(comments) == 1
    assert comments[0]["body"] == f"{STAGING}\nplan two"


def test_unchanged_body_sends_no_write(fake_github: FakeGitHub, gh_ctx: GitHubContext) -> None:
    pr = _pr(fake_github)
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="same")
    fake_github.store.requests.clear()
    assert upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="same")[0] == "updated"
    assert [m for m, _ in fake_github.store.requests] == ["GET"]


def test_two_environments_get_two_comments(fake_github: FakeGitHub, gh_ctx: GitHubContext) -> None:
    pr = _pr(fake_github)
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="staging plan")
    upsert_comment(gh_ctx, pr=pr, marker=PRODUCTION, body="production plan")
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="staging plan v2")
    bodies = sorted(c["body"] for c in fake_github.store.comments_on(pr))
    assert bodies == [f"{PRODUCTION}\nproduction plan", f"{STAGING}\nstaging plan v2"]


def test_shard_marker_does_not_match_the_environment_marker(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    pr = _pr(fake_github)
    shard = "<!-- polyant-gitops:plan:staging:1/2 -->"
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="whole")
    upsert_comment(gh_ctx, pr=pr, marker=shard, body="shard one")
    assert len(fake_github.store.comments_on(pr)) == 2


def test_plain_marker_is_hidden_as_an_html_comment(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    pr = _pr(fake_github)
    upsert_comment(gh_ctx, pr=pr, marker="polyant-gitops:plan:staging", body="plan")
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="plan 2")
    (comment,) = fake_github.store.comments_on(pr)
    assert comment["body"] == f"{STAGING}\nplan 2"


def test_a_human_comment_quoting_the_marker_is_never_edited(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    pr = _pr(fake_github)
    human = fake_github.store.add_comment(pr, f"look: {STAGING}", HUMAN)
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="plan")
    assert fake_github.store.comments[human["id"]]["body"] == f"look: {STAGING}"
    assert len(fake_github.store.comments_on(pr)) == 2


def test_marker_found_on_a_later_page(fake_github: FakeGitHub, gh_ctx: GitHubContext) -> None:
    pr = _pr(fake_github)
    for n in range(230):
        fake_github.store.add_comment(pr, f"chatter {n}", HUMAN)
    created = fake_github.store.add_comment(pr, f"{STAGING}\nold", BOT)
    assert upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="new") == ("updated", created["id"])
    assert fake_github.store.comments[created["id"]]["body"] == f"{STAGING}\nnew"


def test_oversized_body_is_cut_but_keeps_its_marker(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    pr = _pr(fake_github)
    upsert_comment(gh_ctx, pr=pr, marker=STAGING, body="x" * 100_000)
    (comment,) = fake_github.store.comments_on(pr)
    assert len(comment["body"]) <= MAX_BODY_CHARS
    assert comment["body"].startswith(STAGING) and "truncated" in comment["body"]


def test_bad_token_error_names_the_fix_and_never_the_token(fake_github: FakeGitHub) -> None:
    wrong = "ghs_wrong_canary_77aa"
    ctx = GitHubContext(api_url=fake_github.url, repository="acme/config", token=wrong)
    with pytest.raises(GitHubError) as caught:
        upsert_comment(ctx, pr=1, marker=STAGING, body="x")
    message = str(caught.value)
    assert "401" in message and "GITHUB_TOKEN" in message
    assert wrong not in message and wrong not in repr(ctx)


def test_unknown_repository_is_a_clear_error(fake_github: FakeGitHub) -> None:
    ctx = GitHubContext(api_url=fake_github.url, repository="acme/other", token=TOKEN)
    with pytest.raises(GitHubError, match=r"404.*GITHUB_REPOSITORY"):
        upsert_comment(ctx, pr=1, marker=STAGING, body="x")


def test_unreachable_api_is_one_clear_line() -> None:
    ctx = GitHubContext(api_url="http://127.0.0.1:9", repository="acme/config", token=TOKEN)
    with pytest.raises(GitHubError, match=r"unreachable.*GITHUB_API_URL"):
        upsert_comment(ctx, pr=1, marker=STAGING, body="x")


def _drift_issues(fake: FakeGitHub) -> list[dict[str, Any]]:
    return [i for i in fake.store.issues.values() if "pull_request" not in i]


def test_drift_issue_opened_updated_then_closed(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    _pr(fake_github)  # the issues list also returns pull requests: they must be ignored
    opened = sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body="drift 1")
    updated = sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body="drift 2")
    (issue,) = _drift_issues(fake_github)
    assert opened == ("opened", issue["number"]) and updated == ("updated", issue["number"])
    assert issue["labels"] == [{"name": "polyant-drift"}]
    assert issue["title"] == "Polyant drift: staging"
    assert str(issue["body"]).endswith("drift 2") and issue["state"] == "open"
    closed = sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body=None)
    assert closed == ("closed", issue["number"])
    assert issue["state"] == "closed" and issue["state_reason"] == "completed"
    assert "No drift" in fake_github.store.comments_on(int(str(issue["number"])))[0]["body"]


def test_clean_run_without_an_issue_does_nothing(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    assert sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body=None) == (
        "none",
        None,
    )
    assert not fake_github.store.issues
    assert all(method == "GET" for method, _ in fake_github.store.requests)


def test_drift_resumes_with_a_new_issue_after_closing(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    first = sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body="a")
    sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body=None)
    again = sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body="b")
    assert again[0] == "opened" and again[1] != first[1]


def test_each_environment_has_its_own_issue(fake_github: FakeGitHub, gh_ctx: GitHubContext) -> None:
    sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body="s")
    sync_drift_issue(gh_ctx, env_name="production", label="polyant-drift", body="p")
    sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body=None)
    states = {str(i["title"]): i["state"] for i in _drift_issues(fake_github)}
    assert states == {"Polyant drift: staging": "closed", "Polyant drift: production": "open"}


def test_a_human_issue_with_the_marker_is_left_alone(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    human = fake_github.store.add_issue(
        title="copy",
        body="<!-- polyant-gitops:drift:staging -->",
        labels=["polyant-drift"],
        user=HUMAN,
    )
    assert sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body="d")[0] == (
        "opened"
    )
    sync_drift_issue(gh_ctx, env_name="staging", label="polyant-drift", body=None)
    assert human["state"] == "open"


def _merged(fake: FakeGitHub, merge_sha: str, *, checksum: str, key: str = "staging") -> int:
    pr = _pr(fake)
    fake.store.commit_pulls[merge_sha] = [
        {"number": pr, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": merge_sha}
    ]
    fake.store.add_comment(pr, f"{STAGING}\n{checksum_line(key, checksum)}\nplan", BOT)
    return pr


def test_finds_the_checksum_of_the_pr_that_merged_the_commit(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    commit = "c0ffee" + "0" * 34
    _merged(fake_github, "d" * 40, checksum="b" * 64)  # another PR, another commit
    _merged(fake_github, commit, checksum=SHA)
    assert find_reviewed_checksum(gh_ctx, commit, "staging") == SHA
    assert find_reviewed_checksum(gh_ctx, commit, "production") is None
    assert find_reviewed_checksum(gh_ctx, "e" * 40, "staging") is None


def test_shard_checksums_are_keyed_apart(fake_github: FakeGitHub, gh_ctx: GitHubContext) -> None:
    commit = "1" * 40
    pr = _merged(fake_github, commit, checksum="b" * 64, key="staging:1/2")
    fake_github.store.add_comment(pr, checksum_line("staging:2/2", "c" * 64), BOT)
    assert find_reviewed_checksum(gh_ctx, commit, "staging:2/2") == "c" * 64
    assert find_reviewed_checksum(gh_ctx, commit, "staging:1/2") == "b" * 64
    assert find_reviewed_checksum(gh_ctx, commit, "staging") is None


def test_checksum_from_an_untrusted_author_is_ignored(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    commit = "2" * 40
    pr = _merged(fake_github, commit, checksum=SHA)
    fake_github.store.add_comment(pr, checksum_line("staging", "f" * 64), HUMAN)
    assert find_reviewed_checksum(gh_ctx, commit, "staging") == SHA
    anyone = replace(gh_ctx, author=None)
    assert find_reviewed_checksum(anyone, commit, "staging") == "f" * 64


def test_unmerged_pull_request_has_no_reviewed_checksum(
    fake_github: FakeGitHub, gh_ctx: GitHubContext
) -> None:
    commit = "3" * 40
    pr = _merged(fake_github, commit, checksum=SHA)
    fake_github.store.commit_pulls[commit] = [{"number": pr, "merged_at": None}]
    assert find_reviewed_checksum(gh_ctx, commit, "staging") is None


def test_commit_must_look_like_a_sha(gh_ctx: GitHubContext) -> None:
    with pytest.raises(UsageError, match="not a commit sha"):
        find_reviewed_checksum(gh_ctx, "main; rm -rf /", "staging")
