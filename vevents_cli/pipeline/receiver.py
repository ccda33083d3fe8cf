"""The live source behind `vevents listen`: take webhook deliveries, check, save, forward.

Built on the standard library's `ThreadingHTTPServer` (a thread per connection, HTTP/1.1
keep-alive). Each POST to the configured path is read (up to `max_body` bytes), its
signature checked, saved (one NDJSON line, appended atomically) and answered at once; it
is then queued as a record (with how it was answered: a `Delivery`) for the pipeline,
which recognises, validates and summarises it like any other input, and, when asked,
forwarded to another URL.

`Receiver(config).start()` binds (port 0: any free port) and serves in a background
thread, returning (host, port); `.deliveries()` yields the records until Ctrl-C (or
`.stop()`); `.stop()` ends it, letting deliveries in flight finish.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from vevents_cli.model import Delivery, Locator, Record, Unreadable
from vevents_cli.pipeline import captures
from vevents_cli.pipeline.captures import Headers
from vevents_cli.voucherify import signatures

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # a refused body up to this size is read and dropped, keeping the connection


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8787
    path: str = "/"
    secret: str | None = None
    require_signature: bool = False
    save: Path | None = None
    forward: str | None = None
    max_body: int = MAX_BODY
    forward_timeout: float = 10.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SaveFile:
    """An NDJSON file that deliveries are appended to: one write of a whole line, under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = memoryview(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        with self._lock:
            while line:  # one write in practice; a short write (disk full...) is finished, not interleaved
                line = line[os.write(self._fd, line):]

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def saved_record(received_at: str, method: str, path: str, headers: Headers, body: bytes,
                 value: Any, status: int) -> dict[str, Any]:
    """The NDJSON record of one delivery (the format `vevents verify` and `show` read back)."""
    record: dict[str, Any] = {"received_at": received_at, "method": method, "path": path,
                              "headers": dict(headers.items())}
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body"], record["body_encoding"] = base64.b64encode(body).decode("ascii"), "base64"
    record["event"] = value
    record["status"] = status
    return record


class _BadBody(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What became of a delivery passed on to `--forward`: the target's status, or an error."""

    url: str
    status: int | None
    ms: float
    error: str | None = None


class Receiver:
    """A webhook receiver for development: requests in, records out (`deliveries`).

    `on_forward` hears what became of each forwarded delivery.
    """

    def __init__(self, config: Config, on_forward: Callable[[Forwarded], None] | None = None) -> None:
        self.config = config
        self.counts: Counter[int] = Counter()
        self._on_forward = on_forward
        self._queue: queue.SimpleQueue[Record | Unreadable] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._count_lock = threading.Lock()
        self._save = SaveFile(config.save) if config.save else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        forward_host = urlsplit(config.forward).hostname if config.forward else None
        handlers = [urllib.request.ProxyHandler({})] if forward_host and is_loopback(forward_host) else []
        self._opener = urllib.request.build_opener(*handlers)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        """Bind and serve in a background thread; the address actually bound (port 0: any free)."""
        self._server = _Server((self.config.host, self.config.port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="vevents-listen", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def deliveries(self) -> Iterator[Record | Unreadable]:
        """Every request as it arrives (a record, or unreadable with how it was answered),
        until Ctrl-C or `stop()`."""
        try:
            while True:
                try:
                    yield self._queue.get(timeout=0.2)
                except queue.Empty:
                    if self._stopped.is_set():
                        return
        except KeyboardInterrupt:
            return

    def stop(self) -> None:
        """Stop accepting, end idle keep-alive connections, wait for deliveries in flight."""
        self._stopped.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.end_idle_connections()
            server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()
        if self._save is not None:
            self._save.close()

    @property
    def received(self) -> int:
        return sum(self.counts.values())

    def summary_line(self) -> str:
        parts = [f"{n} × {status} {HTTPStatus(status).phrase}" for status, n in sorted(self.counts.items())]
        total = self.received
        head = f"received {total} request{'' if total == 1 else 's'}"
        return head + (": " + ", ".join(parts) if parts else "")

    # -- one request ------------------------------------------------------------------------

    def handle(self, req: _Handler) -> None:
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        config = self.config
        if urlsplit(req.path).path != config.path:
            self._reject(req, 404, f"not found: deliveries go to {config.path}")
            return
        if req.command != "POST":
            self._reject(req, 405, "method not allowed: deliveries are POSTs", {"Allow": "POST"})
            return
        try:
            body = self._read_body(req)
        except _BadBody as exc:
            self._reject(req, exc.status, exc.reason)
            return
        except OSError:  # the client went away mid-body
            req.close_connection = True
            return
        headers = Headers(req.headers.items())
        value: Any = None
        try:
            value, is_json = orjson.loads(body), True
        except orjson.JSONDecodeError:
            is_json = False
        given = headers.get(signatures.SIGNATURE_HEADER)
        match = signatures.verify(body, config.secret, given) if config.secret and given else None
        if config.require_signature and not (match and match.matched):
            status, reason = 401, "signature missing" if not given else "signature does not match"
        elif not is_json:
            status, reason = 400, "body is not JSON"
        else:
            status, reason = 200, None
        if self._save is not None:
            self._save.append(saved_record(received_at, req.command, req.path, headers, body, value, status))
        self._respond(req, status, {"ok": True} if status == 200 else {"error": reason})
        number = self._count(status)
        verdict = signatures.verdict(config.secret is not None, given, match)
        causes = signatures.likely_causes(body, given) if verdict == "mismatch" and given else ()
        delivery = Delivery(status, reason, verdict, causes)
        where = Locator(f"listen {req.path}", number)
        if isinstance(value, dict):
            self._queue.put(Record(where, body, value, headers, delivery))
        else:
            self._queue.put(Unreadable(where, reason or "body is not a JSON object", delivery=delivery))
        if status == 200 and config.forward:
            self._forward(headers, body)

    def _read_body(self, req: _Handler) -> bytes:
        limit = self.config.max_body
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(req, limit)
        length = req.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise _BadBody(400, f"bad Content-Length {length!r}")
        size = int(length)
        if size > limit:
            raise _BadBody(413, f"body of {size} bytes is over the limit ({limit} bytes, see --max-body)")
        body = req.rfile.read(size)
        if len(body) < size:
            raise OSError("client closed the connection mid-body")
        return body

    def _read_chunked(self, req: _Handler, limit: int) -> bytes:
        try:
            return captures.dechunk(lambda: req.rfile.readline(1024), req.rfile.read, limit)
        except captures.BodyTooLarge:
            req.close_connection = True
            raise _BadBody(413, f"body over the limit ({limit} bytes, see --max-body)") from None
        except captures.ChunkError as exc:
            req.close_connection = True
            raise _BadBody(400, f"bad chunked encoding: {exc}") from None

    def _reject(self, req: _Handler, status: int, reason: str, extra: dict[str, str] | None = None) -> None:
        """Answer without taking the body: drop it (bounded) so the connection stays usable."""
        length = req.headers.get("Content-Length", "0").strip()
        pending = int(length) if length.isdigit() else DRAIN_LIMIT + 1
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower() or pending > DRAIN_LIMIT:
            req.close_connection = True
        elif pending and not req.close_connection:
            try:
                while pending > 0:
                    chunk = req.rfile.read(min(pending, 65536))
                    if not chunk:
                        break
                    pending -= len(chunk)
            except OSError:
                req.close_connection = True
                return
        self._respond(req, status, {"error": reason}, extra)
        number = self._count(status)
        where = Locator(f"listen {req.path}", number)
        self._queue.put(Unreadable(where, f"{req.command} {req.path}  {reason}", delivery=Delivery(status, reason)))

    def _respond(self, req: _Handler, status: int, payload: dict[str, Any],
                 extra: dict[str, str] | None = None) -> None:
        body = orjson.dumps(payload)
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                req.send_header(name, value)
            if req.close_connection:
                req.send_header("Connection", "close")
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(body)
        except OSError:
            req.close_connection = True

    def _count(self, status: int) -> int:
        """Count one answer; how many requests have been answered, this one included."""
        with self._count_lock:
            self.counts[status] += 1
            return sum(self.counts.values())

    def _forward(self, headers: Headers, body: bytes) -> None:
        url = self.config.forward
        assert url is not None
        names = ("Content-Type", signatures.SIGNATURE_HEADER)
        sent = {name: headers[name] for name in names if name in headers}
        request = urllib.request.Request(url, data=body, headers=sent, method="POST")
        start = time.perf_counter()
        status: int | None = None
        error = None
        try:
            with self._opener.open(request, timeout=self.config.forward_timeout) as answer:
                answer.read()
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            error = str(getattr(exc, "reason", exc))
        if self._on_forward is not None:
            self._on_forward(Forwarded(url, status, (time.perf_counter() - start) * 1000, error))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vevents-listen"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _dispatch(self) -> None:
        self.server.receiver.handle(self)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the receiver prints its own lines."""


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so that server_close() waits for deliveries in flight
    block_on_close = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.receiver = receiver
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, is_open: bool) -> None:
        with self._connections_lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def end_idle_connections(self) -> None:
        """Wake handlers waiting for the next request on a kept-alive connection: they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
