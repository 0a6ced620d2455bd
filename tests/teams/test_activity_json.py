"""Reading the request body: `read_activity_json` is `clean_activity_json(json.loads(text))`,
whichever path it takes, and `read_activity_body` is the same on the body's bytes (orjson where
nothing needs cleaning), except where orjson is stricter (NaN, Infinity, integers beyond 64
bits)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.teams.activity import (
    MAX_DEPTH,
    TooDeep,
    clean_activity_json,
    read_activity_body,
    read_activity_json,
)
from tests.teams.test_wire import INCOMING


def _stock(text: str) -> Any:
    return clean_activity_json(json.loads(text))


def _same(text: str) -> None:
    """Both readers read `text` (the body's bytes: its UTF-8) as the stock reading does."""
    raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate as such is invalid UTF-8
    try:
        raw.decode()
        readable = True
    except UnicodeDecodeError:  # the request's text could not be read: not JSON
        readable = False
        with pytest.raises(ValueError):
            read_activity_body(raw)
    try:
        expected = _stock(text)
    except TooDeep:
        with pytest.raises(TooDeep):
            read_activity_json(text)
        if readable:
            with pytest.raises(TooDeep):
                read_activity_body(raw)
        return
    assert read_activity_json(text) == expected
    if readable:
        read = read_activity_body(raw)
        assert read == expected
        assert json.dumps(read) == json.dumps(expected)  # the same types too (1 is not 1.0)


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("name", list(INCOMING))
def test_a_teams_activity_reads_as_it_is(name: str) -> None:
    text = json.dumps(INCOMING[name])
    assert read_activity_json(text) == INCOMING[name] == _stock(text)
    assert read_activity_body(text.encode()) == INCOMING[name]
    assert (
        read_activity_body(json.dumps(INCOMING[name], ensure_ascii=False).encode())
        == (INCOMING[name])
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"text": "a\\u0000b"}',
        '{"text": "\\ud800 alone", "\\udfffkey": 1}',
        '{"text": "\\uD83D\\uDE00 a pair"}',
        '{"text": "\\\\u0000 a backslash, then u0000"}',
        '{"text": "\\u00e9t\\u00e9"}',
        '"\\u0000"',
        "3",
        "null",
        "[]",
    ],
)
def test_strings_are_cleaned_as_clean_activity_json_cleans_them(text: str) -> None:
    _same(text)


def test_a_nul_and_a_lone_surrogate_are_cleaned() -> None:
    assert read_activity_json('{"a\\u0000": ["x\\u0000y", "\\ud800"]}') == {"a": ["xy", "\ufffd"]}


@pytest.mark.parametrize("depth", range(MAX_DEPTH - 1, MAX_DEPTH + 3))
@pytest.mark.parametrize("leaf", [1, "s", "\u0000", {}, [], None])
def test_nesting_is_refused_exactly_where_clean_activity_json_refuses_it(
    depth: int, leaf: Any
) -> None:
    _same(json.dumps(_nested(depth, leaf)))
    _same(json.dumps(_nested(depth, leaf), ensure_ascii=False))


def test_the_limit_is_max_depth() -> None:
    read_activity_json(json.dumps(_nested(MAX_DEPTH, 1)))
    read_activity_body(json.dumps(_nested(MAX_DEPTH, 1)).encode())
    with pytest.raises(TooDeep):
        read_activity_json(json.dumps(_nested(MAX_DEPTH + 1, 1)))
    with pytest.raises(TooDeep):
        read_activity_body(json.dumps(_nested(MAX_DEPTH + 1, 1)).encode())


def test_many_brackets_side_by_side_are_not_deep() -> None:
    wide = {"items": [{"k": [i]} for i in range(3 * MAX_DEPTH)], "text": "[[[[{{{{"}
    assert read_activity_body(json.dumps(wide).encode()) == wide


@pytest.mark.parametrize(
    "raw",
    [b"[NaN]", b'{"n": Infinity}', b'{"n": -Infinity}', b'{"n": 1e400}', b"\xff\xfe", b"{"],
)
def test_what_orjson_refuses_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        read_activity_body(raw)


def test_an_integer_beyond_64_bits_is_read_as_a_float() -> None:
    assert read_activity_body(b'{"n": 18446744073709551615}') == {"n": 2**64 - 1}
    assert read_activity_body(b'{"n": 18446744073709551616}') == {"n": float(2**64)}


def test_the_charset_of_the_request_decodes_the_body() -> None:
    body = {"text": "caf\u00e9 \u0000"}
    latin = json.dumps(body, ensure_ascii=False).encode("latin-1")
    assert read_activity_body(latin, "latin-1") == {"text": "caf\u00e9 "}
    assert read_activity_body(json.dumps(body).encode(), "UTF-8") == {"text": "caf\u00e9 "}
    with pytest.raises(ValueError, match="unknown charset"):
        read_activity_body(b"{}", "no-such-charset")
    # aiohttp's charset of "application/json; charset=" is "": UTF-8, as no charset is.
    assert read_activity_body(json.dumps(body, ensure_ascii=False).encode(), "") == {
        "text": "caf\u00e9 "
    }


_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=8) | st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\ud83d\ude00", "\\u0000", "plain"]
)
_json = st.recursive(
    # orjson reads an integer beyond 64 bits as a float (test_an_integer_beyond_64_bits...).
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=40,
)


@given(_json, st.booleans(), st.integers(min_value=0, max_value=MAX_DEPTH + 2))
def test_any_json_reads_as_clean_activity_json_reads_it(
    value: Any, ascii_only: bool, depth: int
) -> None:
    _same(json.dumps(_nested(depth, value), ensure_ascii=ascii_only))
