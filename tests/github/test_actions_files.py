"""$GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, the event payload and the context from env."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.errors import UsageError
from reconciler.github.api import (
    DEFAULT_API_URL,
    MAX_SUMMARY_BYTES,
    GitHubContext,
    append_summary,
    context_from_env,
    pr_number,
    write_outputs,
)


def runner_parse(text: str) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file the way actions/runner does (FileCommandManager).

    Lines end at \\n, \\r\\n or \\r (.NET ReadLine); `key=value` when '=' comes before '<<',
    else `key<<DELIMITER` followed by lines up to one equal to the delimiter, joined by \\n.
    """
    lines = iter(re.split(r"\r\n|\r|\n", text))
    out: dict[str, str] = {}
    for line in lines:
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            key, value = line[:eq], line[eq + 1 :]
        elif heredoc >= 0:
            key, delimiter = line[:heredoc], line[heredoc + 2 :]
            assert key and delimiter, f"invalid heredoc line {line!r}"
            body: list[str] = []
            for candidate in lines:
                if candidate == delimiter:
                    break
                body.append(candidate)
            else:
                raise AssertionError(f"matching delimiter not found for {key!r}")
            value = "\n".join(body)
        else:
            raise AssertionError(f"invalid format {line!r}")
        assert key, "empty key"
        out[key] = value
    return out


VALUES = {
    "has_changes": "true",
    "checksum": "0" * 64,
    "empty": "",
    "equals": "a=b=c",
    "arrows": "x<<y",
    "multi": "line one\nline two\n\nline four",
    "trailing": "ends with a newline\n",
    "sneaky": "ghadelimiter_1234\nEOF\n=\n<<",
    "unicode": "héllo ✓",
}


def test_outputs_parse_as_the_runner_reads_them(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("earlier=kept\n", encoding="utf-8")
    write_outputs(out, VALUES)
    parsed = runner_parse(out.read_text(encoding="utf-8"))
    assert parsed == {"earlier": "kept", **VALUES}


def test_carriage_returns_cannot_break_out_of_a_value(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_outputs(out, {"a": "one\rinjected=1", "b": "ok"})
    parsed = runner_parse(out.read_text(encoding="utf-8"))
    assert parsed == {"a": "one\ninjected=1", "b": "ok"}


@pytest.mark.parametrize("key", ["", "a=b", "a<<b", "two\nlines", "1st"])
def test_invalid_output_names_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(UsageError, match="output name"):
        write_outputs(tmp_path / "output", {key: "x"})


def test_summary_is_appended_with_a_final_newline(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    append_summary(summary, "## one")
    append_summary(summary, "## two\n")
    assert summary.read_text(encoding="utf-8") == "## one\n## two\n"


def test_summary_is_cut_to_the_runner_limit(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_bytes(b"x" * 1000)
    append_summary(summary, "é" * MAX_SUMMARY_BYTES)
    data = summary.read_bytes()
    assert len(data) <= MAX_SUMMARY_BYTES
    assert "truncated" in data.decode("utf-8")  # still valid UTF-8 after the cut


def test_full_summary_gets_nothing_more(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_bytes(b"x" * MAX_SUMMARY_BYTES)
    append_summary(summary, "more")
    assert summary.stat().st_size == MAX_SUMMARY_BYTES


def _ctx(event: Path | None) -> GitHubContext:
    return GitHubContext(api_url=DEFAULT_API_URL, repository="a/b", token="t", event_path=event)


def test_pr_number_from_the_event_payloads(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {"number": 7}}), encoding="utf-8")
    assert pr_number(_ctx(event)) == 7
    event.write_text(json.dumps({"issue": {"number": 9, "pull_request": {}}}), encoding="utf-8")
    assert pr_number(_ctx(event)) == 9
    event.write_text(json.dumps({"issue": {"number": 9}}), encoding="utf-8")
    assert pr_number(_ctx(event)) is None
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": "abc"}), encoding="utf-8")
    assert pr_number(_ctx(event)) is None
    assert pr_number(_ctx(None)) is None


def test_unreadable_event_payload_is_a_usage_error(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="event payload"):
        pr_number(_ctx(event))


ENV = {"GITHUB_TOKEN": "ghs_canary_token_41", "GITHUB_REPOSITORY": "acme/config"}


def test_context_from_env_defaults_and_hides_the_token(tmp_path: Path) -> None:
    ctx = context_from_env({**ENV, "GITHUB_EVENT_PATH": str(tmp_path / "e.json")})
    assert ctx.api_url == "https://api.github.com" and ctx.repository == "acme/config"
    assert ctx.event_path == tmp_path / "e.json" and ctx.author == "github-actions[bot]"
    assert "ghs_canary_token_41" not in repr(ctx) and "ghs_canary_token_41" not in str(ctx)
    enterprise = context_from_env({**ENV, "GITHUB_API_URL": "https://ghe.example/api/v3/"})
    assert enterprise.api_url == "https://ghe.example/api/v3"
    assert context_from_env({**ENV, "POLYANT_GITHUB_AUTHOR": "*"}).author is None


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"GITHUB_REPOSITORY": "acme/config"}, "GITHUB_TOKEN"),
        ({"GITHUB_TOKEN": "t"}, "GITHUB_REPOSITORY is not set"),
        ({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "acme"}, "not owner/name"),
        ({**ENV, "GITHUB_API_URL": "http://api.github.com"}, "https"),
    ],
)
def test_context_from_env_names_what_is_missing(env: dict[str, str], names: str) -> None:
    with pytest.raises(UsageError, match=names) as caught:
        context_from_env(env)
    assert "ghs_canary_token_41" not in str(caught.value)


def test_plain_http_is_allowed_on_loopback_only() -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"):
        assert context_from_env({**ENV, "GITHUB_API_URL": url}).api_url == url
    with pytest.raises(UsageError):
        context_from_env({**ENV, "GITHUB_API_URL": "http://10.0.0.1"})
