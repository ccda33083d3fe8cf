"""Stats: aggregate a run's events into one document (no rich; `collect` is the only I/O).

`row` is the pipeline projection (one event to the plain values stats needs, made where
the event is); `Stats.add` takes the rows one by one; `Stats.document(top)` gives the
aggregate as plain data, the same for `--format json` and for the tables of
`output.stats`. Lists are cut to the `top` rows (None: all), each with its `total`.
The `timeline` counts events (invalid ones, and redemptions' first failures, apart) per
time bucket, the bucket size chosen from the time span (`Timeline`).

Points are the card balance's changes (`delta`); pending points (earned, not yet
spendable) are totalled apart, and join the points when an activation moves them.
Events by type and dialect count every record; customers, campaigns and redemptions
count a delivery retried (the same `delivery_id` again) once, so points are not doubled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from vevents_cli.model import Summary, Tally
from vevents_cli.output.streams import Streams, drain
from vevents_cli.pipeline.filters import parse_time

UNKNOWN = "unknown"


@dataclass(slots=True)
class _Customer:
    id: str | None
    source_id: str | None
    email: str | None
    name: str | None
    events: int = 0
    points: int | float = 0
    pending: int | float = 0
    gift: int | float = 0
    last_seen: str | None = None
    last_seen_at: datetime | None = None


@dataclass(slots=True)
class _Campaign:
    id: str | None
    name: str | None
    events: int = 0
    points_issued: int | float = 0
    points_spent: int | float = 0
    pending: int | float = 0


@dataclass(slots=True)
class _Previous:
    locator: str
    created_at: str
    at: datetime


class Row(NamedTuple):
    """What `stats` needs of one event, as plain values (cheap to send between processes)."""

    type: str | None
    dialect: str
    locator: str
    source: str
    delivery_id: str | None
    created_at: str | None
    customer: tuple[str | None, str | None, str | None, str | None] | None  # id, source_id, email, name
    points: int | float | None  # delta of the card balance
    pending: int | float | None  # delta of the pending points
    gift: int | float | None  # delta
    campaign: tuple[str | None, str | None] | None  # id, name
    redemption: tuple[str | None, str | None] | None  # id, result
    outcome: tuple[str, str | None] | None  # what the type says: kind, outcome (catalogue)
    valid: bool | None = None  # None: not checked


def row(s: Summary) -> Row:
    """What `stats` needs of one event (a pipeline projection: may run in a worker process)."""
    event, c, camp, red = s.event, s.customer, s.campaign, s.redemption
    return Row(
        event.type,
        event.dialect,
        str(event.locator),
        event.locator.source,
        event.delivery_id,
        event.created_at,
        (c.id, c.source_id, c.email, c.name) if c else None,
        s.points.delta if s.points else None,
        s.points.pending if s.points else None,
        s.gift.delta if s.gift else None,
        (camp.id, camp.name) if camp else None,
        (red.id, red.result) if red else None,
        event.entry.redemption if event.entry else None,
        s.valid,
    )


# The timeline's bucket sizes, each a multiple of the one before, aligned on a Monday 00:00 UTC.
GRAINS: tuple[tuple[str, int], ...] = (
    ("PT1M", 60),
    ("PT5M", 300),
    ("PT15M", 900),
    ("PT1H", 3600),
    ("PT6H", 6 * 3600),
    ("P1D", 86400),
    ("P7D", 7 * 86400),
)
ORIGIN = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday
HELD = 2048  # buckets held while counting; one more and they merge into the next size
ROWS = 24  # the timeline shows the finest size giving at most this many rows (weeks: as many as it takes)


def _merged(buckets: dict[int, list[int]], factor: int) -> dict[int, list[int]]:
    merged: dict[int, list[int]] = {}
    for key, counts in buckets.items():
        into = merged.setdefault(key // factor, [0, 0, 0])
        for i, n in enumerate(counts):
            into[i] += n
    return merged


@dataclass(slots=True)
class Timeline:
    """Events per time bucket: [events, invalid, failed redemptions] by bucket number at the
    size `GRAINS[grain]`. At most `HELD` buckets are held (memory stays flat): one more and
    every bucket merges into the next size, which is what the same events would have given
    at that size, so the result does not depend on the order the events came in."""

    grain: int = 0
    buckets: dict[int, list[int]] = field(default_factory=dict)
    untimed: int = 0  # events without a readable created_at

    def add(self, when: datetime | None, invalid: bool, failed: bool) -> None:
        if when is None:
            self.untimed += 1
            return
        key = int((when - ORIGIN) // timedelta(seconds=GRAINS[self.grain][1]))
        counts = self.buckets.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += invalid
        counts[2] += failed
        while len(self.buckets) > HELD and self.grain + 1 < len(GRAINS):
            self.buckets = _merged(self.buckets, GRAINS[self.grain + 1][1] // GRAINS[self.grain][1])
            self.grain += 1

    def document(self) -> dict[str, Any]:
        """`{"bucket": "PT1H", "rows": [{"start", "events", "invalid", "failed_redemptions"}],
        "untimed": N}`: every bucket from the first event's to the last's, empty ones too."""
        grain, buckets = self.grain, self.buckets
        while buckets and max(buckets) - min(buckets) + 1 > ROWS and grain + 1 < len(GRAINS):
            buckets = _merged(buckets, GRAINS[grain + 1][1] // GRAINS[grain][1])
            grain += 1
        name, seconds = GRAINS[grain]
        rows = []
        for key in range(min(buckets), max(buckets) + 1) if buckets else ():
            events, invalid, failed = buckets.get(key, (0, 0, 0))
            start = (ORIGIN + timedelta(seconds=key * seconds)).isoformat().replace("+00:00", "Z")
            rows.append({"start": start, "events": events, "invalid": invalid, "failed_redemptions": failed})
        return {"bucket": name if buckets else None, "rows": rows, "untimed": self.untimed}


@dataclass(slots=True)
class Stats:
    by_type: Counter[str] = field(default_factory=Counter)
    by_dialect: Counter[str] = field(default_factory=Counter)
    customers: dict[str, _Customer] = field(default_factory=dict)
    campaigns: dict[str, _Campaign] = field(default_factory=dict)
    redemptions: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"redemption": {}, "rollback": {}}
    )  # kind -> redemption (or delivery) id -> "succeeded" | "failed"
    first: tuple[datetime, str] | None = None
    last: tuple[datetime, str] | None = None
    deliveries: dict[str, str] = field(default_factory=dict)  # delivery id -> where first seen
    repeated: dict[str, list[str]] = field(default_factory=dict)  # delivery id -> every locator
    out_of_order: list[dict[str, str]] = field(default_factory=list)
    timeline: Timeline = field(default_factory=lambda: Timeline())
    _previous: dict[str, _Previous] = field(default_factory=dict)

    def add(self, r: Row) -> None:
        """Count one event."""
        self.by_type[r.type or UNKNOWN] += 1
        self.by_dialect[r.dialect] += 1
        retry = bool(r.delivery_id) and self._delivery(r.delivery_id, r.locator)  # type: ignore[arg-type]
        when = parse_time(r.created_at)
        if when is not None:
            self._time(r.created_at or "", when, r.locator, r.source)
        failed = False
        if not retry:  # a retry carries the same points: count them once
            self._customer(r, when)
            self._campaign(r)
            failed = self._redemption(r)
        self.timeline.add(when, r.valid is False, failed)

    def _delivery(self, key: str, locator: str) -> bool:
        """Note where a delivery was seen; whether it was seen before (a retry)."""
        first = self.deliveries.get(key)
        if first is None:
            self.deliveries[key] = locator
            return False
        self.repeated.setdefault(key, [first]).append(locator)
        return True

    def _time(self, text: str, when: datetime, locator: str, source: str) -> None:
        if self.first is None or when < self.first[0]:
            self.first = (when, text)
        if self.last is None or when > self.last[0]:
            self.last = (when, text)
        previous = self._previous.get(source)
        if previous is not None and when < previous.at:
            self.out_of_order.append(
                {
                    "locator": locator,
                    "created_at": text,
                    "previous_locator": previous.locator,
                    "previous_created_at": previous.created_at,
                }
            )
        self._previous[source] = _Previous(locator, text, when)

    def _customer(self, r: Row, when: datetime | None) -> None:
        if r.customer is None:
            return
        cid, source_id, email, name = r.customer
        key = cid or source_id or email
        if not key:
            return
        entry = self.customers.get(key)
        if entry is None:
            entry = self.customers[key] = _Customer(cid, source_id, email, name)
        entry.email, entry.name = entry.email or email, entry.name or name
        entry.events += 1
        entry.points += r.points or 0
        entry.pending += r.pending or 0
        entry.gift += r.gift or 0
        if when is not None and (entry.last_seen_at is None or when > entry.last_seen_at):
            entry.last_seen, entry.last_seen_at = r.created_at, when

    def _campaign(self, r: Row) -> None:
        if r.campaign is None:
            return
        cid, name = r.campaign
        key = cid or name
        if not key:
            return
        entry = self.campaigns.get(key)
        if entry is None:
            entry = self.campaigns[key] = _Campaign(cid, name)
        entry.name = entry.name or name
        entry.events += 1
        if r.points is not None and r.points > 0:
            entry.points_issued += r.points
        elif r.points is not None and r.points < 0:
            entry.points_spent += r.points
        entry.pending += r.pending or 0

    def _redemption(self, r: Row) -> bool:
        """Outcome by type name in the redemption family, else by `redemption.result`; whether
        this event is a redemption's first word of its failure.

        Counted once per redemption id, so a redemption notified by several event types
        (or delivered twice) counts once.
        """
        kind, outcome = r.outcome or ("redemption", None)
        redemption_id, result = r.redemption or (None, None)
        if outcome is None and r.redemption is not None:
            outcome = {"SUCCESS": "succeeded", "FAILURE": "failed"}.get((result or "").upper())
        key = redemption_id or r.delivery_id or r.locator
        if outcome is None:
            return False
        known = self.redemptions[kind]
        first_failure = kind == "redemption" and outcome == "failed" and known.get(key) != "failed"
        known[key] = outcome
        return first_failure

    def document(self, tally: Tally, top: int | None = 10) -> dict[str, Any]:
        """The aggregate as plain data (the `--format json` document)."""

        def cut(rows: list[dict[str, Any]]) -> dict[str, Any]:
            return {"total": len(rows), "rows": rows if top is None else rows[:top]}

        customers = sorted(self.customers.values(), key=lambda r: (-r.events, r.id or r.source_id or ""))
        campaigns = sorted(self.campaigns.values(), key=lambda r: (-r.events, r.id or r.name or ""))
        duplicates: list[dict[str, Any]] = [
            {"delivery_id": key, "count": len(where), "locators": where} for key, where in self.repeated.items()
        ]
        duplicates.sort(key=lambda r: -r["count"])
        outcomes = {kind: Counter(ids.values()) for kind, ids in self.redemptions.items()}
        return {
            "events": tally.events,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "unreadable": tally.unreadable,
            "filtered": tally.filtered,
            "time_span": {
                "first": self.first[1] if self.first else None,
                "last": self.last[1] if self.last else None,
            },
            "by_type": cut([{"type": t, "events": n} for t, n in self.by_type.most_common()]),
            "by_dialect": cut([{"dialect": d, "events": n} for d, n in self.by_dialect.most_common()]),
            "customers": cut(
                [
                    {
                        "id": r.id,
                        "source_id": r.source_id,
                        "email": r.email,
                        "name": r.name,
                        "events": r.events,
                        "points": r.points,
                        "pending": r.pending,
                        "gift": r.gift,
                        "last_seen": r.last_seen,
                    }
                    for r in customers
                ]
            ),
            "campaigns": cut(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "events": r.events,
                        "points_issued": r.points_issued,
                        "points_spent": r.points_spent,
                        "pending": r.pending,
                    }
                    for r in campaigns
                ]
            ),
            "redemptions": {
                "succeeded": outcomes["redemption"]["succeeded"],
                "failed": outcomes["redemption"]["failed"],
                "rollbacks_succeeded": outcomes["rollback"]["succeeded"],
                "rollbacks_failed": outcomes["rollback"]["failed"],
            },
            "duplicates": cut(duplicates),
            "out_of_order": cut(self.out_of_order),
            "timeline": self.timeline.document(),
        }


def collect(results: Any, streams: Streams) -> Stats:
    """Every row of a run, aggregated (unreadable input reported on the way)."""
    aggregate = Stats()
    drain(results, streams, aggregate.add)
    return aggregate
