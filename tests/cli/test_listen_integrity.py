"""`vevents listen` keeps its word: framing it cannot trust is refused, a rejected delivery
is never counted as an event, a delivery is answered 2xx only once it is saved whole, and a
forward target cannot hold, crash or fool the forwarding. Through the real CLI (a child
process), against small raw-socket clients and targets."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import re
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from tests.helpers import full_disk, invoke, listener
from vevents_cli.samples import sample

SECRET = "whsec_integrity_test"
ENV = {"VOUCHERIFY_WEBHOOK_SECRET": SECRET}


@pytest.fixture(scope="module")
def body() -> bytes:
    return orjson.dumps(sample("voucher.published"))


def signed(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def exchange(port: int, data: bytes) -> bytes:
    """Send `data` on one connection, then read until the receiver closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def stopped(proc) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return out.decode(), err.decode()


# -- 13b: conflicting Content-Length ---------------------------------------------------------


def test_conflicting_content_lengths_are_answered_400_and_the_rest_is_never_a_request(body: bytes) -> None:
    smuggled = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nContent-Length: %d\r\n\r\n%s%s" % (
        len(body),
        len(body) + len(smuggled),
        body,
        smuggled,
    )
    repeated = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (
            len(body),
            len(body),
            body,
        )
    )
    listed = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d, %d\r\nConnection: close\r\n\r\n%s" % (
        len(body),
        len(body) + 1,
        body,
    )
    with listener(env=ENV) as srv:
        answer = exchange(srv.port, request)  # ...and the connection is closed: `exchange` returns
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert answer.count(b"HTTP/1.1 ") == 1  # the bytes after the first body are not a request
        assert b"conflicting Content-Length headers: %d, %d" % (len(body), len(body) + len(smuggled)) in answer
        assert exchange(srv.port, listed).startswith(b"HTTP/1.1 400 ")
        # the same number twice is that number (RFC 9110 section 8.6)
        assert exchange(srv.port, repeated).startswith(b"HTTP/1.1 200 ")
        err = stopped(srv.proc)[1]
    assert srv.proc.returncode == 0 and "Traceback" not in err
    assert "received 3 requests: 1 × 200 OK, 2 × 400 Bad Request" in err, err


def test_a_capture_with_conflicting_content_lengths_is_one_error_line(tmp_path: Path, body: bytes) -> None:
    good = b"POST /hooks HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(body), body)
    conflicting = b"POST /hooks HTTP/1.1\r\nContent-Length: %d\r\nContent-Length: 2\r\n\r\n%s\r\n" % (
        len(body),
        body,
    )
    repeated = b"POST /hooks HTTP/1.1\r\nContent-Length: %d\r\ncontent-length: %d\r\n\r\n%s\r\n" % (
        len(body),
        len(body),
        body,
    )
    capture = tmp_path / "capture.http"
    capture.write_bytes(good + conflicting + repeated)
    result = invoke("show", str(capture), "--format", "json")
    errors = [line for line in result.stderr.splitlines() if line.startswith("vevents: ")]
    assert errors == [
        f"vevents: {capture}:5: conflicting Content-Length headers: 2, {len(body)} (where the body ends is unknown)"
    ], result.stderr
    assert result.stdout.count('"voucher.published"') == 2, result.stdout[:300]


# -- 5: a rejected delivery is never an event -------------------------------------------------


def post(port: int, body: bytes, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/", body, {"Content-Type": "application/json", **(headers or {})})
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def test_a_delivery_answered_401_is_saved_marked_and_every_reader_reports_it_never_counts_it(
    tmp_path: Path,
) -> None:
    real = sample("customer.voucher.loyalty_card.points_added")
    forged = orjson.loads(orjson.dumps(real))
    forged["id"] = "whs_forged0000000000"
    forged["data"]["balance"]["points"] = 1000039
    real_body, forged_body = orjson.dumps(real), orjson.dumps(forged)
    save = tmp_path / "s.ndjson"
    with listener("--require-signature", "--save", str(save), env=ENV) as srv:
        assert post(srv.port, real_body, {"X-Voucherify-Signature": signed(real_body)}) == 200
        assert post(srv.port, forged_body) == 401
        assert post(srv.port, forged_body, {"X-Voucherify-Signature": "0" * 64}) == 401
        stopped(srv.proc)
    lines = [orjson.loads(line) for line in save.read_bytes().splitlines()]
    assert [(line["status"], line.get("rejected")) for line in lines] == [
        (200, None),
        (401, "signature missing"),
        (401, "signature does not match"),
    ]  # kept for audit, marked
    rejected = [
        f"vevents: {save}:2: rejected delivery (401 signature missing), not counted",
        f"vevents: {save}:3: rejected delivery (401 signature does not match), not counted",
    ]
    for command in (
        ["show"],
        ["show", "--format", "json"],
        ["stats"],
        ["stats", "--format", "json"],
        ["validate"],
        ["ledger"],
        ["verify"],
    ):
        result = invoke(*command, str(save), env=ENV)
        assert [line for line in result.stderr.splitlines() if "rejected" in line] == rejected, (command, result)
        assert "1000039" not in result.stdout and "1,000,039" not in result.stdout, command
        assert "whs_forged" not in result.stdout, command
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
    assert invoke("show", str(save), "--format", "json").stdout.count('"id"') >= 1


# -- 6: answered 2xx only once saved whole -----------------------------------------------------


def delivered(port: int, body: bytes) -> int:
    return post(port, body, {"X-Voucherify-Signature": signed(body)})


def test_a_delivery_that_cannot_be_saved_is_answered_503_said_and_the_exit_is_74(body: bytes) -> None:
    with listener("--save", "/dev/full", env=ENV) as srv:
        assert delivered(srv.port, body) == 503
        assert delivered(srv.port, body) == 503
        out, err = stopped(srv.proc)
    assert srv.proc.returncode == 74, err
    assert err.count("vevents: cannot write /dev/full: No space left on device") == 1, err
    assert "received 2 requests: 2 × 503 Service Unavailable · 2 not saved (answered 503)" in err, err
    assert out.count("\n503\t") == 2 and "Traceback" not in err


def test_a_record_cut_short_by_a_full_file_is_taken_back_and_never_joins_the_next(tmp_path: Path, body: bytes) -> None:
    save = tmp_path / "s.ndjson"
    small = orjson.dumps({"id": "whs_small", "type": "voucher.published", "data": {}})
    with listener("--save", str(save), **full_disk(len(body) * 3, ENV)) as srv:
        assert delivered(srv.port, body) == 200  # about 2.2 body sizes: fits
        assert delivered(srv.port, body) == 503  # would pass the limit: cut short, taken back
        assert delivered(srv.port, small) == 200  # fits in what is left, on a line of its own
        err = stopped(srv.proc)[1]
    assert srv.proc.returncode == 74, err
    assert "vevents: cannot write" in err and "Traceback" not in err
    lines = save.read_bytes().splitlines()
    assert [orjson.loads(line)["status"] for line in lines] == [200, 200]  # each line whole
    assert orjson.loads(orjson.loads(lines[1])["body"]) == orjson.loads(small)
    result = invoke("show", str(save), "--format", "json")
    assert result.exit_code == 0 and result.stderr == "", result.stderr


def test_the_save_file_moved_or_deleted_is_made_anew_at_its_path(tmp_path: Path, body: bytes) -> None:
    save = tmp_path / "s.ndjson"
    with listener("--save", str(save), env=ENV) as srv:
        assert delivered(srv.port, body) == 200
        save.rename(tmp_path / "s.ndjson.1")  # rotated
        assert delivered(srv.port, body) == 200
        assert delivered(srv.port, body) == 200
        save.unlink()  # deleted
        assert delivered(srv.port, body) == 200
        stopped(srv.proc)
    assert srv.proc.returncode == 0
    assert len((tmp_path / "s.ndjson.1").read_bytes().splitlines()) == 1
    assert len(save.read_bytes().splitlines()) == 1


# -- 10: a forward target cannot hold, crash or fool the forwarding ------------------------------


def _huge(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % 2**40 + b"x" * 100_000)


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    with contextlib.suppress(OSError):
        while not stop.wait(0.1):  # a byte at a time: no read ever times out by itself
            conn.sendall(b"X")


def _redirect(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\x1b[31m\r\nContent-Length: 0\r\n\r\n")


def _fine(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")


@contextlib.contextmanager
def hostile_target(*behaviours: Callable[[socket.socket, threading.Event], None]) -> Iterator[tuple[str, list[bytes]]]:
    """A target answering its Nth request as `behaviours[N]` (then 204): its URL, and the
    request lines it got."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop, got = threading.Event(), []

    def serve() -> None:
        n = 0
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(30)
            with conn:
                head = b""
                while b"\r\n\r\n" not in head and (more := conn.recv(65536)):
                    head += more
                got.append(head.split(b"\r\n", 1)[0])
                (behaviours[n] if n < len(behaviours) else _fine)(conn, stop)
            n += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks", got
    finally:
        stop.set()
        server.close()
        thread.join(30)


def test_a_hostile_forward_target_is_bounded_never_followed_and_never_stops_forwarding(body: bytes) -> None:
    with (
        hostile_target(_huge, _trickle, _redirect) as (url, got),
        listener("--forward", url, "--forward-timeout", "1", env=ENV) as srv,
    ):
        for _ in range(5):
            assert delivered(srv.port, body) == 200
        assert srv.proc.stdout is not None
        forwards = []
        watchdog = threading.Timer(60, srv.proc.kill)  # a guard against hanging, not a timing check
        watchdog.start()
        try:
            while len(forwards) < 5:  # each forward's line, in order (each takes 1 s at most)
                line = srv.proc.stdout.readline().decode()
                assert line, f"the receiver ended (or hung and was killed) after {forwards}"
                if line.startswith("    → "):
                    forwards.append(line.rstrip("\n"))
        finally:
            watchdog.cancel()
        err = stopped(srv.proc)[1]
    assert "Traceback" not in err and "MemoryError" not in err and srv.proc.returncode == 0
    assert "dropped" not in err, err
    assert re.match(rf"    → {re.escape(url)}: 200 in \d+ ms · voucher.published", forwards[0]), forwards
    assert re.match(
        rf"    → {re.escape(url)}: failed after \d+ ms \(no whole answer within 1 s \(--forward-timeout\)\)",
        forwards[1],
    ), forwards
    assert re.match(
        rf"    → {re.escape(url)}: 302 in \d+ ms, a redirect to /elsewhere\\x1b\[31m \(not followed\)", forwards[2]
    ), forwards
    assert all(re.match(rf"    → {re.escape(url)}: 204 in \d+ ms", line) for line in forwards[3:]), forwards
    assert got == [b"POST /hooks HTTP/1.1"] * 5  # the redirect was not followed
