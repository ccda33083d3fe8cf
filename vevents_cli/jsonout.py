"""Exact JSON: orjson's speed, with what orjson cannot do handed to the standard library.

orjson reads an integer outside its range (below -2**63, or at or above 2**64, e.g.
123456789012345678901234567890) as a float, silently rounding it; it writes integers only
up to 64 bits and nests only 254 levels deep, though payloads can hold more (orjson reads
1,024 levels). `loads` notices such an integer (a run of 19 or more digits in the text: a
cheap test, true for every integer outside that range) and reads that text again with
`json`, whose integers are exact; `dumps` falls back to `json.dumps` with the same layout
(compact, or indented by two). (`redact` and `split` write payloads back through
`exactjson`, which keeps every number as written.)

Reading is exact only where a run asks for it (`RunConfig.exact_numbers`: the commands
that write payloads back); elsewhere values are orjson's (`stats` reads an event again with
`loads` when an amount it sums may have been rounded). Every `Record.raw` is exact in any
case. `json_type` names a parsed value's JSON type, as JSON Schema does. Pure functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from typing import Any

import orjson

_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))  # digits -> "0", others -> "."
_LONG_RUN = b"0" * 19  # 2**63 has 19 digits: a shorter run of digits always fits orjson's integers
_FRAMES_PER_LEVEL = 4  # the standard encoder's recursion per nesting level, with room to spare
_DEEPEST = 1100  # deeper than anything a reader accepts (orjson: 1,024 levels)


def loads(raw: bytes | bytearray | memoryview) -> Any:
    """The JSON value of `raw` (raises `orjson.JSONDecodeError` as orjson does), integers exact."""
    value = orjson.loads(raw)
    if _LONG_RUN in bytes(raw).translate(_DIGITS):
        with contextlib.suppress(ValueError, RecursionError):  # orjson read it: only nesting depth can fail
            value = json.loads(bytes(raw))
    return value


def dumps(value: Any, *, pretty: bool = False, newline: bool = False) -> bytes:
    """`value` as UTF-8 JSON: compact, or `pretty` (two-space indent); `newline` appends one."""
    option = (orjson.OPT_INDENT_2 if pretty else 0) | (orjson.OPT_APPEND_NEWLINE if newline else 0)
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, or nesting beyond orjson's limit
        pass
    data = _standard(value, pretty, ascii_only=False)
    return data + b"\n" if newline else data


def _plain(value: Any) -> Any:
    """What orjson writes natively and the standard encoder does not: dataclasses (the facts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON")


def _standard(value: Any, pretty: bool, ascii_only: bool) -> bytes:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _FRAMES_PER_LEVEL * _DEEPEST))
    try:
        text = json.dumps(
            value,
            ensure_ascii=ascii_only,
            indent=2 if pretty else None,
            separators=(",", ": ") if pretty else (",", ":"),
            default=_plain,
        )
    finally:
        sys.setrecursionlimit(limit)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (from a \\ud800 escape): kept as its escape
        return _standard(value, pretty, ascii_only=True)


def json_type(value: Any, *, integer: bool = True) -> str:
    """The JSON Schema type name of a parsed JSON value: null, boolean, integer, number,
    string, array or object (`integer=False`: an integer is a number, as JSON has it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if integer else "number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
