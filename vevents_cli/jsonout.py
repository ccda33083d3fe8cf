"""JSON written exactly: orjson, or the standard library's encoder for what orjson cannot write.

orjson writes integers only up to 64 bits and nests only 254 levels deep; payloads can hold
more (an amount of 10**30 is valid JSON, and orjson reads 1,024 levels). `dumps` falls back
to `json.dumps` for those values, with the same layout (compact, or indented by two), so a
redacted log or a split fixture keeps every number as it was and never turns it into a
float. Pure functions.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import orjson

_FRAMES_PER_LEVEL = 4  # the standard encoder's recursion per nesting level, with room to spare
_DEEPEST = 1100  # deeper than anything a reader accepts (orjson: 1,024 levels)


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
        text = json.dumps(value, ensure_ascii=ascii_only, indent=2 if pretty else None,
                          separators=(",", ": ") if pretty else (",", ":"), default=_plain)
    finally:
        sys.setrecursionlimit(limit)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (from a \\ud800 escape): kept as its escape
        return _standard(value, pretty, ascii_only=True)
