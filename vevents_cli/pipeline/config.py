"""RunConfig: everything a run needs to know, decided once from the command line.

Frozen and picklable: the same value drives the serial, parallel, follow and Dask
strategies, and is what worker processes receive. Building one never reads input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vevents_cli.pipeline.filters import Filters

MAX_VALUE_SIZE = 64 * 1024 * 1024  # default bound on one JSON value (and one line), in bytes
PARALLEL_MIN_SIZE = 16 * 1024 * 1024  # smaller files are not worth a worker's start-up (`parallel.MIN_SIZE`)


def size_text(size: int) -> str:
    """A byte count as people write it: 64 MiB, 1 GiB, 1,000 bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} bytes"


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything one run needs to know (see the module docstring)."""

    inputs: tuple[str, ...] = ()  # PATH arguments; "-" is stdin
    follow: bool = False  # keep reading the one input as it grows (tail -f)
    as_type: str | None = None  # event type of bare payloads (a catalogue name)
    validate: bool = True
    strict: bool = False
    user_schemas: Path | None = None  # --schemas DIR
    facts: bool = True  # read customer, points... (else only the event and its verdict)
    filters: Filters = field(default_factory=Filters)
    jobs: int | None = None  # worker processes; None: $VEVENTS_JOBS, else every core
    max_value_size: int = MAX_VALUE_SIZE  # --max-value-size: larger values (and lines) are skipped, never held
    exact_numbers: bool = False  # integers beyond 64 bits read exactly (for commands that write payloads back)
    arrays_whole: bool = False  # a top-level array is one body, kept whole (verify: the bytes signed)
    engine: str = "local"  # --engine: "local" (this machine's cores) or "dask" (a Dask cluster)
    scheduler: str | None = None  # --scheduler ADDRESS of a Dask cluster; None: a local one

    @property
    def needs_facts(self) -> bool:
        return self.facts or self.filters.active
