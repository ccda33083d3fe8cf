"""What `redact --out` and `split` leave behind when a run cannot finish (issue 18, item 7),
through the real CLI in child processes.

A full disk is a file size limit (`RLIMIT_FSIZE`, SIGXFSZ ignored: each write past it fails
with EFBIG, as on a full file system) set in the child alone; a signal is sent once the run
has shown that it is writing (its temporary file or its first fixture is there). Either way:
the target keeps what it held, no temporary file is left, one line and status 74 for a write
error, and a second run is not refused because of anything the first one left.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import full_disk, popen, run, write_ndjson
from vevents_cli import samples

TYPES = ("customer.created", "voucher.published", "redemption.succeeded", "customer.rewarded")
OLD = b'{"kept": "the previous output"}\n'
WAIT = 60  # seconds before a test gives up waiting for the child (never a timing assertion)


def events(n: int = 4) -> list[dict[str, Any]]:
    """`n` sample events, each with its own id."""
    out = []
    for i in range(n):
        event = copy.deepcopy(samples.sample(TYPES[i % len(TYPES)]))
        event["id"] = f"evt_{i:04d}"
        out.append(event)
    return out


def big_event() -> dict[str, Any]:
    """An event whose fixture is far larger than the others'."""
    event = copy.deepcopy(samples.sample("customer.created"))
    event["id"] = "evt_big"
    event["data"]["customer"]["metadata"] = {f"note_{i}": "x" * 100 for i in range(400)}
    return event


def hidden(folder: Path) -> list[Path]:
    return list(folder.rglob(".*"))


def everything(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# --- redact --out -----------------------------------------------------------------------------


def test_redact_leaves_out_as_it_was_when_no_input_can_be_read(tmp_path: Path) -> None:
    out = tmp_path / "prev.ndjson"
    out.write_bytes(OLD)
    proc = run("redact", "--salt", "s", "--out", str(out), str(tmp_path / "missing.ndjson"))
    assert proc.returncode == 1
    assert out.read_bytes() == OLD
    assert proc.stderr.decode().splitlines() == [
        f"vevents: {tmp_path}/missing.ndjson: no such file or folder",
        f"{out} left as it was: no input could be read",
    ]
    assert hidden(tmp_path) == []


def test_redact_replaces_out_when_its_input_is_read(tmp_path: Path) -> None:
    out = tmp_path / "prev.ndjson"
    out.write_bytes(OLD)
    out.chmod(0o640)
    log = write_ndjson(tmp_path / "in.ndjson", events())
    proc = run("redact", "--salt", "s", "--out", str(out), str(log))
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_bytes().splitlines()) == 4
    assert out.stat().st_mode & 0o777 == 0o640  # the old file's permissions
    assert hidden(tmp_path) == []


def test_redact_on_a_full_disk_is_one_line_74_and_leaves_out_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "prev.ndjson"
    out.write_bytes(OLD)
    log = write_ndjson(tmp_path / "in.ndjson", events(40))
    proc = run("redact", "--salt", "s", "--out", str(out), str(log), **full_disk(20_000))
    assert proc.returncode == 74
    assert proc.stderr.decode().splitlines() == [f"vevents: cannot write to {out}: File too large"]
    assert out.read_bytes() == OLD
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_redact_stopped_by_a_signal_leaves_no_output(tmp_path: Path, signum: int) -> None:
    """A run reading stdin that never ends, stopped once its output file exists."""
    out = tmp_path / "out.ndjson"
    with popen("redact", "--salt", "s", "--out", str(out), "-", stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        proc.stdin.write(b"".join(orjson.dumps(e) + b"\n" for e in events(8)))
        proc.stdin.flush()
        wait_for(lambda: bool(list(tmp_path.iterdir())), proc)  # the file it writes (base: out.ndjson itself)
        proc.send_signal(signum)
        assert proc.wait(WAIT) == 128 + signum
        proc.stdin.close()
    assert everything(tmp_path) == []


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    """Until `condition()` holds, while the child runs (it is polled; the test never times anything)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert proc.poll() is None, "the child ended"
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


# --- split --------------------------------------------------------------------------------------


def test_split_on_a_full_disk_removes_what_it_wrote_and_a_rerun_works(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "in.ndjson", [*events(6), big_event(), *events(2)])
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "README.md").write_bytes(b"kept\n")  # there before: never removed
    proc = run("split", "--out", str(fixtures), str(log), **full_disk(30_000))
    assert proc.returncode == 74
    [line] = proc.stderr.decode().splitlines()
    assert line.startswith(f"vevents: cannot write to {fixtures}/customer.created/") and "File too large" in line
    assert everything(fixtures) == [fixtures / "README.md"]  # the 6 written before it: removed, folders too

    again = run("split", "--out", str(fixtures), str(log))
    assert again.returncode == 0, again.stderr
    assert len([p for p in everything(fixtures) if p.suffix == ".json"]) == 9
    assert hidden(fixtures) == []


def test_split_into_a_new_folder_on_a_full_disk_leaves_no_folder(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "in.ndjson", [*events(3), big_event()])
    proc = run("split", "--out", str(tmp_path / "new" / "fixtures"), str(log), **full_disk(30_000))
    assert proc.returncode == 74
    assert everything(tmp_path) == [log]


def test_split_stopped_by_sigterm_removes_what_it_wrote(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    with popen("split", "--out", str(fixtures), "-", stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        proc.stdin.write(b"".join(orjson.dumps(e) + b"\n" for e in events(3)))
        proc.stdin.flush()
        wait_for(lambda: any(p.suffix == ".json" for p in fixtures.rglob("*.json")), proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 143
        proc.stdin.close()
    assert not fixtures.exists()


def test_split_force_replaces_each_fixture_whole(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "in.ndjson", events(4))
    fixtures = tmp_path / "fixtures"
    assert run("split", "--out", str(fixtures), str(log)).returncode == 0
    before = {p: p.read_bytes() for p in everything(fixtures) if p.is_file()}
    refused = run("split", "--out", str(fixtures), str(log))
    assert refused.returncode == 1 and refused.stderr.decode().count("exists (use --force to overwrite)") == 4
    forced = run("split", "--force", "--out", str(fixtures), str(log))
    assert forced.returncode == 0, forced.stderr
    assert {p: p.read_bytes() for p in everything(fixtures) if p.is_file()} == before
    assert hidden(fixtures) == []
    assert os.listdir(fixtures)


def test_redact_out_through_a_symlink_replaces_the_file_it_points_to(tmp_path: Path) -> None:
    real = tmp_path / "real.ndjson"
    real.write_bytes(OLD)
    link = tmp_path / "link.ndjson"
    link.symlink_to(real)
    log = write_ndjson(tmp_path / "in.ndjson", events(2))
    proc = run("redact", "--salt", "s", "--out", str(link), str(log))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and len(real.read_bytes().splitlines()) == 2
    assert hidden(tmp_path) == []
