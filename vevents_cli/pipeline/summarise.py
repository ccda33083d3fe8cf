"""Summarise: the facts a person wants at a glance, read with the rules of the catalogue.

Customer, voucher, campaign, order, redemption, reward (and the voucher issued as the
reward), segment, loyalty tier, points and gift credits moved (pending points apart from
the card's balance, and the pending points after), the transaction reported (its id and
time), what a legacy event's
`previous_attributes` changed. Which paths hold them for which event type is the catalogue's
business (the event carries its entry); this module only applies those rules to one
event's data.
"""

from __future__ import annotations

import functools
from typing import Any

from vevents_cli.facts import (
    Campaign,
    Change,
    Customer,
    Gift,
    Order,
    Points,
    Redemption,
    Reward,
    Tier,
    Transaction,
    Voucher,
)
from vevents_cli.model import Event, Summary, Verdict
from vevents_cli.voucherify import catalogue, dialects


def summarise(event: Event, verdict: Verdict | None = None) -> Summary:
    view = _view(event)
    entry = event.entry
    return Summary(
        event=event,
        verdict=verdict,
        customer=_customer(view),
        voucher=_voucher(view),
        campaign=_campaign(view),
        order=_order(view),
        redemption=_redemption(view),
        reward=_reward(view),
        issued_voucher=_voucher_of(pick(view, catalogue.ISSUED_VOUCHER_FROM)),
        segment=_text(pick(view, catalogue.SEGMENT_FROM), "name"),
        tier=_tier(view, entry.tier) if entry and entry.tier else None,
        points=_points(view, entry.points) if entry and entry.points else None,
        gift=_gift(view, entry.gift) if entry and entry.gift else None,
        changes=_changes(event),
        transaction=_transaction(view),
        pending_balance=_number(pick(view, entry.points.pending_balance)) if entry and entry.points else None,
    )


def verdict_only(event: Event, verdict: Verdict | None = None) -> Summary:
    """A summary without facts, for commands that need only the event and its verdict."""
    return Summary(event, verdict)


# --- reading paths -------------------------------------------------------------------


@functools.cache
def _compile(path: str) -> tuple[bool, tuple[str, ...] | None, str | None]:
    """'-a.b' -> (negate, ('a', 'b'), None); '=X' -> (False, None, 'X')."""
    if path.startswith("="):
        return False, None, path[1:]
    negate = path.startswith("-")
    return negate, tuple(path.lstrip("-").split(".")), None


def dig(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def pick(data: Any, paths: tuple[str, ...]) -> Any:
    """The first value found among candidate paths (see catalogue's rule notation)."""
    for path in paths:
        negate, keys, constant = _compile(path)
        if keys is None:
            return constant
        value = dig(data, keys)
        if value is None:
            continue
        if negate and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if value else 0
        return value
    return None


def _text(obj: Any, key: str) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# --- the event's data, as one view ----------------------------------------------------


def _resource_view(data: Any) -> dict[str, Any]:
    """A data object where the resource it carries is also reachable by its own name.

    Legacy internal events put the resource itself in `data.object` (a redemption, a
    customer...), and their related events nest it again under `object`.
    """
    if not isinstance(data, dict):
        return {}
    kind = data.get("object")
    if isinstance(kind, str) and kind not in data:
        return {**data, kind: data}
    if isinstance(kind, dict) and isinstance(kind.get("object"), str) and kind["object"] not in data:
        return {**data, kind["object"]: kind}
    return data


def _view(event: Event) -> dict[str, Any]:
    """The data the facts are read from (legacy: the related event's data, then data.object)."""
    data = _resource_view(event.data)
    if event.related is None:
        return data
    return {**data, **{k: v for k, v in _resource_view(event.related).items() if v is not None}}


# --- facts ------------------------------------------------------------------------------


def _customer(view: dict[str, Any]) -> Customer | None:
    for key in catalogue.CUSTOMER_FROM:
        obj = view.get(key)
        if isinstance(obj, dict) and obj.get("object", "customer") == "customer":
            return Customer(_text(obj, "id"), _text(obj, "source_id"), _text(obj, "name"), _text(obj, "email"))
    return None


def _voucher(view: dict[str, Any]) -> Voucher | None:
    return _voucher_of(pick(view, catalogue.VOUCHER_FROM))


def _voucher_of(obj: Any) -> Voucher | None:
    if not isinstance(obj, dict):
        return None
    gift_balance = _number(dig(obj, ("gift", "balance")))
    return Voucher(_text(obj, "id"), _text(obj, "code"), _text(obj, "type"), gift_balance)


def _campaign(view: dict[str, Any]) -> Campaign | None:
    obj = pick(view, catalogue.CAMPAIGN_FROM)
    if isinstance(obj, dict):
        kind = _text(obj, "campaign_type") or _text(obj, "type")
        return Campaign(_text(obj, "id"), _text(obj, "name"), kind)
    voucher = view.get("voucher")
    if isinstance(voucher, dict) and (voucher.get("campaign_id") or voucher.get("campaign")):
        name = voucher.get("campaign")
        return Campaign(_text(voucher, "campaign_id"), name if isinstance(name, str) else None, None)
    return None


def _order(view: dict[str, Any]) -> Order | None:
    obj = pick(view, catalogue.ORDER_FROM)
    if not isinstance(obj, dict) or not obj:
        return None
    amount = _number(obj.get("amount"))
    if amount is None:
        amount = _number(obj.get("total_amount"))
    return Order(_text(obj, "id"), amount, _text(obj, "status"))


def _redemption(view: dict[str, Any]) -> Redemption | None:
    obj = pick(view, catalogue.REDEMPTION_FROM)
    if not isinstance(obj, dict):
        return None
    result = _text(obj, "result") or _text(obj, "status")
    in_points = any(_loyalty_card(pick(view, (path,))) for path in catalogue.REDEEMED_VOUCHER_FROM)
    return Redemption(_text(obj, "id"), result, _number(obj.get("amount")), in_points)


def _loyalty_card(voucher: Any) -> bool:
    return isinstance(voucher, dict) and (
        _text(voucher, "type") in catalogue.POINTS_VOUCHER_TYPES or isinstance(voucher.get("loyalty_card"), dict)
    )


def _transaction(view: dict[str, Any]) -> Transaction | None:
    obj = pick(view, catalogue.TRANSACTION_FROM)
    if not isinstance(obj, dict) or not (_text(obj, "id") or _text(obj, "created_at")):
        return None
    return Transaction(_text(obj, "id"), _text(obj, "created_at"))


def _reward(view: dict[str, Any]) -> Reward | None:
    obj = pick(view, catalogue.REWARD_FROM)
    if not isinstance(obj, dict):
        return None
    return Reward(_text(obj, "id"), _text(obj, "name"), _text(obj, "type"))


def _tier(view: dict[str, Any], rule: catalogue.TierRule) -> Tier | None:
    before, after = pick(view, rule.before), pick(view, rule.after)
    if before is None and after is None:
        return None
    return Tier(before if isinstance(before, str) else None, after if isinstance(after, str) else None)


def _points(view: dict[str, Any], rule: catalogue.PointsRule) -> Points | None:
    delta, balance = _number(pick(view, rule.delta)), _number(pick(view, rule.balance))
    pending = _number(pick(view, rule.pending))
    if delta is None and balance is None and pending is None:
        return None
    kind, reason = pick(view, rule.transaction_type), pick(view, rule.reason)
    return Points(
        delta,
        balance,
        pending,
        kind if isinstance(kind, str) else None,
        reason if isinstance(reason, str) else None,
    )


def _gift(view: dict[str, Any], rule: catalogue.GiftRule) -> Gift | None:
    delta, balance = _number(pick(view, rule.delta)), _number(pick(view, rule.balance))
    if delta is None and balance is None:
        return None
    return Gift(delta, balance)


def _changes(event: Event) -> tuple[Change, ...]:
    """Legacy events: what `previous_attributes` says changed, old -> new.

    The new value is the changed resource's, in `data.object`: the resource itself (what
    Voucherify sends), or data shaped like v2024's, the resource under its own name
    (`customer` for customer.updated).
    """
    if not dialects.DIALECTS[event.dialect].changes:
        return ()
    previous = event.payload["data"].get("previous_attributes")
    if not isinstance(previous, dict) or not previous:
        return ()
    current = event.data if isinstance(event.data, dict) else {}
    inner = current.get(event.entry.resource) if event.entry is not None else None
    resource = inner if isinstance(inner, dict) else {}
    return tuple(
        Change(key, old, current[key] if key in current else resource.get(key)) for key, old in previous.items()
    )
