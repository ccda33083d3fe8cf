"""Redaction: replace personal data in payloads with stable pseudonyms.

Keys are matched by name anywhere in the payload (`KEYS`: key -> kind of data). A value
becomes `HMAC-SHA256(salt, kind + value)` shortened, dressed as its kind (`name-3fa9c1d2`,
`user-3fa9c1d2@example.invalid`, `+00 000 3fa9c1d2`, `10.58.169.210`...): the same value
maps to the same pseudonym with the same salt, so joins across events still work. Ids,
codes, amounts, points and types are left alone; so are the names of things that are not
people (a campaign's, a reward's, a validation rule's and its conditions', an API key's:
`NOT_PEOPLE`, and objects inside them that have no `object` of their own). Email
addresses are replaced wherever they appear, whole or inside text; phone numbers inside
free text (`FREE_TEXT` keys such as `description`). A string that holds JSON (a legacy
`related_object.data_json`) is redacted inside and encoded again. `line` is the pipeline
projection: one event's payload, redacted, as an NDJSON line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, timedelta
from typing import Any

from vevents_cli import jsonout
from vevents_cli.model import Summary

# Key -> kind, wherever the key appears.
KEYS: dict[str, str] = {
    "name": "name",
    "first_name": "name",
    "last_name": "name",
    "middle_name": "name",
    "full_name": "name",
    "customer_name": "name",
    "email": "email",
    "email_address": "email",
    "customer_email": "email",
    "phone": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "address": "address",  # when it is a string; an object is walked with ADDRESS_KEYS
    "line_1": "address",
    "line_2": "address",
    "line_3": "address",
    "street": "address",
    "city": "address",
    "postal_code": "address",
    "zip_code": "address",
    "birthday": "birthdate",
    "birthdate": "birthdate",
    "date_of_birth": "birthdate",
    "ip_address": "ip",
    "ip": "ip",
}
# Keys that are personal only inside an address object.
ADDRESS_KEYS: dict[str, str] = {"state": "address", "zip": "address", "region": "address", "country": "address"}
# Objects (by `object`, any case, or by the key holding them) whose `name` is not a person's;
# objects inside them with no `object` of their own (a rule's conditions) are not people either.
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
# Objects that are people, whatever holds them (a customer inside a reward).
PEOPLE = frozenset({"customer", "holder", "referrer", "referee", "user"})
# Free text: phone numbers inside these strings are replaced (emails are, in any string).
FREE_TEXT = frozenset(
    {"description", "reason", "comment", "comments", "note", "notes", "message", "failure_message", "text"}
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ().-]{5,}\d(?![\w])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_BIRTH_EPOCH = date(1930, 1, 1)


class Redactor:
    """Pseudonymises payloads; one per run (it caches the pseudonyms it made)."""

    def __init__(self, salt: str | bytes, metadata: bool = False, digits: int = 8) -> None:
        self.salt = salt.encode() if isinstance(salt, str) else salt
        self.metadata = metadata
        self.digits = digits
        self._cache: dict[tuple[str, str], str] = {}

    def pseudonym(self, kind: str, value: str) -> str:
        known = self._cache.get((kind, value))
        if known is not None:
            return known
        digest = hmac.new(self.salt, (kind + "\x00" + value).encode(), hashlib.sha256).hexdigest()
        h = digest[: self.digits]
        if kind == "email":
            fake = f"user-{h}@example.invalid"
        elif kind == "phone":
            fake = f"+00 000 {h}"
        elif kind == "birthdate":  # still a date, so the payload still validates
            day = _BIRTH_EPOCH + timedelta(days=int(digest[:8], 16) % 27000)
            fake = day.isoformat() + ("T00:00:00.000Z" if "T" in value else "")
        elif kind == "metadata":
            fake = f"meta-{h}"
        elif kind == "ip":  # still an address of its family (private ranges)
            raw = bytes.fromhex(digest[:8])
            fake = f"10.{raw[0]}.{raw[1]}.{raw[2]}" if ":" not in value else "fd00::" + digest[:4] + ":" + digest[4:8]
        else:
            fake = f"{kind}-{h}"
        self._cache[(kind, value)] = fake
        return fake

    def payload(self, value: Any) -> Any:
        """A redacted copy of a payload (the input is not modified).

        Walked with a stack, not recursion: a payload nested a thousand levels deep (which
        the readers accept) is redacted like any other.
        """
        return self._walk(value, None, True, False)

    def _walk(self, value: Any, key: str | None, person: bool, address: bool) -> Any:
        root: list[Any] = [None]
        # (container to fill, slot in it, value, key holding it, inside a person, inside an address, metadata)
        Frame = tuple[Any, Any, Any, str | None, bool, bool, bool]
        stack: list[Frame] = [(root, 0, value, key, person, address, False)]
        while stack:
            parent, slot, value, key, person, address, meta = stack.pop()
            if isinstance(value, dict):
                out: dict[str, Any] = {}
                if not meta:
                    person = _is_person(value, key, person)
                for k, v in value.items():
                    out[k] = v
                    if meta or (k == "metadata" and self.metadata):
                        stack.append((out, k, v, k, person, address, True))
                    elif (fake := self._member(k, v, person, address)) is not None:
                        out[k] = fake
                    else:
                        stack.append((out, k, v, k, person, address or k == "address", False))
                parent[slot] = out
            elif isinstance(value, list):
                parent[slot] = items = list(value)
                stack.extend((items, i, v, key, person, address, meta) for i, v in enumerate(value))
            elif isinstance(value, str) and value and meta:
                parent[slot] = self.pseudonym("metadata", value)
            elif isinstance(value, str) and not meta:
                parent[slot] = self._text(value, key, person, address)
            else:
                parent[slot] = value
        return root[0]

    def _member(self, key: str, value: Any, person: bool, address: bool) -> str | None:
        """The replacement of a personal member (`key` in `KEYS`), or None: look inside instead."""
        kind = KEYS.get(key) or (ADDRESS_KEYS.get(key) if address else None)
        if kind is None or not isinstance(value, str) or not value:
            return None
        if kind == "name" and not person:
            return value
        return self.pseudonym(kind, value)

    def _text(self, value: str, key: str | None, person: bool, address: bool) -> str:
        """A string that is not a known key's: an email, JSON inside a string, or text."""
        if EMAIL.fullmatch(value):
            return self.pseudonym("email", value)
        inner = _json_inside(value)
        if inner is not None:
            redacted = self._walk(inner, key, person, address)
            return value if redacted == inner else json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
        if "@" in value:
            value = EMAIL_IN_TEXT.sub(lambda m: self.pseudonym("email", m.group()), value)
        if key in FREE_TEXT:
            value = PHONE_IN_TEXT.sub(lambda m: self._phone(m.group()), value)
        return value

    def _phone(self, text: str) -> str:
        digits = sum(c.isdigit() for c in text)
        if digits < 7 or digits > 15 or _DATE.fullmatch(text.strip()) or (digits < 9 and text[0] not in "+("):
            return text  # an amount, a date, an order number: not a phone
        return self.pseudonym("phone", text)


def _is_person(obj: dict[str, Any], key: str | None, parent: bool) -> bool:
    """Whether a `name` in this object is a person's: by its `object`, else its key, else its parent's."""
    kind = obj.get("object")
    kind = kind.lower() if isinstance(kind, str) else None
    if kind in NOT_PEOPLE or key in NOT_PEOPLE:
        return False
    if kind is not None or key in PEOPLE:
        return True
    return parent


def _json_inside(text: str) -> Any:
    """The object or array a string holds as JSON (a legacy `data_json`), else None."""
    start = text.lstrip()[:1]
    if start not in ("{", "["):
        return None
    try:
        value = json.loads(text)  # the standard library keeps big integers exact
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, (dict, list)) else None


def line(s: Summary, redactor: Redactor) -> bytes:
    """One event, redacted, as an NDJSON line (a projection: may run in a worker process)."""
    return jsonout.dumps(redactor.payload(s.event.payload), newline=True)
