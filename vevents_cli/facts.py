"""The facts a `model.Summary` carries: exactly the members `show --format json` prints for them.

Small frozen dataclasses, like the rest of `model`, in a module of their own: only commands
that read facts (`show`, `stats`, `ledger`...) make them; `validate` never imports this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Customer:
    """The customer an event is about."""

    id: str | None
    source_id: str | None
    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Voucher:
    """A voucher: the one an event is about, or the one issued as a reward."""

    id: str | None
    code: str | None
    type: str | None
    gift_balance: int | float | None = None  # a gift card's credits (minor units)


@dataclass(frozen=True, slots=True)
class Campaign:
    """The campaign an event belongs to."""

    id: str | None
    name: str | None
    type: str | None


@dataclass(frozen=True, slots=True)
class Order:
    """The order an event reports."""

    id: str | None
    amount: int | float | None
    status: str | None


@dataclass(frozen=True, slots=True)
class Redemption:
    """A redemption: its result, and the amount redeemed."""

    id: str | None
    result: str | None
    amount: int | float | None
    in_points: bool = False  # a loyalty card's redemption: `amount` is points, not minor units (not in JSON)


@dataclass(frozen=True, slots=True)
class Reward:
    """The reward an event reports."""

    id: str | None
    name: str | None
    type: str | None


@dataclass(frozen=True, slots=True)
class Tier:
    """A loyalty tier change: before -> after."""

    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Points:
    """Loyalty points: `delta` moved the card balance; `pending` moved the pending balance only."""

    delta: int | float | None
    balance: int | float | None
    pending: int | float | None
    transaction_type: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Transaction:
    """The transaction an event reports: one change, however many events (or copies) carry it."""

    id: str | None
    created_at: str | None


@dataclass(frozen=True, slots=True)
class Gift:
    """Gift card credits moved, and the balance after."""

    delta: int | float | None
    balance: int | float | None


@dataclass(frozen=True, slots=True)
class Change:
    """One member of a legacy event's `previous_attributes`: old value -> new value."""

    field: str
    old: Any
    new: Any
