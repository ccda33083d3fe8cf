"""Facts that mean what they say: pending points apart, points never shown as money, legacy
changes with their new values, on the bundled samples and the vendor's own examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import invoke, ndjson, needs_vendor, vendor_examples, write_ndjson
from vevents_cli import samples

PENDING = ("added", "updated", "canceled")


def shown(tmp_path: Path, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = invoke("show", "--format", "json", str(write_ndjson(tmp_path / "log.ndjson", events)))
    assert result.exit_code == 0, result.output
    return ndjson(result.stdout)


def stats(tmp_path: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    result = invoke("stats", "--format", "json", str(write_ndjson(tmp_path / "log.ndjson", events)))
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


@pytest.mark.parametrize("prefix", ["", "customer."])
def test_pending_points_are_never_a_delta(tmp_path: Path, prefix: str) -> None:
    events = [samples.sample(f"{prefix}voucher.loyalty_card.pending_points.{what}") for what in PENDING]
    for what, event in zip(PENDING, shown(tmp_path, events), strict=True):
        points = event["points"]
        assert list(points) == ["delta", "balance", "pending", "transaction_type", "reason"]
        assert points["delta"] is None, what
        assert points["pending"] == (-60 if what == "canceled" else 60), what
        assert points["balance"] == 1240  # the card's balance, untouched by pending points


def test_the_canceled_sample_shows_pending_points_leaving(tmp_path: Path) -> None:
    result = invoke("show", input=orjson.dumps(samples.sample("voucher.loyalty_card.pending_points.canceled")))
    assert "-60 pending points · balance 1,240" in result.stdout
    assert "+60 points" not in result.stdout


def test_activation_moves_pending_points_into_the_balance(tmp_path: Path) -> None:
    (event,) = shown(tmp_path, [samples.sample("voucher.loyalty_card.pending_points.activated")])
    assert event["points"]["delta"] == 60 and event["points"]["pending"] == -60
    assert event["points"]["balance"] == 1300
    panel = invoke("show", input=orjson.dumps(samples.sample("voucher.loyalty_card.pending_points.activated")))
    assert "+60 points · balance 1,240 -> 1,300 · pending -60" in panel.stdout


def test_stats_totals_pending_points_apart(tmp_path: Path) -> None:
    """+60 pending, then those 60 activated: +60 points (not +120), nothing left pending."""
    doc = stats(
        tmp_path,
        [
            samples.sample("customer.voucher.loyalty_card.pending_points.added"),
            samples.sample("customer.voucher.loyalty_card.pending_points.activated"),
        ],
    )
    (customer,) = doc["customers"]["rows"]
    assert (customer["points"], customer["pending"]) == (60, 0)
    (campaign,) = doc["campaigns"]["rows"]
    assert (campaign["points_issued"], campaign["points_spent"], campaign["pending"]) == (60, 0, 0)
    table = invoke(
        "stats",
        str(
            write_ndjson(
                tmp_path / "log.ndjson", [samples.sample("customer.voucher.loyalty_card.pending_points.added")]
            )
        ),
    )
    assert "Δpending" in table.stdout


@needs_vendor
def test_stats_on_the_vendors_pending_examples(tmp_path: Path) -> None:
    """The issue's case: +1 pending, then 5 activated: +5 points, not +6; pending 1 - 5."""
    examples = dict(vendor_examples())
    events = [
        samples.wrap(
            examples[f"customer.voucher.loyalty_card.pending_points.{what}"],
            f"customer.voucher.loyalty_card.pending_points.{what}",
            "v2024",
            created_at=f"2026-03-14T09:0{n}:00.000Z",
        )
        for n, what in enumerate(("added", "activated"))
    ]
    (customer,) = stats(tmp_path, events)["customers"]["rows"]
    assert (customer["points"], customer["pending"]) == (5, 1 - 5)
    canceled = "customer.voucher.loyalty_card.pending_points.canceled"
    (event,) = shown(tmp_path, [samples.wrap(examples[canceled], canceled, "v2024")])
    assert (event["points"]["delta"], event["points"]["pending"]) == (None, -1)


def test_points_spent_on_a_reward_are_not_money(tmp_path: Path) -> None:
    result = invoke("show", input=orjson.dumps(samples.sample("customer.rewarded")))
    assert "SUCCESS · 300 points" in result.stdout
    assert "300 (3.00)" not in result.stdout
    assert "-300 points" in result.stdout
    money = invoke("show", input=orjson.dumps(samples.sample("redemption.succeeded")))
    assert "1,500 (15.00)" in money.stdout and "12,900 (129.00)" in money.stdout
    (event,) = shown(tmp_path, [samples.sample("customer.rewarded")])
    assert event["redemption"] == {"id": event["redemption"]["id"], "result": "SUCCESS", "amount": 300}


@needs_vendor
def test_the_vendors_customer_rewarded_shows_points(tmp_path: Path) -> None:
    data = dict(vendor_examples())["customer.rewarded"]
    result = invoke("show", input=orjson.dumps(samples.wrap(data, "customer.rewarded", "v2024")))
    assert f"{data['redemption']['amount']} points" in result.stdout
    assert f"{data['redemption']['amount']} (0." not in result.stdout


def test_a_legacy_change_line_shows_the_new_value(tmp_path: Path) -> None:
    """A legacy customer.updated whose data.object carries the customer under its name."""
    legacy = samples.sample("customer.updated", "legacy")
    customer = legacy["data"]["object"]["customer"]
    legacy["data"]["previous_attributes"] = {"email": "old@example.test", "name": "Ada King"}
    result = invoke("show", input=orjson.dumps(legacy))
    assert result.exit_code == 0
    assert f"email: old@example.test -> {customer['email']}" in result.stdout
    assert f"name: Ada King -> {customer['name']}" in result.stdout
    assert "-> null" not in result.stdout


@pytest.mark.parametrize("wrong", [["LOYALTY_CARD"], {"type": "LOYALTY_CARD"}, 7, None])
def test_a_redeemed_voucher_type_of_any_json_kind_is_shown(tmp_path: Path, wrong: Any) -> None:
    """Found by tests/tools/fuzz.py: a voucher `type` that is not a string (a list) was looked up
    in a set of loyalty voucher types, and `show` stopped with an internal error."""
    payload = samples.sample("customer.rewarded")
    payload["data"]["voucher"] = {**payload["data"]["voucher"], "type": wrong}
    log = write_ndjson(tmp_path / "log.ndjson", [payload])
    for args in (("show",), ("show", "--table"), ("show", "--format", "json"), ("stats",)):
        result = invoke(*args, str(log))
        assert result.exit_code == 0, (args, result.output[-500:])
        assert "internal error" not in result.output


# --- the panel and the JSON record carry the same facts ----------------------------------------

PANEL_KEYS = {  # a panel row's label -> the JSON record's member holding the same fact
    "customer": "customer",
    "voucher": "voucher",
    "campaign": "campaign",
    "points": "points",
    "gift credits": "gift",
    "order": "order",
    "redemption": "redemption",
    "reward": "reward",
    "issued voucher": "issued_voucher",
    "loyalty tier": "tier",
    "segment": "segment",
    "changed": "changes",
}
NOT_FACTS = ("event", "validity", "warning", "note")
FORMATTED = re.compile(r"[-+]?[\d,.]+\b|balance |pending |gift balance ")  # numbers as the panel writes them


def _leaves(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*map(_leaves, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_leaves, value)) if value else set()
    return {str(value)} if value is not None else set()


def _panel_rows(text: str) -> list[list[tuple[str, str]]]:
    """Each panel's (label, value) rows, continuation lines joined to their row."""
    panels: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if line.startswith("╭"):
            panels.append([])
        elif line.startswith("│"):
            inner = line.strip("│ ").rstrip()
            label, _, value = inner.partition("  ")
            if line[2] != " ":
                panels[-1].append((label.strip(), value.strip()))
            else:
                last_label, last_value = panels[-1][-1]
                panels[-1][-1] = (last_label, f"{last_value} {inner.strip()}")
    return panels


def every_sample() -> list[dict[str, Any]]:
    from vevents_cli.voucherify import catalogue, dialects

    events = [
        samples.sample(entry.name, dialect)
        for entry in catalogue.CATALOGUE.values()
        for dialect in dialects.for_type(entry)
        if dialect != "bare" and samples.sample_path(entry.name) is not None
    ]
    return events + [payload for _, payload in vendor_examples()]


def test_every_fact_of_the_panel_is_in_the_json_record(tmp_path: Path) -> None:
    """For every sample in every dialect (and the vendor's examples): each panel row has its
    member in the `show --format json` record, and each name, code, id or type the row shows
    is a value of that member."""
    payloads = every_sample()  # (the vendor's examples only where ../shared is)
    log = write_ndjson(tmp_path / "all.ndjson", payloads)
    text = invoke("show", str(log), env={"COLUMNS": "400"}).stdout
    records = ndjson(invoke("show", "--format", "json", str(log)).stdout)
    panels = _panel_rows(text)
    assert len(panels) == len(records) == len(payloads) > 200
    seen = set()
    for rows, record in zip(panels, records, strict=True):
        for label, value in rows:
            if label in NOT_FACTS:
                continue
            key = PANEL_KEYS[label]  # a panel label with no JSON member fails here
            seen.add(key)
            assert record[key] not in (None, [], {}), (record["type"], label)
            leaves = _leaves(record[key])
            words = value.split(" -> ") if key == "tier" else value.split(" · ")
            words = [w for w in words if w and w != "—" and not FORMATTED.match(w)]
            if key != "changes":
                for word in words:
                    assert word in leaves, (record["type"], record["dialect"], label, word, leaves)
    assert {"reward", "issued_voucher", "voucher", "points", "customer"} <= seen
