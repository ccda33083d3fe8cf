"""Which members of Voucherify payloads are personal data and which are not: the tables `redact` uses.

Keys are compared normalised (`normal`: camelCase, kebab-case, spaces and case all become
snake_case, so `firstName`, `First-Name` and `first_name` are one key). `kind` names the
kind of personal data a key holds wherever it is (`email`, `phone`, `address`,
`birthdate`, `ip`, `name`): by the whole key (`KEYS`), else by a word in it (`WORDS`:
`billing_email`, `mobile_phone`, `telephone`); a plain `name` is a person's only inside a
person (`PERSON_ONLY`), `country`, `state`, `region` only inside an address (`ADDRESS_ONLY`).

A person is an object that the vendor's payloads use for one: held by a `PEOPLE` key
(`customer`, `holder`, `referrer`...), or whose `object` is a `PEOPLE` kind, or that holds
a member of a personal kind (an object with an `email` or `phone` is someone's) -- unless
its `object` or key says it is a thing (`NOT_PEOPLE`: a campaign, a reward, a validation
rule, an API key...). Inside a person every value is personal except what `kept` says is
not: ids, codes, types, statuses, timestamps, amounts, points, counts, and the names of
campaigns and tiers a person belongs to (`KEPT_KEYS`, `KEPT_LAST_WORDS`). `identifier`
keys (ids, codes, `source_id`) are kept unless the whole value is an email or phone number.
"""

from __future__ import annotations

import functools
import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=8192)
def normal(key: str) -> str:
    """`key` in snake_case: `firstName`, `First-Name`, `FIRST_NAME` -> `first_name`."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", key).lower()).strip("_")


# Normalised key -> kind of personal data, wherever the key is.
KEYS: dict[str, str] = {
    "name": "name",
    "names": "name",
    "first_name": "name",
    "firstname": "name",
    "last_name": "name",
    "lastname": "name",
    "middle_name": "name",
    "full_name": "name",
    "fullname": "name",
    "given_name": "name",
    "family_name": "name",
    "surname": "name",
    "nickname": "name",
    "maiden_name": "name",
    "display_name": "name",
    "customer_name": "name",
    "holder_name": "name",
    "contact_name": "name",
    "email": "email",
    "e_mail": "email",
    "emails": "email",
    "phone": "phone",
    "phones": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "cell": "phone",
    "cellphone": "phone",
    "msisdn": "phone",
    "tel": "phone",
    "address": "address",
    "line_1": "address",
    "line_2": "address",
    "line_3": "address",
    "address_line_1": "address",
    "address_line_2": "address",
    "street": "address",
    "street_address": "address",
    "house_number": "address",
    "city": "address",
    "town": "address",
    "postal_code": "address",
    "postcode": "address",
    "post_code": "address",
    "zip": "address",
    "zip_code": "address",
    "zipcode": "address",
    "birthday": "birthdate",
    "birthdate": "birthdate",
    "birth_date": "birthdate",
    "date_of_birth": "birthdate",
    "dob": "birthdate",
    "ip": "ip",
    "ip_address": "ip",
    "remote_addr": "ip",
    "client_ip": "ip",
}
# A word of a normalised key -> kind (checked in this order, when the whole key is not in KEYS).
WORDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"email", "emails", "mail"}), "email"),
    (frozenset({"phone", "phones", "mobile", "telephone", "fax", "msisdn"}), "phone"),
    (frozenset({"birthday", "birthdate", "birth"}), "birthdate"),
    (frozenset({"ip"}), "ip"),
)
PERSON_ONLY = frozenset({"name", "names"})
ADDRESS_ONLY: dict[str, str] = {
    "state": "address",
    "region": "address",
    "province": "address",
    "county": "address",
    "country": "address",
    "country_code": "address",
}
# Keys whose object is an address (inside it, everything not `kept` is personal).
ADDRESS_WORDS = frozenset({"address", "addresses"})
# Objects that are people, by the key holding them or their `object`.
PEOPLE = frozenset(
    {"customer", "customers", "holder", "referrer", "referee", "user", "recipient", "contact", "owner", "person"}
)
# Objects (by `object`, any case, or by the key holding them) that are things, not people.
NOT_PEOPLE = frozenset(
    {
        "campaign",
        "category",
        "categories",
        "custom_event",
        "event_schema",
        "loyalty_tier",
        "loyalty_tier_from",
        "loyalty_tier_to",
        "holder_loyalty_tier",
        "loyalty_tiers",
        "product",
        "products",
        "sku",
        "skus",
        "promotion_stack",
        "promotion_tier",
        "promotion_tiers",
        "reward",
        "rewards",
        "segment",
        "earning_rule",
        "validation_rule",
        "validation_rules",
        "business_validation_rule",
        "rule",
        "rules",
        "distribution",
        "metadata_schema",
        "event",
        "api_key",
        "related_object_parent",
    }
)
# The previous values of the object beside them: a person's when that object is one.
PREVIOUS = "previous_attributes"
# Not personal, inside a person too: by the whole key, or by its last word.
KEPT_KEYS = frozenset(
    {
        "object",
        "campaign",
        "campaigns",
        "campaign_name",
        "loyalty_tier",
        "charset",
        "pattern",
        "prefix",
        "postfix",
        "tier",
        "lang",
        "language",
        "locale",
        "currency",
        "timezone",
        "cockpit_url",
        "url",
    }
)
KEPT_LAST_WORDS = frozenset(
    {
        "id",
        "ids",
        "code",
        "codes",
        "type",
        "types",
        "status",
        "role",
        "object",
        "at",
        "date",
        "amount",
        "amounts",
        "points",
        "balance",
        "total",
        "count",
        "failed",
        "succeeded",
        "redeemed",
        "back",
        "customers",
        "currency",
        "channel",
    }
)
IDENTIFIER_LAST_WORDS = frozenset({"id", "ids", "code", "codes"})
METADATA_WORDS = frozenset({"metadata", "metadata_json"})


def words(key: str) -> list[str]:
    return key.split("_")


@functools.lru_cache(maxsize=8192)
def kind(key: str, person: bool, address: bool) -> str | None:
    """The kind of personal data a (normalised) key holds here, None when the key does not say."""
    found = KEYS.get(key) or (ADDRESS_ONLY.get(key) if address else None)
    if found is not None:
        return None if key in PERSON_ONLY and not person else found
    if kept(key):
        return None
    parts = set(words(key))
    for vocabulary, name in WORDS:
        if parts & vocabulary:
            return name
    return None


@functools.lru_cache(maxsize=8192)
def kept(key: str) -> bool:
    """Whether a (normalised) key's value is not personal, even inside a person."""
    return key in KEPT_KEYS or words(key)[-1] in KEPT_LAST_WORDS


@functools.lru_cache(maxsize=8192)
def identifier(key: str) -> bool:
    """Whether a (normalised) key holds an id or a code (kept unless the whole value is an email or phone)."""
    return words(key)[-1] in IDENTIFIER_LAST_WORDS


@functools.lru_cache(maxsize=8192)
def addresses(key: str) -> bool:
    """Whether an object held by this (normalised) key is an address."""
    return words(key)[-1] in ADDRESS_WORDS


@functools.lru_cache(maxsize=8192)
def metadata(key: str) -> bool:
    return key in METADATA_WORDS or words(key)[-1] == "metadata"
