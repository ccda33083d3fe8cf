"""`vevents ledger`: a day of several loyalty cards, built from the bundled samples of the
loyalty types (project and distribution dialects mixed, consistent balances), then broken
on purpose: one delivery removed, two swapped, one delivered twice."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import clean_env, command, invoke
from tests.helpers.terminal import read_pty
from vevents_cli import samples
from vevents_cli.pipeline import parallel
from vevents_cli.voucherify import catalogue

# What happens to a card, in turn: (type, change of the card balance, change of the pending points).
PLAN: tuple[tuple[str, int, int], ...] = (
    ("voucher.loyalty_card.points_added", 40, 0),
    ("customer.rewarded.loyalty_points", 120, 0),
    ("voucher.loyalty_card.pending_points.added", 0, 60),
    ("customer.voucher.loyalty_card.points_added", 25, 0),
    ("voucher.loyalty_card.transaction.created", 75, 0),
    ("customer.voucher.loyalty_card.pending_points.activated", 60, -60),
    ("customer.voucher.loyalty_card.points_expired", -30, 0),  # tells the change only, no balance
    ("customer.rewarded", -100, 0),
    ("voucher.loyalty_card.points_added", 15, 0),
)
START = datetime(2026, 3, 14, 8, 0, tzinfo=UTC)


def _set(data: dict[str, Any], paths: tuple[str, ...], value: int | None) -> None:
    """Put `value` where the catalogue's rule reads it: the first of its paths present in the
    sample (None: remove it from every one of them)."""
    for path in paths:
        keys = path.lstrip("-").split(".")
        parent = data
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None  # type: ignore[assignment]
        if not isinstance(parent, dict) or parent.get(keys[-1]) is None:
            continue
        if value is None:
            del parent[keys[-1]]
            continue
        parent[keys[-1]] = -value if path.startswith("-") else value
        return


def _time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _event(etype: str, dialect: str, card: int, n: int, when: datetime, facts: dict[str, int | None]) -> bytes:
    payload = deepcopy(samples.sample(etype, dialect))
    data = payload["data"]
    rule = catalogue.CATALOGUE[etype].points
    assert rule is not None
    for name, paths in (
        ("delta", rule.delta),
        ("balance", rule.balance),
        ("pending", rule.pending),
        ("pending_balance", rule.pending_balance),
    ):
        if facts[name] is not None or name == "balance":
            _set(data, paths, facts[name])
    stamp = _time(when)
    data["voucher"].update(id=f"v_card{card:04d}", code=f"CARD-{card:04d}", holder_id=f"cust_{card:04d}")
    for holder in (data.get(key) for key in catalogue.CUSTOMER_FROM):
        if isinstance(holder, dict):
            holder.update(id=f"cust_{card:04d}", source_id=f"holder-{card}", email=f"holder{card}@example.test")
    if isinstance(data.get("transaction"), dict):
        data["transaction"].update(id=f"vtx_{card:04d}_{n:05d}", created_at=stamp)
    payload.update(id=f"whs_{card:04d}_{n:05d}", created_at=stamp)
    payload["event"].update(id=f"evcus_{card:04d}_{n:05d}", created_at=stamp)
    return orjson.dumps(payload)


def day(cards: int, rounds: int = 1, every: int = 1) -> list[tuple[int, bytes, str]]:
    """A day of `cards` cards, each through PLAN `rounds` times: (card, line, created_at) in
    created order. Only every `every`-th event tells the balance after it."""
    out = []
    for card in range(cards):
        balance, pending = 1000 + 10 * card, 0
        for n in range(rounds * len(PLAN)):
            etype, delta, moved = PLAN[n % len(PLAN)]
            balance, pending = balance + delta, pending + moved
            told = etype.endswith("points_expired") or n % every
            facts = {
                "delta": delta if delta else None,
                "balance": None if told else balance,
                "pending": moved if moved else None,
                "pending_balance": pending if moved else None,
            }
            when = START + timedelta(minutes=n * 7, seconds=card * 13)
            dialect = ("v2024", "distribution")[(n + card) % 2]
            out.append((card, _event(etype, dialect, card, n, when, facts), _time(when)))
    out.sort(key=lambda e: e[2])
    return out


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _ledger(*args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("ledger", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def _where(events: list[tuple[int, bytes, str]], card: int, n: int) -> int:
    """The index in the log of card's n-th event."""
    return [i for i, e in enumerate(events) if e[0] == card][n]


def _broken(events: list[tuple[int, bytes, str]]) -> tuple[list[bytes], dict[str, Any]]:
    """The log with card 0's second event removed, card 1's 4th and 5th swapped, card 2's 6th
    delivered again at the end; what the ledger must say, by line number in the log."""
    lines = [e[1] for e in events]
    removed = _where(events, 0, 1)
    before, after = _where(events, 0, 0), _where(events, 0, 2)
    a, b = _where(events, 1, 3), _where(events, 1, 4)
    again = _where(events, 2, 5)
    lines[a], lines[b] = lines[b], lines[a]
    lines.append(lines[again])
    del lines[removed]

    def line(i: int) -> int:
        return i + 1 - (i > removed)

    expected = {
        "missing": (PLAN[1][1], events[before][2], events[after][2], (line(before), line(after))),
        "reordered": (PLAN[3][1], events[a][2], events[b][2], (line(b), line(a))),
        "duplicate": (PLAN[5][1], events[again][2], events[again][2], (line(again), len(lines))),
    }
    return lines, expected


def _breaks(doc: dict[str, Any], path: Path) -> dict[str, tuple[Any, ...]]:
    found = {}
    for card in doc["cards"]:
        for b in card["breaks"]:
            assert b["kind"] not in found, b
            lines = tuple(int(loc.removeprefix(f"{path}:")) for loc in b["locators"])
            found[b["kind"]] = (b["amount"], b["after"], b["before"], lines)
    return found


def test_intact_day_reconciles_without_breaks(tmp_path: Path) -> None:
    events = day(4)
    path = _write(tmp_path / "day.ndjson", [e[1] for e in events])
    status, doc = _ledger(str(path))
    assert status == 0
    assert doc["summary"]["breaks"] == {"missing": 0, "reordered": 0, "duplicate": 0}
    assert doc["summary"]["cards"] == 4 and doc["summary"]["events"] == len(events)
    first = doc["cards"][0]
    assert first["voucher"] == {"id": "v_card0000", "code": "CARD-0000"}
    assert first["customer"]["id"] == "cust_0000"
    assert first["events"] == len(PLAN)
    assert first["balance"] == {"first": 1040, "last": 1000 + sum(delta for _, delta, _ in PLAN)}
    assert first["net"] == sum(delta for _, delta, _ in PLAN) and first["pending"] == 0
    assert {"trend", "timeline"}.isdisjoint(first)


def test_broken_day_finds_one_missing_one_reordered_one_duplicate(tmp_path: Path) -> None:
    events = day(4)
    lines, expected = _broken(events)
    path = _write(tmp_path / "day.ndjson", lines)
    status, doc = _ledger(str(path))
    assert status == 1
    assert doc["summary"]["breaks"] == {"missing": 1, "reordered": 1, "duplicate": 1}
    assert _breaks(doc, path) == expected


def test_balance_told_by_some_events_only_adds_up(tmp_path: Path) -> None:
    """Every other event of the card carries only the change (its balance removed)."""
    path = _write(tmp_path / "part.ndjson", [e[1] for e in day(1, rounds=2, every=2)])
    status, doc = _ledger("--card", "CARD-0000", str(path))
    assert status == 0, doc
    card = doc["cards"][0]
    told = [step["balance"] for step in card["timeline"]]
    assert told.count(None) >= len(told) // 2 and len(set(told)) > 3
    assert card["break_counts"] == {"missing": 0, "reordered": 0, "duplicate": 0}
    assert card["balance"]["last"] == 1000 + 2 * sum(delta for _, delta, _ in PLAN)
    assert [step["running"] for step in card["timeline"]][-1] == card["balance"]["last"]


def test_project_and_distribution_copies_count_once(tmp_path: Path) -> None:
    events = day(1)
    lines = []
    for _, line, _ in events:
        payload = orjson.loads(line)
        lines.append(line)
        dialect = "v2024" if payload["source"]["object"] == "distribution" else "distribution"
        other = samples.sample(payload["event"]["type"], dialect)
        payload["source"] = other["source"]
        payload["type"] = other["type"]
        lines.append(orjson.dumps(payload))  # the same change, the other dialect's copy
    path = _write(tmp_path / "copies.ndjson", lines)
    status, doc = _ledger(str(path))
    assert status == 0
    assert doc["summary"]["events"] == len(events) and doc["summary"]["copies"] == len(events)
    assert doc["summary"]["breaks"] == {"missing": 0, "reordered": 0, "duplicate": 0}


def test_reward_redemption_steps_report_one_change(tmp_path: Path) -> None:
    """created, pending and completed of one reward redemption: the points are spent once."""
    lines = [e[1] for e in day(1)]
    for step in ("created", "pending", "completed"):
        payload = deepcopy(samples.sample(f"customer.reward_redemptions.{step}"))
        data = payload["data"]
        data["voucher"].update(id="v_card0000", code="CARD-0000")
        data["reward_redemption"]["id"] = "rrd_0000_1"
        data["reward_assignment"]["parameters"]["loyalty"]["points"] = 200
        data["voucher"]["loyalty_card"]["balance"] = 1005
        stamp = f"2026-03-14T09:0{len(lines) % 10}:00.000Z"
        payload.update(id=f"whs_rrd_{step}", created_at=stamp)
        payload["event"].update(id=f"evcus_rrd_{step}", created_at=stamp)
        lines.append(orjson.dumps(payload))
    path = _write(tmp_path / "rewards.ndjson", lines)
    status, doc = _ledger(str(path))
    assert status == 0, doc
    card = doc["cards"][0]
    assert card["copies"] == 2 and card["balance"]["last"] == 1005
    assert card["break_counts"] == {"missing": 0, "reordered": 0, "duplicate": 0}


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 64 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_large_log_split_in_chunks_finds_the_same_breaks(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    events = day(12, rounds=3)
    lines, expected = _broken(events)
    path = _write(tmp_path / "large.ndjson", lines)
    assert len(list(parallel.chunks(path))) > 10
    monkeypatch.setenv("VEVENTS_JOBS", jobs)
    chunked = invoke("ledger", "--format", "json", str(path))
    text = invoke("ledger", str(path))
    monkeypatch.setattr(parallel, "MIN_SIZE", 1 << 40)  # the same log, never split
    serial = invoke("ledger", "--format", "json", str(path))
    serial_text = invoke("ledger", str(path))
    assert chunked.stdout == serial.stdout and text.stdout == serial_text.stdout
    assert chunked.exit_code == serial.exit_code == 1
    assert _breaks(json.loads(chunked.stdout), path) == expected


def test_text_explains_each_break(tmp_path: Path) -> None:
    lines, expected = _broken(day(3))
    path = _write(tmp_path / "day.ndjson", lines)
    result = invoke("ledger", str(path))
    assert result.exit_code == 1
    out = result.stdout
    amount, after, before, _ = expected["missing"]
    assert f"CARD-0000: missing delivery: +{amount} points between {after[11:19]} and {before[11:19]}" in out
    assert "arrived in no event" in out
    assert "CARD-0001: reordered:" in out and "CARD-0002: duplicate:" in out
    assert "▁" not in out  # no sparkline in a pipe
    assert "holder0@example.test" in out


def test_card_timeline_marks_breaks_in_place(tmp_path: Path) -> None:
    lines, _ = _broken(day(3))
    path = _write(tmp_path / "day.ndjson", lines)
    result = invoke("ledger", "--card", "CARD-0000", str(path))
    assert result.exit_code == 1
    rows = result.stdout.splitlines()
    mark = next(i for i, row in enumerate(rows) if "missing delivery" in row)
    assert "voucher.loyalty_card.points_added" in "".join(rows[mark - 2 : mark])
    assert "customer.rewarded.loyalty_points" not in result.stdout  # the removed one
    assert "CARD-0001" not in result.stdout
    doc = json.loads(invoke("ledger", "--format", "json", "--customer", "cust_0001", str(path)).stdout)
    assert [c["voucher"]["code"] for c in doc["cards"]] == ["CARD-0001"]
    timeline = doc["cards"][0]["timeline"]
    assert [s["running"] for s in timeline][-1] == doc["cards"][0]["balance"]["last"]
    assert [s["created_at"] for s in timeline] == sorted(s["created_at"] for s in timeline)


def test_since_filter_starts_each_card_later(tmp_path: Path) -> None:
    path = _write(tmp_path / "day.ndjson", [e[1] for e in day(2)])
    status, doc = _ledger("--since", "2026-03-14T08:30:00Z", str(path))
    assert status == 0 and doc["summary"]["filtered"] > 0
    assert all(c["first"] >= "2026-03-14T08:30" for c in doc["cards"])
    assert doc["summary"]["breaks"]["missing"] == 0


def test_sparkline_on_a_terminal(tmp_path: Path) -> None:
    path = _write(tmp_path / "day.ndjson", [e[1] for e in day(2)])
    leader, follower = pty.openpty()
    env = clean_env({"COLUMNS": "120", "LINES": "40"})
    with subprocess.Popen(command("ledger", str(path)), stdout=follower, stderr=follower, env=env) as proc:
        os.close(follower)
        out = read_pty(leader).decode()
        assert proc.wait() == 0
    assert any(bar in out for bar in "▁▂▃▄▅▆▇█")
    assert "CARD-0000" in out and "trend" in out
