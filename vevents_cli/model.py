"""The values that flow through vevents, from input to output: small frozen dataclasses.

    Record (raw bytes + Locator) or Unreadable  ->  Event (dialect, catalogue entry, data)
        ->  Verdict (SchemaErrors)  ->  Summary (facts)  ->  output

The facts a `Summary` carries (customer, voucher, points...) are the dataclasses of
`facts.py`, importable from here too, made only when a run reads facts. `Tally` is a run's
only mutable state: the counts the exit status and summary lines use; the pass rules
beside it (`ok`, `passed`...) judge an event and a run against an `Expectation`
(`--expect`, `--allow-empty`). Nothing here reads input or prints; every other module
speaks in these types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vevents_cli.facts import Campaign as Campaign
    from vevents_cli.facts import Change as Change
    from vevents_cli.facts import Customer as Customer
    from vevents_cli.facts import Gift as Gift
    from vevents_cli.facts import Order as Order
    from vevents_cli.facts import Points as Points
    from vevents_cli.facts import Redemption as Redemption
    from vevents_cli.facts import Reward as Reward
    from vevents_cli.facts import Tier as Tier
    from vevents_cli.facts import Transaction as Transaction
    from vevents_cli.facts import Voucher as Voucher
    from vevents_cli.voucherify.catalogue import EventType

# a summary's facts: the dataclasses of `facts.py`
FACTS = frozenset(
    {"Customer", "Voucher", "Campaign", "Order", "Redemption", "Reward", "Tier", "Points", "Transaction", "Gift"}
    | {"Change"}
)


def __getattr__(name: str) -> Any:
    """The facts' types, from `facts.py` (imported on first use: a run that reads no facts never
    makes those dataclasses)."""
    if name in FACTS:
        from vevents_cli import facts

        return getattr(facts, name)
    raise AttributeError(name)


@dataclass(frozen=True, slots=True)
class Locator:
    """Where a value starts: source name, 1-based line, index inside a top-level array. Line 0:
    the source as a whole (a missing file, a folder that cannot be listed), shown without a line."""

    source: str
    line: int
    index: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return where if self.index is None else f"{where}[{self.index}]"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How `vevents listen` answered a live delivery: HTTP status and signature verdict."""

    status: int
    reason: str | None = None
    signature: str = "missing"  # missing | unchecked | raw | compact | mismatch
    causes: tuple[str, ...] = ()  # likely causes of a mismatch


@dataclass(frozen=True, slots=True)
class Record:
    """One JSON object read from a source, with the bytes it was read from."""

    locator: Locator
    raw: bytes
    value: dict[str, Any]
    headers: Mapping[str, str] | None = None
    delivery: Delivery | None = None
    offset: int = 0  # characters before `raw` on its first line (a value after another on one line)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Input that could not be read as an event object, and why.

    `raw` (and `headers`) keep the bytes of a whole value or request body that is not a
    JSON object -- still bytes a signature may cover (`verify` checks them).
    """

    locator: Locator
    reason: str
    column: int | None = None
    delivery: Delivery | None = None
    raw: bytes | None = None
    headers: Mapping[str, str] | None = None

    def __str__(self) -> str:
        col = "" if self.column is None else f":{self.column}"
        return f"{self.locator}{col}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Note:
    """Not a failure, never counted: a line on stderr about how the input was read (a link to
    a folder already read, skipped; a followed file truncated, read again from the start)."""

    locator: Locator
    reason: str

    def __str__(self) -> str:
        return f"{self.locator}: {self.reason}"


Read = Record | Unreadable | Note  # what reading a source yields, in input order


@dataclass(frozen=True, slots=True)
class Event:
    """A recognised payload: dialect, standard type (and its catalogue entry), envelope facts, data."""

    record: Record
    dialect: str  # a key of voucherify.dialects.DIALECTS
    type: str | None  # the standard event type, None when it cannot be told
    entry: EventType | None  # the catalogue's entry for `type`, None when the type is unknown
    name: str | None  # a custom name: legacy campaign webhook name, distribution's `type`
    id: str | None
    created_at: str | None
    data: Any  # the event's data object (legacy: data.object; bare: the payload)
    related: dict[str, Any] | None = None  # legacy: the related event's data
    candidates: tuple[str, ...] = ()  # bare payloads whose shape fits several types
    delivery_id: str | None = None  # the id that identifies a delivery across retries

    @property
    def locator(self) -> Locator:
        return self.record.locator

    @property
    def payload(self) -> dict[str, Any]:
        return self.record.value

    @property
    def raw(self) -> bytes:
        return self.record.raw

    @property
    def headers(self) -> Mapping[str, str] | None:
        return self.record.headers

    @property
    def known(self) -> bool:
        return self.entry is not None


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One reason an event is invalid: where (RFC 6901 pointer into the event), what, which keyword."""

    path: str
    message: str
    validator: str


@dataclass(frozen=True, slots=True, eq=False)
class Verdict:
    """Whether an event is valid, and why not; warnings never change validity.

    The errors a schema walk finds are worked out only when something reads `errors`
    (`explain`, kept from the validator): `validate -q`, `stats` or `show --format json`
    need only `valid`. A verdict sent to another process takes its errors with it.
    """

    valid: bool | None  # None: nothing could be checked
    found: tuple[SchemaError, ...] = ()  # errors known without a schema walk
    note: str | None = None  # what was (not) checked, e.g. "custom payload, envelope checked"
    warnings: tuple[SchemaError, ...] = ()  # e.g. data that looks like another type (type-agreement)
    explain: Callable[[], tuple[SchemaError, ...]] | None = field(default=None, compare=False, repr=False)
    _errors: tuple[SchemaError, ...] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def errors(self) -> tuple[SchemaError, ...]:
        if self.explain is None:
            return self.found
        if self._errors is None:
            object.__setattr__(self, "_errors", self.found + self.explain())
        return self._errors  # type: ignore[return-value]

    def _key(self) -> tuple[Any, ...]:
        return (self.valid, self.errors, self.note, self.warnings)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verdict) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Verdict, self._key())


@dataclass(frozen=True, slots=True)
class Summary:
    """An event, its verdict and the facts a person wants at a glance (None where absent)."""

    event: Event
    verdict: Verdict | None = None
    customer: Customer | None = None
    voucher: Voucher | None = None
    campaign: Campaign | None = None
    order: Order | None = None
    redemption: Redemption | None = None
    reward: Reward | None = None
    issued_voucher: Voucher | None = None  # the voucher issued as the reward (a gift card with its credits)
    segment: str | None = None
    tier: Tier | None = None
    points: Points | None = None
    gift: Gift | None = None
    changes: tuple[Change, ...] = ()
    transaction: Transaction | None = None  # not in `show --format json`: the ledger's key and tie-break
    pending_balance: int | float | None = None  # pending points after the event (loyalty), not in JSON

    @property
    def valid(self) -> bool | None:
        return self.verdict.valid if self.verdict is not None else None


@dataclass(slots=True)
class Tally:
    """What a run has seen so far (the only mutable state of a run)."""

    events: int = 0
    valid: int = 0
    invalid: int = 0
    unreadable: int = 0
    filtered: int = 0
    warnings: int = 0

    def count(self, item: Summary | Unreadable) -> None:
        if isinstance(item, Unreadable):
            self.unreadable += 1
            return
        self.events += 1
        if item.verdict is not None:
            self.warnings += len(item.verdict.warnings)
        valid = item.valid
        if valid is True:
            self.valid += 1
        elif valid is False:
            self.invalid += 1

    def merge(self, other: Tally) -> None:
        """Add the counts of a run over another part of the input."""
        self.events += other.events
        self.valid += other.valid
        self.invalid += other.invalid
        self.unreadable += other.unreadable
        self.filtered += other.filtered
        self.warnings += other.warnings

    @property
    def failed(self) -> bool:
        return bool(self.invalid or self.unreadable)


# --- the pass rules: an event and a run against what was expected ---------------------------------

VALID, INVALID = "valid", "invalid"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a run should find: every event `expect` (`--expect valid|invalid`), and something
    at all unless `allow_empty` (`--allow-empty`)."""

    expect: str = VALID
    allow_empty: bool = False


def ok(s: Summary, expected: Expectation) -> bool:
    """Whether an event's verdict is the expected one."""
    return s.valid is False if expected.expect == INVALID else s.valid is not False


def unreadable_ok(expected: Expectation) -> bool:
    """Unreadable input is an error, except among fixtures expected to be broken."""
    return expected.expect == INVALID


def empty(tally: Tally) -> bool:
    """The run found nothing at all to check (no event, nothing unreadable)."""
    return tally.events == 0 and tally.unreadable == 0


def passed(tally: Tally, expected: Expectation) -> bool:
    """The run's verdict, the exit status's only rule: every event as expected, and something found."""
    if empty(tally) and not expected.allow_empty:
        return False
    if expected.expect == INVALID:
        return tally.valid == 0
    return not tally.failed


def not_as_expected(tally: Tally, expected: Expectation) -> int:
    """How many items are not as expected: valid events under `--expect invalid`, else
    invalid events and unreadable input."""
    return tally.valid if expected.expect == INVALID else tally.invalid + tally.unreadable
