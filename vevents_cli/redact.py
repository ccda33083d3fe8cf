"""Redaction: replace personal data in payloads with stable pseudonyms.

Keys are matched by name anywhere in the payload (`KEYS`: key -> kind of data). A value
becomes `HMAC-SHA256(salt, kind + value)` shortened, dressed as its kind (`name-3fa9c1d2`,
`user-3fa9c1d2@example.invalid`, `+00 000 3fa9c1d2`...): the same value maps to the same
pseudonym with the same salt, so joins across events still work. Ids, codes, amounts,
points and types are left alone; so are the names of things that are not people (a
campaign's, a reward's: `NOT_PEOPLE`). Any string that is an email address is replaced,
whatever its key (a customer's `source_id` is often the email). `line` is the pipeline
projection: one event's payload, redacted, as an NDJSON line.
"""

from __future__ import annotations

import hashlib
import hmac
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
}
# Keys that are personal only inside an address object.
ADDRESS_KEYS: dict[str, str] = {"state": "address", "zip": "address", "region": "address"}
# Objects (by `object` or by the key holding them) whose `name` is not a person's.
NOT_PEOPLE = frozenset({
    "campaign", "category", "categories", "custom_event", "event_schema", "loyalty_tier", "loyalty_tier_from",
    "loyalty_tier_to", "holder_loyalty_tier", "loyalty_tiers", "product", "products", "sku", "skus",
    "promotion_stack", "promotion_tier", "promotion_tiers", "reward", "rewards", "segment", "earning_rule",
    "validation_rule", "business_validation_rule", "distribution", "metadata_schema", "event",
})
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
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
        else:
            fake = f"{kind}-{h}"
        self._cache[(kind, value)] = fake
        return fake

    def payload(self, value: Any) -> Any:
        """A redacted copy of a payload (the input is not modified).

        Walked with a stack, not recursion: a payload nested a thousand levels deep (which
        the readers accept) is redacted like any other.
        """
        root: list[Any] = [None]
        # (container to fill, slot in it, value, key holding it, inside a person, inside an address, metadata)
        stack: list[tuple[Any, Any, Any, str | None, bool, bool, bool]] = [(root, 0, value, None, True, False, False)]
        while stack:
            parent, slot, value, key, person, address, meta = stack.pop()
            if isinstance(value, dict):
                out: dict[str, Any] = {}
                if not meta:
                    kind = value.get("object")
                    person = not (isinstance(kind, str) and kind in NOT_PEOPLE) and key not in NOT_PEOPLE
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
            elif isinstance(value, str) and not meta and EMAIL.fullmatch(value):
                parent[slot] = self.pseudonym("email", value)
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


def line(s: Summary, redactor: Redactor) -> bytes:
    """One event, redacted, as an NDJSON line (a projection: may run in a worker process)."""
    return jsonout.dumps(redactor.payload(s.event.payload), newline=True)
