"""URL inputs (fsspec, the `remote` extra): the same commands over `memory://` and `file://`
URLs give the local output (locators naming the URLs), gzip found by content; without fsspec
a URL is one line naming the extra, and the other inputs are still read."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke, run
from tests.helpers.terminal import read_pty
from vevents_cli import samples
from vevents_cli.pipeline.sources import REMOTE_EXTRA, Source
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

fsspec = pytest.importorskip("fsspec")

COMMANDS = [
    ("show", "--format", "json"),
    ("show", "--table"),
    ("validate", "--format", "json"),
    ("stats", "--format", "json", "--all"),
    ("ledger", "--format", "json"),
]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A folder of inputs: pretty samples, a gzip NDJSON log with a cut line (not named .gz)."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in ("voucher.published", "customer.rewarded.loyalty_points", "voucher.loyalty_card.points_added"):
        (folder / f"{name}.json").write_bytes(orjson.dumps(samples.sample(name), option=orjson.OPT_INDENT_2))
    lines = [orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)])) for i in range(40)]
    lines.insert(7, b'{"id": "whs_cut", "data": ')
    (folder / "log.ndjson").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return folder


@pytest.fixture
def memory(logs: Path) -> Iterator[str]:
    """The same folder as `memory://` objects."""
    fs = fsspec.filesystem("memory")
    for path in logs.iterdir():
        fs.pipe(f"/vevents-test/{path.name}", path.read_bytes())
    yield "memory:///vevents-test"
    fs.rm("/vevents-test", recursive=True)


def _local(args: tuple[str, ...], logs: Path, url: str, *paths: str) -> tuple[int, str, str]:
    """The local run's output (of the folder, or of `paths`), with each file named as the URL run names it."""
    result = invoke(*args, *(paths or [str(logs)]))
    return result.exit_code, result.stdout.replace(str(logs), url), result.stderr.replace(str(logs), url)


@pytest.mark.parametrize("args", COMMANDS)
def test_memory_folder_and_glob_give_the_local_output(args: tuple[str, ...], logs: Path, memory: str) -> None:
    expected = _local(args, logs, memory)
    assert f"{memory}/log.ndjson" in expected[1] + expected[2] or args[0] in ("stats", "ledger")
    for given in (memory, f"{memory}/*"):
        result = invoke(*args, given)
        assert (result.exit_code, result.stdout, result.stderr) == expected


@pytest.mark.parametrize("args", COMMANDS[:3])
def test_file_urls_give_the_local_output(args: tuple[str, ...], logs: Path) -> None:
    url = f"file://{logs}"
    expected = _local(args, logs, url, *sorted(str(p) for p in logs.glob("*.json")), str(logs / "log.ndjson"))
    result = invoke(*args, f"{url}/*.json", f"{url}/log.ndjson")
    assert (result.exit_code, result.stdout, result.stderr) == expected
    assert f"{url}/log.ndjson" in result.stdout + result.stderr  # the cut line, in the gzip log, by its URL


def test_a_missing_object_is_one_unreadable_item(logs: Path, memory: str) -> None:
    result = invoke("validate", f"{memory}/nothing.json", f"{memory}/*.json", "memory:///no-such-folder/*.ndjson")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"vevents: {memory}/nothing.json: no such object",
        "vevents: memory:///no-such-folder/*.ndjson: no object matches this pattern",
    ]
    assert "3 valid" in result.stdout


SHIM = "raise ImportError('No module named fsspec (blocked by the test)')\n"


def test_without_fsspec_a_url_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    (tmp_path / "fsspec.py").write_text(SHIM)
    sample = tmp_path / "voucher.published.json"
    sample.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    url = "s3://vevents-bucket/webhooks/2026-*.ndjson.gz"
    done = run("validate", url, str(sample), env={"PYTHONPATH": str(tmp_path)})
    assert done.stderr.decode().splitlines() == [f"vevents: {url}: {REMOTE_EXTRA}"]
    assert done.returncode == 1  # as any unreadable input: the rest is read
    assert "1 valid" in done.stdout.decode()
    assert REMOTE_EXTRA == "remote inputs need the 'remote' extra: pip install 'vevents[remote]'"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_progress_counts_the_bytes_of_urls(logs: Path) -> None:
    """At a terminal the bar's total is the objects' size, as for local files."""
    import pty

    files = sorted(logs.glob("*.json"))
    total = sum(path.stat().st_size for path in files)
    leader, follower = pty.openpty()
    done = run("stats", "--format", "json", f"file://{logs}/*.json", stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = read_pty(leader)
    assert orjson.loads(done.stdout)["events"] == len(files)
    assert b"reading" in seen and f"/{total / 1000:.1f} kB".encode() in seen


def test_a_file_url_is_never_an_output(logs: Path) -> None:
    """Input never chooses a file: a `file://` URL is the file it names, which redact will not write over."""
    target = logs / "voucher.published.json"
    before = target.read_bytes()
    result = invoke("redact", f"file://{target}", "--out", str(target))
    assert result.exit_code == 2 and "is one of the input files; redact never modifies its input" in result.stderr
    assert target.read_bytes() == before


def test_a_large_file_url_runs_on_the_local_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `file://` URL is read as the local file: a large NDJSON log is cut into chunks, named by its URL."""
    from vevents_cli.pipeline import parallel
    from vevents_cli.pipeline.sources import expand

    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 16 * 1024)
    lines = [orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)])) for i in range(150)]
    lines[100] = lines[100][:-1] + b" "  # a cut line
    log = tmp_path / "big.ndjson"
    log.write_bytes(b"\n".join(lines) + b"\n")
    [source] = list(expand([f"file://{log}"]))
    assert isinstance(source, Source) and parallel.splittable(source)
    local = invoke("validate", "--format", "json", str(log), env={"VEVENTS_JOBS": "2"})
    url = invoke("validate", "--format", "json", f"file://{log}", env={"VEVENTS_JOBS": "2"})
    assert url.stdout == local.stdout.replace(str(log), f"file://{log}") and url.exit_code == local.exit_code == 1
    assert f'"source": "file://{log}",\n      "line": 101,' in url.stdout
