"""Connections for the receiver: a request's head before a thread, a cap, a deadline for
every phase, and no spinning.

HTTP/1.1 with keep-alive. One thread (`Server`) accepts every connection at once and reads
each one's first request head itself, without blocking, alongside all the others: a
connection gets a thread (`Handler`, a `BaseHTTPRequestHandler`) only once its head has
arrived whole, so clients that connect and send slowly or nothing (slowloris) hold a file
descriptor and a few bytes, never a thread, and never keep a real delivery waiting behind
them in the kernel's queue. At most `Limits.max_waiting` connections wait for their head
(at that number, the one that has waited longest is closed for each new one) and
`Limits.max_connections` have a thread (more with a whole head wait their turn, while a
thread's connection that is only waiting, idle between requests or sending a next head, is
closed to make room). Every phase has a deadline (idle before a first byte or between
requests, request head, body), and a connection past it is closed; out of file
descriptors, it lowers the caps and backs off rather than spinning. What a request means is
the `Served` object's business (`receive.Receiver`): the server only hands it each request.
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
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

BACKLOG = socket.SOMAXCONN  # connections the kernel holds until the accepting thread takes them
TICK = 0.1  # how often the accepting thread looks at deadlines when nothing happens
EVICT_AFTER = 0.5  # a thread's waiting connection is closed to make room only after this long
MAX_BACKOFF = 1.0  # out of file descriptors: the longest pause before trying to accept again
FD_RESERVE = 32  # file descriptors connections leave to the rest of the process
FD_MARGIN = 4  # out of files anyway: the cap becomes the connections open, less this
MAX_HEAD = 16 * 1024  # bytes of a head read before a thread takes over (and reads, or refuses, the rest)
ACCEPT_BATCH = 64  # connections accepted at most in one go, between two looks at the others

IDLE, HEAD, BODY, BUSY = "idle", "head", "body", "busy"


class Limits(Protocol):
    """How many connections, and how long each phase of one may take (seconds)."""

    @property
    def max_connections(self) -> int: ...  # with a thread
    @property
    def max_waiting(self) -> int: ...  # without one yet: their first request head is still coming
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


def connection_caps(threads: int, waiting: int) -> tuple[int, int]:
    """Connections with a thread and connections waiting for their head: as wanted, or fewer
    when the open-files limit would otherwise be reached by connections alone (`FD_RESERVE`
    descriptors stay free for the rest: schemas, the save file, forwards); then at most half
    of what is left goes to threads."""
    limit = open_files_limit()
    if limit is None:
        return threads, waiting
    room = max(2, limit - FD_RESERVE)
    served = max(1, min(threads, room // 2 if threads + waiting > room else threads))
    return served, max(1, min(waiting, room - served))


def connection_cap(wanted: int) -> int:
    """Connections served at once (with a thread): `wanted`, or fewer if the open-files limit says so."""
    return connection_caps(wanted, wanted)[0]


class Handler(BaseHTTPRequestHandler):
    """One connection: waits (idle) for each request's first byte, reads its head, and
    hands the request to the served object, which reads the body and answers. `head`: the
    bytes the accepting thread already read (the first request's head, at least)."""

    protocol_version = "HTTP/1.1"
    server_version = "vevents-listen"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # per read; the server's deadlines (`Limits`) bound the whole of each phase

    def __init__(self, connection: socket.socket, address: Any, server: Server, head: bytes = b"") -> None:
        # `BaseRequestHandler.__init__`, for a server that is not a `socketserver.BaseServer`
        self.request = connection
        self.client_address = address
        self.owner = server
        self._head = head
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self) -> None:
        super().setup()
        assert isinstance(self.rfile, io.BufferedReader)  # `makefile("rb", rbufsize)` with buffering
        self.reader = _Reader(self.rfile, self._head)
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
    """A connection's input, `first` (bytes already read) then the socket's, noting a line
    cut short by the end of input (a request head that never ended: `http.client` would take
    what came as the whole head)."""

    def __init__(self, source: io.BufferedReader, first: bytes = b"") -> None:
        super().__init__()
        self._source = source
        self._first = first
        self.cut = False

    def readable(self) -> bool:
        return True

    def readline(self, limit: int | None = -1, /) -> bytes:
        limit = -1 if limit is None else limit
        line = b""
        if self._first:
            end = self._first.find(b"\n") + 1 or len(self._first)
            if limit >= 0:
                end = min(end, limit)
            line, self._first = self._first[:end], self._first[end:]
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            line += self._source.readline(limit - len(line) if limit >= 0 else -1)
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            self.cut = True
        return line

    def read(self, n: int | None = -1, /) -> bytes:
        if not self._first:
            return self._source.read(n)
        if n is None or n < 0:
            out, self._first = self._first, b""
            return out + self._source.read()
        out, self._first = self._first[:n], self._first[n:]
        return out + self._source.read(n - len(out)) if len(out) < n else out

    def peek(self, n: int = 0, /) -> bytes:
        return self._first or self._source.peek(n)

    def close(self) -> None:
        self._source.close()
        super().close()


@dataclass(slots=True)
class _Connection:
    thread: threading.Thread
    phase: str
    since: float


@dataclass(slots=True)
class _Waiting:
    """A connection whose first request head is still coming, read by the accepting thread."""

    address: Any
    since: float  # accepted, or its first byte, or its head whole (`ready`)
    head: bytearray = field(default_factory=bytearray)
    ready: bool = False  # the head is whole (or the input ended): it waits for a thread


def _head_whole(head: bytearray) -> bool:
    """Whether a request head has ended (a blank line; LF alone is accepted, as by `http.server`)."""
    return b"\n\r\n" in head or b"\n\n" in head or len(head) >= MAX_HEAD


class Server:
    """Accepts every connection, reads each first request head itself, then gives the
    connection a thread; closes connections past their phase's deadline.

    One thread accepts and watches. A connection waits for its first request head without a
    thread (`_Waiting`): up to `waiting_cap` of them, beyond which the one that has waited
    longest is closed for each new one, so slow clients never hold up the accepting. With
    its head whole it gets a thread, up to `cap` of them; more wait their turn (in order),
    while a thread's connection that is only waiting (idle between requests, or sending a
    next head) is closed to make room once it has waited `EVICT_AFTER` seconds. The caps
    leave `FD_RESERVE` of the open-files limit to the rest of the process; out of file
    descriptors all the same (EMFILE), the waiting cap drops to what is open, the longest
    waiting connection is closed and accepting backs off instead of retrying at once.
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
        self.cap, self.waiting_cap = connection_caps(limits.max_connections, limits.max_waiting)
        self._connections: dict[socket.socket, _Connection] = {}
        self._waiting: dict[socket.socket, _Waiting] = {}  # in the order accepted (the accepting thread's only)
        self._ready: deque[socket.socket] = deque()  # whole heads waiting for a thread, in order
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._thread = threading.Thread(target=self._accept_loop, name="vevents-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- accepting and reading heads ----------------------------------------------------------

    def _accept_loop(self) -> None:
        backoff = 0.0
        selector = self._selector
        selector.register(self.socket, selectors.EVENT_READ)
        reaped = 0.0
        try:
            while not self._stopping.is_set():
                if time.monotonic() - reaped >= TICK / 2:  # deadlines: a look at every connection, now and then
                    self._reap()
                    reaped = time.monotonic()
                self._hand_over()
                for key, _ in selector.select(timeout=TICK):
                    if key.fileobj is self.socket:
                        backoff = self._accept(backoff)
                    else:
                        self._read_head(key.fileobj)  # type: ignore[arg-type]
        finally:
            for connection in list(self._waiting):
                self._drop(connection, counted=False)
            selector.close()

    def _accept(self, backoff: float) -> float:
        """Accept what the kernel holds (a batch at most); the backoff for next time."""
        for _ in range(ACCEPT_BATCH):
            if len(self._waiting) >= self.waiting_cap and not self._make_waiting_room():
                return backoff
            try:
                connection, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return 0.0
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    continue  # ECONNABORTED and the like: that one connection is gone
                backoff = min(max(backoff * 2, TICK / 2), MAX_BACKOFF)
                self.served.note_once(
                    "fd",
                    f"out of file descriptors ({os.strerror(exc.errno)}): new "
                    "connections wait; idle and slow ones are closed first",
                )
                self.waiting_cap = max(1, min(self.waiting_cap, len(self._waiting) - FD_MARGIN))
                self._make_waiting_room()
                self._evict(force=True)
                self._stopping.wait(backoff)
                return backoff
            connection.setblocking(False)
            self._waiting[connection] = _Waiting(address, time.monotonic())
            self._selector.register(connection, selectors.EVENT_READ)
        return 0.0

    def _make_waiting_room(self) -> bool:
        """At the waiting cap: close the connection that has waited longest for its head."""
        self.served.note_once(
            "waiting",
            f"{self.waiting_cap} connections waiting for their request, the most at once: "
            "those waiting longest are closed first",
        )
        oldest = next((c for c, w in self._waiting.items() if not w.ready), None)
        if oldest is None:  # every one has its head and waits for a thread: new ones wait in the backlog
            with self._lock:
                self._lock.wait(TICK)  # woken when a connection ends
            return False
        self._drop(oldest)
        return True

    def _read_head(self, connection: socket.socket) -> None:
        waiting = self._waiting.get(connection)
        if waiting is None:
            return
        try:
            data = connection.recv(MAX_HEAD)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data and not waiting.head:  # gone before a request
            self._drop(connection, counted=False)
            return
        if not waiting.head:
            waiting.since = time.monotonic()  # the head's deadline runs from its first byte
        waiting.head += data
        if not data or _head_whole(waiting.head):  # whole, or cut short: a thread answers or closes it
            self._selector.unregister(connection)
            waiting.ready = True
            waiting.since = time.monotonic()
            self._ready.append(connection)

    def _hand_over(self) -> None:
        """Threads for the connections whose head is whole, while there is room."""
        while self._ready:
            if not self._room():
                return
            connection = self._ready.popleft()
            waiting = self._waiting.pop(connection)
            self._serve(connection, waiting.address, bytes(waiting.head))

    def _drop(self, connection: socket.socket, counted: bool = True) -> None:
        """Close a connection still waiting for its head (or for a thread)."""
        waiting = self._waiting.pop(connection)
        if waiting.ready:
            self._ready.remove(connection)
        else:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(connection)
        if counted:
            self.served.closed += 1
        connection.close()

    def _room(self) -> bool:
        """Whether one more connection may have a thread (closing a waiting one if at the cap)."""
        with self._lock:
            if len(self._connections) < self.cap:
                return True
        self.served.note_once(
            "cap",
            f"{self.cap} connections served at once, the most: requests wait; idle and slow ones are closed first",
        )
        return self._evict(force=False)

    def _serve(self, connection: socket.socket, address: Any, head: bytes) -> None:
        connection.setblocking(True)
        thread = threading.Thread(target=self._connection, args=(connection, address, head), daemon=True)
        with self._lock:
            self._connections[connection] = _Connection(thread, IDLE, time.monotonic())
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: this connection is closed at once
            with self._lock:
                del self._connections[connection]
            connection.close()

    def _connection(self, connection: socket.socket, address: Any, head: bytes) -> None:
        try:
            Handler(connection, address, self, head)
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
        late = [
            c
            for c, w in self._waiting.items()
            if now - w.since > self._deadline(BODY if w.ready else HEAD if w.head else IDLE)
        ]
        for connection in late:
            self._drop(connection)
        with self._lock:
            late = [c for c, known in self._connections.items() if now - known.since > self._deadline(known.phase)]
            for connection in late:
                self._close(connection)

    def _evict(self, force: bool) -> bool:
        """Close the thread's connection that has waited longest (idle or sending its head) for a new one."""
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
