"""vevents at a terminal and in a pipe (issue 11): colour policy, tables that fit, whole
values in pipes, `--raw` in every view. Terminal behaviour runs in a pseudo-terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import invoke, ndjson, popen, read_pty, run, write_ndjson
from vevents_cli import samples
from vevents_cli.output.text import json_text
from vevents_cli.voucherify import catalogue

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONGEST = max(catalogue.CATALOGUE, key=len)  # customer.voucher.loyalty_card.pending_points.activated


def on_terminal(*args: str, columns: int = 120, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `vevents ARGS` with stdout and stderr on a pty `columns` wide: (status, what it showed)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = popen(
        *args,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={"TERM": "xterm-256color", **(env or {})},
        preexec_fn=None,
    )
    os.close(follower)
    seen = read_pty(leader)
    return proc.wait(timeout=60), seen.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Two log files of several event types, one of them the longest type name there is."""
    folder = tmp_path / "logs"
    folder.mkdir()
    points = samples.sample("customer.voucher.loyalty_card.points_added")
    write_ndjson(folder / "a.ndjson", [samples.sample("voucher.published"), points])
    write_ndjson(folder / "b.ndjson", [samples.sample(LONGEST), samples.sample("customer.rewarded")])
    return folder


# --- colour --------------------------------------------------------------------------------------


def test_show_table_is_coloured_on_a_terminal_unless_no_color(logs: Path) -> None:
    status, shown = on_terminal("show", "--table", str(logs))
    assert status == 0 and "\x1b[" in shown
    status, shown = on_terminal("show", "--table", str(logs), env={"NO_COLOR": "1"})
    assert status == 0 and "\x1b[" not in shown and "voucher.published" in shown
    status, shown = on_terminal("--color", "never", "show", "--table", str(logs))
    assert "\x1b[" not in shown


@pytest.mark.parametrize("args", [("show",), ("show", "--table"), ("validate",), ("stats",), ("types",)])
def test_no_color_is_honoured_by_every_output(logs: Path, args: tuple[str, ...]) -> None:
    extra = () if args == ("types",) else (str(logs),)
    _, shown = on_terminal(*args, *extra, env={"NO_COLOR": "1"})
    assert not ANSI.search(shown)  # (a progress bar still moves the cursor: that is not colour)
    _, coloured = on_terminal(*args, *extra)
    assert ANSI.search(coloured) or args == ("validate",)  # (validate's text has no colour to lose)
    _, shown = on_terminal("--color", "always", *args, *extra, env={"NO_COLOR": "1"})  # the option wins
    assert bool(ANSI.search(shown)) == bool(ANSI.search(coloured))


def test_force_color_and_color_always_colour_a_pipe(logs: Path) -> None:
    plain = run("show", "--table", str(logs))
    assert b"\x1b[" not in plain.stdout
    forced = run("show", "--table", str(logs), env={"FORCE_COLOR": "1"})
    assert b"\x1b[32m" in forced.stdout
    assert "\x1b[" in invoke("--color", "always", "show", "--table", str(logs)).stdout
    assert "\x1b[" not in invoke("--color", "never", "show", "--table", str(logs), env={"FORCE_COLOR": "1"}).stdout


# --- tables that fit -----------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 100, 120, 200])
def test_show_table_fits_the_terminal_and_never_cuts_a_type(logs: Path, columns: int) -> None:
    status, shown = on_terminal("show", "--table", str(logs), columns=columns, env={"NO_COLOR": "1"})
    assert status == 0
    lines = shown.splitlines()
    assert len(lines) == 5  # header + 4 events: no row wraps
    assert all(len(line) <= columns for line in lines), lines
    assert lines[3].endswith(LONGEST)  # whole, at the end of its row
    assert "…" not in "".join(line.split()[-1] for line in lines)  # no type is ever cut
    header = lines[0].split()
    assert "source" in header  # input spans two files: rows say where they come from
    assert f"{logs / 'b.ndjson'}:1"[-10:] in lines[3]
    if columns >= 200:
        assert header == ["✓", "time", "customer", "voucher", "Δpoints", "campaign", "source", "type"]
        assert "2026-" in lines[1] and ".589Z" in lines[1]  # the whole time
    if columns == 80:
        assert header[-1] == "type" and len(header) <= 4  # degraded: the most wanted columns only


def test_one_source_has_no_source_column(logs: Path) -> None:
    _, shown = on_terminal("show", "--table", str(logs / "a.ndjson"), columns=200, env={"NO_COLOR": "1"})
    assert "source" not in shown.splitlines()[0]
    assert shown.splitlines()[2].split()[-1] == "customer.voucher.loyalty_card.points_added"


def test_piped_table_is_tab_separated_whole_values(logs: Path) -> None:
    customer = samples.sample("customer.rewarded")
    customer["data"]["customer"]["email"] = "a.very.long.address.that.would.not.fit@example.test"
    write_ndjson(logs / "c.ndjson", [customer])
    lines = invoke("show", "--table", str(logs)).stdout.splitlines()
    assert lines[0].split("\t") == ["valid", "time", "customer", "voucher", "Δpoints", "campaign", "source", "type"]
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 8 for row in rows)
    assert rows[2][-1] == LONGEST and rows[4][2] == "a.very.long.address.that.would.not.fit@example.test"
    assert rows[4][6] == f"{logs / 'c.ndjson'}:1"
    assert "…" not in "".join(lines)


def test_piped_types_and_stats_show_whole_values(logs: Path) -> None:
    loyalty = [line for line in invoke("types").stdout.splitlines() if "loyalty" in line]
    assert len(loyalty) > 10 and not any("…" in line for line in loyalty)
    assert any("v2024, distribution, legacy, bare" in line and LONGEST in line for line in loyalty)
    customer = samples.sample("customer.rewarded")
    customer["data"]["customer"].update(
        id="cust_another", source_id="another", email="a.very.long.address.that.would.not.fit@example.test"
    )
    customer["id"], customer["event"]["id"] = "whs_another", "evt_another"  # another delivery, not a retry
    write_ndjson(logs / "c.ndjson", [customer])
    stats = invoke("stats", str(logs)).stdout
    assert "a.very.long.address.that.would.not.fit@example.test" in stats and "…" not in stats
    assert LONGEST in stats


def test_types_on_a_narrow_terminal_keeps_the_type_whole(logs: Path) -> None:
    _, shown = on_terminal("types", columns=80, env={"NO_COLOR": "1"})
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any(LONGEST in line for line in lines) and "…" not in shown
    assert "in a wider terminal, or --format json" in shown


@pytest.mark.parametrize("command", [("types",), ("stats",), ("show",)])
def test_every_table_has_a_json_format(logs: Path, command: tuple[str, ...]) -> None:
    extra = () if command == ("types",) else (str(logs),)
    out = invoke(*command, "--format", "json", *extra).stdout
    documents = [orjson.loads(out)] if command == ("stats",) else ndjson(out)  # one document, or NDJSON
    assert documents and all(isinstance(d, dict) for d in documents)


# --- --raw in every view -------------------------------------------------------------------------


def test_raw_json_adds_the_payload_only_with_raw(logs: Path) -> None:
    plain = ndjson(invoke("show", "--format", "json", str(logs / "a.ndjson")).stdout)
    assert "payload" not in plain[0]
    raw = ndjson(invoke("show", "--format", "json", "--raw", str(logs / "a.ndjson")).stdout)
    assert raw[0]["payload"] == samples.sample("voucher.published")
    assert {k: v for k, v in raw[0].items() if k not in ("payload", "headers")} == plain[0]


def test_raw_table_and_panels_print_the_payload_copyably(logs: Path) -> None:
    payload = samples.sample("voucher.published")
    payload["data"]["voucher"]["metadata"] = {"note": "bidi \u202e and escape \x1b[2J inside"}
    tmp = logs / "odd.json"
    tmp.write_bytes(orjson.dumps(payload))
    piped = invoke("show", "--table", "--raw", str(tmp)).stdout.splitlines()
    assert piped[0].split("\t")[-1] == "payload"
    assert orjson.loads(piped[1].split("\t")[-1]) == payload  # the last column
    _, shown = on_terminal("show", "--table", "--raw", str(tmp), env={"NO_COLOR": "1"})
    row, payload_line = shown.splitlines()[1:3]
    assert row.endswith("voucher.published") and orjson.loads(payload_line) == payload
    assert "\x1b[2J" not in shown and "\u202e" not in shown
    panels = invoke("show", "--raw", str(tmp)).stdout
    after = panels[panels.index("╯\n") + 2 :]  # the payload follows the panel, outside its borders
    assert orjson.loads(after) == payload and "│" not in after
    _, shown = on_terminal("show", "--raw", str(tmp), env={"NO_COLOR": "1"})
    assert orjson.loads(shown[shown.index("╯\n") + 2 :]) == payload


@pytest.mark.parametrize("indent", [None, 4])
def test_raw_panels_print_the_body_as_received(tmp_path: Path, indent: int | None) -> None:
    """A compact body (as Voucherify sends it) stays compact, a pretty one keeps its own
    layout; characters that could drive a terminal are still `\\u` escapes, the text valid JSON."""
    import json

    payload = samples.sample("voucher.published")
    payload["data"]["voucher"]["metadata"] = {"note": "csi \u009b31m, bidi \u202e and escape \x1b[2J inside"}
    body = json.dumps(payload, indent=indent, separators=None if indent else (",", ":"), ensure_ascii=False)
    path = tmp_path / "body.json"
    path.write_bytes(body.encode())
    expected = body.replace("\u009b", "\\u009b").replace("\u202e", "\\u202e").replace("\x1b", "\\u001b")
    piped = invoke("show", "--raw", str(path)).stdout
    assert piped[piped.index("╯\n") + 2 :] == expected + "\n"
    _, shown = on_terminal("show", "--raw", str(path), env={"NO_COLOR": "1"})
    after = shown[shown.index("╯\n") + 2 :]
    assert after.rstrip("\n") == expected and orjson.loads(after) == payload
    assert "\x1b[2J" not in shown and "\u009b" not in shown and "\u202e" not in shown


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    ),
    st.booleans(),
)
def test_raw_json_text_is_terminal_safe_and_the_same_json(value: object, indent: bool) -> None:
    # (payloads come from orjson, whose integers fit 64 bits)
    text = json_text(value, indent=indent)
    assert text.replace("\n", "").isprintable()
    assert orjson.loads(text) == value


def test_a_terminal_layout_is_the_same_serial_and_parallel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The widths are decided once, before the run, and travel to the workers."""
    from vevents_cli.cli import console
    from vevents_cli.pipeline import parallel
    from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

    log = write_ndjson(tmp_path / "log.ndjson", [samples.sample(t) for t in SCHEMA_TYPES * 8])
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 64 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    monkeypatch.setattr(console, "width", lambda streams: 100)  # as on a terminal 100 columns wide
    assert len(list(parallel.chunks(log))) > 5
    monkeypatch.setenv("VEVENTS_JOBS", "2")
    chunked = invoke("show", "--table", str(log))
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    serial = invoke("show", "--table", str(log))
    assert chunked.stdout == serial.stdout
    lines = serial.stdout.splitlines()
    assert len(lines) == 1 + 8 * len(SCHEMA_TYPES) and "\t" not in serial.stdout
    assert max(map(len, lines)) <= 100
