"""Redaction covers what is personal and keeps what is not, on realistic payloads: a legacy
event with its related object as a JSON string, free text, IP addresses, countries; the
names of validation rules, their conditions, API keys and campaigns stay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from tests.helpers import invoke, ndjson, needs_vendor, vendor_examples, write_ndjson
from vevents_cli import samples

ADA = {**samples.sample("customer.created")["data"]["customer"], "phone": "+44 20 7946 0018"}


def redact(tmp_path: Path, events: list[dict[str, Any]], *args: str) -> list[dict[str, Any]]:
    result = invoke("redact", "--salt", "s3cret", *args, str(write_ndjson(tmp_path / "in.ndjson", events)))
    assert result.exit_code == 0, result.output
    return ndjson(result.stdout)


def legacy_with_data_json() -> dict[str, Any]:
    """A legacy points_earned event whose related object's data is a JSON string."""
    event = samples.sample("customer.rewarded.loyalty_points", "legacy")
    related = event["data"]["related_object"]
    data = related.pop("data")
    data["customer"] = {**data["customer"], "phone": ADA["phone"]}
    related["data_json"] = json.dumps(data)
    return event


def test_json_inside_a_string_is_redacted_and_encoded_again(tmp_path: Path) -> None:
    event = legacy_with_data_json()
    text = event["data"]["related_object"]["data_json"]
    assert ADA["name"] in text and ADA["email"] in text and ADA["phone"] in text
    (out,) = redact(tmp_path, [event])
    redacted = out["data"]["related_object"]["data_json"]
    assert isinstance(redacted, str)
    inner = json.loads(redacted)
    assert ADA["name"] not in redacted and ADA["email"] not in redacted and ADA["phone"] not in redacted
    assert inner["customer"]["id"] == ADA["id"]  # ids kept
    assert inner["customer"]["email"] == out["data"]["object"]["customer"]["email"]  # the same pseudonym
    assert inner["campaign"]["name"] == json.loads(text)["campaign"]["name"]
    shown = ndjson(invoke("show", "--format", "json", input=orjson.dumps(out)).stdout)
    assert shown[0]["type"] == "customer.rewarded.loyalty_points"


def test_big_integers_inside_a_json_string_stay_exact(tmp_path: Path) -> None:
    event = legacy_with_data_json()
    inner = json.loads(event["data"]["related_object"]["data_json"])
    inner["customer"]["metadata"] = {"external_id": 12345678901234567890123}
    event["data"]["related_object"]["data_json"] = json.dumps(inner)
    (out,) = redact(tmp_path, [event])
    assert "12345678901234567890123" in out["data"]["related_object"]["data_json"]


def test_emails_and_phones_inside_free_text(tmp_path: Path) -> None:
    event = samples.sample("campaign.created")
    event["data"]["campaign"]["description"] = (
        "Spring offer agreed with Ada Lovelace (ada@example.test, +44 20 7946 0958) on 2026-03-14, budget 15000."
    )
    (out,) = redact(tmp_path, [event])
    description = out["data"]["campaign"]["description"]
    assert "ada@example.test" not in description and "7946" not in description
    assert "@example.invalid" in description and "+00 000 " in description
    assert "on 2026-03-14, budget 15000." in description  # dates and amounts are not phones
    assert out["data"]["campaign"]["name"] == event["data"]["campaign"]["name"]  # campaign names kept


def test_ip_addresses_and_countries(tmp_path: Path) -> None:
    event = samples.sample("customer.created")
    customer = event["data"]["customer"]
    customer["address"] = {**(customer.get("address") or {}), "country": "United Kingdom", "city": "London"}
    event["data"]["ip_address"] = "203.0.113.42"
    event["data"]["customer"]["metadata"] = {"last_ip_address": "2001:db8::1", "ip_address": "2001:db8::2"}
    (out,) = redact(tmp_path, [event])
    assert out["data"]["customer"]["address"]["country"] != "United Kingdom"
    assert out["data"]["customer"]["address"]["city"] != "London"
    ip = out["data"]["ip_address"]
    assert ip != "203.0.113.42" and ip.count(".") == 3 and all(p.isdigit() for p in ip.split("."))
    assert out["data"]["customer"]["metadata"]["ip_address"].startswith("fd00::")
    assert redact(tmp_path, [event])[0]["data"]["ip_address"] == ip  # stable with the same salt


@needs_vendor
def test_names_that_are_not_people_are_kept(tmp_path: Path) -> None:
    examples = dict(vendor_examples())
    wanted = (
        "business_validation_rule.created",
        "customer.voucher.loyalty_card.pending_points.added",
        "redemption.rollback.succeeded",
    )
    events = [samples.wrap(examples[etype], etype, "v2024") for etype in wanted]
    rule, pending, rollback = redact(tmp_path, events)
    original = examples["business_validation_rule.created"]["rule"]
    assert rule["data"]["rule"]["name"] == original["name"]  # a validation rule's name
    conditions = [c["name"] for c in rule["data"]["rule"]["rules"].values() if isinstance(c, dict)]
    assert conditions == [c["name"] for c in original["rules"].values() if isinstance(c, dict)]
    assert "order.initial_amount" in conditions
    api_key = pending["data"]["pending_points"]["details"]["event"]["event_source"]["api_key"]
    assert api_key["name"] == "Primary"
    parent = rollback["data"]["campaign"]["referral_program"]["referee_reward"]["related_object_parent"]
    assert parent["name"] == "Gift programme"  # a campaign, whatever the case of its `object`
    assert pending["data"]["customer"]["name"] != examples[wanted[1]]["customer"]["name"]  # people are not kept


# --- completeness: what is under a person, and free text everywhere --------------------------------

LEAKS = ("Ada", "Lovelace", "ada@example.test", "ada%40example.test", "7946", "7700", "Baker Street", "Narnia")


def leaks(line: str) -> list[str]:
    return [value for value in LEAKS if value in line]


def redacted_text(tmp_path: Path, events: list[dict[str, Any]], *args: str) -> str:
    result = invoke("redact", "--salt", "s3cret", *args, str(write_ndjson(tmp_path / "in.ndjson", events)))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_legacy_previous_attributes_and_json_inside_related_object_are_a_persons(tmp_path: Path) -> None:
    event = samples.sample("customer.updated", "legacy")
    event["data"]["previous_attributes"] = {"name": "Ada Lovelace", "email": "ada@example.test"}
    related = event["data"]["related_object"]
    data = related.pop("data")
    related["data_json"] = json.dumps(
        {"object": data["customer"], "previous_attributes": {"name": "Ada Lovelace", "city": "Narnia"}}
    )
    out = redacted_text(tmp_path, [event])
    assert leaks(out) == []
    (redacted,) = ndjson(out)
    assert redacted["data"]["previous_attributes"]["name"].startswith("name-")
    assert json.loads(redacted["data"]["related_object"]["data_json"])["object"]["id"] == data["customer"]["id"]


def test_keys_in_any_case_and_numbers_and_lists_under_a_person(tmp_path: Path) -> None:
    event = samples.sample("customer.created")
    customer = event["data"]["customer"]
    customer.update(
        {
            "firstName": "Ada",
            "LAST-NAME": "Lovelace",
            "mobile_phone": "+44 7700 900123",
            "telephone": "020 7946 0018",
            "phone": 442079460018,
            "source_id": "+44 20 7946 0019",
            "name": ["Ada", "Lovelace"],
            "nickname_of_choice": "Countess Lovelace",
        }
    )
    out = redacted_text(tmp_path, [event])
    assert leaks(out) == [] and "442079460018" not in out and "Countess" not in out
    redacted = ndjson(out)[0]["data"]["customer"]
    assert isinstance(redacted["phone"], int) and len(str(redacted["phone"])) == 12  # still a number
    assert [n.startswith("name-") for n in redacted["name"]] == [True, True]
    assert redacted["id"] == customer["id"] and redacted["object"] == "customer"  # ids and types kept
    assert redacted["summary"] == customer["summary"] and redacted["created_at"] == customer["created_at"]


def test_emails_in_any_encoding_phones_and_ips_in_free_text_everywhere(tmp_path: Path) -> None:
    event = samples.sample("customer.order.created")
    order = event["data"]["order"]
    order["metadata"] = {
        "callback": "https://shop.example/confirm?email=ada%40example.test&x=1",
        "escaped": 'payload {"email":"ada\\u0040example.test"}',
        "note": "Call us on +44 7700 900123 from 203.0.113.42 or 2001:db8::42",
        "channel": "web",
    }
    order["shipping_address"] = {"line_1": "221B Baker Street", "country": "Narnia", "postal_code": "NW1 6XE"}
    out = redacted_text(tmp_path, [event])
    assert leaks(out) == [] and "203.0.113.42" not in out and "2001:db8::42" not in out and "NW1 6XE" not in out
    redacted = ndjson(out)[0]["data"]["order"]
    assert redacted["metadata"]["channel"] == "web"  # metadata outside a person is kept, but for free text
    assert redacted["metadata"]["callback"].startswith("https://shop.example/confirm?email=user-")
    for key in ("id", "source_id", "amount", "total_amount", "status", "created_at"):
        assert redacted[key] == order[key], key


def test_metadata_option_replaces_metadata_outside_people_too(tmp_path: Path) -> None:
    event = samples.sample("customer.order.created")
    event["data"]["order"]["metadata"] = {"channel": "web", "count": 3}
    default, everything = (ndjson(redacted_text(tmp_path, [event], *args))[0] for args in ((), ("--metadata",)))
    assert default["data"]["order"]["metadata"] == {"channel": "web", "count": 3}
    assert default["data"]["customer"]["metadata"]["channel"] != "web"  # a person's metadata: always
    assert everything["data"]["order"]["metadata"]["channel"].startswith("meta-")
    assert everything["data"]["order"]["metadata"]["count"] == 3
