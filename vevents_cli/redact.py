"""Redaction: replace personal data in payloads with stable pseudonyms.

What is personal comes from the tables in `voucherify.personal`; this module walks a
payload and replaces. A value becomes `HMAC-SHA256(salt, kind + value)` shortened, dressed
as its kind (`name-3fa9c1d2`, `user-3fa9c1d2@example.invalid`, `+00 000 3fa9c1d2`,
`10.58.169.210`...; a phone number written as a number stays a number of as many digits):
the same value maps to the same pseudonym with the same salt, so joins across events
still work.

- Inside a person (a customer, holder, referrer...; an address; their metadata; the
  `previous_attributes` of a person) every string is replaced -- by its key's kind, else
  as `text-...` (`address-...` in an address, `meta-...` in metadata) -- except what the tables keep (ids, codes,
  types, timestamps, amounts, points...), and so is a number that is a phone (by its key,
  or 9 to 15 digits under a key not kept).
- Everywhere, a key of a personal kind (`email`, `firstName`, `mobile_phone`...) is
  replaced, also in a list (`"name": ["Ada", "Lovelace"]`); so is a string that is an email
  address; an id or code that is wholly an email or a phone number (`+`, or in a person).
- Free text everywhere (any other string: descriptions, metadata values, URLs): email
  addresses in any encoding (`ada@example.test`, `ada%40example.test`, `ada\\u0040...`,
  `ada&#64;...`), IP addresses and phone numbers inside it are replaced (dates, amounts and
  order numbers are not phone numbers).
- Metadata outside a person is otherwise kept; with `metadata=True` each of its strings is
  replaced whole (`meta-...`).
- A string that holds JSON (a legacy `related_object.data_json`) is redacted inside, in the
  context of where it is, and written again compact.

The walk is over `exactjson` trees (numbers as written, duplicate keys all kept and each
redacted), with a stack, not recursion. `line` is the pipeline projection: one event's
payload, read again exactly from its bytes, redacted, as an NDJSON line.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from datetime import date, timedelta
from typing import Any

from vevents_cli import exactjson
from vevents_cli.exactjson import Number, Object
from vevents_cli.model import Summary
from vevents_cli.voucherify import personal

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_AT = r"(?:@|%40|\\u0040|\\x40|&#0*64;|&#x0*40;|\[at\])"
EMAIL_IN_TEXT = re.compile(
    r"[A-Za-z0-9._%+-]+" + _AT + r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.IGNORECASE
)
PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ().-]{5,}\d(?![\w])")
PHONE = re.compile(r"(?:\+|00)?[\d ().-]{7,}")
IP_IN_TEXT = re.compile(
    r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}(?::[0-9A-Fa-f]{1,4}){1,7}(?![\w:])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}:(?![\w:])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
)
_AT_HINT = re.compile(r"@|%40|\\u0040|\\x40|&#|\[at\]", re.IGNORECASE)  # text without these holds no email
_DIGITS_HINT = re.compile(r"\d(?:\D{0,2}\d){2}")  # nor, without these, an IPv4 address or a phone number
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_BIRTH_EPOCH = date(1930, 1, 1)
# (container to fill, slot in it, value, normalised key holding it, in a person, in an address, in metadata)
Frame = tuple[Any, int, Any, str, bool, bool, bool]


class Redactor:
    """Pseudonymises payloads; one per run (it caches the pseudonyms it made)."""

    def __init__(self, salt: str | bytes, metadata: bool = False, digits: int = 8) -> None:
        self.salt = salt.encode() if isinstance(salt, str) else salt
        self.metadata = metadata
        self.digits = digits
        self._cache: dict[tuple[str, str], str] = {}

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self.salt, (kind + "\x00" + value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def pseudonym(self, kind: str, value: str) -> str:
        known = self._cache.get((kind, value))
        if known is not None:
            return known
        digest = self._digest(kind, value)
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

    def number(self, literal: str) -> Number:
        """A number that is personal (a phone written as a number): a number of as many digits."""
        digits = sum(c.isdigit() for c in literal)
        made = str(int(self._digest("phone-number", literal), 16))
        return Number("9" + made[: max(digits - 1, 0)])

    def payload(self, value: Any) -> Any:
        """A redacted copy of a payload (an `exactjson` tree, or plain parsed JSON; not modified)."""
        tree = value if isinstance(value, (Object, Number)) else exactjson.from_value(value)
        return self._walk(tree, "", False, False, False)

    def _walk(self, value: Any, key: str, person: bool, address: bool, meta: bool) -> Any:
        root: list[Any] = [None]
        stack: list[Frame] = [(root, 0, value, key, person, address, meta)]
        while stack:
            parent, slot, value, key, person, address, meta = stack.pop()
            if isinstance(value, Object):
                out = Object(value)
                person = _is_person(value, key, person) or address
                for i, (k, v) in enumerate(value):
                    if v is None or v is True or v is False:
                        continue  # nothing to replace
                    nk, previous, addresses, metadata = _facts(k)
                    inner = person or (previous and _beside_a_person(value))
                    in_address = address or (addresses and isinstance(v, Object))
                    stack.append((out, i, v, nk, inner, in_address, meta or metadata))
                new: Any = out
            elif isinstance(value, list):
                new = items = list(value)
                stack.extend((items, i, v, key, person, address, meta) for i, v in enumerate(value))
            elif isinstance(value, Number):
                new = self._number(value, key, person, address)
            elif isinstance(value, str):
                new = self._string(value, key, person, address, meta)
            else:
                new = value
            if isinstance(parent, Object):
                parent[slot] = (parent[slot][0], new)
            else:
                parent[slot] = new
        return root[0]

    def _number(self, value: Number, key: str, person: bool, address: bool) -> Number:
        kind = personal.kind(key, person, address)
        digits = sum(c.isdigit() for c in value)
        looks_like_phone = person and 9 <= digits <= 15 and value.isdigit() and not personal.kept(key)
        return self.number(value) if kind == "phone" or looks_like_phone else value

    def _string(self, value: str, key: str, person: bool, address: bool, meta: bool) -> str:
        """A string's replacement: by its key's kind, JSON inside it redacted, else as text."""
        kind = personal.kind(key, person, address)
        if kind is not None and value:
            return self.pseudonym(kind, value)
        inner = _json_inside(value)
        if inner is not None:
            redacted = self._walk(inner, key, person, address, meta)
            return value if redacted == inner else exactjson.dumps_text(redacted)
        if EMAIL.fullmatch(value):
            return self.pseudonym("email", value)
        if personal.identifier(key):
            if PHONE.fullmatch(value) and (person or value.startswith("+")):
                return self._phone(value)
            return self._emails(value)
        if value and meta and (person or self.metadata):  # metadata keys are the merchant's: none is kept
            return self.pseudonym("metadata", value)
        if value and not personal.kept(key) and (person or address):
            return self.pseudonym("address" if address else "text", value)
        return self._text(value)

    def _emails(self, value: str) -> str:
        if not _AT_HINT.search(value):
            return value
        return EMAIL_IN_TEXT.sub(lambda m: self.pseudonym("email", m.group()), value)

    def _text(self, value: str) -> str:
        """Free text: email addresses (any encoding), IP addresses and phone numbers inside it replaced."""
        if _AT_HINT.search(value):
            value = self._emails(value)
        if _DIGITS_HINT.search(value):
            value = IP_IN_TEXT.sub(lambda m: self.pseudonym("ip", m.group()), value)
            value = PHONE_IN_TEXT.sub(lambda m: self._phone(m.group()), value)
        elif "::" in value:
            value = IP_IN_TEXT.sub(lambda m: self.pseudonym("ip", m.group()), value)
        return value

    def _phone(self, text: str) -> str:
        digits = sum(c.isdigit() for c in text)
        if digits < 7 or digits > 15 or _DATE.fullmatch(text.strip()) or (digits < 9 and text[0] not in "+("):
            return text  # an amount, a date, an order number: not a phone
        return self.pseudonym("phone", text)


@functools.lru_cache(maxsize=8192)
def _facts(key: str) -> tuple[str, bool, bool, bool]:
    """A member's key: normalised; whether it holds previous attributes, an address, metadata."""
    nk = personal.normal(key)
    return nk, nk == personal.PREVIOUS, personal.addresses(nk), personal.metadata(nk)


def _is_person(obj: Object, key: str, parent: bool) -> bool:
    """Whether an object is a person's: by its `object`, else its key, else what it holds, else its parent."""
    kind = obj.get("object")
    kind = personal.normal(kind) if isinstance(kind, str) else None
    if kind in personal.NOT_PEOPLE or key in personal.NOT_PEOPLE:
        return False
    if kind in personal.PEOPLE or key in personal.PEOPLE:
        return True
    return parent or any(
        isinstance(v, str) and v and personal.kind(personal.normal(k), False, False) not in (None, "ip") for k, v in obj
    )


def _beside_a_person(obj: Object) -> bool:
    """Whether the `previous_attributes` in `obj` are a person's: the object beside them (legacy:
    `object`; else any member) is a person or holds one."""
    main = obj.get("object")
    beside = [("object", main)] if isinstance(main, Object) else [(personal.normal(k), v) for k, v in obj]
    return any(
        isinstance(v, Object)
        and (
            _is_person(v, k, False)
            or any(isinstance(w, Object) and _is_person(w, personal.normal(j), False) for j, w in v)
        )
        for k, v in beside
    )


def _json_inside(text: str) -> Any:
    """The object or array a string holds as JSON (a legacy `data_json`), as an exact tree, else None."""
    start = text.lstrip()[:1]
    if start not in ("{", "["):
        return None
    try:
        value = exactjson.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def line(s: Summary, redactor: Redactor) -> bytes:
    """One event, redacted, as an NDJSON line (a projection: may run in a worker process)."""
    return exactjson.dumps(redactor.payload(exactjson.payload(s.event.raw, s.event.payload)), newline=True)
