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

from tests.helpers import invoke, legacy_examples, ndjson, needs_vendor, vendor_examples, write_ndjson
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
    # (a member missing from the root is reported at the event's own first column)
    assert f"{log}:1:1 redemption.succeeded /webhook_id: required member is missing" in result.stdout
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
        "delta": -50,
        "balance": 850,
        "pending": None,
        "transaction_type": "POINTS_REDEMPTION",
        "reason": "Material",
    }


def test_points_added_facts() -> None:
    event = _facts("customer.voucher.loyalty_card.points_added")
    assert event["points"] == {
        "delta": 40,
        "balance": 2641,
        "pending": None,
        "transaction_type": "POINTS_ADDITION",
        "reason": "Spring time",
    }


def test_voucher_published_facts() -> None:
    event = _facts("voucher.published")
    data = EXAMPLES["voucher.published"]
    assert event["voucher"] == {**{k: data["voucher"][k] for k in ("id", "code", "type")}, "gift_balance": None}
    assert event["customer"]["id"] == data["customer"]["id"]
    assert event["campaign"]["name"] == data["campaign"]["name"]
    assert event["points"] is None


def test_transaction_created_facts() -> None:
    event = _facts("voucher.loyalty_card.transaction.created")
    assert event["points"]["delta"] == 10
    assert event["points"]["balance"] == 210
    assert event["points"]["transaction_type"] == "POINTS_ACCRUAL"
    panel = invoke(
        "show",
        input=orjson.dumps(
            wrap(
                EXAMPLES["voucher.loyalty_card.transaction.created"],
                "voucher.loyalty_card.transaction.created",
                "v2024",
            )
        ),
    )
    assert "+10" in panel.stdout and "balance 200 -> 210" in panel.stdout


# --- wire names: the type names the vendor's pages list -------------------------------------

from scripts import vendor  # noqa: E402
from vevents_cli.samples import sample  # noqa: E402
from vevents_cli.voucherify.catalogue import ALIASES, CATALOGUE, EXTRA_TYPES, SCHEMA_TYPES  # noqa: E402

needs_docs = pytest.mark.skipif(not vendor.docs_available(), reason="vendor docs pages absent")
# Webhooks of the OpenAPI file that neither webhooks page lists (yet): documented by their
# OpenAPI webhook key alone.
OPENAPI_ONLY = {
    "customer.holder.assignment.created",
    "customer.holder.assignment.deleted",
    "customer.reward_redemptions.created",
    "customer.reward_redemptions.pending",
}
# A name in the distribution page's `event.type` list that its own `data` list spells in
# full: the vendor's slip, not a type of its own (recorded so a new one is noticed).
PAGE_SLIPS = {"loyalty_card.pending_points.updated": "customer.voucher.loyalty_card.pending_points.updated"}


def _page_types(page) -> dict[str, list[str]]:
    lists = vendor.documented_types(page)
    assert lists and all(lists.values()), f"no type list found in {page.name}"
    return lists


@needs_docs
def test_every_listed_name_is_a_catalogue_type() -> None:
    project = _page_types(vendor.PROJECT_PAGE)
    distribution = _page_types(vendor.DISTRIBUTION_PAGE)
    assert set(project) == {"data", "type"} and set(distribution) == {"data", "event.type"}
    assert "manual_distribution_schedule" in distribution["data"]
    for where, names in [*project.items(), *distribution.items()]:
        for name in names:
            if name in PAGE_SLIPS and where == "event.type":
                assert PAGE_SLIPS[name] in distribution["data"] and PAGE_SLIPS[name] in CATALOGUE
                continue
            assert name in CATALOGUE, f"{where} lists {name!r}, not a catalogue type"


@needs_docs
def test_every_catalogue_type_is_listed_by_a_page() -> None:
    listed = {
        n
        for page in (vendor.PROJECT_PAGE, vendor.DISTRIBUTION_PAGE)
        for names in _page_types(page).values()
        for n in names
    }
    unlisted = set(CATALOGUE) - listed
    assert unlisted == OPENAPI_ONLY
    assert OPENAPI_ONLY.issubset(SCHEMA_TYPES) and OPENAPI_ONLY.issubset(EXAMPLES)
    assert set(EXTRA_TYPES) <= listed


def test_catalogue_names_are_wire_names() -> None:
    """The catalogue names types as Voucherify sends them; old spellings are aliases only."""
    assert "manual_distribution_schedule" in SCHEMA_TYPES
    assert CATALOGUE["manual_distribution_schedule"].family == "distribution"
    assert not set(ALIASES) & set(CATALOGUE)
    assert ALIASES["distribution.manual_distribution_schedule"] == "manual_distribution_schedule"
    assert sorted(EXAMPLES) == sorted(SCHEMA_TYPES)
    assert (resources.samples_dir() / "manual_distribution_schedule.json").is_file()
    assert not (resources.samples_dir() / "distribution.manual_distribution_schedule.json").exists()


@needs_docs
@pytest.mark.parametrize(("dialect", "page"), [("v2024", "PROJECT_PAGE"), ("distribution", "DISTRIBUTION_PAGE")])
def test_default_envelope_accepts_every_type_its_page_documents(tmp_path: Path, dialect: str, page: str) -> None:
    names = sorted({n for names in _page_types(getattr(vendor, page)).values() for n in names} & set(CATALOGUE))
    events = [sample(n, dialect) if n in SCHEMA_TYPES else wrap({}, n, dialect) for n in names]
    log = write_ndjson(tmp_path / f"{dialect}.ndjson", events)
    report = orjson.loads(invoke("validate", "--format", "json", str(log)).stdout)
    invalid = [(e["type"], e["errors"][:2]) for e in report["events"] if not e["valid"]]
    assert invalid == [] and report["summary"]["valid"] == len(names)


def test_manual_distribution_schedule_delivery_is_valid(tmp_path: Path) -> None:
    """A real delivery carries `event.type: manual_distribution_schedule` in a distribution
    envelope: the default level accepts it, and the old long name still resolves."""
    shown = invoke("sample", "manual_distribution_schedule", "--dialect", "distribution")
    assert shown.exit_code == 0
    event = orjson.loads(shown.stdout)
    assert event["event"]["type"] == "manual_distribution_schedule"
    path = tmp_path / "mds.json"
    path.write_bytes(orjson.dumps(event))
    result = invoke("validate", "--format", "json", str(path))
    (outcome,) = orjson.loads(result.stdout)["events"]
    assert result.exit_code == 0, outcome["errors"]
    assert (outcome["dialect"], outcome["type"], outcome["valid"]) == (
        "distribution",
        "manual_distribution_schedule",
        True,
    )
    event["event"]["type"] = "distribution.manual_distribution_schedule"
    path.write_bytes(orjson.dumps(event))
    (outcome,) = orjson.loads(invoke("validate", "--format", "json", str(path)).stdout)["events"]
    assert (outcome["type"], outcome["valid"]) == ("manual_distribution_schedule", True)
