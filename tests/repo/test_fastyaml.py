"""The libyaml read path yields exactly the values the checked round-trip parser yields."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import fastyaml
from reconciler.config.yamlio import (
    _LONG_INT_RE,
    MAX_DEPTH,
    Problems,
    dump_yaml,
    load_yaml,
    parse_yaml,
    plain,
)

SCALARS = [
    "no", "yes", "on", "off", "No", "Y", "n", "true", "True", "TRUE", "false", "FALSE",
    "null", "Null", "NULL", "~", "", "0", "-0", "+5", "017", "08", "0o17", "0x1F", "0b101",
    "1_000", "012_3", "1.5", "1e3", "-1.5e-3", ".5", ".inf", "-.Inf", ".NaN", "1:30",
    "190:20:30", "2024-01-01", "2024-01-01 10:00:00", "2001-12-14t21:59:43.10-05:00",
    "0 8 * * 1-5", "a: b", "x #y", "é", "=", "<<", "- a", "'q'", '"dq"', "1.2.3", "0.1.0",
]  # fmt: skip


def slow(text: str) -> tuple[Any, list[str]]:
    problems = Problems()
    tree = parse_yaml(text, "f.yaml", problems)
    return (None if tree is None else plain(tree)), [str(p) for p in problems]


def fast(text: str) -> tuple[Any, list[str]]:
    problems = Problems()
    data = load_yaml(text, "f.yaml", problems)
    return data, [str(p) for p in problems]


def same(a: Any, b: Any) -> bool:
    """Equality that also tells 1 from 1.0 from True and nan from nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b) or repr(a) == repr(b)  # ruamel's TaggedScalar has no __eq__


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("form", ["k: {}\n", "- {}\n", "k: [{}]\n", "{}\n"])
def test_plain_scalars_resolve_as_yaml_1_2(scalar: str, form: str) -> None:
    text = form.format(scalar)
    want, got = slow(text), fast(text)
    assert same(got[0], want[0]) and got[1] == want[1], (text, want, got)


def test_no_yes_on_off_stay_strings() -> None:
    data, problems = fast("a: no\nb: yes\nc: on\nd: off\ne: 0o17\nf: 1:30\n")
    assert problems == []
    assert data == {"a": "no", "b": "yes", "c": "on", "d": "off", "e": 15, "f": "1:30"}


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchor and alias
        "a: !!binary aGk=\n",  # tag
        "a: 1\na: 2\n",  # duplicate key
        "? [a]\n: 1\n",  # complex key
        "<<: {a: 1}\n",  # merge key
        "a: 1\n---\nb: 2\n",  # two documents
        "a:\n\t- 1\n",  # tab indentation
        "a: [1, 2\n",  # unclosed flow
        "k: " + "9" * 120 + "\n",  # huge number
        "a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",  # deep nesting
        "1: one\n",  # non-text key
    ],
)
def test_refusals_and_messages_are_the_slow_paths(text: str) -> None:
    assert fastyaml.load(text, max_depth=MAX_DEPTH, long_int=_LONG_INT_RE) is fastyaml.FALLBACK
    assert fast(text) == slow(text)


KEYS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(SCALARS)
    | st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20)
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, TREES, max_size=5))
def test_any_dumped_document_loads_the_same_both_ways(doc: dict[str, Any]) -> None:
    text = dump_yaml(doc)
    want, got = slow(text), fast(text)
    assert same(got[0], want[0]) and got[1] == want[1], (text, want, got)


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([*SCALARS, "\n", "  ", "- ", ": ", "[", "]", "{", "}", ","])))
def test_any_token_soup_loads_the_same_both_ways(parts: list[str]) -> None:
    text = "".join(parts)
    want, got = slow(text), fast(text)
    assert same(got[0], want[0]), (text, want, got)
