"""Stats: aggregate a run's events into one document (no rich; `collect` is the only I/O).

`row` is the pipeline projection (one event to the plain values stats needs, made where
the event is). A `Partial` aggregates rows one by one (`add`) and merges the aggregate of
the rows that follow them (`merge`): a large log is reduced chunk by chunk in the worker
processes (`reduce`, the per-chunk hook of `pipeline.parallel`) and the chunks' partials
are merged in input order in the parent; the result is the serial run's, byte for byte.
`Partial.document(top)` gives the aggregate as plain data, the same for `--format json`
and for the tables of `output.stats`. Lists are cut to the `top` rows (None: all), each
with its `total`. The `timeline` counts events (invalid ones, and redemptions' first
failures, apart) per time bucket, the bucket size chosen from the time span (`Timeline`).

Points are the card balance's changes (`delta`); pending points (earned, not yet
spendable) are totalled apart, and join the points when an activation moves them. Sums
are exact: integers as Python integers (a run reads integers of any size exactly),
numbers with a fraction as exact fractions, shown as the nearest float, or as the exact
integer nearest the sum when it is beyond the float range (`shown`), so the order events
are added in never changes a sum.

Events by type and dialect count every record; customers, campaigns and redemptions
count a delivery retried (the same `delivery_id` again) once, so points are not doubled.
Delivery ids seen are held as 16-byte digests with where each was first seen (`Digests`:
one array, not an object per id), so memory stays flat on a log of millions of events.
"""

from __future__ import annotations

import hashlib
import pickle
from array import array
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from vevents_cli.model import Locator, Summary, Tally
from vevents_cli.output.streams import Streams, drain
from vevents_cli.pipeline.filters import parse_time

UNKNOWN = "unknown"
Sum = int | Fraction  # an exact sum of points


def plus(total: Sum, value: int | float | None) -> Sum:
    """`total + value`, exactly (a float joins as the fraction it is)."""
    if not value:
        return total
    if isinstance(value, float):
        return total + Fraction(value)
    return total + value


def shown(total: Sum) -> int | float:
    """A sum as the document shows it: an integer sum as it is (any size); one with a
    fraction as the nearest float, or beyond the float range as the nearest integer."""
    if isinstance(total, int):
        return total
    try:
        return float(total)
    except OverflowError:
        return round(total)


@dataclass(slots=True)
class _Customer:
    id: str | None
    source_id: str | None
    email: str | None
    name: str | None
    events: int = 0
    points: Sum = 0
    pending: Sum = 0
    gift: Sum = 0
    last_seen: str | None = None
    last_seen_at: datetime | None = None


@dataclass(slots=True)
class _Campaign:
    id: str | None
    name: str | None
    events: int = 0
    points_issued: Sum = 0
    points_spent: Sum = 0
    pending: Sum = 0


class _Previous(NamedTuple):
    locator: str
    created_at: str
    at: datetime
    seq: int  # the event's place in its partial (0: the first)


class Row(NamedTuple):
    """What `stats` needs of one event, as plain values (cheap to send between processes)."""

    type: str | None
    dialect: str
    locator: str
    source: str
    line: int
    array_index: int | None  # the place in a top-level array
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


def row(s: Summary, as_type: str | None = None) -> Row:
    """What `stats` needs of one event (a pipeline projection: may run in a worker process).

    The amounts it sums are exact: an event with one that orjson may have rounded (a float
    this large, read from an integer beyond its 64 bits) is read again from its bytes,
    exactly, and recognised as the run did (`as_type`: the run's `--as`)."""
    if _maybe_rounded(s):
        s = _read_exactly(s, as_type)
    event, c, camp, red = s.event, s.customer, s.campaign, s.redemption
    return Row(
        event.type,
        event.dialect,
        str(event.locator),
        event.locator.source,
        event.locator.line,
        event.locator.index,
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


ROUNDED = 2.0**53  # a float at least this large may be an integer orjson read as a float (beyond 64 bits)


def _maybe_rounded(s: Summary) -> bool:
    amounts: tuple[int | float | None, ...] = (s.points.delta, s.points.pending) if s.points else ()
    amounts += (s.gift.delta,) if s.gift else ()
    return any(isinstance(v, float) and abs(v) >= ROUNDED for v in amounts)


def _read_exactly(s: Summary, as_type: str | None) -> Summary:
    """The summary of the same event read with its integers exact (`jsonout.loads`)."""
    from dataclasses import replace

    from vevents_cli.jsonout import loads
    from vevents_cli.pipeline.recognise import recognise
    from vevents_cli.pipeline.summarise import summarise

    record = s.event.record
    return summarise(recognise(replace(record, value=loads(record.raw)), as_type), s.verdict)


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
STEPS = tuple(timedelta(seconds=seconds) for _, seconds in GRAINS)
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
        key = (when - ORIGIN) // STEPS[self.grain]
        counts = self.buckets.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += invalid
        counts[2] += failed
        while len(self.buckets) > HELD and self.grain + 1 < len(GRAINS):
            self.buckets = _merged(self.buckets, GRAINS[self.grain + 1][1] // GRAINS[self.grain][1])
            self.grain += 1

    def merge(self, other: Timeline) -> None:
        """Add the counts of `other` (at the coarser of the two sizes)."""
        while self.grain < other.grain:
            self.buckets = _merged(self.buckets, GRAINS[self.grain + 1][1] // GRAINS[self.grain][1])
            self.grain += 1
        theirs, grain = other.buckets, other.grain
        while grain < self.grain:
            theirs = _merged(theirs, GRAINS[grain + 1][1] // GRAINS[grain][1])
            grain += 1
        for key, counts in theirs.items():
            into = self.buckets.setdefault(key, [0, 0, 0])
            for i, n in enumerate(counts):
                into[i] += n
        self.untimed += other.untimed
        while len(self.buckets) > HELD and self.grain + 1 < len(GRAINS):
            self.buckets = _merged(self.buckets, GRAINS[self.grain + 1][1] // GRAINS[self.grain][1])
            self.grain += 1

    def uncount_failure(self, when: datetime) -> None:
        """Take back a failed redemption counted at `when`."""
        self.buckets[(when - ORIGIN) // STEPS[self.grain]][2] -= 1

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


RECENT = 4096  # deliveries held by id (a dict) before they move into the digest table
_LINE_BITS, _SOURCE_BITS, _INDEX_BITS = 40, 11, 13  # a locator packed in 64 bits (else held as text)
_FAR = (1 << 64) - 1  # the packed locator of one held as text


class Digests:
    """Delivery ids seen: each a 16-byte blake2b digest (two 64-bit words) with where it was
    first seen (source, line and index packed in a third word), in one open-addressing
    table (`array` of 64-bit words, linear probing, 3/8 to 3/4 full): 32-64 bytes an id,
    no Python object per id. Picklable (the array travels as bytes)."""

    __slots__ = ("far", "mask", "size", "slots", "source_ids", "sources")

    def __init__(self, capacity: int = 64) -> None:
        self.slots = array("Q", bytes(24 * capacity))  # [h1, h2, locator] per slot; h1 0: empty
        self.mask = capacity - 1
        self.size = 0
        self.sources: list[str] = []  # names of the sources in the packed locators
        self.source_ids: dict[str, int] = {}
        self.far: dict[tuple[int, int], str] = {}  # locators that do not pack

    @staticmethod
    def key(delivery_id: str) -> tuple[int, int]:
        digest = int.from_bytes(hashlib.blake2b(delivery_id.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        return (digest >> 64) or 1, digest & 0xFFFFFFFFFFFFFFFF

    def first(self, h1: int, h2: int) -> str | None:
        """Where the delivery was first seen, or None: not seen."""
        slots, mask = self.slots, self.mask
        i = h1 & mask
        while True:
            j = 3 * i
            held = slots[j]
            if not held:
                return None
            if held == h1 and slots[j + 1] == h2:
                return self._locator(h1, h2, slots[j + 2])
            i = (i + 1) & mask

    def put_all(self, deliveries: Collection[tuple[str, str, int, int | None]]) -> None:
        """Note deliveries not seen before: (delivery id, source, line, index in an array)."""
        if 4 * (self.size + len(deliveries)) > 3 * (self.mask + 1):
            self._grow(self.size + len(deliveries))
        key, insert, ids = Digests.key, self._insert, self.source_ids
        for delivery_id, source, line, index in deliveries:
            h1, h2 = key(delivery_id)
            s = ids.get(source)
            if s is None:
                s = ids[source] = len(self.sources)
                self.sources.append(source)
            i = 0 if index is None else index + 1
            if line >> _LINE_BITS or s >> _SOURCE_BITS or i >> _INDEX_BITS:
                self.far[h1, h2] = str(Locator(source, line, index))
                insert(h1, h2, _FAR)
            else:
                insert(h1, h2, line | s << _LINE_BITS | i << (_LINE_BITS + _SOURCE_BITS))

    def _insert(self, h1: int, h2: int, packed: int) -> None:
        slots, mask = self.slots, self.mask
        i = h1 & mask
        while slots[3 * i]:
            i = (i + 1) & mask
        j = 3 * i
        slots[j], slots[j + 1], slots[j + 2] = h1, h2, packed
        self.size += 1

    def _grow(self, size: int) -> None:
        capacity = self.mask + 1
        while 4 * size > 3 * capacity:
            capacity *= 2
        old = self.slots
        self.slots, self.mask, self.size = array("Q", bytes(24 * capacity)), capacity - 1, 0
        for j in range(0, len(old), 3):
            if old[j]:
                self._insert(old[j], old[j + 1], old[j + 2])

    def _locator(self, h1: int, h2: int, packed: int) -> str:
        if packed == _FAR:
            return self.far[h1, h2]
        line = packed & ((1 << _LINE_BITS) - 1)
        i = packed >> (_LINE_BITS + _SOURCE_BITS)
        source = self.sources[(packed >> _LINE_BITS) & ((1 << _SOURCE_BITS) - 1)]
        return str(Locator(source, line, i - 1 if i else None))

    def seen_any(self, other: Digests) -> bool:
        """Whether any delivery of `other` is held here."""
        if not self.size:
            return False
        slots, mask, theirs = self.slots, self.mask, other.slots
        for k in range(0, len(theirs), 3):
            h1 = theirs[k]
            if not h1:
                continue
            h2, i = theirs[k + 1], h1 & mask
            while True:
                j = 3 * i
                held = slots[j]
                if not held:
                    break
                if held == h1 and slots[j + 1] == h2:
                    return True
                i = (i + 1) & mask
        return False

    def update(self, other: Digests) -> None:
        """Hold the deliveries of `other` too (none of them held here yet)."""
        if 4 * (self.size + other.size) > 3 * (self.mask + 1):
            self._grow(self.size + other.size)
        renumber = []
        for source in other.sources:
            s = self.source_ids.get(source)
            if s is None:
                s = self.source_ids[source] = len(self.sources)
                self.sources.append(source)
            renumber.append(s)
        field_mask = ((1 << _SOURCE_BITS) - 1) << _LINE_BITS
        same = renumber == list(range(len(renumber)))
        theirs, insert = other.slots, self._insert
        for k in range(0, len(theirs), 3):
            h1 = theirs[k]
            if not h1:
                continue
            packed = theirs[k + 2]
            if packed == _FAR:
                self.far[h1, theirs[k + 1]] = other.far[h1, theirs[k + 1]]
            elif not same:
                packed = packed & ~field_mask | renumber[(packed & field_mask) >> _LINE_BITS] << _LINE_BITS
            insert(h1, theirs[k + 1], packed)


@dataclass(slots=True)
class Partial:
    """The aggregate of a run of consecutive events: `add` one more, `merge` the partial of
    the events right after these (a left fold in input order), `document` the result.

    A partial made by `of(rows, keep_rows=True)` (a chunk's, in a worker) keeps its rows,
    pickled, so that merging it after a part that saw some of its deliveries (a retry
    across chunks) counts it again with those deliveries known; otherwise merging combines
    the aggregates: each delivery digest is looked up once, nothing is counted twice.
    """

    events: int = 0  # rows added (and merged)
    by_type: Counter[str] = field(default_factory=Counter)
    by_dialect: Counter[str] = field(default_factory=Counter)
    customers: dict[str, _Customer] = field(default_factory=dict)
    campaigns: dict[str, _Campaign] = field(default_factory=dict)
    redemptions: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"redemption": {}, "rollback": {}}
    )  # kind -> redemption (or delivery) id -> "succeeded" | "failed" (the last word)
    first_failures: dict[str, datetime | None] = field(default_factory=dict)  # redemption id -> when,
    # where a redemption's first word here is its failure (counted unless an earlier part says failed)
    first: tuple[datetime, str] | None = None
    last: tuple[datetime, str] | None = None
    seen: Digests = field(default_factory=Digests)  # deliveries first seen here
    recent: dict[str, Row] = field(default_factory=dict)  # the latest of them, by id, until `seal`
    repeated: dict[str, list[str]] = field(default_factory=dict)  # delivery id -> every locator
    out_of_order: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (seq, entry)
    timeline: Timeline = field(default_factory=lambda: Timeline())
    heads: dict[str, _Previous] = field(default_factory=dict)  # source -> its first timed event here
    tails: dict[str, _Previous] = field(default_factory=dict)  # source -> its last timed event here
    rows: bytes | None = None  # the rows as tuples, pickled (`of(keep_rows=True)`)
    before: Digests | None = None  # while counting rows again: the deliveries of the parts before

    @classmethod
    def of(cls, rows: Iterable[Row], *, keep_rows: bool = False, before: Digests | None = None) -> Partial:
        """The aggregate of `rows`; `keep_rows`: with them, for a merge after a part that saw
        some of their deliveries; `before`: deliveries the parts before these saw."""
        rows = list(rows) if keep_rows else rows
        partial = cls(before=before)
        for r in rows:
            partial.add(r)
        partial.before = None
        partial.seal()
        if keep_rows:
            partial.rows = pickle.dumps([tuple(r) for r in rows], protocol=pickle.HIGHEST_PROTOCOL)
        return partial

    def add(self, r: Row) -> None:
        """Count one event."""
        self.events += 1
        self.by_type[r.type or UNKNOWN] += 1
        self.by_dialect[r.dialect] += 1
        retry = bool(r.delivery_id) and self._delivery(r)
        when = parse_time(r.created_at)
        if when is not None:
            self._time(r.created_at or "", when, r.locator, r.source)
        failed = False
        if not retry:  # a retry carries the same points: count them once
            self._customer(r, when)
            self._campaign(r)
            failed = self._redemption(r, when)
        self.timeline.add(when, r.valid is False, failed)

    def seal(self) -> None:
        """Move the deliveries held by id into the digest table (compact, for keeping or sending)."""
        if self.recent:
            self.seen.put_all([(key, r.source, r.line, r.array_index) for key, r in self.recent.items()])
            self.recent.clear()

    def _delivery(self, r: Row) -> bool:
        """Note where a delivery was seen; whether it was seen before (a retry)."""
        delivery_id = r.delivery_id
        assert delivery_id is not None
        earlier = self.recent.get(delivery_id)
        first = None if earlier is None else earlier.locator
        if first is None and (self.seen.size or self.before is not None):
            h1, h2 = Digests.key(delivery_id)
            first = self.seen.first(h1, h2)
            if first is None and self.before is not None:
                first = self.before.first(h1, h2)
        if first is None:
            self.recent[delivery_id] = r
            if len(self.recent) >= RECENT:
                self.seal()
            return False
        self.repeated.setdefault(delivery_id, [first]).append(r.locator)
        return True

    def _time(self, text: str, when: datetime, locator: str, source: str) -> None:
        if self.first is None or when < self.first[0]:
            self.first = (when, text)
        if self.last is None or when > self.last[0]:
            self.last = (when, text)
        previous = self.tails.get(source)
        if previous is not None and when < previous.at:
            self.out_of_order.append((self.events - 1, _late(locator, text, previous)))
        self.tails[source] = here = _Previous(locator, text, when, self.events - 1)
        self.heads.setdefault(source, here)

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
        entry.points = plus(entry.points, r.points)
        entry.pending = plus(entry.pending, r.pending)
        entry.gift = plus(entry.gift, r.gift)
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
            entry.points_issued = plus(entry.points_issued, r.points)
        elif r.points is not None and r.points < 0:
            entry.points_spent = plus(entry.points_spent, r.points)
        entry.pending = plus(entry.pending, r.pending)

    def _redemption(self, r: Row, when: datetime | None) -> bool:
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
        before = known.get(key)
        first_failure = kind == "redemption" and outcome == "failed" and before != "failed"
        if first_failure and before is None:
            self.first_failures[key] = when
        known[key] = outcome
        return first_failure

    def merge(self, later: Partial) -> None:
        """Add the aggregate of the events right after this one's (`later` is used up)."""
        self.seal()
        later.seal()
        if self.seen.seen_any(later.seen):  # a retry across the cut: count `later` again, knowing it
            if later.rows is None:
                raise ValueError("a partial merged after one that saw its deliveries needs its rows (keep_rows)")
            later = Partial.of(map(Row._make, pickle.loads(later.rows)), before=self.seen)
        self.by_type.update(later.by_type)
        self.by_dialect.update(later.by_dialect)
        for key, c in later.customers.items():
            mine = self.customers.get(key)
            if mine is None:
                self.customers[key] = c
                continue
            mine.email, mine.name = mine.email or c.email, mine.name or c.name
            mine.events += c.events
            mine.points, mine.pending, mine.gift = mine.points + c.points, mine.pending + c.pending, mine.gift + c.gift
            if c.last_seen_at is not None and (mine.last_seen_at is None or c.last_seen_at > mine.last_seen_at):
                mine.last_seen, mine.last_seen_at = c.last_seen, c.last_seen_at
        for key, p in later.campaigns.items():
            ours = self.campaigns.get(key)
            if ours is None:
                self.campaigns[key] = p
                continue
            ours.name = ours.name or p.name
            ours.events += p.events
            ours.points_issued += p.points_issued
            ours.points_spent += p.points_spent
            ours.pending += p.pending
        self.timeline.merge(later.timeline)
        redeemed = self.redemptions["redemption"]
        for key, when in later.first_failures.items():
            said = redeemed.get(key)
            if said == "failed" and when is not None:  # not its first failure after all
                self.timeline.uncount_failure(when)
            elif said is None:
                self.first_failures[key] = when
        for kind, outcomes in later.redemptions.items():
            self.redemptions[kind].update(outcomes)
        if later.first is not None and (self.first is None or later.first[0] < self.first[0]):
            self.first = later.first
        if later.last is not None and (self.last is None or later.last[0] > self.last[0]):
            self.last = later.last
        self.seen.update(later.seen)
        for key, where in later.repeated.items():
            if key in self.repeated:
                self.repeated[key].extend(where[1:])
            else:
                self.repeated[key] = where
        self._merge_order(later)
        self.events += later.events

    def _merge_order(self, later: Partial) -> None:
        """Out-of-order events: `later`'s own, and its sources' first events that come before
        this part's last events of the same sources, in input order."""
        late = list(later.out_of_order)
        for source, head in later.heads.items():
            tail = self.tails.get(source)
            if tail is not None and head.at < tail.at:
                late.append((head.seq, _late(head.locator, head.created_at, tail)))
            self.heads.setdefault(source, head._replace(seq=head.seq + self.events))
        late.sort(key=lambda entry: entry[0])
        self.out_of_order.extend((seq + self.events, entry) for seq, entry in late)
        for source, tail in later.tails.items():
            self.tails[source] = tail._replace(seq=tail.seq + self.events)

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
                        "points": shown(r.points),
                        "pending": shown(r.pending),
                        "gift": shown(r.gift),
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
                        "points_issued": shown(r.points_issued),
                        "points_spent": shown(r.points_spent),
                        "pending": shown(r.pending),
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
            "out_of_order": cut([entry for _, entry in self.out_of_order]),
            "timeline": self.timeline.document(),
        }


def _late(locator: str, created_at: str, previous: _Previous) -> dict[str, str]:
    return {
        "locator": locator,
        "created_at": created_at,
        "previous_locator": previous.locator,
        "previous_created_at": previous.created_at,
    }


def reduce(results: list[Any]) -> list[Any]:
    """A chunk's results as the parent needs them (`pipeline.parallel`'s per-chunk hook, run
    in the worker): unreadable items and notes as they are, in order, then one `Partial` of
    the chunk's rows."""
    rows = [r for r in results if isinstance(r, Row)]
    others = [r for r in results if not isinstance(r, Row)]
    return [*others, Partial.of(rows, keep_rows=True)] if rows else others


def collect(results: Any, streams: Streams) -> Partial:
    """Every row (or chunk's partial) of a run, aggregated (unreadable input reported on the way)."""
    aggregate = Partial()

    def take(item: Row | Partial) -> None:
        if isinstance(item, Partial):
            aggregate.merge(item)
        else:
            aggregate.add(item)

    drain(results, streams, take)
    return aggregate
