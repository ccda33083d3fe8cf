"""`vevents listen`: the local receiver, started in-process on an ephemeral port."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import orjson
import pytest
from conftest import interruptible, invoke

from vevents_cli import pipeline
from vevents_cli.output import listen as listen_output
from vevents_cli.output.streams import Streams
from vevents_cli.pipeline.config import RunConfig
from vevents_cli.pipeline.receiver import Config, Receiver
from vevents_cli.samples import sample

SECRET = "whsec_listen_test"


def hmac_hex(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def payload() -> dict:
    return sample("voucher.published")


class Listening:
    def __init__(self, receiver: Receiver | None, host: str, port: int, echoed: io.BytesIO | None = None) -> None:
        self.receiver, self.host, self.port, self.echoed = receiver, host, port, echoed

    def post(self, body: bytes, headers: dict[str, str] | None = None, path: str = "/hooks",
             method: str = "POST") -> tuple[int, bytes]:
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
    printer = listen_output.Printer(Streams(out, io.TextIOWrapper(io.BytesIO())))
    receiver = Receiver(replace(config, host="127.0.0.1", port=0), on_forward=printer.forwarded)
    host, port = receiver.start()
    consumer = threading.Thread(
        target=listen_output.write, args=(pipeline.run(RunConfig(), records=receiver.deliveries()), printer))
    consumer.start()
    try:
        yield Listening(receiver, host, port, echoed)
    finally:
        receiver.stop()
        consumer.join(timeout=30)


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
    for verdict in ("200 ✓ compact", "200 missing", "200 ✗ mismatch"):
        (line,) = [line for line in lines if line.startswith(verdict)]
        assert "voucher.published" in line and line.endswith("✓")  # the event itself is valid
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
    finally:
        target.shutdown()
        target.server_close()
    (got_body, got_headers), = _Target.got
    assert got_body == body
    assert got_headers["X-Voucherify-Signature"] == signature
    assert got_headers["Content-Type"] == "application/json"
    assert re.search(rf"→ {re.escape(url)}: 202 in \d+ ms", srv.output)


def test_load_1600_deliveries_from_8_threads_are_all_saved_intact(tmp_path: Path, payload: dict) -> None:
    save = tmp_path / "load.ndjson"
    threads, per_thread = 8, 200
    failures: list[BaseException] = []

    def client(srv: Listening, n: int) -> None:
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        try:
            for i in range(per_thread):
                body = orjson.dumps({**payload, "id": f"whs_{n}_{i}"})
                headers = {"Content-Type": "application/json", "X-Voucherify-Signature": hmac_hex(body)}
                conn.request("POST", "/hooks", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                assert answer.status == 200, answer.status
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            conn.close()

    with listening(Config(path="/hooks", secret=SECRET, save=save)) as srv:
        workers = [threading.Thread(target=client, args=(srv, n)) for n in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
    assert not failures, failures[:3]
    total = threads * per_thread
    print(f"\nlisten: {total} deliveries from {threads} threads in {elapsed:.2f} s = {total / elapsed:.0f}/s")
    records = saved(save)
    assert len(records) == total
    expected = {f"whs_{n}_{i}" for n in range(threads) for i in range(per_thread)}
    assert {r["event"]["id"] for r in records} == expected
    result = invoke("verify", str(save), env={"VOUCHERIFY_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0, result.output[-2000:]
    assert result.stdout.count("MATCH (raw)") == total


def test_cli_listen_stops_cleanly_on_ctrl_c_with_a_count(tmp_path: Path, payload: dict) -> None:
    env = {**os.environ, "COLUMNS": "250", "VOUCHERIFY_WEBHOOK_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vevents_cli", "listen", "--port", "0", "--save", str(tmp_path / "s.ndjson")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, preexec_fn=interruptible,
    )
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline().decode()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/ · signatures checked", banner)
        assert m, banner
        body = orjson.dumps(payload)
        srv = Listening(None, "127.0.0.1", int(m.group(1)), [])  # type: ignore[arg-type]
        assert srv.post(body, {"X-Voucherify-Signature": hmac_hex(body)}, path="/") == (200, b'{"ok":true}')
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err.decode()
    assert "received 1 request: 1 × 200 OK" in err.decode()
    assert "✓ raw" in out.decode() and "voucher.published" in out.decode()
    assert SECRET not in out.decode() + err.decode() + banner
