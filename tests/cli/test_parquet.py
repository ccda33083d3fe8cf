"""`show --format parquet -o FILE|DIR`: the facts records as typed Parquet (DuckDB reads them
back with the facts schema's types and the JSON records' values), written in row groups as
events stream, atomically (an interrupted run leaves nothing); without -o or without pyarrow,
one line and exit 2."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import clean_env, invoke, ndjson, popen, run
from tests.helpers.corpus import SAMPLES, build
from vevents_cli import samples

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [SAMPLES, *build(tmp_path_factory.mktemp("corpus"))]


def records(path: Path) -> list[dict[str, Any]]:
    return ndjson(invoke("show", "--format", "json", str(path)).stdout)


def test_duckdb_reads_the_facts_with_the_schemas_types(corpus: list[Path], tmp_path: Path) -> None:
    log, out = corpus[1], tmp_path / "facts.parquet"
    result = invoke("show", "--format", "parquet", "-o", str(out), str(log))
    expected = records(log)
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()  # as any file the user makes, not a temporary's 0600
    assert result.exit_code == 1  # the log's unreadable lines: reported, and the rest written
    assert result.stdout == ""
    assert f"{len(expected)} events written to {out}" in result.stderr
    assert result.stderr.count("vevents: ") == 4
    types = dict(duckdb.sql(f"SELECT column_name, column_type FROM (DESCRIBE FROM '{out}')").fetchall())
    assert list(types) == list(expected[0])
    assert types["line"] == types["index"] == "BIGINT"
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["valid"] == "BOOLEAN"
    assert types["points"].startswith("STRUCT(delta BIGINT, balance BIGINT, pending BIGINT,")
    assert types["gift"] == "STRUCT(delta DOUBLE, balance DOUBLE)"
    assert types["changes"] == 'STRUCT(field VARCHAR, "old" VARCHAR, "new" VARCHAR)[]'
    rows = duckdb.sql(
        f"SELECT source, line, index, type, id, points.delta, epoch_ms(created_at), len(changes), valid FROM '{out}'"
    ).fetchall()
    assert rows == [
        (
            r["source"],
            r["line"],
            r["index"],
            r["type"],
            r["id"],
            r["points"] and r["points"]["delta"],
            _epoch_ms(r["created_at"]),
            len(r["changes"]),
            r["valid"],
        )
        for r in expected
    ]
    assert any(r["changes"] for r in expected) and any(r["points"] for r in expected)


def _umask() -> int:
    import os

    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _epoch_ms(text: str | None) -> int | None:
    from datetime import datetime

    return None if text is None else round(datetime.fromisoformat(text).timestamp() * 1000)


def test_a_sql_question_gets_the_answer_the_json_gives(corpus: list[Path], tmp_path: Path) -> None:
    """The README's kind of query: points moved per event type, over the bench log."""
    log, out = corpus[3], tmp_path / "bench.parquet"
    assert invoke("show", "--format", "parquet", "-o", str(out), str(log)).exit_code == 0
    by_sql = dict(
        duckdb.sql(
            f"SELECT type, sum(points.delta) FROM '{out}' WHERE points.delta IS NOT NULL GROUP BY ALL"
        ).fetchall()
    )
    by_json: dict[str, int] = {}
    for r in records(log):
        if r["points"] and r["points"]["delta"] is not None:
            by_json[r["type"]] = by_json.get(r["type"], 0) + r["points"]["delta"]
    assert by_sql == by_json and len(by_json) > 5


def test_every_value_survives_the_round_trip(corpus: list[Path], tmp_path: Path) -> None:
    """Samples and the gzip log, with --raw: each row read back is the JSON record, its times
    as timestamps and its any-JSON values (`changes`, `payload`) as their JSON text."""
    from vevents_cli.output import parquet

    for log in (corpus[0], corpus[2]):
        out = tmp_path / "raw.parquet"
        invoke("show", "--format", "parquet", "--raw", "-o", str(out), str(log))
        table = pq.read_table(out)
        expected = ndjson(invoke("show", "--format", "json", "--raw", str(log)).stdout)
        assert table.schema == parquet.facts_schema(raw=True)[0]
        for got, want in zip(table.to_pylist(), expected, strict=True):
            assert got["created_at"] == (want["created_at"] and parquet._time(want["created_at"]))
            assert orjson.loads(got["payload"]) == want["payload"]
            assert [{**c, "old": orjson.loads(c["old"]), "new": orjson.loads(c["new"])} for c in got["changes"]] == (
                want["changes"]
            )
            assert dict(got["headers"] or []) == (want["headers"] or {})
            plain = {k: v for k, v in got.items() if k not in ("created_at", "payload", "changes", "headers")}
            assert plain == {k: want[k] for k in plain}


def test_values_off_the_schema_are_null_in_parquet_and_kept_in_json(tmp_path: Path) -> None:
    event = samples.sample("voucher.loyalty_card.points_added")
    event["created_at"] = "last Tuesday"
    event["data"]["voucher"]["loyalty_card"]["balance"] = 10.5
    log = tmp_path / "odd.ndjson"
    log.write_bytes(orjson.dumps(event) + b"\n")
    (record,) = records(log)
    assert record["created_at"] == "last Tuesday"
    out = tmp_path / "odd.parquet"
    assert invoke("show", "--format", "parquet", "-o", str(out), str(log)).exit_code == 0
    (row,) = pq.read_table(out).to_pylist()
    assert row["created_at"] is None
    assert row["points"]["balance"] == (None if record["points"]["balance"] == 10.5 else record["points"]["balance"])
    assert row["points"]["delta"] == record["points"]["delta"]


@pytest.mark.heavy
def test_a_folder_gets_part_files_of_row_groups(
    corpus: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vevents_cli.output import parquet

    monkeypatch.setattr(parquet, "ROW_GROUP", 256)
    monkeypatch.setattr(parquet, "PART_ROWS", 1024)
    log, out = corpus[3], tmp_path / "facts"
    result = invoke("show", "--format", "parquet", "-o", f"{out}/", str(log))
    assert result.exit_code == 0, result.output
    parts = sorted(p.name for p in out.iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet"]
    assert f"written to 2 part files in {out}" in result.stderr
    assert pq.ParquetFile(out / "part-00000.parquet").metadata.num_row_groups == 4
    expected = records(log)
    got = duckdb.sql(
        f"SELECT id, line FROM read_parquet('{out}/*.parquet', filename = true, file_row_number = true) "
        "ORDER BY filename, file_row_number"
    )
    assert got.fetchall() == [(r["id"], r["line"]) for r in expected]
    again = invoke("show", "--format", "parquet", "-o", str(out), str(log))
    assert again.exit_code == 2 and "already holds part files" in again.stderr


def test_an_empty_run_still_writes_a_typed_file(tmp_path: Path) -> None:
    out = tmp_path / "none.parquet"
    result = invoke("show", "--format", "parquet", "-o", str(out), "--allow-empty", "-", input=b"")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.field("line").type == pa.int64()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "vevents: --format parquet writes files, not to a terminal or a pipe: give -o FILE (or -o DIR/)\n"),
        (("-o", "x.parquet", "--table"), "--table and --format parquet contradict each other"),
        (("-o", "x.parquet", "--follow"), "--follow and --format parquet contradict each other"),
    ],
)
def test_parquet_needs_a_file(args: tuple[str, ...], message: str) -> None:
    result = run("show", "--format", "parquet", *args, str(SAMPLES / "voucher.published.json"))
    assert result.returncode == 2 and result.stdout == b""
    assert message in result.stderr.decode()
    if not args:
        assert result.stderr.decode() == message


def test_out_is_only_for_parquet(tmp_path: Path) -> None:
    result = invoke("show", "--format", "json", "-o", str(tmp_path / "x.parquet"), str(SAMPLES))
    assert result.exit_code == 2 and "--out and --format json contradict each other" in result.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_the_output_is_never_an_input(tmp_path: Path) -> None:
    log = tmp_path / "log.ndjson"
    log.write_bytes(orjson.dumps(samples.sample("voucher.published")) + b"\n")
    before = log.read_bytes()
    result = invoke("show", "--format", "parquet", "-o", str(log), str(log))
    assert result.exit_code == 2 and "never modifies its input" in result.stderr
    assert log.read_bytes() == before


def test_without_pyarrow_one_line_names_the_extra(tmp_path: Path) -> None:
    script = "import sys; sys.modules['pyarrow'] = None; from vevents_cli.cli import main; main()"
    child = subprocess.run(
        [sys.executable, "-c", script, "show", "--format", "parquet", "-o", str(tmp_path / "x.parquet"), str(SAMPLES)],
        capture_output=True,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert child.returncode == 2 and child.stdout == b""
    assert child.stderr.decode() == "vevents: --format parquet needs pyarrow: pip install 'vevents[arrow]'\n"
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_run_leaves_no_file(tmp_path: Path) -> None:
    """Reading stdin, the file is begun as a temporary beside the target; Ctrl-C: gone, no target."""
    out = tmp_path / "facts.parquet"
    proc = popen("show", "--format", "parquet", "-o", str(out), stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin and proc.stderr
    try:
        proc.stdin.write(orjson.dumps(samples.sample("voucher.published")) + b"\n")
        proc.stdin.flush()
        for _ in range(600):  # until the temporary file is there (a child reading stdin waits for more)
            if list(tmp_path.iterdir()):
                break
            proc.wait(timeout=0.1) if proc.poll() is not None else _pause()
        (begun,) = list(tmp_path.iterdir())
        assert begun.name.startswith(".facts.parquet.") and begun.name.endswith(".part")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
        proc.wait()
    assert list(tmp_path.iterdir()) == []


def _pause() -> None:
    import time

    time.sleep(0.05)


@pytest.mark.heavy
def test_the_dask_engine_writes_the_same_table(corpus: list[Path], tmp_path: Path) -> None:
    """`--engine dask` (a local cluster) gives the local run's Parquet table (starts a cluster: heavy)."""
    pytest.importorskip("distributed")
    local, dask = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    for log in (corpus[1], corpus[3]):
        assert run("show", "--format", "parquet", "-o", str(local), str(log)).returncode in (0, 1)
        assert run("show", "--engine", "dask", "--format", "parquet", "-o", str(dask), str(log)).returncode in (0, 1)
        assert pq.read_table(dask).equals(pq.read_table(local))
