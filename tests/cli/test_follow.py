"""Following a growing log (`show --follow`): new lines, partial lines, truncation, rotation, Ctrl-C."""

from __future__ import annotations

import queue
import signal
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from tests.helpers import follower, invoke
from vevents_cli import samples
from vevents_cli.model import Note, Record, Unreadable
from vevents_cli.pipeline import follow
from vevents_cli.pipeline.records import read_lines

WAIT = 15  # seconds before a test gives up waiting for an event (never a timing assertion)


def line(etype: str, minute: int) -> bytes:
    data = samples.sample(etype)["data"]
    created_at = f"2026-03-14T10:{minute:02d}:00.000Z"
    return orjson.dumps(samples.wrap(data, etype, "v2024", created_at=created_at)) + b"\n"


class Follower:
    """Reads `follow.lines(path)` through the records stage in a thread, like `show --follow`."""

    def __init__(self, path: Path, interval: float = 0.02) -> None:
        self.interval = interval
        self.stop = threading.Event()
        self.items: queue.Queue[Record | Unreadable] = queue.Queue()
        self.notes: list[Note] = []
        self.thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self.thread.start()

    def _run(self, path: Path) -> None:
        for item in read_lines(str(path), follow.lines(path, self.stop, interval=self.interval)):
            self.items.put(item)

    def next_item(self) -> Record | Unreadable:
        """The next item, notes included."""
        return self.items.get(timeout=WAIT)

    def next_type(self) -> str:
        """The next event's type (notes are kept in `notes`)."""
        item = self.items.get(timeout=WAIT)
        while isinstance(item, Note):
            self.notes.append(item)
            item = self.items.get(timeout=WAIT)
        assert isinstance(item, Record), item
        return item.value["type"]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)


@pytest.fixture
def logfile(tmp_path: Path) -> Path:
    path = tmp_path / "webhooks.ndjson"
    path.write_bytes(line("voucher.published", 0))
    return path


def test_events_arrive_as_a_writer_appends_them(logfile: Path) -> None:
    reader = Follower(logfile)
    try:
        assert reader.next_type() == "voucher.published"  # what was there before
        types = ["customer.created", "customer.rewarded", "redemption.succeeded"]

        def writer() -> None:
            for minute, etype in enumerate(types, start=1):
                append(logfile, line(etype, minute))
                time.sleep(0.05)

        thread = threading.Thread(target=writer)
        thread.start()
        assert [reader.next_type() for _ in types] == types
        thread.join()
    finally:
        reader.close()


def test_a_partial_last_line_waits_for_its_newline(logfile: Path) -> None:
    reader = Follower(logfile)
    try:
        assert reader.next_type() == "voucher.published"
        whole = line("customer.created", 1)
        append(logfile, whole[:40])
        time.sleep(0.2)  # several polls see the half line
        append(logfile, whole[40:])
        assert reader.next_type() == "customer.created"  # one event, not an error
    finally:
        reader.close()
    assert reader.items.empty()


def test_truncation_starts_again_from_the_top(logfile: Path) -> None:
    append(logfile, line("customer.created", 1))
    reader = Follower(logfile)
    try:
        assert [reader.next_type(), reader.next_type()] == ["voucher.published", "customer.created"]
        logfile.write_bytes(line("redemption.failed", 2))  # shorter than before: truncated, rewritten
        assert reader.next_type() == "redemption.failed"
    finally:
        reader.close()


def test_rotation_reopens_the_new_file(logfile: Path) -> None:
    reader = Follower(logfile)
    try:
        assert reader.next_type() == "voucher.published"
        append(logfile, line("customer.created", 1))
        logfile.rename(logfile.with_name("webhooks.ndjson.1"))
        logfile.write_bytes(line("customer.deleted", 2))
        assert [reader.next_type(), reader.next_type()] == ["customer.created", "customer.deleted"]
        append(logfile, line("voucher.deleted", 3))
        assert reader.next_type() == "voucher.deleted"
    finally:
        reader.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_show_follow_prints_new_events_and_stops_quietly_on_ctrl_c(logfile: Path) -> None:
    with follower(logfile, "--format", "json", "--type", "customer.*") as proc:
        append(logfile, line("voucher.deleted", 1) + line("customer.created", 2))
        event = orjson.loads(proc.stdout.readline())  # filtered, and printed as soon as it lands
        assert (event["type"], event["line"]) == ("customer.created", 3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) in (0, 130)
        assert b"Traceback" not in proc.stderr.read()


def test_follow_needs_an_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    result = invoke("show", "--follow", str(tmp_path / "missing.ndjson"))
    assert result.exit_code == 2
    assert "No such file" in result.stderr


# --- truncation and rotation within one poll: every new event, numbering restarts with a note -----


def events(reader: Follower, n: int) -> list[tuple[int, str]]:
    out = []
    while len(out) < n:
        item = reader.next_item()
        if isinstance(item, Note):
            reader.notes.append(item)
            continue
        assert isinstance(item, Record), item
        out.append((item.locator.line, item.value["type"]))
    return out


def test_a_file_rewritten_larger_within_one_poll_is_read_again_from_the_top(logfile: Path) -> None:
    append(logfile, line("customer.created", 1))
    reader = Follower(logfile, interval=1.0)  # the rewrite below lands while it waits
    try:
        assert events(reader, 2) == [(1, "voucher.published"), (2, "customer.created")]
        rewritten = b"".join(
            line(t, m)
            for m, t in enumerate(["redemption.failed", "customer.deleted", "voucher.deleted", "customer.rewarded"], 10)
        )
        assert len(rewritten) > logfile.stat().st_size
        with logfile.open("r+b") as f:  # truncate and write, keeping the inode
            f.truncate(0)
            f.write(rewritten)
        assert events(reader, 4) == [
            (1, "redemption.failed"),
            (2, "customer.deleted"),
            (3, "voucher.deleted"),
            (4, "customer.rewarded"),
        ]
        assert [str(n) for n in reader.notes] == [f"{logfile}: {follow.TRUNCATED}"]
    finally:
        reader.close()
    assert reader.items.empty()  # no bogus error


def test_rotation_restarts_the_numbering_with_a_note(logfile: Path) -> None:
    reader = Follower(logfile, interval=0.5)
    try:
        assert events(reader, 1) == [(1, "voucher.published")]
        append(logfile, line("customer.created", 1) + b'{"id": "whs_half')  # the writer dies mid-line
        logfile.rename(logfile.with_name("webhooks.ndjson.1"))
        logfile.write_bytes(line("customer.deleted", 2) + line("voucher.deleted", 3))
        assert events(reader, 1) == [(2, "customer.created")]
        cut = reader.next_item()  # the old file's unfinished last line is reported, not dropped
        assert isinstance(cut, Unreadable) and cut.locator.line == 3 and "truncated JSON" in cut.reason
        assert events(reader, 2) == [(1, "customer.deleted"), (2, "voucher.deleted")]
        assert [str(n) for n in reader.notes] == [f"{logfile}: {follow.ROTATED}"]
    finally:
        reader.close()


def test_a_line_longer_than_the_limit_is_dropped_while_following(logfile: Path) -> None:
    stop = threading.Event()
    items: queue.Queue[Record | Unreadable] = queue.Queue()

    def run() -> None:
        for item in read_lines(str(logfile), follow.lines(logfile, stop, interval=0.02, limit=4096), limit=4096):
            items.put(item)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert isinstance(items.get(timeout=WAIT), Record)
        with logfile.open("ab") as f:
            for _ in range(64):  # 64 KiB of one line, written in pieces: never held whole
                f.write(b"x" * 1024)
                f.flush()
            f.write(b"\n" + line("customer.created", 1))
        dropped = items.get(timeout=WAIT)
        assert isinstance(dropped, Unreadable) and dropped.locator.line == 2 and "longer than 4 KiB" in dropped.reason
        created = items.get(timeout=WAIT)
        assert isinstance(created, Record) and created.locator.line == 3
    finally:
        stop.set()
        thread.join(WAIT)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_show_follow_notes_a_truncation_on_stderr(logfile: Path) -> None:
    with follower(logfile, "--format", "json") as proc:
        assert orjson.loads(proc.stdout.readline())["line"] == 1
        logfile.write_bytes(line("customer.created", 1) + line("customer.deleted", 2))  # shorter: truncated
        assert [orjson.loads(proc.stdout.readline())["line"] for _ in range(2)] == [1, 2]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) in (0, 130)
        assert proc.stderr.read().decode().splitlines() == [f"vevents: {logfile}: {follow.TRUNCATED}"]
