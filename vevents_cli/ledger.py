"""Ledger: reconcile each loyalty card's points from the events themselves (no rich; `collect`
is the only I/O).

`row` is the pipeline projection (one event to the plain values the ledger needs, made where
the event is, in a worker process for a large log); `Ledger.add` takes the rows in input
order, as serial and parallel runs both give them; `Ledger.document` gives the result as
plain data, the same for `--format json` and for the tables of `output.ledger`.

A card's events are put in the order Voucherify created them (`created_at`; ties: the
transaction's time, then input order) and the arithmetic is checked: the balance after an
event is the previous balance after plus its change. Each event's points facts come from
the catalogue's points rules (`pipeline.summarise`); a rule that never moves the card's
balance (pending points) has a change of 0 there. What a break most likely is:

- missing: the balance moved by more than the events between say (the difference arrived
  in no event, between the two events' times);
- reordered: an event arrived after one Voucherify created later (it was delivered late;
  in created order the arithmetic holds);
- duplicate: the same event (same event id or transaction id, same type and dialect)
  delivered again, counted once. The project and distribution copies of one change, two
  event types reporting one transaction (or the steps of one reward redemption) also count
  once, as `copies`, and are no break.

Pending points are a separate balance, checked the same way apart (a rule with
`pending_replaced` sets them to a new amount). A card's first event starts its balance
(no break); an event with only a change moves the running balance, one with only a
balance sets it, so a card reported in part by balances is reconciled without false breaks.

Memory grows with the cards, not the events: per card, only the last `WINDOW` events wait
to be put in order (a delivery later than that is checked where it arrived), the event and
transaction ids of the last `SEEN` events are kept to tell duplicates, a balance trend of
at most `TREND` points, and the first `MAX_BREAKS` breaks (all are counted). Only a card
shown as a timeline (`--card`, `--customer`) keeps its events.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from vevents_cli.model import Summary, Tally
from vevents_cli.output.streams import Streams, drain
from vevents_cli.pipeline.filters import parse_time

WINDOW = 512  # events per card waiting to be put in created order
SEEN = 4096  # event and transaction ids per card remembered to tell a duplicate
TREND = 64  # balance points kept per card for its sparkline (halved when full)
MAX_BREAKS = 1000  # breaks kept per card (every break is counted)
KINDS = ("missing", "reordered", "duplicate")
POINTS, PENDING = "points", "pending"

Number = int | float
CustomerFacts = tuple[str | None, str | None, str | None, str | None]  # id, source_id, email, name


class Row(NamedTuple):
    """What the ledger needs of one loyalty event, as plain values."""

    card: str  # voucher id, else code
    code: str | None
    customer: CustomerFacts | None
    type: str | None
    dialect: str
    locator: str
    delivery_id: str | None
    transaction_id: str | None
    created_at: str | None
    transaction_at: str | None
    delta: Number | None  # change of the card balance (0: the type never moves it)
    balance: Number | None  # card balance after
    pending: Number | None  # change of the pending points (or their new amount, if `replaced`)
    pending_balance: Number | None
    replaced: bool


def row(s: Summary) -> Row | None:
    """What the ledger needs of one event, None when it moves no card's points (a pipeline
    projection: may run in a worker process)."""
    points, voucher, entry = s.points, s.voucher, s.event.entry
    rule = entry.points if entry is not None else None
    if points is None or rule is None or voucher is None or not (voucher.id or voucher.code):
        return None
    event, c, tx = s.event, s.customer, s.transaction
    delta = points.delta if rule.moves_balance else 0
    return Row(
        voucher.id or voucher.code or "",
        voucher.code,
        (c.id, c.source_id, c.email, c.name) if c else None,
        event.type,
        event.dialect,
        str(event.locator),
        event.delivery_id,
        tx.id if tx else None,
        event.created_at,
        tx.created_at if tx else None,
        delta,
        points.balance,
        points.pending,
        s.pending_balance,
        rule.pending_replaced,
    )


class _Entry(NamedTuple):
    """One event waiting in a card's window, ordered by its first three members."""

    created: float
    transacted: float
    seq: int
    row: Row


class Break(NamedTuple):
    kind: str
    balance: str  # points | pending
    amount: Number | None
    after: str | None
    before: str | None
    locators: tuple[str, ...]
    at: str  # the locator of the event the timeline marks it at


class Step(NamedTuple):
    """One event of a shown timeline, with the running balances after it."""

    row: Row
    running: Number | None
    pending: Number | None


def _change(r: Row) -> tuple[str, Number | None]:
    """Which balance an event moved, and by how much (the card's, unless only pending points)."""
    return (POINTS, r.delta) if r.delta or r.pending is None else (PENDING, r.pending)


def _when(text: str | None) -> float:
    when = parse_time(text)
    return when.timestamp() if when is not None else math.inf


@dataclass(slots=True)
class _Balance:
    """A running balance (card points or pending points) and what was seen of it."""

    running: Number | None = None
    first: Number | None = None

    def step(self, delta: Number | None, after: Number | None, replaced: bool = False) -> Number | None:
        """Move by `delta` to `after`: the points missing between (None when it adds up)."""
        missing: Number | None = None
        if replaced:
            self.running = after if after is not None else delta
        elif self.running is not None and delta is not None:
            expected = self.running + delta
            if after is not None and after != expected:
                missing = after - expected
            self.running = after if after is not None else expected
        elif after is not None:
            self.running = after
        elif delta is None:
            self.running = None  # a change not told: the balance is not known until one is
        if self.first is None:
            self.first = self.running
        return missing


@dataclass(slots=True)
class Card:
    id: str
    code: str | None
    customer: CustomerFacts | None
    events: int = 0
    copies: int = 0
    first: str | None = None
    last: str | None = None
    net: Number = 0
    points: _Balance = field(default_factory=_Balance)
    pending: _Balance = field(default_factory=_Balance)
    previous: Row | None = None  # the last event put in order
    latest: tuple[float, float, str | None, str] | None = None  # latest created event delivered so far
    window: list[_Entry] = field(default_factory=list)
    seen: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # id -> locator, dialect, type
    breaks: list[Break] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    trend: list[Number] = field(default_factory=list)
    stride: int = 1
    skipped: int = 0
    timeline: list[Step] | None = None

    def note(self, b: Break) -> None:
        self.counts[b.kind] += 1
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(b)

    def arrive(self, r: Row, seq: int) -> None:
        """An event as delivered: a duplicate or copy, else into the window (in created order)."""
        if self._again(r):
            return
        entry = _Entry(_when(r.created_at), _when(r.transaction_at), seq, r)
        key = entry[:2]
        if self.latest is not None and key < self.latest[:2]:
            _, _, created, where = self.latest
            self.note(Break("reordered", *_change(r), r.created_at, created, (r.locator, where), r.locator))
        else:
            self.latest = (entry.created, entry.transacted, r.created_at, r.locator)
        heapq.heappush(self.window, entry)
        if len(self.window) > WINDOW:
            self.settle(heapq.heappop(self.window).row)

    def _again(self, r: Row) -> bool:
        keys = [f"{prefix}:{key}" for prefix, key in (("t", r.transaction_id), ("e", r.delivery_id)) if key]
        for key in keys:
            hit = self.seen.get(key)
            if hit is None:
                continue
            where, dialect, kind = hit
            if (dialect, kind) == (r.dialect, r.type):
                self.note(Break("duplicate", *_change(r), r.created_at, r.created_at, (where, r.locator), where))
            else:
                self.copies += 1
            return True
        for key in keys:
            self.seen[key] = (r.locator, r.dialect, r.type)
        while len(self.seen) > SEEN:
            del self.seen[next(iter(self.seen))]
        return False

    def settle(self, r: Row) -> None:
        """The next event in created order: check the arithmetic."""
        self.events += 1
        self.first = self.first or r.created_at
        self.last = r.created_at or self.last
        self.net += r.delta or 0
        prev = self.previous
        told = r.pending is not None or r.pending_balance is not None  # else the pending points did not move
        for balance, missing in (
            (POINTS, self.points.step(r.delta, r.balance)),
            (PENDING, self.pending.step(r.pending, r.pending_balance, r.replaced) if told else None),
        ):
            if missing is not None:
                after, before = (prev.created_at, prev.locator) if prev else (None, None)
                locators = (before, r.locator) if before else (r.locator,)
                self.note(Break("missing", balance, missing, after, r.created_at, locators, r.locator))
        self.previous = r
        if self.points.running is not None:
            self._trend(self.points.running)
        if self.timeline is not None:
            self.timeline.append(Step(r, self.points.running, self.pending.running))

    def _trend(self, value: Number) -> None:
        self.skipped += 1
        if self.skipped < self.stride:
            return
        self.skipped = 0
        self.trend.append(value)
        if len(self.trend) >= 2 * TREND:
            self.trend = self.trend[1::2]
            self.stride *= 2

    def finish(self) -> None:
        while self.window:
            self.settle(heapq.heappop(self.window).row)


def _matches(card: str | None, r: Row) -> bool:
    return card is None or card in (r.card, r.code)


@dataclass(slots=True)
class Ledger:
    card: str | None = None  # --card: only this card (code or id)
    timelines: bool = False  # keep each card's events, to show them one by one
    cards: dict[str, Card] = field(default_factory=dict)
    seq: int = 0

    def add(self, r: Row | None) -> None:
        """One event, in input order."""
        if r is None or not _matches(self.card, r):
            return
        card = self.cards.get(r.card)
        if card is None:
            card = self.cards[r.card] = Card(r.card, r.code, r.customer, timeline=[] if self.timelines else None)
        card.code, card.customer = card.code or r.code, card.customer or r.customer
        self.seq += 1
        card.arrive(r, self.seq)

    def finish(self) -> Iterator[Card]:
        """Every card, its window put in order, by code."""
        for card in sorted(self.cards.values(), key=lambda c: (c.code or "", c.id)):
            card.finish()
            yield card

    def document(self, tally: Tally) -> dict[str, Any]:
        """The reconciliation as plain data (the `--format json` document, with `trend` and,
        for timelines, `timeline` beside)."""
        cards = [_card(c) for c in self.finish()]
        counts = {kind: sum(c.counts[kind] for c in self.cards.values()) for kind in KINDS}
        return {
            "cards": cards,
            "summary": {
                "cards": len(cards),
                "events": sum(c.events for c in self.cards.values()),
                "copies": sum(c.copies for c in self.cards.values()),
                "breaks": counts,
                "unreadable": tally.unreadable,
                "filtered": tally.filtered,
            },
        }


def _customer(c: CustomerFacts | None) -> dict[str, str | None] | None:
    if c is None:
        return None
    return {"id": c[0], "source_id": c[1], "email": c[2], "name": c[3]}


def _break(b: Break) -> dict[str, Any]:
    return {
        "kind": b.kind,
        "balance": b.balance,
        "amount": b.amount,
        "after": b.after,
        "before": b.before,
        "locators": list(b.locators),
        "at": b.at,
    }


def _card(c: Card) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "voucher": {"id": c.id, "code": c.code},
        "customer": _customer(c.customer),
        "events": c.events,
        "copies": c.copies,
        "first": c.first,
        "last": c.last,
        "balance": {"first": c.points.first, "last": c.points.running},
        "net": c.net,
        "pending": c.pending.running,
        "breaks": [_break(b) for b in c.breaks],
        "break_counts": dict(c.counts),
        "trend": list(c.trend),
    }
    if c.timeline is not None:
        doc["timeline"] = [
            {
                "created_at": s.row.created_at,
                "type": s.row.type,
                "locator": s.row.locator,
                "change": s.row.delta,
                "balance": s.row.balance,
                "running": s.running,
                "pending": s.row.pending,
                "pending_running": s.pending,
            }
            for s in c.timeline
        ]
    return doc


def missing(doc: dict[str, Any]) -> bool:
    """Whether a delivery is missing somewhere (the exit status's rule)."""
    return bool(doc["summary"]["breaks"]["missing"])


def collect(results: Any, streams: Streams, card: str | None, timelines: bool) -> Ledger:
    """Every row of a run, reconciled (unreadable input reported on the way)."""
    ledger = Ledger(card, timelines)
    drain(results, streams, ledger.add)
    return ledger
