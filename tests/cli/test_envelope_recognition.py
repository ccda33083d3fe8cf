"""Recognition of what people really feed vevents: hand-written minimal envelopes, and files
concatenated with `cat` (compact values with no newline between, a compact file then a
pretty one)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke, ndjson
from vevents_cli import samples

MINIMAL_KEYS = ("id", "project_id", "created_at")


def minimal(etype: str, *keys: str) -> dict:
    """A v2024 event as people write fixtures by hand: no `source`, no `event`."""
    event = samples.sample(etype)
    return {**{k: event[k] for k in keys}, "type": event["type"], "data": event["data"]}


@pytest.mark.parametrize("keys", [MINIMAL_KEYS, ("id",), ("created_at",), ("project_id", "created_at")])
def test_a_minimal_envelope_is_read_as_v2024(keys: tuple[str, ...]) -> None:
    payload = minimal("voucher.published", *keys)
    (event,) = ndjson(invoke("show", "--format", "json", input=orjson.dumps(payload)).stdout)
    assert (event["dialect"], event["type"]) == ("v2024", "voucher.published")
    assert event["voucher"]["code"] == payload["data"]["voucher"]["code"]
    result = invoke("validate", input=orjson.dumps(payload))
    assert result.exit_code == 1
    errors = result.stdout.splitlines()[:-1]
    missing = {"/source", "/event"} | {f"/{k}" for k in MINIMAL_KEYS if k not in keys}
    assert {line.split(" ")[2].rstrip(":") for line in errors} == missing, errors
    assert all(line.endswith("required member is missing") for line in errors)
    assert "cannot tell the event type" not in result.output


def test_a_bare_payload_is_still_bare() -> None:
    bare = samples.sample("voucher.published", "bare")
    (event,) = ndjson(invoke("show", "--format", "json", input=orjson.dumps(bare)).stdout)
    assert event["dialect"] == "bare"


FIXTURE_TYPES = ("campaign.updated", "voucher.published", "customer.rewarded.loyalty_points")


@pytest.mark.parametrize("etype", FIXTURE_TYPES)
def test_a_fixture_of_type_and_data_is_an_envelope_of_that_type(etype: str) -> None:
    """`{"type": ..., "data": {...}}` as third-party test suites write them: the type is seen by
    facts, filters and stats, and validate names the envelope members it lacks."""
    payload = minimal(etype)
    (event,) = ndjson(invoke("show", "--format", "json", input=orjson.dumps(payload)).stdout)
    assert (event["dialect"], event["type"]) == ("v2024", etype)
    family = etype.split(".")[0]
    kept = ndjson(invoke("show", "--format", "json", "--type", f"{family}.*", input=orjson.dumps(payload)).stdout)
    assert len(kept) == 1
    stats = orjson.loads(invoke("stats", "--format", "json", input=orjson.dumps(payload)).stdout)
    assert etype in orjson.dumps(stats).decode()
    assert "unknown" not in orjson.dumps(stats.get("types", stats)).decode()
    result = invoke("validate", input=orjson.dumps(payload))
    assert result.exit_code == 1
    pointers = {line.split(" ")[2].rstrip(":") for line in result.stdout.splitlines()[:-1]}
    assert pointers == {"/id", "/project_id", "/created_at", "/source", "/event"}


def test_a_fixture_filtered_by_its_campaign() -> None:
    payload = minimal("campaign.updated")
    campaign = payload["data"]["campaign"]["name"]
    kept = ndjson(invoke("show", "--format", "json", "--campaign", campaign, input=orjson.dumps(payload)).stdout)
    assert [e["campaign"]["name"] for e in kept] == [campaign]


def test_a_type_alone_is_an_envelope_missing_its_members() -> None:
    result = invoke("validate", input=b'{"type": "campaign.updated"}')
    lines = result.stdout.splitlines()[:-1]
    assert all(" campaign.updated " in line for line in lines)
    assert {line.split(" ")[2].rstrip(":") for line in lines} == {
        "/id",
        "/project_id",
        "/created_at",
        "/data",
        "/source",
        "/event",
    }
    assert all(line.endswith("required member is missing") for line in lines), lines


def test_as_type_on_an_envelope_names_the_type_and_keeps_the_envelope() -> None:
    payload = {**minimal("campaign.updated"), "type": "my_fixture"}
    (event,) = ndjson(
        invoke("show", "--format", "json", "--as", "campaign.updated", input=orjson.dumps(payload)).stdout
    )
    assert (event["dialect"], event["type"]) == ("v2024", "campaign.updated")
    assert event["campaign"]["name"] == payload["data"]["campaign"]["name"]
    known = minimal("campaign.updated")
    result = invoke("validate", "--as", "campaign.updated", input=orjson.dumps(known))
    assert "none of the members" not in result.stdout
    assert "/data" not in result.stdout


def test_data_that_is_the_resource_itself_is_named() -> None:
    event = samples.sample("campaign.updated")
    payload = {"type": "campaign.updated", "data": event["data"]["campaign"]}
    result = invoke("validate", input=orjson.dumps(payload))
    assert "/data: data looks like the campaign itself; Voucherify sends it as data.campaign" in result.stdout


def test_only_the_data_of_a_fixture_is_checked_as_the_readme_says() -> None:
    """README recipe: `jq .data fixture.json | vevents validate --as TYPE`."""
    payload = minimal("voucher.published")
    result = invoke("validate", "--as", "voucher.published", input=orjson.dumps(payload["data"]))
    assert result.exit_code == 0, result.output


def compact(etype: str) -> bytes:
    return orjson.dumps(samples.sample(etype))


def pretty(etype: str) -> bytes:
    return orjson.dumps(samples.sample(etype), option=orjson.OPT_INDENT_2)


def read(tmp_path: Path, blob: bytes) -> tuple[list[dict], str]:
    path = tmp_path / "cat.json"
    path.write_bytes(blob)
    result = invoke("show", "--format", "json", str(path))
    return ndjson(result.stdout), result.stderr


def test_concatenated_compact_values_are_split(tmp_path: Path) -> None:
    """`cat a.json b.json`, each compact with no final newline: one line, two events."""
    events, errors = read(tmp_path, compact("voucher.published") + compact("customer.created"))
    assert errors == ""
    assert [(e["type"], e["line"]) for e in events] == [("voucher.published", 1), ("customer.created", 1)]
    events, errors = read(
        tmp_path,
        compact("voucher.published") + b" " + compact("customer.created") + b"\n" + compact("customer.order.paid"),
    )
    assert errors == "" and [e["type"] for e in events] == [
        "voucher.published",
        "customer.created",
        "customer.order.paid",
    ]


def test_a_compact_file_then_a_pretty_one_gives_no_phantom_events(tmp_path: Path) -> None:
    """The pretty value's nested objects (array members on lines of their own) must not
    become events of their own, and the pretty value is read whole."""
    body = pretty("redemption.succeeded")
    assert b"[\n        {\n" in body  # array members that start lines of their own
    log = (
        compact("voucher.published") + b"\n" + compact("voucher.published") + body + b"\n" + compact("customer.created")
    )
    events, errors = read(tmp_path, log)
    assert errors == ""
    assert [(e["type"], e["line"]) for e in events] == [
        ("voucher.published", 1),
        ("voucher.published", 2),
        ("redemption.succeeded", 2),
        ("customer.created", 2 + body.count(b"\n") + 1),
    ]
    assert invoke("validate", str(tmp_path / "cat.json")).stdout.endswith("4 valid, 0 invalid, 0 unreadable\n")


def test_a_pretty_file_then_a_compact_one(tmp_path: Path) -> None:
    events, errors = read(tmp_path, pretty("customer.order.paid") + compact("voucher.published"))
    assert errors == "" and [e["type"] for e in events] == ["customer.order.paid", "voucher.published"]


def test_text_after_a_value_is_still_reported(tmp_path: Path) -> None:
    events, errors = read(tmp_path, compact("voucher.published") + b" garbage\n" + compact("customer.created"))
    assert [e["type"] for e in events] == ["customer.created"]
    assert errors.startswith(f"vevents: {tmp_path / 'cat.json'}:1:")
