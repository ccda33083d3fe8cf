"""Filters: which summaries a run keeps (`--type`, `--customer`, `--since`...).

`Filters` is built once from the command line options (relative times are resolved
against "now" at that moment); `Filters.matches` is then a pure test of one summary.
All given filters must match (AND).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

from vevents_cli.model import Summary

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (naive ones are UTC), else None."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """`--since`/`--until`: ISO 8601, or `30m`, `2h`, `3d`, `1w` before now. ValueError if neither."""
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    when = parse_time(text)
    if when is None:
        raise ValueError(f"{text!r} is neither an ISO 8601 time nor a duration like 30m, 2h, 3d, 1w")
    return when


@dataclass(frozen=True, slots=True)
class Filters:
    """The filter options of a command: an event is kept when it matches every one given."""

    types: tuple[str, ...] = ()
    customer: str | None = None
    voucher: str | None = None
    campaign: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    invalid: bool = False

    @classmethod
    def from_options(
        cls,
        types: list[str] | None = None,
        customer: str | None = None,
        voucher: str | None = None,
        campaign: str | None = None,
        since: str | None = None,
        until: str | None = None,
        invalid: bool = False,
        now: datetime | None = None,
    ) -> Filters:
        """Raises ValueError (naming the option) for a time that cannot be read."""
        moments: dict[str, datetime | None] = {}
        for option, text in (("--since", since), ("--until", until)):
            try:
                moments[option] = parse_moment(text, now) if text is not None else None
            except ValueError as exc:
                raise ValueError(f"{option}: {exc}") from exc
        return cls(tuple(types or ()), customer, voucher, campaign, moments["--since"], moments["--until"], invalid)

    @property
    def active(self) -> bool:
        return bool(
            self.types or self.customer or self.voucher or self.campaign or self.since or self.until or self.invalid
        )

    def matches(self, s: Summary) -> bool:
        """Whether one summary passes every filter given."""
        event = s.event
        if self.types:
            names = [n for n in (event.type, event.name) if n]
            if not any(fnmatchcase(name, glob) for glob in self.types for name in names):
                return False
        if self.customer is not None:
            c = s.customer
            email = (c.email or "").casefold() if c else ""
            if c is None or not (self.customer in (c.id, c.source_id) or email == self.customer.casefold()):
                return False
        if self.voucher is not None:
            v = s.voucher
            if v is None or self.voucher not in (v.code, v.id):
                return False
        if self.campaign is not None:
            camp = s.campaign
            if camp is None or not (
                camp.id == self.campaign or (camp.name or "").casefold() == self.campaign.casefold()
            ):
                return False
        if self.since is not None or self.until is not None:
            when = parse_time(event.created_at)
            if when is None:
                return False
            if self.since is not None and when < self.since:
                return False
            if self.until is not None and when > self.until:
                return False
        return not (self.invalid and not (s.verdict is not None and s.verdict.valid is False))
