"""The pipeline: sources -> records -> events -> validation -> summary, one item at a time.

Every command that reads events goes through `run`, so every command gets the same
inputs, dialects, locators, error lines and counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from vevents_cli.events import recognise
from vevents_cli.records import Record, Unreadable, read_all
from vevents_cli.sources import Source, expand
from vevents_cli.summary import Summary, summarise, verdict_only
from vevents_cli.validation import SchemaSet

Item = Summary | Unreadable


@dataclass(slots=True)
class Tally:
    """What a run has seen so far (the only mutable state of a run)."""

    events: int = 0
    valid: int = 0
    invalid: int = 0
    unreadable: int = 0
    filtered: int = 0

    def count(self, item: Item) -> None:
        if isinstance(item, Unreadable):
            self.unreadable += 1
            return
        self.events += 1
        verdict = item.verdict
        if verdict is not None and verdict.valid is not None:
            if verdict.valid:
                self.valid += 1
            else:
                self.invalid += 1

    def merge(self, other: Tally) -> None:
        """Add the counts of a run over another part of the input."""
        self.events += other.events
        self.valid += other.valid
        self.invalid += other.invalid
        self.unreadable += other.unreadable
        self.filtered += other.filtered

    @property
    def failed(self) -> bool:
        return bool(self.invalid or self.unreadable)


def run(paths: Iterable[str], **options: Any) -> Iterator[Item]:
    """Summaries and unreadable inputs of PATH arguments, in input order (options: see `process`)."""
    return process(read_all(expand(paths)), **options)


def process(
    records: Iterable[Record | Unreadable],
    *,
    as_type: str | None = None,
    schemas: SchemaSet | None = None,
    keep: Callable[[Summary], bool] | None = None,
    tally: Tally | None = None,
    on_record: Callable[[Record | Unreadable], None] | None = None,
    facts: bool = True,
) -> Iterator[Item]:
    """Summaries (validated when `schemas` is given) and unreadable inputs, in input order.

    `keep` filters summaries out; `on_record` sees each record read (progress bars);
    `facts=False` skips reading customer, points etc. for commands that need only the
    event and its verdict (`keep` filters need the facts).
    """
    tally = tally if tally is not None else Tally()
    for record in records:
        if on_record is not None:
            on_record(record)
        if isinstance(record, Unreadable):
            tally.count(record)
            yield record
            continue
        event = recognise(record, as_type)
        verdict = schemas.check(event) if schemas else None
        summary = summarise(event, verdict) if facts or keep else verdict_only(event, verdict)
        if keep is not None and not keep(summary):
            tally.filtered += 1
            continue
        tally.count(summary)
        yield summary


class ByteMeter:
    """How far a run has got through its files (an `on_record` hook, for progress bars).

    Bytes are estimated: the sizes of the files finished, plus the bytes of the records
    read so far from the current one (never more than its size; gzip sizes are on disk).
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self.sizes: dict[str, int] = {}
        for source in expand(paths):
            if isinstance(source, Source) and source.path is not None:
                try:
                    self.sizes[source.name] = source.path.stat().st_size
                except OSError:
                    continue
        self.total = sum(self.sizes.values())
        self.records = 0
        self._finished = 0
        self._current: str | None = None
        self._within = 0

    def __call__(self, record: Record | Unreadable) -> None:
        self.records += 1
        source = record.locator.source
        if source != self._current:
            if self._current is not None:
                self._finished += self.sizes.get(self._current, 0)
            self._current, self._within = source, 0
        if isinstance(record, Record):
            self._within += len(record.raw) + 1

    @property
    def done(self) -> int:
        size = self.sizes.get(self._current or "", 0)
        return self._finished + min(self._within, size)
