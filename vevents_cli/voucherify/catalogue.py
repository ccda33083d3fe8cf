"""The one table of event-type knowledge.

Every event type vevents knows is listed here once, with its family and the facts worth
summarising for it. Nothing else in the code branches on event type names: recognition
attaches an event's entry once (`lookup`), `pipeline.summarise` reads the rules from it,
validation finds schemas through it, renderers only render what was summarised.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from vevents_cli import resources

# The 72 event types of the vendor's OpenAPI webhooks file, under the name Voucherify puts
# in `type` / `event.type` (the vendor's webhook pages list them; tests/test_vendor.py checks
# every name against those lists). scripts/generate_schemas.py asserts this list matches.
SCHEMA_TYPES: tuple[str, ...] = (
    "redemption.succeeded",
    "redemption.failed",
    "redemption.rollback.succeeded",
    "redemption.rollback.failed",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.redemption.succeeded",
    "customer.redemption.rollback.succeeded",
    "customer.rewarded",
    "customer.rewarded.loyalty_points",
    "customer.reward_redemptions.created",
    "customer.reward_redemptions.pending",
    "customer.reward_redemptions.completed",
    "customer.voucher.loyalty_card.pending_points.activated",
    "customer.voucher.loyalty_card.pending_points.added",
    "customer.voucher.loyalty_card.pending_points.canceled",
    "customer.voucher.loyalty_card.pending_points.updated",
    "customer.voucher.loyalty_card.points_added",
    "customer.voucher.loyalty_card.points_expired",
    "customer.voucher.gift.balance_added",
    "customer.segment.entered",
    "customer.segment.left",
    "customer.loyalty.tier.joined",
    "customer.loyalty.tier.upgraded",
    "customer.loyalty.tier.downgraded",
    "customer.loyalty.tier.prolonged",
    "customer.loyalty.tier.left",
    "customer.holder.assignment.created",
    "customer.holder.assignment.deleted",
    "customer.order.created",
    "customer.order.paid",
    "customer.order.updated",
    "customer.order.canceled",
    "customer.publication.succeeded",
    "customer.custom_event",
    "publication.succeeded",
    "voucher.created",
    "voucher.disabled",
    "voucher.enabled",
    "voucher.updated",
    "voucher.published",
    "voucher.loyalty_card.transaction.created",
    "voucher.loyalty_card.pending_points.activated",
    "voucher.loyalty_card.pending_points.added",
    "voucher.loyalty_card.pending_points.canceled",
    "voucher.loyalty_card.pending_points.updated",
    "voucher.loyalty_card.points_added",
    "voucher.loyalty_card.points_expired",
    "voucher.gift.transaction.created",
    "voucher.gift.balance_added",
    "voucher.deleted",
    "campaign.created",
    "campaign.vouchers.generation.completed",
    "campaign.disabled",
    "campaign.enabled",
    "campaign.updated",
    "campaign.deleted",
    "campaign.loyalty_tier.created",
    "campaign.loyalty_tier.deleted",
    "campaign.loyalty_tier.updated",
    "campaign.promotion_tier.created",
    "campaign.promotion_tier.disabled",
    "campaign.promotion_tier.enabled",
    "campaign.promotion_tier.updated",
    "campaign.promotion_tier.deleted",
    "business_validation_rule.created",
    "business_validation_rule.updated",
    "business_validation_rule.assignment.created",
    "business_validation_rule.assignment.deleted",
    "business_validation_rule.deleted",
    "manual_distribution_schedule",
)

# Types Voucherify documents (event list, legacy Event object page) with no schema in the
# OpenAPI file: recognised and summarised, validated for their envelope only.
EXTRA_TYPES: tuple[str, ...] = (
    "campaign.earning_rule.assigned",
    "campaign.earning_rule.deleted",
    "campaign.earning_rule.disabled",
    "campaign.earning_rule.enabled",
    "campaign.earning_rule.updated",
    "campaign.promotion_stack.created",
    "campaign.promotion_stack.updated",
    "campaign.referral_tier.created",
    "campaign.referral_tier.deleted",
    "campaign.referral_tier.updated",
    "campaign.reward.assignment.created",
    "campaign.reward.assignment.deleted",
    "campaign.reward.assignment.updated",
    "campaign.vouchers.added",
    "campaign.vouchers.generation.failed",
    "campaign.vouchers.generation.started",
    "customer.confirmed",
    "customer.referred",
)


# --- What to summarise -------------------------------------------------------------------
# A rule names candidate paths into the event's data ("a.b.c"); the first that holds a
# value wins. A leading "-" negates the number found there; a leading "=" is a constant.


@dataclass(frozen=True, slots=True)
class PointsRule:
    """Where a loyalty event says how many points moved and what the balance became.

    `delta` is the change of the card's balance (what can be spent); `pending` the change
    of its pending points (earned, not yet spendable), which never counts in `delta`, and
    `pending_balance` the pending points after it. A rule without `delta` paths never moves
    the card's balance (`moves_balance`); with `pending_replaced` the pending points were
    set to a new amount, so `pending` is that amount, not a change.
    """

    delta: tuple[str, ...]
    balance: tuple[str, ...]
    transaction_type: tuple[str, ...] = ("transaction.type",)
    reason: tuple[str, ...] = ("transaction.reason",)
    pending: tuple[str, ...] = ()
    pending_balance: tuple[str, ...] = ()
    pending_replaced: bool = False

    @property
    def moves_balance(self) -> bool:
        return bool(self.delta)


@dataclass(frozen=True, slots=True)
class GiftRule:
    """Where a gift-card event says how many credits moved and what the balance became."""

    delta: tuple[str, ...]
    balance: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TierRule:
    """Where a tier event names the loyalty tier it moved from and to."""

    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type of the catalogue: its family, whether it has a schema, its facts' rules."""

    name: str
    family: str
    has_schema: bool
    points: PointsRule | None = None
    gift: GiftRule | None = None
    tier: TierRule | None = None
    redemption: tuple[str, str | None] | None = None  # ("redemption" or "rollback", "succeeded"/"failed")

    @property
    def resource(self) -> str:
        """The data member holding what the event is about (`customer` for customer.updated)."""
        return self.name.split(".", 1)[0]

    @property
    def schema_file(self) -> str | None:
        """Its data schema, relative to a schema level folder (named by this table, never by input)."""
        return f"data/{self.name}.json" if self.has_schema else None


# Facts every type gets from the same places (the data's top-level objects).
CUSTOMER_FROM = ("customer", "holder")  # holder only when it is a customer object
VOUCHER_FROM = ("voucher",)
CAMPAIGN_FROM = ("campaign",)
ORDER_FROM = ("order", "redemption.order")
REDEMPTION_FROM = ("redemption",)
REWARD_FROM = ("reward",)
ISSUED_VOUCHER_FROM = ("reward.voucher",)  # the voucher a reward gave (legacy: the related event's)
SEGMENT_FROM = ("segment",)
# The change an event reports (its id and created_at): one change, however many events report
# it. A reward redemption's created, pending and completed events report one change.
TRANSACTION_FROM = ("transaction", "reward_redemption")
# The voucher a redemption used: a loyalty card's redemption `amount` is points, not minor units.
REDEEMED_VOUCHER_FROM = ("redemption.voucher", "voucher")
POINTS_VOUCHER_TYPES = frozenset({"LOYALTY_CARD"})

# Loyalty points. Deltas are signed: points spent on rewards and redemptions are negative.
_TX = ("transaction.details.balance.points",)
_TX_BALANCE = ("transaction.details.balance.balance",)
_PENDING_BALANCE = ("voucher_pending_points_balance.balance", "voucher.loyalty_card.pending_points")
TRANSACTION_POINTS = PointsRule(  # a transaction record: its details carry the balance change
    delta=(*_TX, "balance.points"), balance=(*_TX_BALANCE, "balance.balance")
)
BALANCE_POINTS = PointsRule(  # points added: the balance object, else the transaction's details
    delta=("balance.points", *_TX), balance=("balance.balance", *_TX_BALANCE)
)
EXPIRED_POINTS = PointsRule(  # expiry: the transaction's (negative) change, else minus `points`
    delta=(*_TX, "-points"),
    balance=(*_TX_BALANCE, "balance.balance"),
    transaction_type=("transaction.type", "=POINTS_EXPIRATION"),
)
PENDING_POINTS = PointsRule(  # pending points move the pending balance, never the card balance
    delta=(),
    balance=("voucher.loyalty_card.balance",),
    pending=("voucher_pending_points_balance.points", "pending_points.points"),
    pending_balance=_PENDING_BALANCE,
)
UPDATED_POINTS = PointsRule(  # pending points set to a new amount (not added to)
    delta=(),
    balance=("voucher.loyalty_card.balance",),
    pending=("voucher_pending_points_balance.points", "pending_points.points"),
    pending_balance=_PENDING_BALANCE,
    pending_replaced=True,
)
CANCELED_POINTS = PointsRule(  # canceled pending points leave the pending balance (signed as sent, else minus)
    delta=(),
    balance=("voucher.loyalty_card.balance",),
    pending=("voucher_pending_points_balance.points", "-pending_points.points"),
    pending_balance=_PENDING_BALANCE,
)
ACTIVATED_POINTS = PointsRule(  # activation: pending points leave the pending balance, join the card balance
    delta=("balance.points", *_TX, "pending_points.points"),
    balance=("balance.balance", *_TX_BALANCE),
    transaction_type=("transaction.type", "=PENDING_POINTS_ACTIVATION"),
    pending=(
        "-pending_points.points",
        "-transaction.details.pending_points.points",
        "-balance.points",
        "-transaction.details.balance.points",
    ),
    pending_balance=("voucher.loyalty_card.pending_points",),
)
REWARDED_POINTS = PointsRule(  # a reward paid with points: the redemption's amount, spent
    delta=("-redemption.amount",),
    balance=("voucher.loyalty_card.balance", "balance.balance"),
    transaction_type=("=POINTS_REDEMPTION",),
    reason=("reward.name",),
)
EARNED_POINTS = PointsRule(  # points granted by an earning rule
    delta=("balance.points",),
    balance=("balance.balance", "voucher.loyalty_card.balance"),
    transaction_type=("=POINTS_ACCRUAL",),
    reason=("earning_rule.event", "earning_rule.id"),
)
REWARD_REDEMPTION_POINTS = PointsRule(  # a reward bought with points: the assignment's price
    delta=("-reward_assignment.parameters.loyalty.points",),
    balance=("balance.balance", "voucher.loyalty_card.balance"),
    transaction_type=("=POINTS_REDEMPTION",),
    reason=("reward.name",),
)

GIFT_BALANCE = GiftRule(
    delta=("balance.amount", "transaction.details.balance.amount"),
    balance=("balance.balance", "transaction.details.balance.balance"),
)
GIFT_TRANSACTION = GiftRule(
    delta=("transaction.details.balance.amount", "balance.amount"),
    balance=("transaction.details.balance.balance", "balance.balance"),
)

TIER_MOVE = TierRule(before=("loyalty_tier_from.name",), after=("loyalty_tier_to.name",))
TIER_JOIN = TierRule(before=(), after=("loyalty_tier.name",))
TIER_STAY = TierRule(before=("loyalty_tier.name",), after=("loyalty_tier.name",))
TIER_LEAVE = TierRule(before=("loyalty_tier.name",), after=())

# Per-type rules; every other type gets only the common facts above.
_RULES: dict[str, dict[str, object]] = {
    "customer.rewarded": {"points": REWARDED_POINTS},
    "customer.rewarded.loyalty_points": {"points": EARNED_POINTS},
    "customer.reward_redemptions.created": {"points": REWARD_REDEMPTION_POINTS},
    "customer.reward_redemptions.pending": {"points": REWARD_REDEMPTION_POINTS},
    "customer.reward_redemptions.completed": {"points": REWARD_REDEMPTION_POINTS},
    "voucher.loyalty_card.transaction.created": {"points": TRANSACTION_POINTS},
    "customer.voucher.loyalty_card.points_added": {"points": BALANCE_POINTS},
    "voucher.loyalty_card.points_added": {"points": BALANCE_POINTS},
    "customer.voucher.loyalty_card.points_expired": {"points": EXPIRED_POINTS},
    "voucher.loyalty_card.points_expired": {"points": EXPIRED_POINTS},
    "customer.voucher.loyalty_card.pending_points.added": {"points": PENDING_POINTS},
    "customer.voucher.loyalty_card.pending_points.updated": {"points": UPDATED_POINTS},
    "customer.voucher.loyalty_card.pending_points.canceled": {"points": CANCELED_POINTS},
    "customer.voucher.loyalty_card.pending_points.activated": {"points": ACTIVATED_POINTS},
    "voucher.loyalty_card.pending_points.added": {"points": PENDING_POINTS},
    "voucher.loyalty_card.pending_points.updated": {"points": UPDATED_POINTS},
    "voucher.loyalty_card.pending_points.canceled": {"points": CANCELED_POINTS},
    "voucher.loyalty_card.pending_points.activated": {"points": ACTIVATED_POINTS},
    "customer.voucher.gift.balance_added": {"gift": GIFT_BALANCE},
    "voucher.gift.balance_added": {"gift": GIFT_BALANCE},
    "voucher.gift.transaction.created": {"gift": GIFT_TRANSACTION},
    "customer.loyalty.tier.joined": {"tier": TIER_JOIN},
    "customer.loyalty.tier.upgraded": {"tier": TIER_MOVE},
    "customer.loyalty.tier.downgraded": {"tier": TIER_MOVE},
    "customer.loyalty.tier.prolonged": {"tier": TIER_STAY},
    "customer.loyalty.tier.left": {"tier": TIER_LEAVE},
    "campaign.loyalty_tier.created": {"tier": TIER_JOIN},
    "campaign.loyalty_tier.updated": {"tier": TIER_STAY},
    "campaign.loyalty_tier.deleted": {"tier": TIER_LEAVE},
}

# Families, by the longest matching name prefix.
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("customer.voucher.loyalty_card.", "loyalty"),
    ("voucher.loyalty_card.", "loyalty"),
    ("customer.rewarded", "loyalty"),
    ("customer.reward_redemptions.", "loyalty"),
    ("customer.loyalty.", "loyalty"),
    ("campaign.loyalty_tier.", "loyalty"),
    ("customer.voucher.gift.", "gift"),
    ("voucher.gift.", "gift"),
    ("customer.redemption.", "redemption"),
    ("redemption.", "redemption"),
    ("customer.order.", "order"),
    ("customer.segment.", "segment"),
    ("customer.publication.", "publication"),
    ("publication.", "publication"),
    ("customer.", "customer"),
    ("voucher.", "voucher"),
    ("campaign.", "campaign"),
    ("business_validation_rule.", "validation_rule"),
    ("distribution.", "distribution"),
    ("manual_distribution_schedule", "distribution"),
)


def _family(name: str) -> str:
    return next(family for prefix, family in _FAMILIES if name.startswith(prefix))


def _redemption(name: str, family: str) -> tuple[str, str | None] | None:
    """What a redemption-family type says of its redemption: kind and outcome (from its name)."""
    if family != "redemption":
        return None
    kind = "rollback" if ".rollback." in name else "redemption"
    return kind, next((o for o in ("succeeded", "failed") if name.endswith("." + o)), None)


def _entry(name: str, has_schema: bool) -> EventType:
    rules = _RULES.get(name, {})
    family = _family(name)
    return EventType(name, family, has_schema, redemption=_redemption(name, family), **rules)  # type: ignore[arg-type]


CATALOGUE: dict[str, EventType] = {
    **{name: _entry(name, True) for name in SCHEMA_TYPES},
    **{name: _entry(name, False) for name in EXTRA_TYPES},
}

# Aliases seen in the wild for catalogue types (a legacy or distribution `type`).
ALIASES: dict[str, str] = {"distribution.manual_distribution_schedule": "manual_distribution_schedule"}


def lookup(name: str | None) -> EventType | None:
    """The catalogue entry for an event type name (or a known alias), else None."""
    if not name:
        return None
    return CATALOGUE.get(name) or CATALOGUE.get(ALIASES.get(name, ""))


_FILE_SUFFIXES = (".gz", ".json", ".ndjson", ".jsonl")


@functools.lru_cache(maxsize=256)
def type_named_by(source: str) -> str | None:
    """The event type a fixture's path names: its file name without `.json`/`.ndjson`/`.gz`,
    else its nearest folder whose name is a known type (`fixtures/voucher.published/x.json`,
    as `split --bare` writes them). Only looked up in this table: never used as a path."""
    parts = source.replace("\\", "/").split("/")
    stem = parts[-1]
    for suffix in _FILE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    for name in (stem, *reversed(parts[:-1])):
        entry = lookup(name)
        if entry is not None:
            return entry.name
    return None


def types_fitting(data: dict[str, Any]) -> tuple[str, ...]:
    """The event types whose data schema fits these top-level members best (bare payloads).

    A type can fit only when every member it requires is present and it declares at
    least one member given. The best fit has the fewest given members it does not
    declare, then the fewest declared members not given (the tightest schema). One name:
    the type is known; several: they tie and the type cannot be told; none: nothing fits.
    """
    keys = set(data)
    best: list[str] = []
    best_score = (len(keys) + 1, 0)
    for name, shape in resources.shapes().items():
        props = shape["properties"]
        if not keys.issuperset(shape["required"]) or keys.isdisjoint(props):
            continue
        score = (len(keys.difference(props)), len(props) - len(keys.intersection(props)))
        if score < best_score:
            best, best_score = [name], score
        elif score == best_score:
            best.append(name)
    return tuple(best)
