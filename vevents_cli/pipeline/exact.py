"""Exact JSON numbers: orjson's speed, with integers beyond 64 bits kept exact.

orjson reads an integer outside the 64-bit range (e.g. 123456789012345678901234567890)
as a float, silently rounding it, and cannot write one. `loads` notices such a value
(a run of 20 or more digits in the text: a cheap test, true for every integer at or above
2**64) and reads that text again with Python's `json`, whose integers are exact. `dumps`
writes values read that way, falling back to `json` only when orjson refuses.

Reading is exact only where a run asks for it (`RunConfig.exact_numbers`: commands that
write payloads back, and write them with `dumps`); elsewhere values are orjson's, which
every renderer can write. Every `Record.raw` is exact in any case.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson

_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))  # digits -> "0", others -> "."
_LONG_RUN = b"0" * 20  # 2**64 has 20 digits: a shorter run of digits always fits orjson's integers


def loads(raw: bytes | bytearray | memoryview) -> Any:
    """The JSON value of `raw` (raises `orjson.JSONDecodeError` as orjson does), integers exact."""
    value = orjson.loads(raw)
    if _LONG_RUN in bytes(raw).translate(_DIGITS):
        with contextlib.suppress(ValueError, RecursionError):  # orjson read it: only nesting depth can fail
            value = json.loads(bytes(raw))
    return value


def dumps(value: Any, option: int = 0) -> bytes:
    """`orjson.dumps(value, option=option)`, or the same JSON from `json` for integers beyond 64 bits."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    indent = 2 if option & orjson.OPT_INDENT_2 else None
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", ": ") if indent else (",", ":"),
                      sort_keys=bool(option & orjson.OPT_SORT_KEYS))
    if option & orjson.OPT_APPEND_NEWLINE:
        text += "\n"
    return text.encode("utf-8")
