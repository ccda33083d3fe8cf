"""`show --follow` on a FIFO and on a pipe given as `/dev/stdin` (issue 18, item 13a), through
the real CLI in a child process: each event is printed as soon as its line arrives (the test
reads it before it writes the next), and the run ends, status 0, when the writer closes its end.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson

from tests.helpers import first_line, popen, stopped_at_exit
from vevents_cli import samples

WAIT = 60  # seconds before a test gives up waiting for the child (never a timing assertion)
TYPES = ("customer.created", "voucher.published", "customer.rewarded")


def line(etype: str) -> bytes:
    return orjson.dumps(samples.sample(etype)) + b"\n"


def test_follow_a_fifo_prints_each_event_as_it_arrives_and_ends_with_its_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "events"  # not *.ndjson: its first line shows it is JSON
    os.mkfifo(fifo)
    proc = popen("show", "--follow", str(fifo), "--format", "json", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with stopped_at_exit(proc):
        with open(fifo, "wb", buffering=0) as writer:  # opens once the child reads it
            for number, etype in enumerate(TYPES, 1):
                writer.write(line(etype))
                shown = orjson.loads(first_line(proc.stdout))
                assert (shown["source"], shown["line"], shown["type"]) == (str(fifo), number, etype)
        out, err = proc.communicate(timeout=WAIT)
    assert (proc.returncode, out, err) == (0, b"", b"")


def test_follow_dev_stdin_reads_a_pipe_to_its_end(tmp_path: Path) -> None:
    proc = popen(
        "show", "--follow", "/dev/stdin", "--format", "json",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None
    with stopped_at_exit(proc):
        proc.stdin.write(line(TYPES[0]))
        proc.stdin.flush()
        assert orjson.loads(first_line(proc.stdout))["type"] == TYPES[0]
        rest = line(TYPES[1]) + line(TYPES[2])[:-1]  # the last line without its line end
        out, err = proc.communicate(rest, timeout=WAIT)  # then stdin is closed
    assert proc.returncode == 0, err
    assert [orjson.loads(v)["type"] for v in out.splitlines()] == list(TYPES[1:])
    assert b"internal error" not in err
