"""`output.locate`: a JSON pointer's line and column in the text a value was read from.

The oracle: dump the document again with the value at the pointer replaced by a unique
marker string; everything before it is the same text, so the marker's line is the
member's line, and the key (or, for an array element, the value) starts where the
marker's line does (pretty) or just before the marker (compact).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vevents_cli import samples
from vevents_cli.output.locate import Position, offset, position

MARKER = "\u2603marker\u2603"
keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=30
)
objects = st.dictionaries(keys, documents, min_size=1, max_size=5)


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += paths(child, (*prefix, i))
    return found


def replaced(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return MARKER
    head, *rest = path
    if isinstance(value, dict):
        return {k: replaced(v, tuple(rest)) if k == head else v for k, v in value.items()}
    return [replaced(v, tuple(rest)) if i == head else v for i, v in enumerate(value)]


def expected(document: Any, path: tuple[Any, ...], pretty: bool) -> Position:
    option = orjson.OPT_INDENT_2 if pretty else 0
    text = orjson.dumps(replaced(document, path), option=option).decode()
    at = text.index(orjson.dumps(MARKER).decode())
    if not path:
        return Position(1, 1)
    line_start = text.rfind("\n", 0, at) + 1
    if pretty:  # the member's line starts (after its indentation) with its key or its value
        column = len(text[line_start:at]) - len(text[line_start:at].lstrip(" ")) + 1
    elif isinstance(path[-1], str):  # compact: "key":value, the key just before the value
        column = at - len(orjson.dumps(path[-1]).decode()) - 1 + 1
    else:
        column = at + 1
    return Position(text.count("\n", 0, at) + 1, column)


@settings(max_examples=150, deadline=None)
@given(objects, st.data(), st.booleans())
def test_the_pointer_lands_on_the_member(document: dict[str, Any], data: st.DataObject, pretty: bool) -> None:
    path = data.draw(st.sampled_from(paths(document)))
    raw = orjson.dumps(document, option=orjson.OPT_INDENT_2 if pretty else 0)
    pointer = "".join("/" + escape(str(token)) for token in path)
    assert position(raw, pointer) == expected(document, path, pretty)


@settings(max_examples=100, deadline=None)
@given(objects, st.data(), keys)
def test_a_missing_member_lands_on_its_parent(document: dict[str, Any], data: st.DataObject, name: str) -> None:
    parents = [p for p in paths(document) if isinstance(_at(document, p), dict) and name not in _at(document, p)]
    if not parents:
        return
    path = data.draw(st.sampled_from(parents))
    raw = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    pointer = "".join("/" + escape(str(token)) for token in path)
    assert position(raw, pointer + "/" + escape(name)) == position(raw, pointer)


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        value = value[token]
    return value


def test_a_real_payload_and_its_edge_cases() -> None:
    event = samples.sample("voucher.published")
    raw = orjson.dumps(event, option=orjson.OPT_INDENT_2)
    lines = raw.decode().splitlines()
    where = position(raw, "/data/voucher/code")
    assert where is not None and lines[where.line - 1].strip().startswith('"code"')
    assert position(raw, "/data/voucher/no_such_member") == position(raw, "/data/voucher")
    assert position(raw, "") == Position(1, 1)
    assert position(raw, "/data/voucher/code/deeper") == where  # past a scalar: the scalar's member
    assert position(raw, "/data/voucher/categories/99") == position(raw, "/data/voucher/categories")
    # duplicate keys: parsers keep the last one, and so does the locator
    assert position(b'{"a": 1,\n "a": 2}', "/a") == Position(2, 2)
    # escaped keys and non-ASCII text before the member: columns count characters
    assert position('{"\\u00e9/x": {"é": 1, "b": 2}}'.encode(), "/é~1x/b") == Position(1, 23)
    assert offset(b"not json", "/a") is not None and offset(b"{", "/a") is None


@pytest.mark.parametrize("lead", ["", "é"], ids=["ascii", "non-ascii"])
@pytest.mark.parametrize("pretty", [False, True])
def test_siblings_with_brackets_and_quotes_in_strings_are_skipped(lead: str, pretty: bool) -> None:
    """An ASCII text's siblings are skipped by orjson, any other's by its strings and containers
    found in one pass: both land on the same member."""
    document = {
        lead or "k": {"x": ["]", '}"', {"y": "[{\\"}], "b": 1.5},
        "c": {"d": [1, [], {}, {"e": "f", "n": None}], "t": True},
    }
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2 if pretty else 0).decode()
    at = text.index('"n"')
    line_start = text.rfind("\n", 0, at) + 1
    expected = Position(text.count("\n", 0, at) + 1, at - line_start + 1)
    assert position(text.encode(), "/c/d/3/n") == expected
    assert position(text.encode(), "/c/d/3/missing") == position(text.encode(), "/c/d/3") is not None
