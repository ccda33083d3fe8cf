"""`vevents listen`: the local receiver, started in-process on an ephemeral port."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import io
import os
import re
import resource
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import orjson
import pytest

from tests.helpers import first_line, interruptible, invoke, listener, stopped_at_exit
from vevents_cli import pipeline
from vevents_cli.model import Record
from vevents_cli.output import listen as listen_output
from vevents_cli.output.streams import Streams
from vevents_cli.pipeline.config import RunConfig
from vevents_cli.samples import sample
from vevents_cli.webhooks.receive import Config, Receiver

SECRET = "whsec_listen_test"


def hmac_hex(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def payload() -> dict:
    return sample("voucher.published")


class Listening:
    def __init__(self, receiver: Receiver | None, host: str, port: int, echoed: io.BytesIO | None = None) -> None:
        self.receiver, self.host, self.port, self.echoed = receiver, host, port, echoed
        self.printer: listen_output.Printer | None = None

    def post(
        self, body: bytes, headers: dict[str, str] | None = None, path: str = "/hooks", method: str = "POST"
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            sent = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    @property
    def output(self) -> str:
        assert self.echoed is not None
        return self.echoed.getvalue().decode()


@contextmanager
def listening(config: Config) -> Iterator[Listening]:
    """A receiver whose deliveries go through the pipeline to the console lines, as in `vevents listen`."""
    echoed = io.BytesIO()
    out = io.TextIOWrapper(echoed, write_through=True)
    printer = listen_output.Printer(Streams(out, io.TextIOWrapper(io.BytesIO())), forwarding=config.forward is not None)
    receiver = Receiver(replace(config, host="127.0.0.1", port=0), on_forward=printer.forwarded, on_note=printer.note)
    host, port = receiver.start()
    consumer = threading.Thread(
        target=listen_output.write, args=(pipeline.run(RunConfig(), records=receiver.deliveries()), printer)
    )
    consumer.start()
    srv = Listening(receiver, host, port, echoed)
    srv.printer = printer  # the console's streams live as long as the test looks at them
    try:
        yield srv
    finally:
        receiver.stop()
        consumer.join(timeout=30)


def eventually(condition: Callable[[], bool], within: float = 30) -> None:
    """Wait for something another thread does (a guard against hanging, not a timing check)."""
    end = time.monotonic() + within
    while not condition():
        assert time.monotonic() < end, "still not done"
        time.sleep(0.01)


def saved(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_signed_and_unsigned_deliveries_are_answered_printed_and_saved(tmp_path: Path, payload: dict) -> None:
    body = orjson.dumps(payload, option=orjson.OPT_INDENT_2)  # pretty on the wire, signed compact
    save = tmp_path / "deliveries.ndjson"
    with listening(Config(path="/hooks", secret=SECRET, save=save)) as srv:
        signed = {"X-Voucherify-Signature": hmac_hex(orjson.dumps(payload))}
        assert srv.post(body, signed) == (200, b'{"ok":true}')
        assert srv.post(orjson.dumps(payload))[0] == 200
        assert srv.post(orjson.dumps(payload), {"X-Voucherify-Signature": hmac_hex(b"x")})[0] == 200
    lines = srv.output.splitlines()  # printed after answering: in any order
    for verdict in ("200\t✓ compact\t", "200\tmissing\t", "200\t✗ mismatch\t"):  # not a terminal: tab-separated
        (line,) = [line for line in lines if line.startswith(verdict)]
        cells = line.split("\t")
        assert cells[2] == "✓" and cells[4] == "voucher.published"  # the event itself is valid
    assert "signature mismatch — likely: wrong secret" in srv.output
    records = saved(save)
    assert len(records) == 3
    assert records[0]["body"].encode() == body and records[0]["event"] == payload
    assert records[0]["headers"]["X-Voucherify-Signature"] == hmac_hex(orjson.dumps(payload))
    assert {r["method"] for r in records} == {"POST"} and {r["path"] for r in records} == {"/hooks"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", records[0]["received_at"])
    assert srv.receiver.summary_line() == "received 3 requests: 3 × 200 OK"


def test_require_signature_answers_401_to_missing_or_wrong_ones(tmp_path: Path, payload: dict) -> None:
    body = orjson.dumps(payload)
    with listening(Config(path="/hooks", secret=SECRET, require_signature=True)) as srv:
        assert srv.post(body)[0] == 401
        assert srv.post(body, {"x-voucherify-signature": hmac_hex(body, "another secret")})[0] == 401
        assert srv.post(body, {"x-voucherify-signature": hmac_hex(body)})[0] == 200
    assert srv.receiver.counts == {401: 2, 200: 1}


def test_limits_methods_paths_and_non_json_bodies(tmp_path: Path, payload: dict) -> None:
    save = tmp_path / "deliveries.ndjson"
    with listening(Config(path="/hooks", save=save, max_body=2000)) as srv:
        status, answer = srv.post(b'{"pad": "' + b"x" * 5000 + b'"}')
        assert status == 413 and b"limit" in answer
        assert srv.post(b"", method="GET")[0] == 405
        assert srv.post(orjson.dumps(payload), path="/elsewhere")[0] == 404
        assert srv.post(b"<ok/>", {"Content-Type": "text/xml"})[0] == 400
        assert srv.post(b"\xff\xfe not utf-8")[0] == 400
        assert srv.post(orjson.dumps({"id": "whs_1"}), path="/hooks?attempt=2")[0] == 200
    xml, binary, ok = saved(save)  # refused by size, method or path: not saved
    assert xml["body"] == "<ok/>" and xml["event"] is None and xml["headers"]["Content-Type"] == "text/xml"
    assert binary["body_encoding"] == "base64" and base64.b64decode(binary["body"]) == b"\xff\xfe not utf-8"
    assert ok["path"] == "/hooks?attempt=2" and ok["event"] == {"id": "whs_1"}
    for refused in ("413 POST /hooks", "405 GET /hooks", "404 POST /elsewhere"):
        assert refused in srv.output


class _Target(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append((body, dict(self.headers.items())))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_forward_passes_the_same_bytes_and_signature_on(payload: dict) -> None:
    target = HTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{target.server_address[1]}/app/webhooks"
    body = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    signature = hmac_hex(orjson.dumps(payload))
    try:
        with listening(Config(path="/hooks", secret=SECRET, forward=url)) as srv:
            assert srv.post(body, {"X-Voucherify-Signature": signature})[0] == 200
            eventually(lambda: "→" in srv.output)  # forwarded in the background, after the answer
    finally:
        target.shutdown()
        target.server_close()
    ((got_body, got_headers),) = _Target.got
    assert got_body == body
    assert got_headers["X-Voucherify-Signature"] == signature
    assert got_headers["Content-Type"] == "application/json"
    assert re.search(rf"→ {re.escape(url)}: 202 in \d+ ms", srv.output)


def test_cli_listen_stops_cleanly_on_ctrl_c_with_a_count(tmp_path: Path, payload: dict) -> None:
    with start_cli("--save", str(tmp_path / "s.ndjson")) as (proc, _port, banner):
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/ · signatures checked", banner)
        assert m, banner
        body = orjson.dumps(payload)
        srv = Listening(None, "127.0.0.1", int(m.group(1)), [])  # type: ignore[arg-type]
        assert srv.post(body, {"X-Voucherify-Signature": hmac_hex(body)}, path="/") == (200, b'{"ok":true}')
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "Traceback" not in err.decode()
    assert "received 1 request: 1 × 200 OK" in err.decode()
    assert "✓ raw" in out.decode() and "voucher.published" in out.decode()
    assert SECRET not in out.decode() + err.decode() + banner


# --- under load and attack (issue 9) -------------------------------------------------------------


def raw_request(srv: Listening, data: bytes, timeout: float = 30) -> bytes:
    """Send bytes as they are (what http.client would refuse to send); the whole answer."""
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def test_a_content_length_that_is_not_ascii_digits_is_answered_400(payload: dict) -> None:
    body = orjson.dumps(payload)
    with listening(Config(path="/hooks")) as srv:
        for length in (b"\xb2", b"1\xb9", b"-1", b"0x10", b"\xd9\xa3"):  # ², ¹, Arabic-Indic 3...
            answer = raw_request(
                srv, b"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n" + body
            )
            assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
            assert b"bad Content-Length" in answer
        assert srv.post(body, path="/hooks")[0] == 200  # and the receiver goes on
    assert srv.receiver.counts == {400: 5, 200: 1}


class _SlowTarget(BaseHTTPRequestHandler):
    """A forwarding target that holds each request until the test releases it."""

    arrived = threading.Semaphore(0)
    release = threading.Event()
    got: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.got.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.arrived.release()
        self.release.wait(60)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def slow_target() -> Iterator[str]:
    _SlowTarget.arrived, _SlowTarget.release, _SlowTarget.got = threading.Semaphore(0), threading.Event(), []
    target = ThreadingHTTPServer(("127.0.0.1", 0), _SlowTarget)
    target.daemon_threads = True
    threading.Thread(target=target.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{target.server_address[1]}/slow"
    finally:
        _SlowTarget.release.set()
        target.shutdown()
        target.server_close()


def test_each_forward_line_names_its_event_and_follows_its_delivery(payload: dict) -> None:
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{target.server_address[1]}/app/webhooks"
    ids = [f"whs_order_{i}" for i in range(8)]
    try:
        with listening(Config(path="/hooks", forward=url)) as srv:
            for whs in ids:
                assert srv.post(orjson.dumps({**payload, "id": whs}))[0] == 200
            eventually(lambda: srv.output.count("→") == len(ids))
    finally:
        target.shutdown()
        target.server_close()
    lines = srv.output.splitlines()
    for number, whs in enumerate(ids, 1):  # posted one after another: delivery N is the Nth
        (row,) = [i for i, line in enumerate(lines) if line.endswith(f"\tlisten /hooks:{number}")]
        (forward,) = [i for i, line in enumerate(lines) if "→" in line and line.endswith(f" {whs}")]
        assert row < forward
        assert re.fullmatch(rf"    → {re.escape(url)}: 202 in \d+ ms · voucher.published {whs}", lines[forward])


def test_a_forward_told_before_its_delivery_is_printed_after_it(payload: dict) -> None:
    """The forwarding thread may finish before the main thread prints the delivery: its line waits."""
    from vevents_cli.model import Delivery, Locator
    from vevents_cli.webhooks.forward import Forwarded

    echoed = io.BytesIO()
    printer = listen_output.Printer(
        Streams(io.TextIOWrapper(echoed, write_through=True), io.TextIOWrapper(io.BytesIO())), forwarding=True
    )
    record = Record(Locator("listen /hooks", 7), orjson.dumps(payload), payload, None, Delivery(200))
    printer.forwarded(Forwarded("http://127.0.0.1:9/x", 202, 3.0, delivery=7))
    assert echoed.getvalue() == b""  # held: its delivery's line is not out yet
    listen_output.write(pipeline.run(RunConfig(), records=iter([record])), printer)
    lines = echoed.getvalue().decode().splitlines()
    assert len(lines) == 2 and lines[0].startswith("200\t")
    assert lines[1] == f"    → http://127.0.0.1:9/x: 202 in 3 ms · voucher.published {payload['id']}"


def test_listen_in_a_pipe_prints_the_show_table_columns_tab_separated(payload: dict, tmp_path: Path) -> None:
    with listener() as srv:
        assert Listening(None, "127.0.0.1", srv.port).post(orjson.dumps(payload), path="/")[0] == 200
        srv.proc.send_signal(signal.SIGINT)
        out, _ = srv.proc.communicate(timeout=30)
    header, row = out.decode().splitlines()
    log = tmp_path / "one.json"
    log.write_bytes(orjson.dumps(payload))
    table_header = invoke("show", "--table", str(log)).stdout.splitlines()[0]
    assert header == "status\tsignature\t" + table_header  # the same columns, in the same order
    cells = row.split("\t")
    assert cells[:5] == ["200", "missing", "✓", payload["created_at"], "voucher.published"]
    assert len(cells) == len(header.split("\t")) and cells[-1] == "listen /:1"


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_listen_rows_fit_the_terminal_in_the_show_table_layout(payload: dict, columns: int) -> None:
    import fcntl
    import pty
    import struct
    import termios

    from tests.helpers import read_pty

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    longest = sample("customer.voucher.loyalty_card.pending_points.activated")
    env = {"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "xterm-256color"}
    with listener(stdout=follower, env=env) as srv:
        os.close(follower)
        client = Listening(None, "127.0.0.1", srv.port)
        for event in (payload, longest):
            assert client.post(orjson.dumps(event), path="/")[0] == 200
        srv.proc.send_signal(signal.SIGINT)
        srv.proc.communicate(timeout=30)
    lines = read_pty(leader).decode().replace("\r\n", "\n").splitlines()
    assert len(lines) == 3 and all(len(line) <= columns for line in lines), lines  # no row wraps
    header = lines[0].split()
    assert header[:8] == ["st", "signature", "✓", "time", "type", "customer", "voucher", "Δpoints"]
    for line in lines[1:]:
        assert line.startswith("200 missing    ✓ ") and ("ada@example.test" in line or columns == 80)
        assert "ada@example" in line and "STAR-7Q2K" in lines[2] and "+60" in lines[2]
    # deliveries come one by one: sized for the longest type there is, abbreviated when narrower
    kind = lines[2].split()[4 if columns >= 200 else 5]  # (a short time is two words)
    assert kind == longest["type"] if columns >= 200 else kind.endswith(".activated") and kind.startswith("c."), lines
    assert ("campaign" in header) is (columns >= 200)


def test_a_slow_forward_target_delays_no_delivery_and_a_full_queue_drops(payload: dict) -> None:
    bodies = [orjson.dumps({**payload, "id": f"whs_slow_{i}"}) for i in range(6)]
    with slow_target() as url, listening(Config(path="/hooks", forward=url, forward_queue=2)) as srv:
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        statuses = []
        for i, body in enumerate(bodies):  # one keep-alive connection
            conn.request("POST", "/hooks", body=body, headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            statuses.append(answer.status)
            if i == 0:  # the target holds the first: the forwarder is busy with it from now on
                assert _SlowTarget.arrived.acquire(timeout=30)
        conn.close()
        # every delivery was answered while the target still held the first one
        assert statuses == [200] * 6 and not _SlowTarget.release.is_set()
        assert len(_SlowTarget.got) == 1
        # the deliveries are handed to the forwarder after their answers: wait until all six were (under load,
        # a release before that would let a late one into the freed queue)
        eventually(lambda: srv.output.count("not forwarded, dropped") == 3)
        _SlowTarget.release.set()  # the two queued ones go on; the three that found the queue full did not
        for _ in range(2):
            assert _SlowTarget.arrived.acquire(timeout=30)
    assert _SlowTarget.got == bodies[:3]
    assert srv.output.count("not forwarded, dropped (2 deliveries already waiting for a slow target)") == 3
    assert srv.receiver.summary_line().endswith("· 3 forwards dropped")


def closed_by_peer(conn: socket.socket) -> bool:
    """Whether the other end closed `conn` (waiting for it; a reset: bytes it never read)."""
    conn.settimeout(30)
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


def test_at_the_cap_waiting_connections_make_room_for_deliveries(payload: dict) -> None:
    body = orjson.dumps(payload)
    with listening(Config(path="/hooks", max_waiting=2)) as srv:
        idle = [socket.create_connection((srv.host, srv.port)) for _ in range(2)]  # they take both places
        idle[1].sendall(b"POST /hooks HTTP/1.1\r\nHost: slow\r\n")  # ...and one never finishes its head
        try:
            for _ in range(3):
                assert srv.post(body)[0] == 200
            for conn in idle:  # closed by the receiver to make room
                assert closed_by_peer(conn)
        finally:
            for conn in idle:
                conn.close()
    assert srv.receiver.closed == 2
    assert (
        "2 connections waiting for their request, the most at once: those waiting longest are closed first"
        in srv.printer.streams.err.getvalue().decode()
    )  # type: ignore[union-attr]


def test_at_the_thread_cap_kept_alive_connections_make_room_for_deliveries(payload: dict) -> None:
    body = orjson.dumps(payload)
    request = b"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with listening(Config(path="/hooks", max_connections=2)) as srv:
        kept = [socket.create_connection((srv.host, srv.port), timeout=30) for _ in range(2)]
        try:
            for conn in kept:  # one delivery each, then kept alive: both threads taken
                conn.sendall(request)
                answer = b""
                while not answer.endswith(b'{"ok":true}'):
                    answer += conn.recv(65536)
                assert answer.startswith(b"HTTP/1.1 200 ")
            for _ in range(3):
                assert srv.post(body)[0] == 200
            readable, _, _ = select.select(kept, [], [], 30)  # one is closed by the receiver to make room
            assert readable and closed_by_peer(readable[0])
        finally:
            for conn in kept:
                conn.close()
    assert srv.receiver.closed >= 1  # (kept[1] too, if a delivery came before the last one's thread ended)
    assert (
        "2 connections served at once, the most: requests wait; idle and slow ones are closed first"
        in srv.printer.streams.err.getvalue().decode()
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "partial",
    [
        b"POST /hooks HTTP/1.1\r\nHost: slow\r\n",  # the head never ends
        b'POST /hooks HTTP/1.1\r\nHost: slow\r\nContent-Length: 100\r\n\r\n{"id":',  # nor the body
        b"",  # nothing at all, after a first request (kept alive)
    ],
)
def test_slow_or_idle_connections_are_closed_after_their_timeout(payload: dict, partial: bytes) -> None:
    config = Config(path="/hooks", head_timeout=0.5, body_timeout=0.5, idle_timeout=0.5)
    with listening(config) as srv:
        conn = socket.create_connection((srv.host, srv.port), timeout=30)
        if not partial:
            body = orjson.dumps(payload)
            conn.sendall(b"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            assert conn.recv(65536).startswith(b"HTTP/1.1 200 ")
        conn.sendall(partial)
        while conn.recv(65536):  # until the receiver closes it
            pass
        conn.close()
        assert srv.post(orjson.dumps(payload))[0] == 200
    assert srv.receiver.closed == 1
    assert srv.receiver.summary_line().endswith(" · 1 idle or slow connection closed")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _limit_files() -> None:
    interruptible()
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@contextmanager
def start_cli(*args: str, limit_files: bool = False) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    """`vevents listen --port 0 ARGS` with this module's secret: the process, its port, its banner."""
    env = {"VOUCHERIFY_WEBHOOK_SECRET": SECRET}
    with listener(*args, env=env, preexec_fn=_limit_files if limit_files else interruptible) as srv:
        yield srv.proc, srv.port, srv.banner


HOLD = 2.0  # seconds the slow connections are held open after the deliveries, CPU counted


def flood(port: int, pid: int, payload: dict) -> tuple[list[int], float, float]:
    """300 slowloris connections (a partial head, then a byte a second on each), then 20
    deliveries, then `HOLD` seconds more: their statuses, and the CPU and wall seconds the
    receiver took meanwhile (deliveries served fast leave the hold to tell a spin apart)."""
    srv = Listening(None, "127.0.0.1", port)
    slow: list[socket.socket] = []
    stop = threading.Event()

    def dribble() -> None:  # no read ever times out by itself
        while not stop.wait(1.0):
            for conn in slow:
                with contextlib.suppress(OSError):
                    conn.send(b"X")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 400:  # this side needs its 300 sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1024), hard))
    try:
        cpu_before, wall_before = _cpu_seconds(pid), time.monotonic()
        for _ in range(300):
            conn = socket.socket()
            conn.setblocking(False)
            conn.connect_ex(("127.0.0.1", port))
            slow.append(conn)
        waiting = set(slow)  # each sends a partial head once connected (or after 5 s, given up)
        with selectors.DefaultSelector() as selector:
            for conn in waiting:
                selector.register(conn, selectors.EVENT_WRITE)
            end = time.monotonic() + 5
            while waiting and time.monotonic() < end:
                for key, _ in selector.select(timeout=0.1):
                    selector.unregister(key.fileobj)
                    waiting.discard(key.fileobj)  # type: ignore[arg-type]
                    with contextlib.suppress(OSError):
                        key.fileobj.send(b"POST / HTTP/1.1\r\nHost: slowloris\r\nX-a: ")  # type: ignore[union-attr]
        threading.Thread(target=dribble, daemon=True).start()
        body = orjson.dumps(payload)
        statuses = [srv.post(body, {"X-Voucherify-Signature": hmac_hex(body)}, path="/")[0] for _ in range(20)]
        stop.wait(HOLD)  # the slow connections stay open a while: a receiver that spins on them burns this too
        return statuses, _cpu_seconds(pid) - cpu_before, time.monotonic() - wall_before
    finally:
        stop.set()
        for conn in slow:
            conn.close()


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU time is read from /proc")


@pytest.mark.heavy
@needs_proc
@pytest.mark.parametrize("cap", [64, 1000])  # 1000: more than the open-files limit (256) allows
def test_300_slow_connections_with_256_files_neither_spin_nor_starve_deliveries(payload: dict, cap: int) -> None:
    with start_cli("--max-connections", str(cap), limit_files=True) as (proc, port, _):
        statuses, cpu, wall = flood(port, proc.pid, payload)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    errors = err.decode()
    print(
        f"\nlisten --max-connections {cap}, 256 files, 300 slow connections: 20 deliveries served in "
        f"{wall:.1f} s, {cpu:.2f} s CPU"
    )
    assert statuses == [200] * 20
    assert cpu < 0.6 * wall, f"{cpu:.2f} s of CPU in {wall:.2f} s: spinning"
    assert "Traceback" not in errors and proc.returncode == 0
    assert re.search(r"received 20 requests: 20 × 200 OK · \d+ idle or slow connections closed", errors), errors
    assert errors.count("connections waiting for their request, the most at once") == 1, errors
    if cap > 256:
        assert re.search(r"at most \d+ connections at once, not 1000: the open-files limit is 256", errors), errors
    assert out.decode().count("✓ raw") == 20


EATER = r"""
import os, sys
from vevents_cli.webhooks.receive import Config, Receiver

config = Config(port=0, path="/", secret=sys.argv[1], max_connections=1000)
receiver = Receiver(config, on_note=lambda text: print("note:", text, flush=True))
host, port = receiver.start()
eaten = [os.open(os.devnull, os.O_RDONLY) for _ in range(150)]  # something else takes most files
print(port, flush=True)
for item in receiver.deliveries():
    print("delivery:", item.delivery.status, item.delivery.signature, flush=True)
receiver.stop()
print("summary:", receiver.summary_line(), flush=True)
"""


@pytest.mark.heavy
@needs_proc
def test_out_of_files_on_accept_backs_off_and_still_serves(payload: dict) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", EATER, SECRET], stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limit_files
    )
    with stopped_at_exit(proc):
        port = int(first_line(proc.stdout))
        statuses, cpu, wall = flood(port, proc.pid, payload)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    print(f"\nlisten out of files, 300 slow connections: 20 deliveries served in {wall:.1f} s, {cpu:.2f} s CPU")
    assert statuses == [200] * 20
    assert cpu < 0.6 * wall, f"{cpu:.2f} s of CPU in {wall:.2f} s: spinning"
    lines = out.decode().splitlines()
    assert lines.count("delivery: 200 raw") == 20, out.decode()
    notes = [line for line in lines if line.startswith("note: ")]
    assert (
        notes[0] == "note: out of file descriptors (Too many open files): new connections wait; idle and slow "
        "ones are closed first"
    ), notes
    assert re.fullmatch(r"note: \d+ connections waiting for their request, the most at once: .*", notes[1])
    assert len(notes) == 2
    assert "Traceback" not in err.decode()


def test_sigterm_stops_like_ctrl_c_with_the_summary(tmp_path: Path, payload: dict) -> None:
    with start_cli("--save", str(tmp_path / "s.ndjson")) as (proc, port, _):
        body = orjson.dumps(payload)
        srv = Listening(None, "127.0.0.1", port)
        assert srv.post(body, {"X-Voucherify-Signature": hmac_hex(body)}, path="/")[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Traceback" not in err.decode()
    assert "stopping…" in err.decode() and "received 1 request: 1 × 200 OK" in err.decode()
    assert "✓ raw" in out.decode()
    assert len(saved(tmp_path / "s.ndjson")) == 1


SLOW_HANDLER = """
import signal, time
from vevents_cli.webhooks.receive import Config, Receiver
receiver = Receiver(Config(port=0))
def slow(signum, frame):
    time.sleep(0.5)  # longer than the receiver's wait for the next delivery
    receiver.interrupt()
signal.signal(signal.SIGALRM, slow)
signal.setitimer(signal.ITIMER_REAL, 0.1)
print(len(list(receiver.deliveries())))
"""


def test_a_signal_handled_while_waiting_for_a_delivery_ends_the_deliveries() -> None:
    """The wait for the next delivery ends once a signal's handler asked it to, however long the
    handler took (a queue whose timed wait, cut by a signal, became a wait without end left
    `listen` running after Ctrl-C, about once in 30 runs)."""
    proc = subprocess.run([sys.executable, "-c", SLOW_HANDLER], capture_output=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, b"0\n"), proc.stderr.decode()[-2000:]


def test_ctrl_c_does_not_wait_for_a_slow_forward_target(payload: dict) -> None:
    # the target would hold the forward for 60 s and the timeout allows 300: stopping waits for neither
    with slow_target() as url, start_cli("--forward", url, "--forward-timeout", "300") as (proc, port, _):
        body = orjson.dumps(payload)
        srv = Listening(None, "127.0.0.1", port)
        for _ in range(3):
            assert srv.post(body, {"X-Voucherify-Signature": hmac_hex(body)}, path="/")[0] == 200
        assert _SlowTarget.arrived.acquire(timeout=30)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert not _SlowTarget.release.is_set()  # the process ended while the target still held it
    assert proc.returncode == 0
    assert "received 3 requests: 3 × 200 OK · 2 forwards dropped" in err.decode()


# --- the receiver under load ------------------------------------------------------------------------

CLIENT = r"""
import hashlib, hmac, http.client, sys
import orjson
from vevents_cli.samples import sample

host, port, client, count, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
types = ["voucher.published", "customer.rewarded", "redemption.succeeded", "customer.created"]
payloads = [sample(t) for t in types]
conn = http.client.HTTPConnection(host, port, timeout=120)
statuses = []
for i in range(count):
    payload = {**payloads[i % len(payloads)], "id": f"whs_{client}_{i}"}
    compact = orjson.dumps(payload)
    kind = i % 3
    if kind == 0:  # signed as sent
        body, signed = compact, compact
    elif kind == 1:  # a wrong signature
        body, signed = compact, compact + b" "
    else:  # sent pretty, signed over the compact form
        body, signed = orjson.dumps(payload, option=orjson.OPT_INDENT_2), compact
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    conn.request("POST", "/hooks", body=body,
                 headers={"Content-Type": "application/json", "X-Voucherify-Signature": signature})
    answer = conn.getresponse()
    answer.read()
    statuses.append(answer.status)
print(orjson.dumps(statuses).decode())
"""
EXPECTED = {0: (200, "raw", "MATCH (raw)"), 1: (401, "mismatch", "MISMATCH"), 2: (200, "compact", "MATCH (compact)")}


@pytest.mark.heavy
def test_load_8_client_processes_x_500_deliveries_all_answered_saved_once_and_verified(tmp_path: Path) -> None:
    save = tmp_path / "load.ndjson"
    clients, per_client = 8, 500
    receiver = Receiver(
        Config(host="127.0.0.1", port=0, path="/hooks", secret=SECRET, require_signature=True, save=save)
    )
    host, port = receiver.start()
    verdicts: dict[str, str] = {}

    def consume() -> None:
        for item in receiver.deliveries():
            assert isinstance(item, Record) and item.delivery is not None
            verdicts[item.value["id"]] = item.delivery.signature

    consumer = threading.Thread(target=consume)
    consumer.start()
    try:
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CLIENT, host, str(port), str(n), str(per_client), SECRET],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for n in range(clients)
        ]
        answers = [proc.communicate(timeout=300) for proc in procs]
        elapsed = time.perf_counter() - start
    finally:
        receiver.stop()
        consumer.join(timeout=60)
    total = clients * per_client
    print(f"\nlisten: {total} deliveries from {clients} processes in {elapsed:.2f} s = {total / elapsed:.0f}/s")
    for proc, (out, err) in zip(procs, answers, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        statuses = orjson.loads(out)
        assert statuses == [EXPECTED[i % 3][0] for i in range(per_client)]  # every delivery answered, rightly
    assert receiver.counts == {
        200: sum(i % 3 != 1 for i in range(per_client)) * clients,
        401: sum(i % 3 == 1 for i in range(per_client)) * clients,
    }
    expected_ids = {f"whs_{n}_{i}" for n in range(clients) for i in range(per_client)}
    assert set(verdicts) == expected_ids
    assert all(verdicts[f"whs_{n}_{i}"] == EXPECTED[i % 3][1] for n in range(clients) for i in range(per_client))
    records = saved(save)  # every line parses: valid NDJSON
    assert len(records) == total and {r["event"]["id"] for r in records} == expected_ids  # each saved once
    result = invoke("verify", str(save), env={"VOUCHERIFY_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0  # the wrong signatures were answered 401: rejected deliveries, not counted
    lines = iter(result.stdout.splitlines())
    notes = iter(result.stderr.splitlines())
    for number, record in enumerate(records, 1):  # verify agrees, one by one
        expected = {v: text for _, v, text in EXPECTED.values()}[verdicts[record["event"]["id"]]]
        assert record["status"] == (401 if expected == "MISMATCH" else 200)
        if expected == "MISMATCH":
            assert (
                next(notes)
                == f"vevents: {save}:{number}: rejected delivery (401 signature does not match), not counted"
            )
            continue
        where, _label, outcome = next(lines).split("  ", 2)
        assert where == f"{save}:{number}"
        assert outcome.startswith(expected), (number, record["event"]["id"])
    assert next(lines, None) is None and next(notes, None) is None
