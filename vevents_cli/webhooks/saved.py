"""The `listen --save` file: one NDJSON line per delivery, written and read here only.

A line is an object with `received_at`, `method`, `path`, `headers` (as received), `body`
(the bytes as received: UTF-8 text, or base64 with `"body_encoding": "base64"`), `event`
(the parsed body, or null) and `status` (how it was answered); a delivery answered other
than 2xx (401: signature missing or wrong; 400: not JSON) is kept for audit with
`"rejected"` (why) beside its status. `SaveFile` appends lines (each one whole, under a
lock); `saved_record` builds one; `is_saved_delivery` recognises one among other JSON
objects; `saved_delivery` reads one back into the record of the delivery as it arrived
(what `verify` and `show` read), or, for a rejected event (a status other than 2xx), a
`Note` saying so: every reader reports it, none counts it as an event (a rejected body
that is not a JSON object is the unreadable item it always is).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

from vevents_cli import jsonout
from vevents_cli.model import Locator, Note, Record, Unreadable
from vevents_cli.webhooks.http import Headers, request_record

KEYS = frozenset(("received_at", "method", "headers", "body"))  # every saved line has them


class SaveFile:
    """An NDJSON file that deliveries are appended to: one write of a whole line, under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = memoryview(jsonout.dumps(record, newline=True))
        with self._lock:
            while line:  # one write in practice; a short write (disk full...) is finished, not interleaved
                line = line[os.write(self._fd, line) :]

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def saved_record(
    received_at: str,
    method: str,
    path: str,
    headers: Headers,
    body: bytes,
    value: Any,
    status: int,
    rejected: str | None = None,
) -> dict[str, Any]:
    """The line saved for one delivery (`rejected`: why it was answered other than 2xx)."""
    record: dict[str, Any] = {
        "received_at": received_at,
        "method": method,
        "path": path,
        "headers": dict(headers.items()),
    }
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body"], record["body_encoding"] = base64.b64encode(body).decode("ascii"), "base64"
    record["event"] = value
    record["status"] = status
    if rejected is not None:
        record["rejected"] = rejected
    return record


def is_saved_delivery(value: dict[str, Any]) -> bool:
    """Whether a JSON object is a saved delivery rather than an event."""
    return value.keys() >= KEYS


def saved_delivery(locator: Locator, saved: dict[str, Any], exact: bool = False) -> Record | Unreadable | Note:
    """A saved delivery's record: its body bytes and headers, as they arrived; a `Note` if
    it is an event that was rejected (answered other than 2xx): never an event."""
    read = _read_saved(locator, saved, exact)
    status = saved.get("status")
    if isinstance(read, Record) and status.__class__ is int and not 200 <= status < 300:
        return Note(locator, f"rejected delivery ({_why(status, saved.get('rejected'))}), not counted")
    return read


def _read_saved(locator: Locator, saved: dict[str, Any], exact: bool) -> Record | Unreadable:
    body, headers = saved.get("body"), saved.get("headers")
    if not isinstance(body, str) or not isinstance(headers, dict):
        return Unreadable(locator, "saved delivery: `body` must be a string and `headers` an object")
    if saved.get("body_encoding") == "base64":
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            return Unreadable(locator, "saved delivery: `body` is not valid base64")
    else:
        raw = body.encode("utf-8")
    return request_record(locator, Headers((str(k), str(v)) for k, v in headers.items()), raw, exact)


def _why(status: int, reason: Any) -> str:
    """`401 signature missing`: the status and why (as saved, else the status's phrase)."""
    if not isinstance(reason, str):
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "refused"
    return f"{status} {reason[:200]}"
