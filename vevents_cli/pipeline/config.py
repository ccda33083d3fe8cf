"""RunConfig: everything a run needs to know, decided once from the command line.

Frozen and picklable: the same value drives the serial, parallel and follow strategies,
and is what worker processes receive. Building one never reads input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vevents_cli.pipeline.filters import Filters


@dataclass(frozen=True, slots=True)
class RunConfig:
    inputs: tuple[str, ...] = ()  # PATH arguments; "-" is stdin
    follow: bool = False  # keep reading the one input as it grows (tail -f)
    as_type: str | None = None  # event type of bare payloads (a catalogue name)
    validate: bool = True
    strict: bool = False
    user_schemas: Path | None = None  # --schemas DIR
    facts: bool = True  # read customer, points... (else only the event and its verdict)
    filters: Filters = field(default_factory=Filters)
    jobs: int | None = None  # worker processes; None: $VEVENTS_JOBS, else every core

    @property
    def needs_facts(self) -> bool:
        return self.facts or self.filters.active
