"""`vevents send`: deliveries to `listen` started by the test, and to small servers on 127.0.0.1.

Each test server is a thread on 127.0.0.1 answering as the test says (500 for one type,
failing the first attempts of one delivery, never answering, redirecting...), recording
every request it reads. Every option goes through the real CLI (`invoke`, or a child
process where the listener's own output is read).
"""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest

from tests.helpers import REPO, Result, interruptible, invoke, listener, popen, stopped_at_exit
from vevents_cli.samples import sample
from vevents_cli.voucherify.signatures import compact, sign
from vevents_cli.webhooks.http import Headers
from vevents_cli.webhooks.saved import saved_record

SECRET = "whsec_send_test"
SAMPLES = REPO / "samples"
SIG = "x-voucherify-signature"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def value(self) -> dict:
        return orjson.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]
Answer = Callable[[Seen, int], Reply]  # (a request, how many requests came before it) -> the answer


def answer_ok(seen: Seen, before: int) -> Reply:
    return 200, {}, b'{"ok":true}'


@dataclass
class Server:
    url: str
    seen: list[Seen] = field(default_factory=list)


@contextmanager
def server(answer: Answer = answer_ok, tls: tuple[Path, Path] | None = None) -> Iterator[Server]:
    """A handler under test on 127.0.0.1 (any free port), in threads, recording what it reads."""
    lock = threading.Lock()
    srv = Server("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with lock:
                before = len(srv.seen)
                srv.seen.append(seen)
            status, headers, reply = answer(seen, before)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    srv.url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}/hooks"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@contextmanager
def raw_server(behaviour: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that does `behaviour` with each connection (for answers that are not HTTP)."""
    sock = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            behaviour(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    finally:
        stop.set()
        thread.join(timeout=10)
        for conn in held:
            conn.close()
        sock.close()


def send(*args: str, env: dict[str, str] | None = None) -> Result:
    return invoke("send", *args, env=env)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def log_file(tmp_path: Path, types: tuple[str, ...]) -> Path:
    """An NDJSON log of samples, its lines written with spaces (as some loggers do): not compact."""
    path = tmp_path / "hooks.ndjson"
    path.write_text("".join(json.dumps(sample(t)) + "\n" for t in types))
    return path


LOG_TYPES = ("voucher.published", "customer.rewarded", "redemption.succeeded", "customer.rewarded.loyalty_points")


# --- Done when: every delivery arrives signed, as the input's bytes ---------------------------------


def test_samples_log_and_saved_deliveries_arrive_as_their_bytes_with_a_raw_matching_signature(tmp_path: Path) -> None:
    files = [SAMPLES / "voucher.published.json", SAMPLES / "customer.rewarded.json"]
    log = log_file(tmp_path, LOG_TYPES)
    pretty = orjson.dumps(sample("redemption.failed"), option=orjson.OPT_INDENT_2)
    captured = tmp_path / "session.ndjson"  # a listen --save file: bodies as they arrived (pretty here)
    captured.write_bytes(
        orjson.dumps(saved_record("2026-03-14T09:26:53.589Z", "POST", "/", Headers(), pretty, None, 200))
        + b"\n"
        + orjson.dumps(
            saved_record(
                "2026-03-14T09:26:54.589Z", "POST", "/", Headers(), log.read_bytes().split(b"\n")[0], None, 200
            )
        )
        + b"\n"
    )
    expected = [
        *(compact(f.read_bytes().strip()) for f in files),  # a pretty file: its compact form (what Voucherify signs)
        *log.read_bytes().splitlines(),  # a line of a log: exactly its bytes
        *(orjson.loads(line)["body"].encode() for line in captured.read_bytes().splitlines()),
    ]
    save = tmp_path / "received.ndjson"
    with listener("--secret", SECRET, "--save", str(save)) as srv:
        result = send(f"http://127.0.0.1:{srv.port}/", *map(str, files), str(log), str(captured), "--secret", SECRET)
        srv.proc.send_signal(signal.SIGINT)
        out, _ = srv.proc.communicate(timeout=30)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "8 deliveries: 8 delivered (2xx), 0 failed"
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["200"] * 8
    assert "hooks.ndjson:3  redemption.succeeded" in lines[4]
    listened = [line.split("\t") for line in out.decode().splitlines() if line.startswith("200\t")]  # piped: TSV
    assert len(listened) == 8 and all(cells[1] == "✓ raw" for cells in listened), out.decode()
    bodies = [orjson.loads(line)["body"].encode() for line in save.read_bytes().splitlines()]
    assert bodies == expected
    headers = [Headers(orjson.loads(line)["headers"].items()) for line in save.read_bytes().splitlines()]
    assert all(h["Content-Type"] == "application/json" for h in headers)
    assert [h[SIG] for h in headers] == [sign(b, SECRET) for b in expected]


def test_stdin_secret_from_env_and_secret_file(tmp_path: Path) -> None:
    body = orjson.dumps(sample("voucher.published"))
    secret_file = tmp_path / "secret"
    secret_file.write_text(f"  {SECRET}\n")
    with server() as srv:
        from_env = invoke("send", srv.url, input=body, env={"VOUCHERIFY_WEBHOOK_SECRET": SECRET})
        from_file = send(srv.url, str(SAMPLES / "voucher.published.json"), "--secret-file", str(secret_file))
    assert from_env.exit_code == 0 and from_file.exit_code == 0, from_env.output + from_file.output
    assert srv.seen[0].body == body and srv.seen[0].headers[SIG] == sign(body, SECRET)
    assert srv.seen[1].headers[SIG] == sign(srv.seen[1].body, SECRET)
    assert "<stdin>:1  voucher.published" in from_env.stdout


def test_no_secret_is_a_usage_error_naming_where_to_give_it() -> None:
    result = send("http://127.0.0.1:9/", str(SAMPLES / "voucher.published.json"))
    assert result.exit_code == 2 and "VOUCHERIFY_WEBHOOK_SECRET" in result.stderr


def test_keep_signature_resends_the_captured_one_and_no_signature_sends_none(tmp_path: Path) -> None:
    body = orjson.dumps(sample("voucher.published"))
    captured = tmp_path / "request.http"
    captured.write_bytes(
        b"POST /hooks HTTP/1.1\r\nHost: example.test\r\nContent-Type: application/json\r\n"
        + b"X-Voucherify-Signature: "
        + b"ab" * 32
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    with server() as srv:
        kept = send(srv.url, str(captured), "--keep-signature")
        none = send(srv.url, str(captured), "--no-signature")
        both = send(srv.url, str(captured), "--no-signature", "--keep-signature")
    assert kept.exit_code == 0 and none.exit_code == 0, kept.output + none.output
    assert srv.seen[0].headers[SIG] == "ab" * 32 and srv.seen[0].body == body
    assert SIG not in srv.seen[1].headers
    assert both.exit_code == 2 and "--no-signature" in both.stderr


def test_additional_headers_are_sent_and_bad_ones_are_usage_errors() -> None:
    with server() as srv:
        result = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--secret", SECRET,
                      "-H", "X-Tenant: acme", "--header", "Authorization: Bearer t0ken")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert srv.seen[0].headers["x-tenant"] == "acme" and srv.seen[0].headers["authorization"] == "Bearer t0ken"
    for bad in ("no colon", "Content-Length: 3", "Bad Name: x"):
        refused = send("http://127.0.0.1:9/", "--type", "voucher.published", "--secret", SECRET, "-H", bad)
        assert refused.exit_code == 2 and "--header" in refused.stderr, refused.output


# --- Done when: --all-types in JUnit --------------------------------------------------------------


def _fails_for(etype: str) -> Answer:
    data = sample(etype)["data"]

    def answer(seen: Seen, before: int) -> Reply:
        payload = seen.value
        if data in (payload, payload.get("data"), (payload.get("data") or {}).get("object")):
            return 500, {}, b"handler: cannot process this type\nsecond line"
        return 200, {}, b"{}"

    return answer


def test_all_types_junit_one_testcase_per_documented_pair_failing_only_for_the_type_the_handler_rejects() -> None:
    types = [json.loads(line) for line in invoke("types", "--format", "json").stdout.splitlines()]
    pairs = {(row["type"], dialect) for row in types for dialect in row["dialects"]}
    with server(_fails_for("customer.rewarded")) as srv:
        result = send(srv.url, "--all-types", "--format", "junit", "--secret", SECRET)
        one = send(srv.url, "--all-types", "--dialect", "v2024", "--format", "junit", "--secret", SECRET)
    assert result.exit_code == 1 and one.exit_code == 1, result.stderr
    suite = ET.fromstring(result.stdout_bytes)
    cases = suite.findall("testcase")
    assert {(c.get("name"), c.get("classname")) for c in cases} == {(f"{t} ({d})", d) for t, d in pairs}
    assert len(cases) == len(pairs) == int(suite.get("tests") or 0)
    failing = [case for case in cases if case.find("failure") is not None]
    assert {case.get("name") for case in failing} == {
        f"customer.rewarded ({d})" for d in ("v2024", "distribution", "legacy", "bare")
    }
    failure = failing[0].find("failure")
    assert failure is not None and failure.get("message") == "handler: cannot process this type"
    skipped = [case for case in cases if case.find("skipped") is not None]
    assert skipped and all(not Path(SAMPLES / f"{(c.get('name') or '').split(' ')[0]}.json").exists() for c in skipped)
    one_suite = ET.fromstring(one.stdout_bytes)
    (only,) = [case for case in one_suite.findall("testcase") if case.find("failure") is not None]
    assert only.get("name") == "customer.rewarded (v2024)" and one_suite.get("failures") == "1"


def test_generated_ids_are_fresh_unless_same_ids() -> None:
    with server() as srv:
        for _ in range(2):
            send(
                srv.url, "--type", "voucher.published", "--dialect", "v2024", "--dialect", "legacy", "--secret", SECRET
            )
        same = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--same-ids", "--secret", SECRET)
    assert same.exit_code == 0
    ids = [seen.value["id"] for seen in srv.seen]
    assert len(set(ids[:4])) == 4  # fresh on every send, in every dialect
    event_ids = [
        seen.value.get("event", {}).get("id") or seen.value["data"]["related_object"]["id"] for seen in srv.seen[:4]
    ]
    assert len(set(event_ids)) == 4
    assert srv.seen[0].value["created_at"] != sample("voucher.published")["created_at"]
    assert srv.seen[4].value == sample("voucher.published")


def test_type_globs_and_their_usage_errors() -> None:
    with server() as srv:
        result = send(srv.url, "--type", "voucher.p*", "--type", "customer.rewarded", "--dialect", "bare",
                      "--secret", SECRET)  # fmt: skip
    assert result.exit_code == 0, result.output
    labels = {line.split("  ")[-1] for line in result.stdout.splitlines()}
    assert labels == {"customer.rewarded bare", "voucher.published bare"} and len(srv.seen) == 2
    assert send("http://127.0.0.1:9/", "--type", "nope.*", "--secret", SECRET).exit_code == 2
    both = send("http://127.0.0.1:9/", "--type", "voucher.published", str(SAMPLES / "voucher.published.json"))
    assert both.exit_code == 2 and "--type" in both.stderr


# --- Done when: retries and duplicates ------------------------------------------------------------


def test_retries_resend_the_same_bytes_and_signature_until_2xx_and_duplicate_every_resends(tmp_path: Path) -> None:
    log = log_file(tmp_path, LOG_TYPES)
    target = sample("customer.rewarded")["id"]
    tries: Counter[str] = Counter()

    def flaky(seen: Seen, before: int) -> Reply:
        tries[seen.value["id"]] += 1
        if seen.value["id"] == target and tries[target] <= 2:
            return 503, {}, b"busy"
        return 200, {}, b"{}"

    with server(flaky) as srv:
        result = send(srv.url, str(log), "--retries", "3", "--retry-scale", "0.001", "--duplicate-every", "2",
                      "--format", "json", "--secret", SECRET)  # fmt: skip
    assert result.exit_code == 0, result.output
    got = records(result.stdout)
    rewarded = [r for r in got if r["event_id"] == target and not r["duplicate"]]
    assert rewarded == [rewarded[0]] and rewarded[0]["status"] == 200 and rewarded[0]["attempts"] == 3
    attempts = [seen for seen in srv.seen if seen.value["id"] == target]
    assert len(attempts) == 4  # 2 failures, the success, and (2nd delivery) its duplicate
    assert len({seen.body for seen in attempts}) == 1 and len({seen.headers[SIG] for seen in attempts}) == 1
    assert [r["locator"] for r in got if r["duplicate"]] == [f"{log}:2", f"{log}:4"]
    assert Counter(seen.value["id"] for seen in srv.seen) == Counter(
        {sample(t)["id"]: (4 if t == "customer.rewarded" else 2 if i == 3 else 1) for i, t in enumerate(LOG_TYPES)}
    )
    assert "2 retries · 2 duplicates" in result.stderr


def test_retries_give_up_after_n_and_the_delivery_fails(tmp_path: Path) -> None:
    with server(lambda seen, before: (500, {}, b"down\n")) as srv:
        result = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--retries", "2",
                      "--retry-scale", "0.0001", "--secret", SECRET)  # fmt: skip
    assert result.exit_code == 1 and len(srv.seen) == 3
    assert result.stdout.split()[:4] == ["500", result.stdout.split()[1], "ms", "#3"]
    assert result.stdout.rstrip().endswith("down")
    assert send(srv.url, "--type", "x*", "--retries", "99").exit_code == 2  # the vendor stops at 12 tries


# --- Done when: each failure is one clear line ------------------------------------------------------


def test_remote_url_without_allow_remote_is_a_usage_error_naming_the_flag() -> None:
    result = send("https://hooks.example.com/voucherify", str(SAMPLES / "voucher.published.json"), "--secret", SECRET)
    assert result.exit_code == 2 and "--allow-remote" in result.stderr and "Traceback" not in result.output
    assert send("ftp://127.0.0.1/", "--type", "voucher.published", "--secret", SECRET).exit_code == 2


def test_allow_remote_sends_and_reports_what_happened() -> None:
    result = send("http://vevents-send-test.invalid/", "--type", "voucher.published", "--dialect", "v2024",
                  "--secret", SECRET, "--allow-remote")  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stdout.splitlines()
    assert "voucher.published v2024" in line and "resolve" in line


def test_refused_connection_is_one_line_and_exit_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    result = send(f"http://127.0.0.1:{port}/", str(SAMPLES / "voucher.published.json"), "--secret", SECRET)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stdout.splitlines()
    assert line.endswith("voucher.published  connection refused")
    assert result.stderr.splitlines()[-1] == "1 delivery: 0 delivered (2xx), 1 failed"


def test_a_server_that_never_answers_hits_the_limit() -> None:
    with raw_server(lambda conn: None) as url:  # accepts, reads nothing, answers nothing
        result = send(url, "--type", "voucher.published", "--dialect", "v2024", "--timeout", "0.3", "--secret", SECRET)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stdout.splitlines()
    assert line.endswith("no answer within 0.3 s (the sender's limit)")


def test_an_answer_trickled_past_the_limit_is_a_failure() -> None:
    def trickle(conn: socket.socket) -> None:
        def run() -> None:
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}":
                    conn.sendall(bytes([byte]))
                    threading.Event().wait(0.05)
            except OSError:
                pass

        threading.Thread(target=run, daemon=True).start()

    with raw_server(trickle) as url:
        result = send(url, "--type", "voucher.published", "--dialect", "v2024", "--timeout", "0.5", "--secret", SECRET)
    assert result.exit_code == 1 and "no answer within 0.5 s" in result.stdout


def test_redirect_is_reported_not_followed() -> None:
    with server(lambda seen, before: (302, {"Location": "http://127.0.0.1:9/elsewhere"}, b"")) as srv:
        result = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--secret", SECRET)
    assert result.exit_code == 1 and len(srv.seen) == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("302") and line.endswith("redirect to http://127.0.0.1:9/elsewhere (not followed)")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not an HTTP answer"),
        (b"", "connection closed without an answer"),
    ],
)
def test_answers_that_are_not_http(reply: bytes, expected: str) -> None:
    def answer(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(reply)
        conn.close()

    with raw_server(answer) as url:
        result = send(url, "--type", "voucher.published", "--dialect", "v2024", "--secret", SECRET)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected in result.stdout


def test_payload_text_in_an_answer_is_escaped_on_the_terminal_lines() -> None:
    with server(lambda seen, before: (400, {}, b"bad \x1b[31mred\x07 input\nmore")) as srv:
        result = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--secret", SECRET)
    assert result.exit_code == 1 and "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert result.stdout.rstrip().endswith("input")


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("openssl cannot make a certificate here")
    return cert, key


def test_https_self_signed_is_a_tls_error_unless_insecure(self_signed: tuple[Path, Path]) -> None:
    with server(tls=self_signed) as srv:
        checked = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--secret", SECRET)
        insecure = send(srv.url, "--type", "voucher.published", "--dialect", "v2024", "--secret", SECRET, "--insecure")
    assert checked.exit_code == 1 and "TLS error" in checked.stdout and "Traceback" not in checked.output
    assert insecure.exit_code == 0 and insecure.stdout.startswith("200"), insecure.output


# --- order, concurrency, rate, formats ---------------------------------------------------------


def test_concurrency_and_rate_keep_input_order_in_the_report(tmp_path: Path) -> None:
    types = LOG_TYPES * 3
    log = log_file(tmp_path, types)
    with server() as srv:
        result = send(
            srv.url, str(log), "--concurrency", "4", "--rate", "200/s", "--format", "json", "--secret", SECRET
        )
    assert result.exit_code == 0, result.output
    assert [r["locator"] for r in records(result.stdout)] == [f"{log}:{n}" for n in range(1, len(types) + 1)]
    assert Counter(s.value["type"] for s in srv.seen) == Counter(types)
    assert send(srv.url, str(log), "--rate", "fast", "--secret", SECRET).exit_code == 2
    assert send(srv.url, str(log), "--concurrency", "0", "--secret", SECRET).exit_code == 2


def test_json_records_and_unreadable_input(tmp_path: Path) -> None:
    log = tmp_path / "mixed.ndjson"
    log.write_bytes(orjson.dumps(sample("voucher.published")) + b"\n{not json\n")
    with server(lambda seen, before: (422, {}, b"nope")) as srv:
        result = send(srv.url, str(log), "--format", "json", "--secret", SECRET)
    assert result.exit_code == 1
    (rec,) = records(result.stdout)
    assert rec == {
        "locator": f"{log}:1",
        "type": "voucher.published",
        "dialect": "v2024",
        "event_id": sample("voucher.published")["id"],
        "status": 422,
        "ms": rec["ms"],
        "attempts": 1,
        "error": "nope",
        "duplicate": False,
        "skipped": False,
    }
    assert f"vevents: {log}:2" in result.stderr


def test_max_value_size_skips_a_larger_value(tmp_path: Path) -> None:
    with server() as srv:
        result = send(srv.url, str(SAMPLES / "voucher.published.json"), "--max-value-size", "100", "--secret", SECRET)
    assert result.exit_code == 1 and not srv.seen and "vevents: " in result.stderr


def test_help_has_examples() -> None:
    result = invoke("send", "--help")
    assert result.exit_code == 0
    assert "vevents send http://localhost:3000/webhooks --all-types --format junit" in result.stdout
    assert "10.0" in result.stdout  # the vendor's response limit is the default --timeout


def test_lines_fit_an_80_column_terminal_and_are_whole_in_a_pipe() -> None:
    from tests.cli.test_terminal import LONGEST, on_terminal

    reason = b"handler: " + b"this type is not handled by the current build of the webhook consumer " * 3
    with server(lambda seen, before: (500, {}, reason)) as srv:
        status, shown = on_terminal("send", srv.url, "--type", LONGEST, "--dialect", "legacy", "--secret", SECRET,
                                    columns=80, env={"NO_COLOR": "1"})  # fmt: skip
        piped = send(srv.url, "--type", LONGEST, "--dialect", "legacy", "--secret", SECRET)
    assert status == 1
    (line, summary) = shown.strip("\n").split("\n")
    assert len(line) <= 80 and line.startswith("500") and f"#1  {LONGEST} legacy" in line
    assert summary == "1 delivery: 0 delivered (2xx), 1 failed"
    assert piped.stdout.rstrip("\n").endswith(reason.decode().strip())


def test_ctrl_c_during_a_retry_wait_ends_the_run_at_once_without_a_traceback() -> None:
    seen_one = threading.Event()

    def failing(seen: Seen, before: int) -> Reply:
        seen_one.set()
        return 500, {}, b"down"

    with server(failing) as srv:
        proc = popen("send", srv.url, "--type", "voucher.published", "--dialect", "v2024", "--retries", "5",
                     "--secret", SECRET, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=interruptible)  # fmt: skip
        with stopped_at_exit(proc):
            assert seen_one.wait(30)  # the first attempt failed: it now waits a minute for the retry
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)  # a guard against hanging, not a timing check
    assert proc.returncode == 130 and b"Traceback" not in err and len(srv.seen) == 1
