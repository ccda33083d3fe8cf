"""JSON kept as written, for the commands that write payloads back (`redact`, `split`).

`loads` reads a document into a tree that loses nothing: an object is an `Object` (its
members as `(key, value)` pairs, in order, duplicate keys all kept), a number is a
`Number` (the literal as written: `0.12345678901234567890123`, `1E+2`, `-0`, a 30-digit
integer), strings, booleans and null are Python's. `dumps` writes such a tree back --
compact, or indented by two as orjson's `OPT_INDENT_2` does -- so a document read and
written again is the same JSON value, byte for byte in the numbers. A string holding a
lone surrogate (a `\\ud800` escape inside a JSON string that a payload holds as text) is
written as that `\\uXXXX` escape, so the output is always UTF-8 that orjson reads.

`payload` reads an event's payload again from the bytes the pipeline parsed it from; `at`
finds, inside the tree, the node that the parsed value holds at some place (split's
`--bare` writes the event's `data` from the tree). `dumps` hands the tree to orjson (each
number an `orjson.Fragment` of its literal) and writes it itself only where orjson cannot:
duplicate keys, lone surrogates, nesting deeper than orjson writes (the same layout, with a
stack, not recursion). Reading raises the standard decoder's recursion limit for the call,
so a payload nested a thousand levels deep is kept like any other. The pipeline reads with
orjson; only these commands' output goes through here. Pure functions.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any

import orjson

from vevents_cli import jsonout

_FRAMES_PER_LEVEL = 4  # the decoder's recursion per nesting level, with room to spare
_DEEPEST = 1100  # deeper than anything a reader accepts (orjson: 1,024 levels)
_SURROGATE = re.compile("[\ud800-\udfff]")


class Number(str):
    """A JSON number literal exactly as written."""

    __slots__ = ()


class Object(list[tuple[str, Any]]):
    """A JSON object: its members in order, duplicate keys kept."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        """The value of the last member named `key` (the one a JSON reader keeps), else `default`."""
        for k, v in reversed(self):
            if k == key:
                return v
        return default

    def keys(self) -> Iterator[str]:
        return (k for k, _ in self)


_DECODER = json.JSONDecoder(
    object_pairs_hook=Object, parse_float=Number, parse_int=Number, parse_constant=Number, strict=False
)


def loads(text: str | bytes) -> Any:
    """The exact tree of a JSON document (raises `ValueError` when it is not JSON)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _FRAMES_PER_LEVEL * _DEEPEST))
    try:
        return _DECODER.decode(text)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    finally:
        sys.setrecursionlimit(limit)


def from_value(value: Any) -> Any:
    """The tree of an already parsed value (what the pipeline has, when its bytes are not JSON text)."""
    return loads(jsonout.dumps(value))


def payload(raw: bytes, value: dict[str, Any]) -> Object:
    """A payload's exact tree, read again from the bytes the pipeline parsed into `value`."""
    try:
        tree = loads(raw)
    except ValueError:  # bytes orjson read and the standard library does not
        tree = None
    if not isinstance(tree, Object) or set(tree.keys()) != set(value):
        return from_value(value)  # type: ignore[no-any-return]
    return tree


def at(tree: Any, value: Any, target: Any) -> Any:
    """The node of `tree` where `value` (the same document, parsed) holds `target` (by identity).

    A key that occurs more than once is followed to its last member, as JSON readers do.
    None when `target` is not inside `value`.
    """
    queue: list[tuple[Any, Any]] = [(value, tree)]
    while queue:
        plain, node = queue.pop(0)
        if plain is target:
            return node
        if isinstance(plain, dict) and isinstance(node, Object):
            queue.extend((v, node.get(k)) for k, v in plain.items() if isinstance(v, (dict, list)))
        elif isinstance(plain, list) and isinstance(node, list) and not isinstance(node, Object):
            queue.extend((v, n) for v, n in zip(plain, node, strict=False) if isinstance(v, (dict, list)))
    return None


def dumps(tree: Any, *, pretty: bool = False, newline: bool = False) -> bytes:
    """`tree` as UTF-8 JSON: compact, or `pretty` (two-space indent); `newline` appends one.

    orjson writes it (numbers as `orjson.Fragment`s of their literal) unless an object has
    duplicate keys, a string a lone surrogate or the nesting is deeper than orjson writes:
    then the writer here, which produces the same layout.
    """
    option = (orjson.OPT_INDENT_2 if pretty else 0) | (orjson.OPT_APPEND_NEWLINE if newline else 0)
    try:
        return orjson.dumps(_native(tree), option=option)
    except (_Duplicates, orjson.JSONEncodeError, RecursionError):
        pass
    text = _text(tree, pretty) + ("\n" if newline else "")
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: only strings can hold one; kept as its escape
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode()


def dumps_text(tree: Any) -> str:
    """`tree` as compact JSON text (for JSON held inside a string), lone surrogates as escapes."""
    return dumps(tree).decode()


class _Duplicates(Exception):
    """An object with duplicate keys: orjson cannot write it."""


def _native(value: Any) -> Any:
    """What orjson writes as `value` would be written (recursive: deep trees raise RecursionError)."""
    if isinstance(value, Number):
        return orjson.Fragment(value)
    if isinstance(value, Object):
        members = {k: _native(v) for k, v in value}
        if len(members) != len(value):
            raise _Duplicates
        return members
    if isinstance(value, list):
        return [_native(v) for v in value]
    return value


class _Token(str):
    """Text written as it is (punctuation and indentation), not a JSON string."""

    __slots__ = ()


def _text(tree: Any, pretty: bool) -> str:
    out: list[str] = []
    colon = ": " if pretty else ":"
    stack: list[tuple[Any, int]] = [(tree, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (_Token, Number)):
            out.append(value)
        elif isinstance(value, str):
            out.append(encode_basestring(value))
        elif value is None:
            out.append("null")
        elif value is True:
            out.append("true")
        elif value is False:
            out.append("false")
        elif isinstance(value, (int, float)):
            out.append(json.dumps(value))
        elif isinstance(value, (list, dict)):
            items = list(value.items()) if isinstance(value, dict) else value
            is_object = isinstance(value, (Object, dict))
            open_, close = ("{", "}") if is_object else ("[", "]")
            if not items:
                out.append(open_ + close)
                continue
            inner = _Token(",\n" + "  " * (depth + 1) if pretty else ",")
            first = _Token(open_ + ("\n" + "  " * (depth + 1) if pretty else ""))
            last = _Token(("\n" + "  " * depth if pretty else "") + close)
            parts: list[tuple[Any, int]] = [(first, 0)]
            for i, item in enumerate(items):
                if i:
                    parts.append((inner, 0))
                if is_object:
                    key, item = item
                    parts.append((_Token(encode_basestring(key) + colon), 0))
                parts.append((item, depth + 1))
            parts.append((last, 0))
            stack.extend(reversed(parts))
        else:
            raise TypeError(f"{type(value).__name__} is not JSON")
    return "".join(out)
