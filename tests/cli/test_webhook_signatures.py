"""Webhook signatures: signing rule, `vevents verify`, captured requests and saved deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path

import orjson
import pytest

from scripts import vendor
from tests.helpers import invoke
from vevents_cli.samples import sample
from vevents_cli.voucherify import signatures

SECRET = "whsec_Test-Secret_5c2f"
ENV = "VOUCHERIFY_WEBHOOK_SECRET"


def hmac_hex(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
def _no_secret_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)


@pytest.fixture(scope="module")
def payload() -> dict:
    return sample("voucher.published")


def verify(*args: str, env: dict[str, str] | None = None):
    result = invoke("verify", *args, env=env)
    assert SECRET not in result.output, "the secret must never be printed"
    return result


def lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


# --- the signing rule (pure) ---------------------------------------------------------------------


def test_sign_is_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"id":"whs_1","type":"voucher.published"}'
    assert signatures.sign(body, SECRET) == hmac_hex(body)


def test_compact_removes_whitespace_outside_strings_only() -> None:
    pretty = (
        b'{\r\n\t"a b" : "x  y\\t z",\r\n  "quote": "say \\"hi\\" ",\r\n'
        b'  "slash": "c:\\\\" ,\n  "n": [ 1.50 , 2E3 ,\t-0 ],\n  "u": "\xc3\xa9 \\u00e9"\n}\n'
    )
    assert signatures.compact(pretty) == (
        b'{"a b":"x  y\\t z","quote":"say \\"hi\\" ","slash":"c:\\\\","n":[1.50,2E3,-0],"u":"\xc3\xa9 \\u00e9"}'
    )


def test_verify_tries_raw_bytes_then_compact_form() -> None:
    compact = b'{"id":"whs_1","data":{"code":"A B"}}'
    pretty = b'{\n  "id": "whs_1",\n  "data": {"code": "A B"}\n}'
    assert signatures.verify(pretty, SECRET, hmac_hex(pretty)) == signatures.Match(True, "raw")
    assert signatures.verify(pretty, SECRET, hmac_hex(compact)) == signatures.Match(True, "compact")
    assert signatures.verify(pretty, SECRET, hmac_hex(compact).upper()).matched
    assert signatures.verify(pretty, "other", hmac_hex(compact)) == signatures.Match(False, None)


def test_likely_causes_name_the_usual_suspects() -> None:
    causes = " ".join(signatures.likely_causes(b'{"a": 1}', "0" * 64))
    assert "wrong secret" in causes and "re-serialised" in causes and "another delivery" in causes
    assert "not a hex" in signatures.likely_causes(b"{}", "sha1=abc")[0]


# --- verify: payload files --------------------------------------------------------------------


def test_raw_match_of_a_file_and_of_a_file_with_its_trailing_newline(tmp_path: Path, payload: dict) -> None:
    body = json.dumps(payload, separators=(", ", ": ")).encode()  # not compact: only raw can match
    (tmp_path / "p.json").write_bytes(body + b"\n")
    result = verify(str(tmp_path / "p.json"), "--secret", SECRET, "--signature", hmac_hex(body))
    assert result.exit_code == 0, result.output
    assert lines(result) == [f"{tmp_path / 'p.json'}:1  voucher.published  MATCH (raw)"]
    result = verify(str(tmp_path / "p.json"), "--secret", SECRET, "--signature", hmac_hex(body + b"\n"))
    assert result.exit_code == 0 and "MATCH (raw)" in result.stdout


@pytest.mark.parametrize("style", ["indent", "crlf", "tabs"])
def test_compact_match_of_a_pretty_file(tmp_path: Path, payload: dict, style: str) -> None:
    signed = orjson.dumps(payload)
    pretty = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    if style == "crlf":
        pretty = pretty.replace(b"\n", b"\r\n")
    elif style == "tabs":
        pretty = pretty.replace(b"  ", b"\t")
    (tmp_path / "p.json").write_bytes(pretty + b"\n")
    result = verify(str(tmp_path / "p.json"), "--secret", SECRET, "--signature", hmac_hex(signed))
    assert result.exit_code == 0, result.output
    assert lines(result)[0].endswith("voucher.published  MATCH (compact)")


def _edited(payload: dict, how: str) -> bytes:
    if how == "changed value":
        return orjson.dumps({**payload, "created_at": "2026-03-14T14:22:46.590Z"})
    if how == "reordered keys":
        return orjson.dumps(dict(reversed(payload.items())))
    if how == "space inside a string":
        data = {**payload["data"], "voucher": {**payload["data"]["voucher"], "code": "SUMMER 25"}}
        return orjson.dumps({**payload, "data": data})
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["changed value", "reordered keys", "space inside a string", "wrong secret"])
def test_mismatch_exits_1_and_lists_likely_causes(tmp_path: Path, payload: dict, how: str) -> None:
    voucher = {**payload["data"]["voucher"], "code": "SUMMER25"}
    payload = {**payload, "data": {**payload["data"], "voucher": voucher}}
    signed = orjson.dumps(payload)
    received = signed if how == "wrong secret" else _edited(payload, how)
    key = "whsec_another_project" if how == "wrong secret" else SECRET
    (tmp_path / "p.json").write_bytes(received)
    result = verify(str(tmp_path / "p.json"), "--secret", key, "--signature", hmac_hex(signed))
    assert result.exit_code == 1
    (line,) = lines(result)
    assert "voucher.published  MISMATCH — likely: wrong secret" in line
    assert "re-serialised or edited" in line and "another delivery" in line
    assert "whsec_another_project" not in result.output


def test_secret_from_env_or_file_and_usage_error_without_one(tmp_path: Path, payload: dict) -> None:
    body = orjson.dumps(payload)
    (tmp_path / "p.json").write_bytes(body)
    (tmp_path / "secret").write_text(SECRET + "\n")
    path, sig = str(tmp_path / "p.json"), hmac_hex(body)
    assert verify(path, "--signature", sig, env={ENV: SECRET}).exit_code == 0
    assert verify(path, "--signature", sig, "--secret-file", str(tmp_path / "secret")).exit_code == 0
    missing = verify(path, "--signature", sig)
    assert missing.exit_code == 2 and "no webhook secret" in missing.output


def test_an_event_without_a_signature_is_an_error(tmp_path: Path, payload: dict) -> None:
    (tmp_path / "p.json").write_bytes(orjson.dumps(payload))
    result = verify(str(tmp_path / "p.json"), "--secret", SECRET)
    assert result.exit_code == 1
    assert "no signature" in result.stderr and "MATCH" not in result.stdout


# --- captured HTTP requests -------------------------------------------------------------------


def request(body: bytes, signature: str, eol: bytes = b"\r\n", chunked: bool = False) -> bytes:
    head = [
        b"POST /webhooks/voucherify HTTP/1.1",
        b"Host: example.test",
        b"Content-Type: application/json",
        b"X-Voucherify-Signature: " + signature.encode(),
    ]
    if chunked:
        head.append(b"Transfer-Encoding: chunked")
        cut = len(body) // 3
        parts = [body[:cut], body[cut:]]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    else:
        head.append(b"Content-Length: %d" % len(body))
        payload = body
    return eol.join(head) + eol + eol + payload


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "lf"])
def test_captured_requests_one_after_another_are_verified_from_their_headers(
    tmp_path: Path, payload: dict, eol: bytes
) -> None:
    first = orjson.dumps(payload, option=orjson.OPT_INDENT_2)  # body sent pretty, signed compact
    second = orjson.dumps({**payload, "id": "whs_2"})
    capture = eol.join(
        [
            request(first, hmac_hex(orjson.dumps(payload)), eol),
            request(second, hmac_hex(second), eol),
            request(second, hmac_hex(b"tampered"), eol),
        ]
    )
    (tmp_path / "requests.http").write_bytes(capture)
    result = verify(str(tmp_path / "requests.http"), "--secret", SECRET)
    assert result.exit_code == 1
    out = lines(result)
    start_lines = [i + 1 for i, line in enumerate(capture.split(b"\n")) if line.startswith(b"POST ")]
    assert out[0] == f"{tmp_path / 'requests.http'}:{start_lines[0]}  voucher.published  MATCH (compact)"
    assert out[1].endswith("MATCH (raw)") and f":{start_lines[1]} " in out[1]
    assert "MISMATCH" in out[2] and f":{start_lines[2]} " in out[2]


def test_chunked_capture_is_decoded_and_shown_with_its_headers(tmp_path: Path, payload: dict) -> None:
    body = orjson.dumps(payload)
    (tmp_path / "chunked.http").write_bytes(request(body, hmac_hex(body), chunked=True))
    result = verify(str(tmp_path / "chunked.http"), "--secret", SECRET)
    assert result.exit_code == 0 and "MATCH (raw)" in result.stdout
    shown = invoke("show", "--raw", str(tmp_path / "chunked.http"), env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "X-Voucherify-Signature: " + hmac_hex(body) in shown.stdout
    assert "voucher.published" in shown.stdout


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (lambda b: request(b, "00").replace(b"Length: %d" % len(b), b"Length: %d" % (len(b) + 50)), "truncated body"),
        (lambda b: request(b, "00", chunked=True).replace(b"\r\n0\r\n", b"\r\nzz\r\n"), "bad chunked encoding"),
        (lambda b: request(b, "00").replace(b"Length: %d" % len(b), b"Length: \xb2"), "bad Content-Length"),
    ],
    ids=["truncated", "bad-chunk", "superscript-length"],
)
def test_unreadable_captures_name_the_request_line(tmp_path: Path, payload: dict, broken, reason) -> None:
    body = orjson.dumps(payload)
    good = request(body, hmac_hex(body))
    (tmp_path / "c.http").write_bytes(good + b"\r\n" + broken(body))
    result = verify(str(tmp_path / "c.http"), "--secret", SECRET)
    assert result.exit_code == 1
    assert lines(result) == [f"{tmp_path / 'c.http'}:1  voucher.published  MATCH (raw)"]
    assert f"{tmp_path / 'c.http'}:8: {reason}" in result.stderr


def test_validate_accepts_a_capture(tmp_path: Path, payload: dict) -> None:
    body = orjson.dumps(payload)
    (tmp_path / "c.http").write_bytes(request(body, hmac_hex(body), eol=b"\n"))
    result = invoke("validate", str(tmp_path / "c.http"))
    assert result.exit_code == 0, result.output
    assert "1 valid, 0 invalid, 0 unreadable" in result.stdout


# --- records saved by `vevents listen --save` --------------------------------------------------


def test_saved_deliveries_are_verified_with_their_own_headers_and_body(tmp_path: Path, payload: dict) -> None:
    pretty = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    binary = b'{"id": "whs_9", "note": "\xff"}'
    records = [
        {
            "received_at": "2026-03-14T14:22:47.001Z",
            "method": "POST",
            "path": "/",
            "status": 200,
            "headers": {"Content-Type": "application/json", "X-Voucherify-Signature": hmac_hex(pretty)},
            "body": pretty.decode(),
            "event": payload,
        },
        {
            "received_at": "2026-03-14T14:22:48.001Z",
            "method": "POST",
            "path": "/",
            "status": 400,
            "headers": {"x-voucherify-signature": hmac_hex(binary)},
            "body": base64.b64encode(binary).decode(),
            "body_encoding": "base64",
            "event": None,
        },
        {
            "received_at": "2026-03-14T14:22:49.001Z",
            "method": "POST",
            "path": "/",
            "status": 200,
            "headers": {"X-Voucherify-Signature": hmac_hex(b"another body")},
            "body": orjson.dumps(payload).decode(),
            "event": payload,
        },
    ]
    (tmp_path / "saved.ndjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    result = verify(str(tmp_path / "saved.ndjson"), "--secret", SECRET)
    assert result.exit_code == 1
    out = lines(result)
    assert out[0] == f"{tmp_path / 'saved.ndjson'}:1  voucher.published  MATCH (raw)"
    # a body that is not JSON (invalid UTF-8) is still checked over its bytes
    assert out[1] == f"{tmp_path / 'saved.ndjson'}:2  not an event  MATCH (raw) — note: the body is not JSON"
    assert out[2].startswith(f"{tmp_path / 'saved.ndjson'}:3  voucher.published  MISMATCH")


# --- verify: every input read once, members over their own bytes, bodies that are not events ----


def test_a_fifo_and_stdin_are_read_once(tmp_path: Path, payload: dict) -> None:
    import os
    import threading

    body = orjson.dumps(payload)
    fifo = tmp_path / "delivery.json"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(body,))
    writer.start()
    result = verify(str(fifo), "--secret", SECRET, "--signature", hmac_hex(body))
    writer.join(10)
    assert result.exit_code == 0, result.output
    assert lines(result) == [f"{fifo}:1  voucher.published  MATCH (raw)"]
    result = invoke("verify", "--secret", SECRET, "--signature", hmac_hex(body), input=body)
    assert result.exit_code == 0, result.output
    assert lines(result) == ["<stdin>:1  voucher.published  MATCH (raw)"]


@pytest.mark.parametrize("layout", ["pretty", "compact", "spaced"])
def test_an_array_of_deliveries_is_one_body_not_its_members(tmp_path: Path, layout: str) -> None:
    """A file holding an array is one body (what a sender signed): a member's signature does
    not match it, and the members are not checked apart (none carries its own signature)."""
    deliveries = [sample("voucher.published"), sample("customer.created"), sample("redemption.succeeded")]
    if layout == "pretty":
        text = orjson.dumps(deliveries, option=orjson.OPT_INDENT_2)
        members = [orjson.dumps(d, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ") for d in deliveries]
    else:
        members = [
            json.dumps(d, separators=(", ", ": ")).encode() if layout == "spaced" else orjson.dumps(d)
            for d in deliveries
        ]
        text = b"[" + b",\n ".join(members) + b"]\n"
    assert all(m in text for m in members)
    path = tmp_path / "batch.json"
    path.write_bytes(text)
    for member in members:
        out = lines(verify(str(path), "--secret", SECRET, "--signature", hmac_hex(member)))
        assert len(out) == 1 and out[0].startswith(f"{path}:1  not an event  MISMATCH"), out
    whole = lines(verify(str(path), "--secret", SECRET, "--signature", hmac_hex(text)))
    assert whole == [
        f"{path}:1  not an event  MATCH (raw) — note: the body is a JSON array of 3, checked whole (the bytes signed)"
    ]


NOT_JSON = [b"  message  ", b"<xml>not json</xml>", b'"a JSON string, not an object"', b"[]"]


@pytest.mark.parametrize("body", NOT_JSON, ids=["text", "xml", "json-string", "empty-array"])
def test_a_body_that_is_not_an_event_is_checked_over_its_bytes(tmp_path: Path, body: bytes) -> None:
    capture = request(body, hmac_hex(body)) + b"\r\n" + request(body, hmac_hex(b"other"))
    (tmp_path / "c.http").write_bytes(capture)
    result = verify(str(tmp_path / "c.http"), "--secret", SECRET)
    match, mismatch = lines(result)
    note = "the body is not JSON" if body[:1] not in b'"[' else "the body is JSON but not an event object"
    assert match == f"{tmp_path / 'c.http'}:1  not an event  MATCH (raw) — note: {note}"
    assert mismatch.startswith(f"{tmp_path / 'c.http'}:8  not an event  MISMATCH — likely: wrong secret")
    assert result.exit_code == 1  # the mismatch
    (tmp_path / "one.http").write_bytes(request(body, hmac_hex(body)))
    assert verify(str(tmp_path / "one.http"), "--secret", SECRET).exit_code == 0
    for command in (("show",), ("validate",)):  # still unreadable input for the other commands
        shown = invoke(*command, str(tmp_path / "one.http"))
        assert shown.exit_code == 1 and "vevents: " in shown.stderr and "Traceback" not in shown.output


def test_a_file_holding_a_body_that_is_not_json_is_checked_over_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "body.txt").write_bytes(b"  message  \n")
    result = verify(str(tmp_path / "body.txt"), "--secret", SECRET, "--signature", hmac_hex(b"  message  "))
    assert result.exit_code == 0, result.output
    assert lines(result) == [f"{tmp_path / 'body.txt'}:1  not an event  MATCH (raw) — note: the body is not JSON"]
    without = verify(str(tmp_path / "body.txt"), "--secret", SECRET)  # no signature: unreadable, as before
    assert without.exit_code == 1 and f"{tmp_path / 'body.txt'}:1: not JSON (" in without.stderr


VENDOR_DOC = vendor.DOCS_DIR / "introduction-to-webhooks.mdx"


def _vendor_vectors() -> tuple[str, list[tuple[bytes, bool, str]]]:
    """The vendor's Java example: its secret, and (body, whitespace removed, signature) per call."""
    text = VENDOR_DOC.read_text("utf-8")
    java = text[text.index("```java") :]
    java = java[: java.index("```", 3)]
    secret = json.loads(re.search(r'byte\[\] secretKey = ("[^"]*")', java).group(1))
    signatures_by_name = dict(re.findall(r'String (signature\d+) = "([0-9a-f]{64})"', java))
    calls = re.findall(
        r'verifySignature\((removeWhitespaces\()?("(?:[^"\\]|\\.)*")\)?, (signature\d+), secretKey\)', java
    )
    vectors = [
        (json.loads(literal).encode(), bool(removed), signatures_by_name[name]) for removed, literal, name in calls
    ]
    return secret, vectors


@pytest.mark.skipif(not VENDOR_DOC.is_file(), reason="../shared/vendor/voucherify not present")
def test_the_vendors_own_test_vectors(tmp_path: Path) -> None:
    secret, vectors = _vendor_vectors()
    assert len(vectors) >= 4 and any(not removed for _, removed, _ in vectors)
    for number, (body, removed, signature) in enumerate(vectors):
        path = tmp_path / f"vector{number}.txt"
        path.write_bytes(body)
        result = invoke("verify", str(path), "--secret", secret, "--signature", signature)
        assert result.exit_code == 0, (body, result.output)
        (line,) = lines(result)
        form = "compact" if removed and signatures.compact(body) != body else "raw"
        assert f"MATCH ({form})" in line, (body, line)
        is_json = body.strip()[:1] in (b"{", b"[")
        assert ("not an event" in line) is not is_json, line


@pytest.mark.parametrize("pretty", [False, True])
def test_a_top_level_array_body_is_checked_whole(tmp_path: Path, pretty: bool) -> None:
    """The body is what was signed: a file holding a JSON array (compact as received, or
    pretty-printed) is one body, one line, the HMAC of its bytes; never its members apart."""
    events = [sample("voucher.published"), sample("customer.rewarded")]
    compact = orjson.dumps(events)
    path = tmp_path / "array.json"
    path.write_bytes(orjson.dumps(events, option=orjson.OPT_INDENT_2) + b"\n" if pretty else compact)
    result = verify(str(path), "--secret", SECRET, "--signature", hmac_hex(compact))
    assert result.exit_code == 0, result.output
    form = "compact" if pretty else "raw"
    assert lines(result) == [
        f"{path}:1  not an event  MATCH ({form}) — note: "
        "the body is a JSON array of 2, checked whole (the bytes signed)"
    ]
    member = verify(str(path), "--secret", SECRET, "--signature", hmac_hex(orjson.dumps(events[0])))
    assert member.exit_code == 1 and len(lines(member)) == 1 and "MISMATCH" in lines(member)[0]
