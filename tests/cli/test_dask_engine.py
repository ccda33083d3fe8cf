"""`--engine dask`: the same output as the local run, from partitions run on a Dask cluster.

The cluster tests (heavy) share one `LocalCluster` of two worker processes, reached through
`--scheduler`, and one run starts its own local cluster; their inputs are several sample
files, a gzip log, a file that is not JSON and a large NDJSON log (larger than the local
parallel path's threshold) with a broken line at the start of every partition.
"""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.helpers import clean_env, invoke, run
from vevents_cli import samples
from vevents_cli.pipeline import parallel
from vevents_cli.pipeline.dask import DASK_EXTRA
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

LOCAL = {"VEVENTS_JOBS": "2"}  # the local run: its process pool, as on a two-core machine
DIALECTS = ("v2024", "distribution", "legacy")
COMMANDS = [
    ("validate", "--format", "json"),
    ("show", "--format", "json"),
    ("stats", "--format", "json", "--all"),
    ("ledger", "--format", "json"),
]


def _broken(line: bytes) -> bytes:
    """A line cut mid-value, as long as `line` (so the cuts around it stay where they were)."""
    return line[:-1] + b" "


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dask") / "logs"
    folder.mkdir()
    for name in ("voucher.published", "customer.rewarded.loyalty_points", "voucher.loyalty_card.points_added"):
        (folder / f"{name}.json").write_bytes(orjson.dumps(samples.sample(name), option=orjson.OPT_INDENT_2))
    small = [orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], DIALECTS[i % 3])) for i in range(60)]
    small.insert(9, b'{"id": "whs_cut", "data": ')
    (folder / "deliveries.ndjson.gz").write_bytes(gzip.compress(b"\n".join(small) + b"\n"))
    (folder / "notes.json").write_text("# not events\n")
    big = folder / "webhooks.ndjson"
    lines, size, i = [], 0, 0
    while size <= parallel.MIN_SIZE + parallel.CHUNK:
        line = orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], DIALECTS[i % 3]))
        lines.append(line)
        size, i = size + len(line) + 1, i + 1
    big.write_bytes(b"\n".join(lines) + b"\n")
    firsts = [line - 1 for _, _, line in list(parallel.chunks(big))[1:]]
    for index in firsts:
        lines[index] = _broken(lines[index])
    big.write_bytes(b"\n".join(lines) + b"\n")
    assert [line - 1 for _, _, line in list(parallel.chunks(big))[1:]] == firsts and len(firsts) >= 7
    return folder


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=50
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.heavy
@pytest.mark.parametrize("args", COMMANDS)
def test_dask_run_matches_the_local_run(args: tuple[str, ...], inputs: Path, scheduler: str) -> None:
    local = invoke(*args, str(inputs), env=LOCAL)
    dask = invoke(*args, str(inputs), "--engine", "dask", "--scheduler", scheduler)
    assert dask.exit_code == local.exit_code == 1  # notes.json, and the broken lines
    assert dask.stderr == local.stderr
    if args[0] in ("show", "validate"):
        assert dask.stdout_bytes == local.stdout_bytes
        assert "notes.json" in local.stdout + local.stderr
        assert (local.stdout + local.stderr).count("truncated JSON") >= 8  # one at each partition's start, + whs_cut
    else:
        assert orjson.loads(dask.stdout_bytes) == orjson.loads(local.stdout_bytes)


@pytest.mark.heavy
def test_a_log_given_up_in_its_first_partition_is_given_up_there(
    tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing but unreadable lines first: the run gives the file up in its first chunk, as the
    local run does, and reads the file named after it (and the same file named again)."""
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)  # the cuts are made here, in this process
    monkeypatch.setattr(parallel, "CHUNK", 16 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    lines = [b'{"broken": ' for _ in range(25)]
    lines += [orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)])) for i in range(200)]
    log = tmp_path / "junk.ndjson"
    log.write_bytes(b"\n".join(lines) + b"\n")
    assert len(list(parallel.chunks(log))) > 5
    args = ("show", "--format", "json", str(log), str(inputs_sample(tmp_path)), str(log))
    local = invoke(*args, env=LOCAL)
    dask = invoke(*args, "--engine", "dask", "--scheduler", scheduler)
    assert (dask.exit_code, dask.stdout_bytes, dask.stderr) == (local.exit_code, local.stdout_bytes, local.stderr)
    assert local.stderr.count("giving up after 20 unreadable values") == 2 and local.stdout.count("\n") == 1


def inputs_sample(folder: Path) -> Path:
    sample = folder / "voucher.published.json"
    sample.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    return sample


@pytest.mark.heavy
def test_dask_partitions_are_chunks_of_large_logs(inputs: Path, scheduler: str) -> None:
    from vevents_cli.pipeline import dask
    from vevents_cli.pipeline.sources import expand

    parts = list(dask.partitions(expand([str(inputs)])))
    chunks = [part for part in parts if isinstance(part, dask.Part) and part.start is not None]
    assert len(chunks) == len(list(parallel.chunks(inputs / "webhooks.ndjson")))
    assert len(parts) == len(chunks) + 5  # and each other file whole


@pytest.mark.heavy
def test_without_scheduler_a_local_cluster_runs(inputs: Path) -> None:
    paths = [str(p) for p in sorted(inputs.iterdir()) if p.name != "webhooks.ndjson"]
    local = run("validate", "--format", "json", *paths, env=LOCAL)
    dask = run("validate", "--format", "json", "--engine", "dask", *paths, env=LOCAL, timeout=300)
    assert (dask.returncode, dask.stdout, dask.stderr) == (local.returncode, local.stdout, local.stderr)
    assert local.returncode == 1 and b"whs_cut" not in local.stdout and b'"unreadable": 2' in local.stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.heavy
def test_an_unreachable_scheduler_is_one_line_and_exit_2(inputs: Path) -> None:
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    result = invoke("validate", str(inputs / "notes.json"), "--engine", "dask", "--scheduler", address)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"vevents: cannot reach the Dask scheduler at {address} (--scheduler): ")


# --- without a cluster (the default suite) ---------------------------------------------------------


def test_without_dask_the_engine_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    (tmp_path / "distributed.py").write_text("raise ImportError('No module named distributed (blocked by the test)')\n")
    sample = tmp_path / "voucher.published.json"
    sample.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    done = run("validate", str(sample), "--engine", "dask", env={"PYTHONPATH": str(tmp_path)})
    assert (done.returncode, done.stdout, done.stderr.decode()) == (2, b"", f"vevents: {DASK_EXTRA}\n")


def test_a_local_run_imports_neither_dask_nor_fsspec(tmp_path: Path) -> None:
    sample = tmp_path / "voucher.published.json"
    sample.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    for args in (("--version",), ("validate", str(sample))):
        done = _importtime(*args)
        assert done.returncode == 0, done.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines()}
        assert not {name for name in imported if name.split(".")[0] in ("dask", "distributed", "fsspec")}


def _importtime(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vevents_cli", *args],
        capture_output=True,
        env=clean_env(),
        timeout=60,
    )


@pytest.mark.heavy
def test_a_scheduler_without_workers_is_one_line_and_exit_2(inputs: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=50
    ) as cluster:
        address = cluster.scheduler_address
        result = invoke("validate", str(inputs / "notes.json"), "--engine", "dask", "--scheduler", address)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"vevents: the Dask scheduler at {address} (--scheduler) has no workers\n"
