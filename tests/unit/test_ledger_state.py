"""The ledger's state per card stays bounded however many events a card has: memory grows
with the cards, not the events."""

from __future__ import annotations

from vevents_cli import ledger
from vevents_cli.model import Tally


def _rows(n: int, card: str = "v_1") -> list[ledger.Row]:
    """`n` events of one card, every third out of created order, every balance off by one."""
    out = []
    for i in range(n):
        minute = i + (5 if i % 3 == 0 else 0)
        when = f"2026-03-{14 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00.000Z"
        out.append(
            ledger.Row(
                card, "CARD-1", ("cust_1", None, None, None), "voucher.loyalty_card.points_added", "v2024",
                f"log.ndjson:{i + 1}", f"evcus_{i}", f"vtx_{i}", when, when, 10, 1000 + 11 * i, None, None, False,
            )
        )  # fmt: skip
    return out


def test_per_card_state_is_bounded() -> None:
    book = ledger.Ledger()
    for row in _rows(20_000):
        book.add(row)
    card = book.cards["v_1"]
    assert len(card.window) <= ledger.WINDOW
    assert len(card.seen) <= ledger.SEEN
    assert len(card.trend) < 2 * ledger.TREND
    assert len(card.breaks) == ledger.MAX_BREAKS
    assert card.timeline is None
    doc = book.document(Tally())
    counts = doc["summary"]["breaks"]
    assert counts["missing"] > ledger.MAX_BREAKS and counts["reordered"] > 0
    assert doc["summary"]["events"] == 20_000
