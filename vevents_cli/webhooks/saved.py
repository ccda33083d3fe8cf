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
import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vevents_cli import jsonout
from vevents_cli.model import Locator, Note, Record, Unreadable

if TYPE_CHECKING:
    from vevents_cli.webhooks.http import Headers

KEYS = frozenset(("received_at", "method", "headers", "body"))  # every saved line has them


class SaveFile:
    """An NDJSON file that deliveries are appended to, each line whole or not at all.

    Each line is one `os.write` under a lock (nothing buffered: once `append` returns, the
    line is in the file). A write that fails or is cut short (a full disk, a file-size
    limit) raises `OSError`, after the file is truncated back to where the line began; if
    even that fails, the next line starts on a line of its own, so a half line never
    joins a whole one. Before each line, a file moved or deleted (log rotation) is
    replaced by a new one at the path.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        import threading  # (only `listen --save` writes: readers never import it)

        self._lock = threading.Lock()
        self._fd = self._open()
        self._torn = False  # the file may end in part of a line

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _reopen_if_moved(self) -> None:
        """(Under the lock.) The file at the path, if it is no longer the one open."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            now = None
        was = os.fstat(self._fd)
        if now is None or (now.st_ino, now.st_dev) != (was.st_ino, was.st_dev):
            fd = self._open()
            os.close(self._fd)
            self._fd, self._torn = fd, False

    def append(self, record: dict[str, Any]) -> None:
        line = jsonout.dumps(record, newline=True)
        with self._lock:
            if self._fd < 0:
                raise OSError(errno.EBADF, "the save file is closed")
            self._reopen_if_moved()
            data = b"\n" + line if self._torn else line
            start = os.fstat(self._fd).st_size
            try:
                written = os.write(self._fd, data)
                if written < len(data):
                    raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes written")
            except OSError:
                try:
                    os.ftruncate(self._fd, start)
                    self._torn = False
                except OSError:  # (a device such as /dev/full): the next line starts a line of its own
                    self._torn = True
                raise
            self._torn = False

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
    from vevents_cli.webhooks.http import Headers, request_record  # (a saved delivery found)

    return request_record(locator, Headers((str(k), str(v)) for k, v in headers.items()), raw, exact)


def _why(status: int, reason: Any) -> str:
    """`401 signature missing`: the status and why (as saved, else the status's phrase)."""
    if not isinstance(reason, str):
        from http import HTTPStatus

        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "refused"
    return f"{status} {reason[:200]}"
