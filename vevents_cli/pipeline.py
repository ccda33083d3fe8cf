"""The pipeline: sources -> records -> events -> validation -> summary, one item at a time.

Every command that reads events goes through `run`, so every command gets the same
inputs, dialects, locators, error lines and counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from vevents_cli.events import recognise
from vevents_cli.records import Unreadable, read_all
from vevents_cli.sources import expand
from vevents_cli.summary import Summary, summarise
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

    @property
    def failed(self) -> bool:
        return bool(self.invalid or self.unreadable)


def run(
    paths: Iterable[str],
    *,
    as_type: str | None = None,
    schemas: SchemaSet | None = None,
    keep: Callable[[Summary], bool] | None = None,
    tally: Tally | None = None,
) -> Iterator[Item]:
    """Summaries (validated when `schemas` is given) and unreadable inputs, in input order."""
    tally = tally if tally is not None else Tally()
    for record in read_all(expand(paths)):
        if isinstance(record, Unreadable):
            tally.count(record)
            yield record
            continue
        event = recognise(record, as_type)
        summary = summarise(event, schemas.check(event) if schemas else None)
        if keep is not None and not keep(summary):
            tally.filtered += 1
            continue
        tally.count(summary)
        yield summary
