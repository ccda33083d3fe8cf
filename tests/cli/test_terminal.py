"""vevents at a terminal and in a pipe (issue 11): colour policy, tables that fit, whole
values in pipes, `--raw` in every view. Terminal behaviour runs in a pseudo-terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
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
def test_show_table_fits_the_terminal_with_what_a_person_came_for(logs: Path, columns: int) -> None:
    status, shown = on_terminal("show", "--table", str(logs), columns=columns, env={"NO_COLOR": "1"})
    assert status == 0
    lines = shown.splitlines()
    assert len(lines) == 5  # header + 4 events: no row wraps
    assert all(len(line) <= columns for line in lines), lines
    header = lines[0].split()
    assert header[:6] == ["✓", "time", "type", "customer", "voucher", "Δpoints"]  # at every width
    assert all("ada@example.test" in line and "STAR-7Q2K" in line for line in (lines[2], lines[3]))
    assert "+40" in lines[2]
    words = lines[3].split()  # the longest type: whole when there is room, else abbreviated
    if columns >= 120:
        assert LONGEST in words
    else:
        assert any(w.startswith("c.") and w.endswith(".activated") for w in words) and LONGEST not in words
    if columns >= 200:
        assert header == ["✓", "time", "type", "customer", "voucher", "Δpoints", "campaign", "source"]
        assert "2026-" in lines[1] and ".589Z" in lines[1]  # the whole time
        assert "b.ndjson:1" in lines[3] and "Stardust Rewards" in lines[3]  # (a long path cut on its left)
    if columns == 80:
        assert len(header) == 6 and lines[1].split()[1:3] == ["03-14", "14:22:46"]  # a short time


def _with_long_email(logs: Path) -> str:
    email = "augusta.ada.king-noel@lovelace.example.test"  # 43 characters
    for path in logs.iterdir():
        events = ndjson(path.read_text())
        for event in events:
            customer = event["data"].get("customer") or {}
            if customer.get("email"):
                customer["email"] = email
        write_ndjson(path, events)
    return email


def test_a_long_email_is_whole_at_100_columns_when_other_columns_have_room(logs: Path) -> None:
    email = _with_long_email(logs)
    _, shown = on_terminal("show", "--table", str(logs / "a.ndjson"), columns=100, env={"NO_COLOR": "1"})
    lines = shown.splitlines()
    assert all(len(line) <= 100 for line in lines) and email in lines[2]  # the type gave way
    assert "c.v.l.points_added" in lines[2]


def test_at_160_columns_the_source_takes_only_what_voucher_and_campaign_leave(logs: Path) -> None:
    deep = logs / ("a-rather-deeply-nested-folder-of-webhook-logs-" * 2)
    deep.mkdir()
    (logs / "b.ndjson").rename(deep / "b.ndjson")
    _, shown = on_terminal("show", "--table", str(logs), columns=160, env={"NO_COLOR": "1"})
    lines = shown.splitlines()
    assert lines[0].split()[-2:] == ["campaign", "source"] and all(len(line) <= 160 for line in lines)
    for line in lines[1:]:
        assert "…" not in line.rsplit(" ", 1)[0]  # voucher and campaign whole: only the source is cut
    assert "SPRING-9D3W" in shown and "STAR-7Q2K" in shown and "/b.ndjson:1" in shown


def test_the_type_column_is_as_wide_as_the_types_present(tmp_path: Path) -> None:
    log = write_ndjson(
        tmp_path / "log.ndjson", [samples.sample("voucher.published"), samples.sample("customer.rewarded")]
    )
    _, shown = on_terminal("show", "--table", str(log), columns=120, env={"NO_COLOR": "1"})
    header = shown.splitlines()[0]
    assert header.index("customer") - header.index("type") == len("customer.rewarded") + 1


def _stats_log(tmp_path: Path) -> Path:
    """A day of events from the samples: quiet, then failures from 14:00 (an invalid event, failed redemptions)."""
    events = []
    for minute in range(0, 10 * 60, 20):
        kind = "redemption.failed" if minute >= 5 * 60 and minute % 40 == 0 else "customer.rewarded"
        event = samples.sample(kind)
        event["id"] = event["event"]["id"] = f"evt_{minute}"
        event["created_at"] = f"2026-03-14T{9 + minute // 60:02d}:{minute % 60:02d}:00.000Z"
        if kind == "redemption.failed":
            event["data"]["redemption"]["id"] = f"r_{minute}"
        events.append(event)
    events[-1]["data"]["customer"]["id"] = 12345  # invalid
    events[-1]["data"]["customer"]["email"] = "a.customer.with.a.long.address@example.test"
    return write_ndjson(tmp_path / "day.ndjson", events)


def test_stats_timeline_says_when_the_failures_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _stats_log(tmp_path)
    doc = orjson.loads(invoke("stats", "--format", "json", str(log)).stdout)
    timeline = doc["timeline"]
    assert timeline["bucket"] == "PT1H" and timeline["untimed"] == 0  # 10 hours: hourly rows
    assert [r["start"] for r in timeline["rows"]] == [f"2026-03-14T{h:02d}:00:00Z" for h in range(9, 19)]
    assert sum(r["events"] for r in timeline["rows"]) == doc["events"] == 30
    failed = [r["failed_redemptions"] for r in timeline["rows"]]
    assert failed[:5] == [0] * 5 and all(failed[5:]) and sum(failed) == doc["redemptions"]["failed"]
    assert [r["invalid"] for r in timeline["rows"]] == [0] * 9 + [1]
    monkeypatch.setenv("VEVENTS_JOBS", "2")  # the same document from a parallel run
    assert orjson.loads(invoke("stats", "--format", "json", str(log)).stdout) == doc


@pytest.mark.parametrize(("minutes", "bucket"), [(10, "PT1M"), (90, "PT5M"), (300, "PT15M"), (3 * 1440, "PT6H")])
def test_stats_timeline_bucket_follows_the_time_span(tmp_path: Path, minutes: int, bucket: str) -> None:
    events = []
    for i, at in enumerate((0, minutes // 2, minutes)):
        event = samples.sample("voucher.published")
        event["id"] = event["event"]["id"] = f"evt_{i}"
        when = datetime(2026, 3, 14, 9, tzinfo=UTC) + timedelta(minutes=at)
        event["created_at"] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        events.append(event)
    log = write_ndjson(tmp_path / "span.ndjson", events)
    timeline = orjson.loads(invoke("stats", "--format", "json", str(log)).stdout)["timeline"]
    assert timeline["bucket"] == bucket and 1 < len(timeline["rows"]) <= 24
    assert sum(r["events"] for r in timeline["rows"]) == 3


def test_stats_timeline_holds_few_buckets_whatever_the_order(tmp_path: Path) -> None:
    """3,000 events a minute apart: more minutes than the buckets held, merged into larger
    ones as they come; the same timeline however the log is ordered."""
    from vevents_cli import stats

    base = samples.sample("voucher.published")
    events = []
    for minute in range(3000):
        when = datetime(2026, 3, 14, 9, tzinfo=UTC) + timedelta(minutes=minute)
        events.append({**base, "id": f"evt_{minute}", "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    forward = write_ndjson(tmp_path / "forward.ndjson", events)
    shuffled = write_ndjson(tmp_path / "shuffled.ndjson", events[1::2] + events[-2::-2])
    assert len(events) > stats.HELD
    timeline = orjson.loads(invoke("stats", "--format", "json", str(forward)).stdout)["timeline"]
    assert timeline["bucket"] == "PT6H" and sum(r["events"] for r in timeline["rows"]) == 3000
    assert orjson.loads(invoke("stats", "--format", "json", str(shuffled)).stdout)["timeline"] == timeline
    held = stats.Timeline()
    for event in events:
        held.add(datetime.fromisoformat(event["created_at"]), False, False)
        assert len(held.buckets) <= stats.HELD


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_stats_on_a_terminal_keeps_keys_on_one_line_and_draws_the_timeline(tmp_path: Path, columns: int) -> None:
    _, shown = on_terminal("stats", str(_stats_log(tmp_path)), columns=columns, env={"NO_COLOR": "1"})
    lines = [line.rstrip() for line in shown.split("\x1b[?25h")[-1].splitlines()]  # (after the progress bar)
    assert all(len(line) <= columns for line in lines)
    customers = lines[lines.index(next(line for line in lines if line.startswith("Customers"))) :]
    rows = [line for line in customers[: customers.index(next(line for line in customers if line.startswith("└")))]]
    body = [line for line in rows if line.startswith("│")]
    assert len(body) == 2  # two customers, one line each: no key folded over several lines
    assert any("a.customer.with" in line for line in body)
    start = lines.index("Timeline (events per hour)")
    timeline = [line for line in lines[start : start + 16] if line.startswith("│")]
    assert len(timeline) == 10 and timeline[0].split("│")[1].strip() == "2026-03-14 09:00"
    assert [line.split("│")[4].strip() != "0" for line in timeline] == [False] * 5 + [True] * 5  # failing from 14:00
    assert timeline[-1].split("│")[3].strip() == "1" and "▒" in timeline[-1]  # the invalid event, drawn apart
    assert all("█" in line for line in timeline)


def test_one_source_has_no_source_column(logs: Path) -> None:
    _, shown = on_terminal("show", "--table", str(logs / "a.ndjson"), columns=200, env={"NO_COLOR": "1"})
    assert "source" not in shown.splitlines()[0]
    assert shown.splitlines()[2].split()[2] == "customer.voucher.loyalty_card.points_added"


def test_piped_table_is_tab_separated_whole_values(logs: Path) -> None:
    customer = samples.sample("customer.rewarded")
    customer["data"]["customer"]["email"] = "a.very.long.address.that.would.not.fit@example.test"
    write_ndjson(logs / "c.ndjson", [customer])
    lines = invoke("show", "--table", str(logs)).stdout.splitlines()
    assert lines[0].split("\t") == ["valid", "time", "type", "customer", "voucher", "Δpoints", "campaign", "source"]
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 8 for row in rows)
    assert rows[2][2] == LONGEST and rows[4][3] == "a.very.long.address.that.would.not.fit@example.test"
    assert rows[4][7] == f"{logs / 'c.ndjson'}:1"
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
    assert "voucher.published" in row.split() and orjson.loads(payload_line) == payload
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
