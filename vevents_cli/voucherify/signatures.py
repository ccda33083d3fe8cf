"""Webhook signatures: Voucherify's HMAC-SHA256 over the payload, checked as received.

Voucherify sends `x-voucherify-signature: <hex HMAC-SHA256 of the body, keyed with the
project's webhook secret>`. For a JSON payload, whitespace outside strings is removed
before signing, so a body is checked twice: its bytes exactly as given, then their
compact form. Pure functions: no I/O, and the secret is never part of any output.

`check` is `verify`'s pipeline projection: one event's signature (from `--signature` or
its delivery headers) checked over the bytes it was read from; `check_body` does the same
for a body that is not an event (not JSON, or not an object: a top-level array is one
body, signed whole), kept by the reader.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import orjson

from vevents_cli.model import Locator, Summary, Unreadable

SIGNATURE_HEADER = "x-voucherify-signature"
SECRET_ENV = "VOUCHERIFY_WEBHOOK_SECRET"

# A JSON string (escapes included, unrolled for speed), or a run of anything but JSON whitespace.
_KEPT = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[^ \t\r\n"]+|"', re.S)
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

Form = Literal["raw", "compact"]


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of a check: did it match, and which form of the body was signed."""

    matched: bool
    form: Form | None = None


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of `body` keyed with `secret` (what Voucherify sends)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def compact(body: bytes) -> bytes:
    """`body` without whitespace outside JSON strings; strings, key order, numbers untouched."""
    return b"".join(_KEPT.findall(body))


def verify(body: bytes, secret: str, signature: str, *, alternatives: Iterable[bytes] = ()) -> Match:
    """Check `signature` against the raw bytes (then each alternative spelling), then the compact form.

    `alternatives` are other raw spellings of the same body, e.g. a file without its
    trailing newline. Comparison is constant-time.
    """
    given = signature.strip().lower().encode("ascii", "replace")
    bodies = [body, *alternatives]
    for candidate in bodies:
        if _same(candidate, secret, given):
            return Match(True, "raw")
    compacts = {compact(candidate.rstrip(b" \t\r\n")) for candidate in bodies}  # trailing space: outside strings
    for candidate in compacts:
        if candidate not in bodies and _same(candidate, secret, given):
            return Match(True, "compact")
    return Match(False, None)


def _same(body: bytes, secret: str, given: bytes) -> bool:
    return hmac.compare_digest(sign(body, secret).encode("ascii"), given)


def likely_causes(body: bytes, signature: str) -> tuple[str, ...]:
    """Why a signature may not match this body, most likely first."""
    if not _HEX_SHA256.fullmatch(signature.strip()):
        return ("the signature is not a hex HMAC-SHA256 (64 hex digits): check which header was copied",)
    edited = "body re-serialised or edited after signing"
    if compact(body) != body:
        edited += " (it is not compact here: only the bytes as received, or their compact form, verify)"
    else:
        edited += " (key order, number spelling, escapes or values changed)"
    return (
        "wrong secret (use the webhook secret of the project that sent it)",
        edited,
        "signature of another delivery (header and body taken from different requests)",
    )


def verdict(has_secret: bool, given: str | None, match: Match | None) -> str:
    """One word for a delivery's signature: missing, unchecked, raw, compact or mismatch."""
    if not given:
        return "missing"
    if not has_secret:
        return "unchecked"
    if match is not None and match.matched and match.form is not None:
        return match.form
    return "mismatch"


@dataclass(frozen=True, slots=True)
class Checked:
    """One event's signature check, for `vevents verify`."""

    locator: str
    label: str  # the event's type, custom name, or "type unknown" ("not an event": see `note`)
    given: bool  # a signature was there to check
    match: Match | None = None
    causes: tuple[str, ...] = ()
    note: str | None = None  # why the body is not an event (it was checked all the same)


NOT_AN_EVENT = "not an event"


def check(s: Summary, secret: str, signature: str | None = None) -> Checked:
    """Check one event's signature over its bytes as read (a projection: may run in a worker).

    A value read from a plain file is also tried with the line end a file adds after it.
    """
    event = s.event
    label = event.type or event.name or "type unknown"
    return _check(event.raw, event.headers, event.locator, label, secret, signature)


def check_body(item: Unreadable, secret: str, signature: str | None = None) -> Checked | None:
    """Check the signature of a body that is not an event (not JSON, not an object) over its
    bytes: the HMAC is about bytes. None when there are no bytes, or no signature, to check."""
    if item.raw is None:
        return None
    given = signature or (item.headers or {}).get(SIGNATURE_HEADER)
    if not given:
        return None
    checked = _check(item.raw, item.headers, item.locator, NOT_AN_EVENT, secret, given)
    return replace(checked, note=_not_an_event(item.raw))


def _not_an_event(body: bytes) -> str:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "the body is not JSON"
    if isinstance(value, list) and value:
        return f"the body is a JSON array of {len(value)}, checked whole (the bytes signed)"
    return "the body is JSON but not an event object"


def _check(
    raw: bytes, headers: Mapping[str, str] | None, locator: Locator, label: str, secret: str, signature: str | None
) -> Checked:
    given = signature or (headers or {}).get(SIGNATURE_HEADER)
    if not given:
        return Checked(str(locator), label, False)
    alternatives = (raw + b"\n", raw + b"\r\n") if headers is None and locator.index is None else ()
    match = verify(raw, secret, given, alternatives=alternatives)
    causes = () if match.matched else likely_causes(raw, given)
    return Checked(str(locator), label, True, match, causes)
