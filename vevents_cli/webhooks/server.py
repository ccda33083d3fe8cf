"""Connections for the receiver: a cap, a deadline for every phase, and no spinning.

HTTP/1.1 with keep-alive, a thread per connection (`Handler`, a `BaseHTTPRequestHandler`),
at most `Limits.max_connections` of them. One thread (`Server`) accepts and watches: every
phase of a connection has a deadline (idle between requests, request head, body), and a
connection past it is closed; at the cap, new connections wait in the listen backlog while
the connection that has waited longest is closed to make room; out of file descriptors,
it lowers the cap and backs off rather than spinning. What a request means is the
`Served` object's business (`receive.Receiver`): the server only hands it each request.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

BACKLOG = 128  # connections the kernel holds while all slots are taken
TICK = 0.1  # how often the accepting thread looks at deadlines when nothing happens
EVICT_AFTER = 0.5  # a waiting connection is closed to make room only after this long
MAX_BACKOFF = 1.0  # out of file descriptors: the longest pause before trying to accept again
FD_RESERVE = 32  # file descriptors connections leave to the rest of the process
FD_MARGIN = 4  # out of files anyway: the cap becomes the connections open, less this

IDLE, HEAD, BODY, BUSY = "idle", "head", "body", "busy"


class Limits(Protocol):
    """How many connections, and how long each phase of one may take (seconds)."""

    @property
    def max_connections(self) -> int: ...
    @property
    def idle_timeout(self) -> float: ...  # a kept-alive connection with no request
    @property
    def head_timeout(self) -> float: ...  # from a request's first byte to the end of its head
    @property
    def body_timeout(self) -> float: ...  # to read (or drop) a body and answer


class Served(Protocol):
    """What the server serves: it handles each request, hears about pressure, counts closures."""

    closed: int  # connections closed for being idle or slow, or to make room

    def handle(self, request: Handler) -> None: ...
    def note_once(self, key: str, text: str) -> None: ...


def open_files_limit() -> int | None:
    """This process's limit on open files (None: none known)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def connection_cap(wanted: int) -> int:
    """`wanted`, or fewer when the open-files limit would otherwise be reached by connections
    alone: `FD_RESERVE` descriptors stay free for the rest (schemas, the save file, forwards)."""
    limit = open_files_limit()
    return wanted if limit is None else max(1, min(wanted, limit - FD_RESERVE))


class Handler(BaseHTTPRequestHandler):
    """One connection: waits (idle) for each request's first byte, reads its head, and
    hands the request to the served object, which reads the body and answers."""

    protocol_version = "HTTP/1.1"
    server_version = "vevents-listen"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # per read; the server's deadlines (`Limits`) bound the whole of each phase

    def __init__(self, connection: socket.socket, address: Any, server: Server) -> None:
        # `BaseRequestHandler.__init__`, for a server that is not a `socketserver.BaseServer`
        self.request = connection
        self.client_address = address
        self.owner = server
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self) -> None:
        super().setup()
        assert isinstance(self.rfile, io.BufferedReader)  # `makefile("rb", rbufsize)` with buffering
        self.reader = _Reader(self.rfile)
        self.rfile = self.reader

    def phase(self, name: str) -> None:
        self.owner.phase(self.connection, name)

    def handle_one_request(self) -> None:
        """Wait (idle) for the next request's first byte, then read it (head, body) and answer."""
        self.phase(IDLE)
        self.reader.cut = False
        try:
            if not self.reader.peek(1):
                self.close_connection = True
                return
        except OSError:
            self.close_connection = True
            return
        self.phase(HEAD)
        super().handle_one_request()

    def _dispatch(self) -> None:
        if self.reader.cut:
            # The head ended with the input (the client went away, or was closed for being slow):
            # not a request, nothing to answer.
            self.close_connection = True
            return
        self.owner.served.handle(self)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the receiver prints its own lines."""


class _Reader(io.BufferedIOBase):
    """A connection's input, noting a line cut short by the end of input (a request head
    that never ended: `http.client` would take what came as the whole head)."""

    def __init__(self, source: io.BufferedReader) -> None:
        super().__init__()
        self._source = source
        self.cut = False

    def readable(self) -> bool:
        return True

    def readline(self, limit: int | None = -1, /) -> bytes:
        limit = -1 if limit is None else limit
        line = self._source.readline(limit)
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            self.cut = True
        return line

    def read(self, n: int | None = -1, /) -> bytes:
        return self._source.read(n)

    def peek(self, n: int = 0, /) -> bytes:
        return self._source.peek(n)

    def close(self) -> None:
        self._source.close()
        super().close()


@dataclass(slots=True)
class _Connection:
    thread: threading.Thread
    phase: str
    since: float


class Server:
    """Accepts connections up to a cap, a thread each; closes those past their phase's deadline.

    One thread accepts and watches. At the cap, further connections wait in the listen
    backlog, and the oldest connection that is only waiting (idle between requests, or
    still sending its request head) is closed to make room for them once it has waited
    `EVICT_AFTER` seconds: slow clients cannot hold every slot. The cap leaves `FD_RESERVE`
    of the open-files limit to the rest of the process; out of file descriptors all the
    same (EMFILE), it lowers the cap to what is open, closes a waiting connection and
    backs off instead of retrying at once.
    """

    def __init__(self, served: Served, address: tuple[str, int], limits: Limits) -> None:
        self.served = served
        self.limits = limits
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(BACKLOG)
            self.socket.setblocking(False)
        except OSError:
            self.socket.close()
            raise
        self.address = self.socket.getsockname()
        self.cap = connection_cap(limits.max_connections)
        self._connections: dict[socket.socket, _Connection] = {}
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="vevents-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- accepting ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        backoff = 0.0
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            while not self._stopping.is_set():
                self._reap()
                if not selector.select(timeout=TICK):
                    continue
                if not self._room():
                    with self._lock:
                        self._lock.wait(TICK)  # woken when a connection ends
                    continue
                try:
                    connection, address = self.socket.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                        if self._stopping.is_set():
                            return
                        continue  # ECONNABORTED and the like: that one connection is gone
                    backoff = min(max(backoff * 2, TICK / 2), MAX_BACKOFF)
                    self.served.note_once(
                        "fd",
                        f"out of file descriptors ({os.strerror(exc.errno)}): new "
                        "connections wait; idle and slow ones are closed first",
                    )
                    with self._lock:  # as many connections as there are files for, from now on
                        self.cap = max(1, min(self.cap, len(self._connections) - FD_MARGIN))
                    self._evict(force=True)
                    self._stopping.wait(backoff)
                    continue
                backoff = 0.0
                self._serve(connection, address)

    def _room(self) -> bool:
        """Whether one more connection may be taken (closing a waiting one if at the cap)."""
        with self._lock:
            if len(self._connections) < self.cap:
                return True
        self.served.note_once(
            "cap",
            f"{self.cap} connections open, the most served at once: new ones wait; idle and slow ones are closed first",
        )
        return self._evict(force=False)

    def _serve(self, connection: socket.socket, address: Any) -> None:
        thread = threading.Thread(target=self._connection, args=(connection, address), daemon=True)
        with self._lock:
            self._connections[connection] = _Connection(thread, IDLE, time.monotonic())
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: this connection is closed at once
            with self._lock:
                del self._connections[connection]
            connection.close()

    def _connection(self, connection: socket.socket, address: Any) -> None:
        try:
            Handler(connection, address, self)
        except OSError:  # the client went away, or its connection was closed for it: nothing to answer
            pass
        except Exception as exc:  # a bug: that connection is closed, the others go on; said once, never a traceback
            self.served.note_once(
                type(exc).__name__,
                f"internal error on a connection: {type(exc).__name__}: {str(exc)[:200]} (please report it)",
            )
        finally:
            with self._lock:
                self._connections.pop(connection, None)
                self._lock.notify_all()
            with contextlib.suppress(OSError):
                connection.close()

    # -- deadlines ---------------------------------------------------------------------------

    def phase(self, connection: socket.socket, name: str) -> None:
        with self._lock:
            known = self._connections.get(connection)
            if known is not None:
                known.phase, known.since = name, time.monotonic()

    def _deadline(self, phase: str) -> float:
        limits = self.limits
        return {IDLE: limits.idle_timeout, HEAD: limits.head_timeout, BODY: limits.body_timeout}.get(
            phase, limits.body_timeout
        )

    def _reap(self) -> None:
        """Close the connections past their phase's deadline (the handler then ends)."""
        now = time.monotonic()
        with self._lock:
            late = [c for c, known in self._connections.items() if now - known.since > self._deadline(known.phase)]
            for connection in late:
                self._close(connection)

    def _evict(self, force: bool) -> bool:
        """Close the connection that has waited longest (idle or sending its head) for a new one."""
        now = time.monotonic()
        with self._lock:
            waiting = [
                (known.since, id(c), c)
                for c, known in self._connections.items()
                if known.phase in (IDLE, HEAD) and (force or now - known.since >= EVICT_AFTER)
            ]
            if not waiting:
                return False
            self._close(min(waiting)[2])
            return True

    def _close(self, connection: socket.socket) -> None:
        """(Under the lock.) Shut a connection down: its handler's read ends; its slot is free now."""
        del self._connections[connection]
        self.served.closed += 1
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)

    # -- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop accepting; close waiting connections; wait for requests in flight (bounded)."""
        self._stopping.set()
        self._thread.join()
        self.socket.close()
        with self._lock:
            for connection, known in list(self._connections.items()):
                if known.phase in (IDLE, HEAD):
                    del self._connections[connection]
                    with contextlib.suppress(OSError):
                        connection.shutdown(socket.SHUT_RDWR)
            busy = [known.thread for known in self._connections.values()]
        end = time.monotonic() + self.limits.body_timeout
        for thread in busy:
            thread.join(max(0.0, end - time.monotonic()))
