"""Conformance with the vendor's reference data in ../shared (skipped when it is absent).

The 72 v2024 examples of the OpenAPI file, bare and wrapped in each envelope, and the 7
legacy v2018 payloads of the legacy Event object page.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import invoke, legacy_examples, ndjson, needs_vendor, vendor_examples, write_ndjson

from vevents_cli import resources
from vevents_cli.samples import wrap

pytestmark = needs_vendor
EXAMPLES = dict(vendor_examples())
TYPES = list(EXAMPLES)
LEGACY = dict(legacy_examples())


@functools.cache
def _shown(tmp: str, dialect: str, with_as: bool) -> dict[str, dict[str, Any]]:
    """`show --format json` over all 72 examples in one dialect; results by type."""
    out: dict[str, dict[str, Any]] = {}
    for etype, data in EXAMPLES.items():
        args = ["show", "--format", "json"] + (["--as", etype] if with_as else [])
        result = invoke(*args, input=orjson.dumps(wrap(data, etype, dialect)))
        assert result.exit_code in (0, 1), result.stderr
        (out[etype],) = ndjson(result.stdout)
    return out


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory):
    tmp = str(tmp_path_factory.mktemp("shown"))
    return lambda dialect, with_as=False: _shown(tmp, dialect, with_as)


@pytest.mark.parametrize("etype", TYPES)
@pytest.mark.parametrize("dialect", ["v2024", "distribution", "legacy"])
def test_wrapped_example_shows_its_type(shown, etype: str, dialect: str) -> None:
    event = shown(dialect)[etype]
    assert event["dialect"] == dialect
    assert event["type"] == etype
    assert event["valid"] is True


@pytest.mark.parametrize("etype", TYPES)
def test_bare_example_with_as_shows_its_type(shown, etype: str) -> None:
    event = shown("bare", True)[etype]
    assert (event["dialect"], event["type"], event["valid"]) == ("bare", etype, True)


def _best_fits(data: dict[str, Any]) -> set[str]:
    """The documented rule: requirements met; fewest unknown members, then fewest missing."""
    keys = set(data)
    scores = {
        name: (len(keys - set(shape["properties"])), len(set(shape["properties"]) - keys))
        for name, shape in resources.shapes().items()
        if set(shape["required"]) <= keys and keys & set(shape["properties"])
    }
    least = min(scores.values(), default=None)
    return {name for name, score in scores.items() if score == least}


@pytest.mark.parametrize("etype", TYPES)
def test_shape_inference_is_right_or_says_unknown(shown, etype: str) -> None:
    event = shown("bare")[etype]
    fits = _best_fits(EXAMPLES[etype])
    if fits == {etype}:  # unambiguous: only its own type fits best
        assert event["type"] == etype
    else:
        assert event["type"] is None, f"claimed {event['type']} for an ambiguous {etype} payload"


def test_shape_inference_finds_the_unambiguous_ones(shown) -> None:
    found = [t for t in TYPES if shown("bare")[t]["type"] == t]
    print(f"shape inference: {len(found)}/72 examples recognised bare without --as")
    assert len(found) >= 14


def test_unknown_bare_type_lists_its_candidates() -> None:
    result = invoke("show", input=orjson.dumps(EXAMPLES["redemption.succeeded"]))
    assert "type unknown" in result.stdout
    assert "redemption.failed" in result.stdout and "redemption.succeeded" in result.stdout


def test_validate_all_examples_in_every_dialect(tmp_path: Path) -> None:
    payloads = [wrap(d, t, dialect) for t, d in EXAMPLES.items() for dialect in ("v2024", "distribution", "legacy")]
    log = write_ndjson(tmp_path / "all.ndjson", payloads)
    result = invoke("validate", str(log))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith("216 valid, 0 invalid, 0 unreadable")


def test_strict_count_is_printed_and_documented(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "all.ndjson", [wrap(d, t, "v2024") for t, d in EXAMPLES.items()])
    result = invoke("validate", "--strict", "--format", "json", str(log))
    summary = orjson.loads(result.stdout)["summary"]
    # The literal spec: the envelope enum omits most types, and the data schemas disagree
    # with the vendor's own examples; see README "Schemas".
    bare = write_ndjson(tmp_path / "bare.ndjson", list(EXAMPLES.values()))
    strict_data = sum(
        invoke("validate", "--strict", "--as", t, "-q", input=orjson.dumps(d)).exit_code == 0
        for t, d in EXAMPLES.items()
    )
    print(f"strict: {summary['valid']}/72 v2024 envelopes valid; {strict_data}/72 bare data valid")
    assert bare.exists()
    assert strict_data == 9
    assert summary["valid"] == 0  # the vendor's envelope allows 19 customer.* types in event.type


# --- legacy v2018 ---------------------------------------------------------------------------

LEGACY_TYPES = {
    "Example Response": ("redemption.succeeded", None),
    "Referral code assigned": ("customer.publication.succeeded", "referral_code_assigned"),
    "Referrer rewarded": ("customer.reward_redemptions.completed", "referrer_rewarded_webhook"),
    "Customer rewarded": ("customer.referred", "referee_invited"),
    "Loyalty card assigned": ("customer.publication.succeeded", "loyalty_code_assigned"),
    "Points earned": ("customer.rewarded.loyalty_points", "points_earned"),
    "Points redeemed": ("customer.reward_redemptions.completed", "points_redeemed"),
}


@pytest.mark.parametrize("title", list(LEGACY_TYPES))
def test_legacy_example_shows_standard_type_and_custom_name(title: str) -> None:
    result = invoke("show", "--format", "json", input=orjson.dumps(LEGACY[title]))
    (event,) = ndjson(result.stdout)
    assert result.exit_code == 0
    assert (event["dialect"], event["type"], event["name"]) == ("legacy", *LEGACY_TYPES[title])
    assert event["valid"] is True


def test_points_earned_shows_plus_220_and_balance_220() -> None:
    payload = orjson.dumps(LEGACY["Points earned"])
    (event,) = ndjson(invoke("show", "--format", "json", input=payload).stdout)
    assert event["points"]["delta"] == 220 and event["points"]["balance"] == 220
    panel = invoke("show", input=payload).stdout
    assert "+220" in panel and "points_earned" in panel


def test_legacy_envelope_only_cases_say_so() -> None:
    internal = invoke("show", input=orjson.dumps(LEGACY["Example Response"])).stdout
    assert "envelope only" in internal
    result = invoke("validate", input=orjson.dumps(LEGACY["Example Response"]))
    assert result.exit_code == 0 and "envelope only" in result.stderr


def test_strict_lists_what_legacy_examples_lack(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "legacy.ndjson", list(LEGACY.values()))
    result = invoke("validate", "--strict", str(log))
    assert result.exit_code == 1
    assert f"{log}:1 redemption.succeeded /webhook_id: required member is missing" in result.stdout
    assert "required member is missing" in result.stdout


# --- the facts of the seed-page events --------------------------------------------------------


def _facts(etype: str) -> dict[str, Any]:
    result = invoke("show", "--format", "json", input=orjson.dumps(wrap(EXAMPLES[etype], etype, "v2024")))
    (event,) = ndjson(result.stdout)
    return event


def test_customer_rewarded_facts() -> None:
    event = _facts("customer.rewarded")
    assert event["customer"]["name"] == "Jack Webhook"
    assert event["voucher"]["code"] == "L0y4L"
    assert event["campaign"]["name"] == "Loyalty programme"
    assert event["points"] == {
        "delta": -50, "balance": 850, "transaction_type": "POINTS_REDEMPTION", "reason": "Material",
    }


def test_points_added_facts() -> None:
    event = _facts("customer.voucher.loyalty_card.points_added")
    assert event["points"] == {
        "delta": 40, "balance": 2641, "transaction_type": "POINTS_ADDITION", "reason": "Spring time",
    }


def test_voucher_published_facts() -> None:
    event = _facts("voucher.published")
    data = EXAMPLES["voucher.published"]
    assert event["voucher"] == {k: data["voucher"][k] for k in ("id", "code", "type")}
    assert event["customer"]["id"] == data["customer"]["id"]
    assert event["campaign"]["name"] == data["campaign"]["name"]
    assert event["points"] is None


def test_transaction_created_facts() -> None:
    event = _facts("voucher.loyalty_card.transaction.created")
    assert event["points"]["delta"] == 10
    assert event["points"]["balance"] == 210
    assert event["points"]["transaction_type"] == "POINTS_ACCRUAL"
    panel = invoke("show", input=orjson.dumps(wrap(EXAMPLES["voucher.loyalty_card.transaction.created"],
                                                     "voucher.loyalty_card.transaction.created", "v2024")))
    assert "+10" in panel.stdout and "balance 200 -> 210" in panel.stdout
