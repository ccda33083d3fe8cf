"""`stats` as a map-reduce (issue 22) and exact point sums (issue 18 item 9).

A large log is aggregated chunk by chunk in the workers (`stats.Partial`) and the partials
are merged in the parent: the document must be a serial run's, byte for byte, with
retries (the same delivery again) across the cuts counted once and reported with every
place they were seen. Point sums are exact: integers of any size, and sums beyond the
float range, are shown as exact integers (never `null` or `inf`).
"""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.cli.test_parallel_output import small_chunks  # noqa: F401 (a fixture: chunks of 64 KiB from 1 KiB on)
from tests.helpers import invoke, run, write_ndjson
from vevents_cli import samples, stats
from vevents_cli.pipeline import parallel
from vevents_cli.pipeline.config import RunConfig
from vevents_cli.pipeline.runner import run as pipeline_run

START = datetime(2026, 3, 14, 9, tzinfo=UTC)
ADA_ID = "cust_ada0lovelace001"
TYPES = (
    "voucher.loyalty_card.points_added",
    "customer.rewarded",
    "redemption.failed",
    "redemption.succeeded",
    "voucher.published",
    "customer.voucher.gift.balance_added",
)


def at(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def event(etype: str, seconds: int, **customer: Any) -> dict[str, Any]:
    """The bundled sample of `etype` with its own time (hence its own delivery ids)."""
    data = copy.deepcopy(samples.sample(etype)["data"])
    if customer:
        data["customer"] = {**data.get("customer", {}), **customer}
    return samples.wrap(data, etype, "v2024", created_at=at(seconds))


def points_added(seconds: int, points: int | float, customer: str = ADA_ID) -> dict[str, Any]:
    payload = event("voucher.loyalty_card.points_added", seconds, id=customer, source_id=customer)
    payload["data"]["balance"]["points"] = points
    return payload


@pytest.fixture
def retried(tmp_path: Path) -> Path:
    """300 events: every 7th a retry of the event 5 before it (often across a cut), the first
    one delivered again in the middle and at the end, every 11th earlier than the one before
    it, the same redemption failing under many deliveries, customers named only later."""
    payloads: list[dict[str, Any]] = []
    for i in range(300):
        if i % 7 == 6:
            payloads.append(payloads[-5])
            continue
        seconds = 60 * i - (90 if i % 11 == 10 else 0)
        if i % 13 == 0:  # a customer whose email and name come with a later event
            payloads.append(event("customer.rewarded", seconds, id=f"cust_{i % 3}", email=None, name=None))
            continue
        payloads.append(event(TYPES[i % len(TYPES)], seconds))
    payloads[150] = payloads[0]
    payloads.append(payloads[0])
    return write_ndjson(tmp_path / "retried.ndjson", payloads)


def chunk_of(path: Path, line: int) -> int:
    """Which chunk of `path` (as the parallel run cuts it) holds `line`."""
    starts = [first for _, _, first in parallel.chunks(path)]
    return sum(1 for first in starts if first <= line) - 1


def line_of(locator: str) -> int:
    return int(locator.rsplit(":", 1)[1])


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("fmt", [("--format", "json", "--all"), ("--top", "5")], ids=["json", "text"])
def test_chunked_stats_are_the_serial_run_byte_for_byte(
    retried: Path, monkeypatch: pytest.MonkeyPatch, fmt: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    serial = invoke("stats", *fmt, str(retried))
    assert serial.exit_code == 0 and len(list(parallel.chunks(retried))) > 10
    for jobs in ("2", "3"):
        monkeypatch.setenv("VEVENTS_JOBS", jobs)
        chunked = invoke("stats", *fmt, str(retried))
        assert (chunked.stdout, chunked.stderr, chunked.exit_code) == (serial.stdout, serial.stderr, 0), jobs


@pytest.mark.usefixtures("small_chunks")
def test_a_retry_across_a_cut_is_found_and_counted_once(retried: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEVENTS_JOBS", "2")
    doc = orjson.loads(invoke("stats", "--all", "--format", "json", str(retried)).stdout)
    rows = doc["duplicates"]["rows"]
    assert doc["duplicates"]["total"] == 300 // 7 + 1
    first = rows[0]  # the first event, seen three times, chunks apart
    assert first["count"] == 3
    assert [line_of(x) for x in first["locators"]] == [1, 151, 301]
    assert len({chunk_of(retried, line_of(x)) for x in first["locators"]}) == 3
    across = [r for r in rows if len({chunk_of(retried, line_of(x)) for x in r["locators"]}) > 1]
    assert len(across) >= 3  # retries 5 lines apart straddle cuts of ~25 lines
    # Each delivery's points once: the sum over the distinct deliveries, computed here.
    distinct = {}
    for line in retried.read_bytes().splitlines():
        payload = orjson.loads(line)
        distinct[payload["id"]] = payload
    ada = next(r for r in doc["customers"]["rows"] if r["id"] == ADA_ID)
    expected = sum(
        p["data"]["balance"]["points"]
        for p in distinct.values()
        if p["type"] == "voucher.loyalty_card.points_added" and p["data"]["customer"]["id"] == ADA_ID
    )
    assert ada["points"] - expected == sum(
        -300 for p in distinct.values() if p["type"] == "customer.rewarded" and p["data"]["customer"]["id"] == ADA_ID
    )
    assert doc["redemptions"]["failed"] == 1  # one redemption, failing under many deliveries
    assert sum(r["failed_redemptions"] for r in doc["timeline"]["rows"]) == 1
    assert doc["out_of_order"]["total"] > 0


def test_partials_merged_in_order_are_the_whole_aggregate_wherever_the_cuts_fall(retried: Path) -> None:
    """`stats.Partial`, as `--engine dask` uses it: partials of consecutive parts, merged left
    to right, give the document of one pass, for cuts anywhere (between a retry and its
    original, inside a run of out-of-order events)."""
    run = pipeline_run(RunConfig(inputs=(str(retried),), jobs=1, exact_numbers=True), stats.row)
    rows = [r for r in run if isinstance(r, stats.Row)]
    whole = stats.Partial.of(rows).document(run.tally, None)
    for cuts in ([1], [3, 150, 151], list(range(4, len(rows), 9)), list(range(1, len(rows)))):
        bounds = [0, *cuts, len(rows)]
        merged = stats.Partial()
        for a, b in itertools.pairwise(bounds):
            merged.merge(stats.Partial.of(rows[a:b], keep_rows=True))
        assert orjson.dumps(merged.document(run.tally, None)) == orjson.dumps(whole), cuts


@pytest.mark.usefixtures("small_chunks")
def test_point_sums_beyond_64_bits_and_beyond_the_float_range_are_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big, huge = 10**20 + 1, 1e308  # beyond 64 bits (no float holds it); near the float range's end
    payloads = [points_added(i, big) for i in range(3)]
    payloads += [points_added(10 + i, 2**63 - 1, customer="cust_max") for i in range(3)]
    payloads += [points_added(20 + i, huge, customer="cust_huge") for i in range(2)]
    payloads += [points_added(30, -huge, customer="cust_low"), points_added(31, -huge, customer="cust_low")]
    payloads += [points_added(40 + i, -(2**63) - 1, customer="cust_neg") for i in range(2)]  # 19 digits, past i64
    payloads += [event("voucher.published", 100 + i) for i in range(60)]  # several chunks
    log = tmp_path / "points.ndjson"
    log.write_text("".join(json.dumps(p) + "\n" for p in payloads))  # orjson writes 64 bits at most
    for jobs in ("1", "2"):
        monkeypatch.setenv("VEVENTS_JOBS", jobs)
        result = invoke("stats", "--all", "--format", "json", str(log))
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)  # orjson reads no integer beyond the float range
        points = {r["id"]: r["points"] for r in doc["customers"]["rows"]}
        assert points == {
            ADA_ID: 3 * big,
            "cust_max": 3 * (2**63 - 1),
            "cust_huge": 2 * int(huge),
            "cust_low": -2 * int(huge),
            "cust_neg": -2 * (2**63 + 1),
        }
        assert all(type(v) is int for v in points.values())
        issued = {r["id"]: r["points_issued"] for r in doc["campaigns"]["rows"]}
        assert issued["camp_stardust0rewards"] == 3 * big + 3 * (2**63 - 1) + 2 * int(huge)
        text = invoke("stats", "--all", str(log))
        assert "inf" not in text.stdout and f"+{3 * big:,}" in text.stdout


def test_bare_data_with_points_beyond_64_bits_is_summed_exactly_as_the_type_given(tmp_path: Path) -> None:
    """An event read again exactly (its points were rounded by the first read) is recognised as
    the run recognised it: a bare `data` object, typed by `--as`."""
    big = 10**20 + 1
    log = tmp_path / "bare.ndjson"
    log.write_text("".join(json.dumps(points_added(i, big)["data"]) + "\n" for i in range(2)))
    result = invoke("stats", "--as", "voucher.loyalty_card.points_added", "--all", "--format", "json", str(log))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {r["id"]: r["points"] for r in doc["customers"]["rows"]} == {ADA_ID: 2 * big}


def test_fractional_points_are_summed_exactly(tmp_path: Path) -> None:
    payloads = [points_added(i, 0.1) for i in range(10)]
    doc = orjson.loads(invoke("stats", "--format", "json", str(write_ndjson(tmp_path / "l.ndjson", payloads))).stdout)
    assert doc["customers"]["rows"][0]["points"] == 1.0  # 0.1 added ten times in floats: 0.9999999999999999


@pytest.mark.heavy  # a 20 MiB log, four runs through worker processes
def test_a_retry_in_two_chunks_of_a_real_size_log_is_one_delivery(tmp_path: Path) -> None:
    first = event("customer.rewarded", 0)
    payloads = [first]
    for i in range(1, 9000):
        payloads.append(event(TYPES[i % len(TYPES)], i))
        if i == 8000:
            payloads.append(first)
    log = write_ndjson(tmp_path / "big.ndjson", payloads)
    assert log.stat().st_size > parallel.MIN_SIZE
    outputs = {}
    for jobs in ("1", "2", "3"):
        result = run("stats", "--all", "--format", "json", str(log), env={"VEVENTS_JOBS": jobs})
        assert result.returncode == 0, result.stderr
        outputs[jobs] = result.stdout
    assert outputs["1"] == outputs["2"] == outputs["3"]
    doc = orjson.loads(outputs["2"])
    assert doc["duplicates"]["rows"] == [
        {"delivery_id": first["event"]["id"], "count": 2, "locators": [f"{log}:1", f"{log}:8002"]}
    ]
    text = [run("stats", "--all", str(log), env={"VEVENTS_JOBS": jobs}).stdout for jobs in ("1", "3")]
    assert text[0] == text[1]


def test_delivery_digests_hold_every_id_with_where_it_was_first_seen() -> None:
    """`stats.Digests`, the compact table behind duplicate detection: ids in, each found again
    with its first locator (packed, or kept as text when it does not pack), others not found."""
    table = stats.Digests()
    ids = [f"evcus_{i:018x}" for i in range(5000)]
    table.put_all([(d, f"log-{i % 3}.ndjson", i + 1, None) for i, d in enumerate(ids)])
    table.put_all([("whs_far", "x.json", 2**41, None), ("whs_in_array", "a.json", 1, 9000)])
    for i, d in enumerate(ids):
        assert table.first(*stats.Digests.key(d)) == f"log-{i % 3}.ndjson:{i + 1}"
    assert table.first(*stats.Digests.key("whs_far")) == f"x.json:{2**41}"
    assert table.first(*stats.Digests.key("whs_in_array")) == "a.json:1[9000]"
    assert table.first(*stats.Digests.key("evcus_other")) is None
    assert len(table.slots) * 8 <= 32 * 8192  # 24 bytes a slot, at most 3/4 full: no object per id
    merged = stats.Digests()
    merged.put_all([("whs_mine", "y.ndjson", 7, None)])
    assert not merged.seen_any(table)
    merged.update(table)
    assert merged.first(*stats.Digests.key(ids[4999])) == "log-1.ndjson:5000"
    assert merged.first(*stats.Digests.key("whs_mine")) == "y.ndjson:7" and merged.seen_any(table)
