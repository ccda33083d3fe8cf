"""The first hour (issue 17, items 3, 8, 9): options that behave as they read, and wrong input
reported once, where it is, in words that help. Everything through the real CLI, on the
bundled samples and logs built from them."""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.helpers import REPO, invoke, listener, popen, stopped_at_exit, write_ndjson
from tests.helpers.processes import first_line
from vevents_cli import samples
from vevents_cli.cli.options import CONTRADICTIONS, size
from vevents_cli.voucherify import catalogue, signatures

ANSI = "\x1b["


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_ndjson(
        tmp_path / "log.ndjson", [samples.sample("voucher.published"), samples.sample("customer.rewarded")]
    )


# --- item 3: --follow is a flag; --color after the command --------------------------------------


def _followed_rows(*args: str) -> list[str]:
    """The table `vevents ARGS` prints while following (header and both events), then Ctrl-C."""
    proc = popen(*args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with stopped_at_exit(proc):
        rows = [first_line(proc.stdout).rstrip("\n") for _ in range(3)]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) in (0, 130)
    return rows


@pytest.mark.parametrize(
    "args",
    [("show", "LOG", "--follow", "--table"), ("show", "-f", "LOG", "--table"), ("show", "--table", "-f", "LOG")],
    ids=["after", "-f before", "-f last"],
)
def test_follow_is_a_flag_anywhere_on_the_line(log: Path, args: tuple[str, ...]) -> None:
    rows = _followed_rows(*(str(log) if a == "LOG" else a for a in args))
    assert rows[0].startswith("valid\ttime")
    assert [row.split("\t")[2] for row in rows[1:3]] == ["voucher.published", "customer.rewarded"]  # type: 3rd


@pytest.mark.parametrize("paths", [(), ("LOG", "LOG"), ("-",), ("DIR",)], ids=["none", "two", "stdin", "folder"])
def test_follow_needs_exactly_one_file(log: Path, paths: tuple[str, ...]) -> None:
    named = {"LOG": str(log), "DIR": str(log.parent), "-": "-"}
    result = invoke("show", "--follow", *(named[p] for p in paths), input=b"")
    assert result.exit_code == 2
    assert "--follow" in result.stderr and "Traceback" not in result.stderr


def test_follow_refuses_a_gzip_file_in_words_not_binary_data(log: Path) -> None:
    packed = log.with_name("log.ndjson.gz")
    packed.write_bytes(gzip.compress(log.read_bytes()))
    result = invoke("show", "-f", str(packed), "--table")
    assert result.exit_code == 2
    assert "gzip" in result.stderr and "cannot be followed as it grows" in result.stderr
    assert "binary" not in result.stderr and result.stdout == ""


def test_color_is_accepted_after_the_command_with_the_same_effect(log: Path) -> None:
    before = invoke("--color", "always", "show", "--table", str(log))
    after = invoke("show", "--table", str(log), "--color", "always")
    assert after.exit_code == 0 and ANSI in after.stdout and after.stdout == before.stdout
    joined = invoke("show", str(log), "--table", "--color=never", env={"FORCE_COLOR": "1"})
    assert joined.exit_code == 0 and ANSI not in joined.stdout and "voucher.published" in joined.stdout
    assert "after the command" in invoke("--help").stdout


def test_color_after_the_command_on_a_terminal(log: Path) -> None:
    from tests.cli.test_terminal import on_terminal

    status, shown = on_terminal("show", "--table", str(log), "--color", "never")
    assert status == 0 and ANSI not in shown and "voucher.published" in shown


def test_a_path_after_double_dash_is_not_an_option(log: Path) -> None:
    result = invoke("show", "--table", str(log), "--", "--color")
    assert result.exit_code == 1 and "vevents: --color: no such file or folder" in result.stderr


# --- item 8: wrong input ------------------------------------------------------------------------


def test_a_markdown_file_is_one_line_not_twenty() -> None:
    result = invoke("show", str(REPO / "README.md"))
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith(f"vevents: {REPO / 'README.md'}:1: not JSON (")
    assert "giving up" not in result.stderr and sum("README.md" in line for line in lines) == 1


def test_tool_configuration_in_a_walked_folder_is_skipped_with_a_note(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    (fixtures / "node_modules" / "left-pad").mkdir(parents=True)
    (fixtures / "voucher.published.json").write_bytes(orjson.dumps(samples.sample("voucher.published")))
    for name in ("package.json", "tsconfig.base.json", "package-lock.json", "node_modules/left-pad/package.json"):
        (fixtures / name).write_text('{"name": "fixtures", "version": "1.0.0"}')
    result = invoke("show", str(fixtures), "--table")
    assert result.exit_code == 0
    assert [row.split("\t")[2] for row in result.stdout.splitlines()[1:]] == ["voucher.published"]  # type: 3rd
    assert "--as TYPE" not in result.stderr
    notes = result.stderr.splitlines()
    assert sorted(notes) == sorted(
        f"vevents: {fixtures / name}: tool configuration, not events: skipped (name it on the command line to read it)"
        for name in ("node_modules", "package.json", "package-lock.json", "tsconfig.base.json")
    )


def test_a_missing_file_has_no_line_number(log: Path) -> None:
    result = invoke("show", str(log), "missing.json", "--table")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["vevents: missing.json: no such file or folder"]


def test_invalid_utf8_is_reported_at_its_own_line_and_byte_column(tmp_path: Path) -> None:
    lines = json.dumps(samples.sample("voucher.published"), indent=2).encode().split(b"\n")
    at = next(i for i in range(57, len(lines)) if b'": "' in lines[i])
    column = lines[at].index(b'": "') + 5  # the byte after the opening quote, 1-based
    lines[at] = lines[at].replace(b'": "', b'": "\xff', 1)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    result = invoke("show", str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"vevents: {bad}:{at + 1}:{column}: invalid UTF-8 (JSON must be UTF-8 text)"]
    log = write_ndjson(tmp_path / "log.ndjson", [samples.sample("voucher.published")] * 2)
    log.write_bytes(log.read_bytes().replace(b"SPRING-9D3W", b"\xc3SPRING-9D3W", 1))
    one = invoke("show", str(log), "--table")
    column = log.read_bytes().split(b"\n")[0].index(b"\xc3") + 1
    assert f"{log}:1:{column}: invalid UTF-8" in one.stderr


def test_a_misspelt_command_is_suggested_once() -> None:
    result = invoke("shwo")
    assert result.exit_code == 2 and result.stderr.count("Did you mean 'show'?") == 1


@pytest.mark.parametrize("command", ["schema", "sample"])
def test_a_type_documented_without_a_schema_says_so(command: str) -> None:
    name = next(n for n, entry in sorted(catalogue.CATALOGUE.items()) if not entry.has_schema)
    assert name in invoke("types").stdout
    result = invoke(command, name)
    assert result.exit_code == 2
    assert f"{name} is documented without a schema" in result.stderr and "did you mean" not in result.stderr
    assert "vevents types lists what each type has" in result.stderr
    assert "did you mean customer.created" in invoke(command, "customer.craeted").stderr


# --- item 9: sizes, contradictions, verify formats ----------------------------------------------


def test_one_size_parser_for_every_size_option() -> None:
    assert size("2M") == 2 << 20 and size("64M") == 64 << 20 and size("1G") == 1 << 30 and size("512") == 512
    assert size("2MiB") == size("2MB") == size("2m")
    assert "not a size" in invoke("listen", "--max-body", "2X").stderr
    assert "not a size" in invoke("show", "--max-value-size", "2X").stderr


def test_listen_max_body_takes_a_size() -> None:
    body = orjson.dumps(samples.sample("voucher.published"))
    assert 1024 < len(body) < 2048 * 4
    with listener("--max-body", "1K") as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 413
        conn.close()
    with listener("--max-body", "2M") as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 200
        conn.close()


CONTRADICTORY = [
    (("show", "LOG", "--table", "--format", "json"), "--table", "--format json"),
    (("show", "-f", "LOG", "--allow-empty"), "--follow", "--allow-empty"),
    (("show", "LOG", "--table", "--format", "parquet", "-o", "x.parquet"), "--table", "--format parquet"),
    (("show", "LOG", "-o", "x.parquet"), "--out", "--format text"),
    (("show", "-f", "LOG", "--format", "parquet", "-o", "x.parquet"), "--follow", "--format parquet"),
    (("validate", "LOG", "--only-invalid"), "--only-invalid", "--format text"),
    (("validate", "LOG", "--only-invalid", "--format", "junit"), "--only-invalid", "--format junit"),
    (("validate", "LOG", "-q", "--format", "junit"), "--quiet", "--format junit"),
    (("validate", "LOG", "-q", "--format", "json"), "--quiet", "--format json"),
    (("validate", "LOG", "-q", "--format", "github"), "--quiet", "--format github"),
    (("stats", "LOG", "--all", "--top", "5"), "--all", "--top 5"),
    (("show", "LOG", "--since", "1h", "--until", "2h"), "--since 1h", "--until 2h"),
    (("stats", "LOG", "--since", "2026-03-15", "--until", "2026-03-14"), "--since", "--until"),
    (("verify", "LOG", "--secret", "s", "--secret-file", "LOG"), "--secret", "--secret-file"),
    (("listen", "--secret", "s", "--secret-file", "LOG"), "--secret", "--secret-file"),
    (("schema", "--list", "voucher.published"), "--list", "TYPE"),
    (("ledger", "LOG", "--scheduler", "tcp://10.0.0.5:8786"), "--scheduler tcp://10.0.0.5:8786", "--engine local"),
    (("show", "-f", "LOG", "--engine", "dask"), "--follow", "--engine dask"),
]


@pytest.mark.parametrize(("args", "first", "second"), CONTRADICTORY, ids=[" ".join(c[0]) for c in CONTRADICTORY])
def test_contradictory_options_are_a_usage_error_naming_both(
    log: Path, args: tuple[str, ...], first: str, second: str
) -> None:
    result = invoke(*(str(log) if a == "LOG" else a for a in args))
    assert result.exit_code == 2 and result.stdout == ""
    assert first in result.stderr and second in result.stderr and "contradict" in result.stderr


def test_every_contradiction_in_the_table_is_tested() -> None:
    commands = {command for rule in CONTRADICTIONS for command in rule.commands}
    assert commands <= {args[0] for args, _, _ in CONTRADICTORY}


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "LOG", "--only-invalid", "--format", "json"),
        ("validate", "LOG", "-q"),
        ("stats", "LOG", "--top", "5"),
        ("stats", "LOG", "--all"),
        ("show", "LOG", "--since", "2h", "--until", "1h"),
        ("show", "LOG", "--format", "json"),
    ],
)
def test_the_options_alone_still_work(log: Path, args: tuple[str, ...]) -> None:
    result = invoke(*(str(log) if a == "LOG" else a for a in args))
    assert result.exit_code in (0, 1) and "contradict" not in result.stderr


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, str]:
    """A payload file and its signature, and a file (with `,` and `:` in its name) it does not match."""
    good = tmp_path / "voucher.published.json"
    good.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    other = tmp_path / "a,b:c.json"
    other.write_bytes(orjson.dumps(samples.sample("customer.rewarded")))
    return good, other, signatures.sign(good.read_bytes(), "whsec_first_hour")


SECRET_ENV = {"VOUCHERIFY_WEBHOOK_SECRET": "whsec_first_hour"}


def test_verify_json_is_one_document_with_a_record_per_event(signed: tuple[Path, Path, str]) -> None:
    good, other, signature = signed
    args = ("verify", str(good), str(other), "--signature", signature)
    text = invoke(*args, env=SECRET_ENV)
    result = invoke(*args, "--format", "json", env=SECRET_ENV)
    assert result.exit_code == text.exit_code == 1
    document = json.loads(result.stdout)
    match, mismatch = document["events"]
    assert match == {
        "locator": f"{good}:1",
        "type": "voucher.published",
        "verdict": "MATCH",
        "how": "raw",
        "causes": [],
        "note": None,
    }
    assert mismatch["verdict"] == "MISMATCH" and mismatch["how"] is None
    assert any("wrong secret" in cause for cause in mismatch["causes"])
    assert document["summary"] == {
        "events": 2,
        "match": 1,
        "mismatch": 1,
        "no_signature": 0,
        "unreadable": 0,
        "ok": False,
    }
    alone = invoke("verify", str(good), "--signature", signature, "--format", "json", env=SECRET_ENV)
    assert alone.exit_code == 0 and json.loads(alone.stdout)["summary"]["ok"] is True


def test_verify_json_reports_missing_signatures_and_unreadable_input(signed: tuple[Path, Path, str]) -> None:
    good, _, _ = signed
    result = invoke("verify", str(good), "missing.json", "--format", "json", env=SECRET_ENV)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [e["verdict"] for e in document["events"]] == ["NO SIGNATURE"]
    assert document["unreadable"][0]["source"] == "missing.json"
    assert document["summary"]["no_signature"] == 1 and document["summary"]["unreadable"] == 1


def test_verify_github_annotates_mismatches_and_missing_signatures(signed: tuple[Path, Path, str]) -> None:
    good, other, signature = signed
    result = invoke("verify", str(good), str(other), "--signature", signature, "--format", "github", env=SECRET_ENV)
    assert result.exit_code == 1
    annotation, summary = result.stdout.splitlines()
    escaped = str(other).replace(",", "%2C").replace(":", "%3A")
    assert annotation.startswith(f"::error file={escaped},line=1,title=signature mismatch::")
    assert "MISMATCH — likely: wrong secret" in annotation
    assert summary == "2 signatures checked: 1 match, 1 mismatch, 0 without a signature, 0 unreadable"
    missing = invoke("verify", str(good), "--format", "github", env=SECRET_ENV)
    assert missing.exit_code == 1 and missing.stdout.startswith(f"::error file={good},line=1,title=no signature::")


def test_verify_github_escapes_workflow_command_syntax(tmp_path: Path) -> None:
    event = tmp_path / "e%0A,x.json"  # payload text and a file name that would forge a second command
    event.write_bytes(b'{"id": "whs_1", "type": "my.custom%0A\\n::error::forged", "data": {}}')
    result = invoke("verify", str(event), "--signature", "0" * 64, "--format", "github", env=SECRET_ENV)
    assert result.exit_code == 1
    annotation, summary = result.stdout.splitlines()
    assert annotation.startswith(f"::error file={str(event).replace('%', '%25').replace(',', '%2C')},line=1,")
    assert "my.custom%250A%0A::error::forged: MISMATCH" in annotation
    assert summary.startswith("1 signature checked")
