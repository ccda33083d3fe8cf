"""Property: `vevents redact` leaves none of the personal data planted in real events.

Each example takes a real event (the bundled samples in both dialects, the vendor's examples
and legacy examples when ../shared is there), plants personal values -- made-up names,
emails (plain, URL-encoded, JSON-escaped, HTML-escaped), phone numbers as strings and as
numbers, IPv4 and IPv6 addresses, street addresses -- at random places under its people
(customer, holder, referrer... and the objects inside them that are not things: as members
with personal or made-up keys in any spelling, in their addresses, their metadata, a legacy
event's previous attributes) and as free text in random objects anywhere; a legacy event's
related data may then be moved into a `data_json` string. It runs the real CLI (`vevents
redact`) and checks that the output is one valid JSON line with the same structure (the same
keys in the same order, the same kinds of containers), that no planted value appears in it
in any of those encodings, and that the values of keys the tables call not personal (ids,
codes, types, timestamps, amounts, points...) are unchanged. The default suite runs a few
examples; the heavy variant many.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from tests.helpers import invoke, legacy_examples, vendor_examples
from vevents_cli import samples
from vevents_cli.voucherify import catalogue, personal

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@functools.cache
def corpus() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for etype in sorted(catalogue.CATALOGUE):
        for dialect in ("v2024", "legacy"):
            try:
                events.append(samples.sample(etype, dialect))
            except (KeyError, ValueError):
                continue
    events += [samples.wrap(data, etype, "v2024") for etype, data in vendor_examples()]
    events += [event for _, event in legacy_examples()]
    return events


PEOPLE_KEYS = ("customer", "holder", "referrer", "referee")
NAME_KEYS = ("name", "firstName", "last_name", "Full-Name", "NICKNAME", "given_name")
EMAIL_KEYS = ("email", "Email", "contactEmail", "billing-email")
PHONE_KEYS = ("phone", "mobile_phone", "telephone", "Phone", "phoneNumber")
ADDRESS_KEYS = ("line_1", "line_2", "city", "postal_code", "country", "state", "street")
TEXT_KEYS = ("description", "note", "comment", "reason", "message")

made_up = st.from_regex(r"Q[a-z]{6,9}", fullmatch=True)  # no real payload holds such a word
other_key = st.from_regex(r"x[a-z]{3,8}", fullmatch=True)
local_part = st.from_regex(r"[a-z]{4,8}\.[a-z]{3,6}", fullmatch=True)
domain = st.from_regex(r"mail[a-z]{4,8}\.test", fullmatch=True)
phone_text = st.one_of(
    st.from_regex(r"\+44 7[0-9]{3} [0-9]{6}", fullmatch=True),
    st.from_regex(r"\+1 \(555\) 01[0-9]-[0-9]{4}", fullmatch=True),
    st.from_regex(r"0044 20 [0-9]{4} [0-9]{4}", fullmatch=True),
)
phone_number = st.integers(440_000_000_000, 449_999_999_999)
ipv4 = st.tuples(st.sampled_from([203, 198, 192]), st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)).map(
    lambda p: ".".join(map(str, p))
)
ipv6 = st.lists(st.integers(1, 0xFFFF), min_size=2, max_size=3).map(
    lambda g: "2001:db8::" + ":".join(f"{x:x}" for x in g)
)
ENCODINGS = ("plain", "url", "json", "html")


@dataclass
class Plants:
    """What was planted: the values that must not be in the output, in any encoding."""

    values: list[str] = field(default_factory=list)

    def add(self, *values: str) -> None:
        self.values += values


def encoded(local: str, host: str, how: str) -> str:
    at = {"plain": "@", "url": "%40", "json": "\\u0040", "html": "&#64;"}[how]
    return local + at + host


def forms(value: str) -> set[str]:
    """A planted value as it could appear in output JSON: itself, URL-encoded, JSON-escaped."""
    found = {value, urllib.parse.quote(value), json.dumps(value)[1:-1], json.dumps(json.dumps(value))[3:-3]}
    return {f for f in found if f}


def people(node: Any, key: str = "") -> list[dict[str, Any]]:
    """The objects in an event that are people by the vendor's own markers (key or `object`), and
    the objects inside them that are not things (a campaign, a tier... by key or `object`)."""
    found: list[dict[str, Any]] = []
    stack = [(node, key, False)]
    while stack:
        value, k, inside = stack.pop()
        if isinstance(value, dict):
            kind = value.get("object")
            thing = k in personal.NOT_PEOPLE or (isinstance(kind, str) and kind.lower() in personal.NOT_PEOPLE)
            inside = (inside and not thing) or k in PEOPLE_KEYS or kind == "customer"
            if inside:
                found.append(value)
            stack.extend((v, child, inside) for child, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, k, inside) for v in value)
    return found


def objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            found.append(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


@st.composite
def planted_events(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], Plants]:
    original = draw(st.sampled_from(corpus()))
    event = json.loads(json.dumps(original))
    plants = Plants()
    persons = people(event)
    legacy = event.get("object") == "event" and isinstance(event.get("data"), dict)
    if legacy and isinstance(event["data"].get("object"), dict) and people(event["data"]["object"], "object"):
        event["data"]["previous_attributes"] = previous = {}
        persons.append(previous)
    for _ in range(draw(st.integers(1, 6)) if persons else 0):
        person = draw(st.sampled_from(persons))
        what = draw(st.sampled_from(["name", "names", "email", "phone", "number", "source_id", "address", "meta"]))
        if what == "name":
            first, last = draw(made_up), draw(made_up)
            person[draw(st.one_of(st.sampled_from(NAME_KEYS), other_key))] = f"{first} {last}"
            plants.add(first, last)
        elif what == "names":
            first, last = draw(made_up), draw(made_up)
            person["name"] = [first, last]
            plants.add(first, last)
        elif what in ("email", "source_id"):
            local, host = draw(local_part), draw(domain)
            key = "source_id" if what == "source_id" else draw(st.one_of(st.sampled_from(EMAIL_KEYS), other_key))
            person[key] = encoded(local, host, draw(st.sampled_from(ENCODINGS)))
            plants.add(local, host)
        elif what == "phone":
            phone = draw(phone_text)
            person[draw(st.one_of(st.sampled_from((*PHONE_KEYS, "source_id")), other_key))] = phone
            plants.add(phone, re.sub(r"\D", "", phone))
        elif what == "number":
            number = draw(phone_number)
            person[draw(st.one_of(st.sampled_from(PHONE_KEYS), other_key))] = number
            plants.add(str(number))
        elif what == "address":
            address = person.setdefault("address", {})
            if not isinstance(address, dict):
                address = person["address"] = {}
            street, city = draw(made_up), draw(made_up)
            address[draw(st.sampled_from(ADDRESS_KEYS))] = f"12 {street} Road"
            address[draw(st.one_of(st.sampled_from(ADDRESS_KEYS), other_key))] = city
            plants.add(street, city)
        else:
            metadata = person.setdefault("metadata", {})
            if not isinstance(metadata, dict):
                metadata = person["metadata"] = {}
            value = draw(made_up)
            metadata[draw(other_key)] = value
            plants.add(value)
    places = objects(event)
    for _ in range(draw(st.integers(0, 4))):
        place = draw(st.sampled_from(places))
        local, host, phone, v4, v6 = draw(local_part), draw(domain), draw(phone_text), draw(ipv4), draw(ipv6)
        how = draw(st.sampled_from(ENCODINGS))
        text = f"Contact {encoded(local, host, how)} or {phone} (seen from {v4} and {v6})."
        place[draw(st.one_of(st.sampled_from(TEXT_KEYS), other_key))] = text
        plants.add(local, host, phone, v4, v6)
    related = event.get("data", {}).get("related_object") if legacy else None
    if isinstance(related, dict) and isinstance(related.get("data"), dict) and draw(st.booleans()):
        related["data_json"] = json.dumps(related.pop("data"))
    return original, event, plants


def shape(value: Any) -> Any:
    """The structure of a value: keys in order and kinds of containers; leaves by kind."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    return "number" if isinstance(value, (int, float)) else "string"


def kept_leaves(value: Any, key: str = "") -> list[tuple[str, Any]]:
    """Leaves under keys the tables call not personal (outside metadata) whose values cannot be personal anyway."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += [] if personal.metadata(personal.normal(k)) else kept_leaves(v, k)
    elif isinstance(value, list):
        for v in value:
            found += kept_leaves(v, key)
    elif personal.kept(personal.normal(key)) and personal.kind(personal.normal(key), True, True) is None:
        text = str(value)
        if not re.search(r"@|%40|\d{7}|\d[\d ()-]{8}", text) and key != "name":
            found.append((key, value))
    return found


def check(original: dict[str, Any], event: dict[str, Any], plants: Plants) -> None:
    result = invoke("redact", "-", input=orjson.dumps(event) + b"\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    out = orjson.loads(lines[0])
    assert shape(out) == shape(event)
    leaked = [(value, form) for value in plants.values for form in forms(value) if form in lines[0]]
    assert not leaked, (leaked, lines[0])
    before = [leaf for leaf in kept_leaves(event) if not any(p in str(leaf[1]) for p in plants.values)]
    after = kept_leaves(out)
    assert all(leaf in after for leaf in before), [leaf for leaf in before if leaf not in after]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(planted_events())
def test_planted_personal_values_never_reach_the_output(case: tuple[dict[str, Any], dict[str, Any], Plants]) -> None:
    check(*case)


@pytest.mark.heavy  # many examples through the CLI
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(planted_events())
def test_planted_personal_values_never_reach_the_output_many(
    case: tuple[dict[str, Any], dict[str, Any], Plants],
) -> None:
    check(*case)
