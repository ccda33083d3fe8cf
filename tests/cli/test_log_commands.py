"""Working with logs (issue 4): filters, stats, split, redact, following, progress."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import invoke, ndjson, popen, read_pty, run, write_ndjson
from vevents_cli import samples

T0 = "2026-03-14T09:00:00.000Z"


def at(minutes: int) -> str:
    when = datetime(2026, 3, 14, 9, tzinfo=UTC) + timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def event(
    etype: str,
    dialect: str = "v2024",
    created_at: str = T0,
    name: str | None = None,
    customer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A bundled sample of `etype`, re-wrapped with its own time (hence its own ids)."""
    data = copy.deepcopy(samples.sample(etype)["data"])
    if customer is not None:
        data["customer"] = {**data.get("customer", {}), **customer}
    return samples.wrap(data, etype, dialect, created_at=created_at, name=name)


GRACE = {"id": "cust_grace0hopper002", "source_id": "grace-h", "email": "grace@example.test", "name": "Grace Hopper"}


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A day of webhooks: two customers, loyalty, gift, redemptions, a legacy and a distribution event."""
    return write_ndjson(
        tmp_path / "webhooks.ndjson",
        [
            event("customer.created", created_at=at(0)),  # 1 ada
            event("voucher.loyalty_card.points_added", created_at=at(10)),  # 2 ada +40
            event("customer.rewarded", created_at=at(20)),  # 3 ada -300
            event("customer.voucher.gift.balance_added", created_at=at(30), customer=GRACE),  # 4 grace gift
            event("redemption.succeeded", created_at=at(40), customer=GRACE),  # 5
            event("redemption.failed", created_at=at(50)),  # 6
            event("customer.rewarded.loyalty_points", "legacy", created_at=at(60), name="points_earned"),  # 7
            event("voucher.published", "distribution", created_at=at(70), name="Welcome email"),  # 8
        ],
    )


def shown(*args: str) -> list[int]:
    """Line numbers of the events `show --format json ARGS` printed."""
    return [e["line"] for e in ndjson(invoke("show", "--format", "json", *args).stdout)]


# --- filters ----------------------------------------------------------------------------------


def test_type_glob_is_repeatable_and_matches_custom_names(log: Path) -> None:
    assert shown(str(log), "--type", "redemption.*") == [5, 6]
    assert shown(str(log), "--type", "*.failed", "--type", "customer.created") == [1, 6]
    assert shown(str(log), "--type", "points_earned") == [7]
    assert shown(str(log), "--type", "Welcome*") == [8]


def test_customer_filter_takes_id_source_id_or_email(log: Path) -> None:
    for who in ("cust_grace0hopper002", "grace-h", "Grace@Example.test"):
        assert shown(str(log), "--customer", who) == [4, 5]


def test_voucher_and_campaign_filters(log: Path) -> None:
    assert shown(str(log), "--voucher", "GIFT-4M8X") == [4]
    assert shown(str(log), "--campaign", "stardust rewards", "--type", "customer.*") == [3, 7]
    assert shown(str(log), "--campaign", "camp_spring0sale2026") == [5, 6, 8]


def test_filters_and_together(log: Path) -> None:
    assert shown(str(log), "--type", "redemption.*", "--customer", "grace-h") == [5]


def test_since_and_until_take_iso_times(log: Path) -> None:
    assert shown(str(log), "--since", at(20), "--until", "2026-03-14T09:40:00Z") == [3, 4, 5]


def test_relative_since_counts_back_from_now(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    recent = (now - timedelta(minutes=5)).isoformat()
    old = (now - timedelta(days=2)).isoformat()
    undated = event("voucher.published")
    del undated["created_at"], undated["event"]["created_at"]
    log = write_ndjson(
        tmp_path / "l.ndjson",
        [event("voucher.published", created_at=old), event("voucher.published", created_at=recent), undated],
    )
    assert shown(str(log), "--since", "30m") == [2]
    assert shown(str(log), "--since", "1w", "--until", "1d") == [1]
    assert shown(str(log)) == [1, 2, 3]  # no time filter: undated kept


def test_bad_since_is_a_usage_error(log: Path) -> None:
    result = invoke("show", str(log), "--since", "last tuesday")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "last tuesday" in result.stderr


def test_invalid_filter_and_filtered_count(log: Path, tmp_path: Path) -> None:
    broken = event("voucher.published", created_at=at(80))
    broken["data"]["voucher"]["id"] = 12345
    bad = write_ndjson(tmp_path / "bad.ndjson", [*ndjson(log.read_text()), broken])
    result = invoke("validate", str(bad), "--invalid")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "0 valid, 1 invalid, 0 unreadable (8 filtered out)"
    text = invoke("show", str(bad), "--table", "--invalid")
    assert "voucher.published" in text.stdout and "customer.created" not in text.stdout
    assert "8 events filtered out" in text.stderr


# --- stats --------------------------------------------------------------------------------------


def stats_doc(*args: str) -> dict[str, Any]:
    result = invoke("stats", "--format", "json", *args)
    return orjson.loads(result.stdout)


def test_stats_counts_types_dialects_customers_campaigns(log: Path) -> None:
    doc = stats_doc(str(log))
    assert doc["events"] == 8 and doc["invalid"] == 0 and doc["unreadable"] == 0
    assert {r["dialect"]: r["events"] for r in doc["by_dialect"]["rows"]} == {
        "v2024": 6,
        "legacy": 1,
        "distribution": 1,
    }
    assert {"type": "redemption.succeeded", "events": 1} in doc["by_type"]["rows"]
    customers = {r["id"]: r for r in doc["customers"]["rows"]}
    ada, grace = customers["cust_ada0lovelace001"], customers["cust_grace0hopper002"]
    assert grace["events"] == 2 and grace["gift"] == 2500 and grace["last_seen"] == at(40)
    assert ada["points"] == 40 - 300 + 120  # points added, reward bought, points earned (legacy)
    stardust = next(r for r in doc["campaigns"]["rows"] if r["name"] == "Stardust Rewards")
    assert stardust["points_issued"] == 160 and stardust["points_spent"] == -300
    assert doc["redemptions"] == {"succeeded": 2, "failed": 1, "rollbacks_succeeded": 0, "rollbacks_failed": 0}
    assert doc["time_span"] == {"first": at(0), "last": at(70)}


def test_stats_finds_retries_and_out_of_order_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # locators unfolded in the tables
    first, second = event("voucher.published", created_at=at(10)), event("voucher.created", created_at=at(5))
    later = event("voucher.deleted", created_at=at(20))
    log = write_ndjson(tmp_path / "l.ndjson", [first, second, first, later])
    doc = stats_doc(str(log))
    assert doc["duplicates"]["rows"] == [
        {"delivery_id": first["event"]["id"], "count": 2, "locators": [f"{log}:1", f"{log}:3"]}
    ]
    late = doc["out_of_order"]["rows"]
    assert [(r["locator"], r["previous_locator"]) for r in late] == [(f"{log}:2", f"{log}:1")]
    assert late[0]["created_at"] == at(5) and late[0]["previous_created_at"] == at(10)
    text = invoke("stats", str(log))
    assert "Duplicate deliveries" in text.stdout and f"{log}:3" in text.stdout
    assert "Out of order" in text.stdout


def test_stats_order_is_per_source(tmp_path: Path) -> None:
    a = write_ndjson(tmp_path / "a.ndjson", [event("voucher.published", created_at=at(50))])
    b = write_ndjson(tmp_path / "b.ndjson", [event("voucher.published", created_at=at(10))])
    assert stats_doc(str(a), str(b))["out_of_order"]["total"] == 0


def test_stats_counts_a_retry_once_in_points(tmp_path: Path) -> None:
    reward = event("customer.rewarded")
    doc = stats_doc(str(write_ndjson(tmp_path / "l.ndjson", [reward, reward])))
    assert doc["events"] == 2
    assert doc["customers"]["rows"][0]["points"] == -300


def test_stats_top_and_all(log: Path) -> None:
    doc = stats_doc(str(log), "--top", "2")
    assert doc["by_type"]["total"] == 8 and len(doc["by_type"]["rows"]) == 2
    assert len(stats_doc(str(log), "--all")["by_type"]["rows"]) == 8
    text = invoke("stats", str(log), "--top", "2")
    assert "top 2 of 8" in text.stdout


def test_stats_reports_invalid_and_unreadable(log: Path, tmp_path: Path) -> None:
    broken = event("voucher.published", created_at=at(80))
    broken["data"]["voucher"]["id"] = 12345
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(log.read_bytes() + orjson.dumps(broken) + b"\n{oops\n")
    result = invoke("stats", "--format", "json", str(bad))
    doc = orjson.loads(result.stdout)
    assert (doc["invalid"], doc["unreadable"]) == (1, 1)
    assert result.exit_code == 1
    assert f"vevents: {bad}:10:" in result.stderr
    assert stats_doc(str(bad), "--invalid")["events"] == 1


def test_stats_text_shows_the_tables(log: Path) -> None:
    result = invoke("stats", str(log), "--type", "customer.*")
    assert result.exit_code == 0
    for title in ("Events by type", "Events by dialect", "Customers", "Campaigns", "time span"):
        assert title in result.stdout
    assert "Duplicate" not in result.stdout
    assert "4 events filtered out" in result.stderr


# --- split ----------------------------------------------------------------------------------------


def test_split_writes_one_pretty_file_per_event(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "fixtures"
    result = invoke("split", str(log), "--out", str(out))
    assert result.exit_code == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert len(files) == 8
    published = samples.wrap(
        samples.sample("voucher.published")["data"],
        "voucher.published",
        "distribution",
        created_at=at(70),
        name="Welcome email",
    )
    name = f"voucher.published/2026-03-14T10-10-00.000Z-{published['id']}.json"
    assert name in files
    assert orjson.loads((out / name).read_bytes()) == published
    assert (out / name).read_text().startswith('{\n  "id"')  # pretty


def test_split_bare_writes_only_data(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "bare"
    invoke("split", str(log), "--out", str(out), "--type", "redemption.failed", "--bare")
    (only,) = out.rglob("*.json")
    assert orjson.loads(only.read_bytes()) == samples.sample("redemption.failed")["data"]


def test_split_collisions_unknown_types_and_safe_names(tmp_path: Path) -> None:
    same = event("voucher.published")
    odd = {**event("voucher.created"), "type": "../../evil type:x"}
    log = write_ndjson(tmp_path / "l.ndjson", [same, same, odd, {"hello": "world"}])
    out = tmp_path / "out"
    assert invoke("split", str(log), "--out", str(out)).exit_code == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    stem = f"voucher.published/2026-03-14T09-00-00.000Z-{same['id']}"
    assert f"{stem}.json" in files and f"{stem}-2.json" in files
    assert any(f.startswith("_.._evil_type-x/") for f in files)
    assert "unknown/undated-noid.json" in files
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


def test_split_never_overwrites_without_force(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("split", str(log), "--out", str(out))
    target = next(out.rglob("*.json"))
    target.write_text("hand-edited fixture")
    again = invoke("split", str(log), "--out", str(out))
    assert again.exit_code == 1
    assert "exists (use --force to overwrite)" in again.stderr
    assert target.read_text() == "hand-edited fixture"
    assert len(list(out.rglob("*.json"))) == 8
    assert invoke("split", str(log), "--out", str(out), "--force").exit_code == 0
    assert target.read_text() != "hand-edited fixture"


# --- redact ---------------------------------------------------------------------------------------


def test_redact_removes_personal_data_and_keeps_the_rest(log: Path, tmp_path: Path) -> None:
    result = invoke("redact", str(log), "--salt", "s3cret")
    assert result.exit_code == 0
    text = result.stdout
    for personal in (
        "ada@example.test",
        "grace@example.test",
        "Ada Lovelace",
        "Grace Hopper",
        "+44 20 7946",
        "12 Analytical Row",
        "N1 9GU",
    ):
        assert personal not in text
    out = ndjson(text)
    original = ndjson(log.read_text())
    assert len(out) == 8
    customer = out[0]["data"]["customer"]
    assert customer["email"].endswith("@example.invalid") and customer["name"].startswith("name-")
    assert customer["id"] == "cust_ada0lovelace001" and customer["source_id"] == "ada-l"
    assert out[1]["data"]["voucher"]["code"] == "STAR-7Q2K"
    assert out[1]["data"]["balance"] == original[1]["data"]["balance"]  # points untouched
    assert out[2]["data"]["campaign"]["name"] == "Stardust Rewards"  # not a person's name
    assert [e["type"] for e in out] == [e["type"] for e in original]
    # the redacted log still reads and validates
    assert invoke("validate", "-q", "-", input=text).stdout == "8 valid, 0 invalid, 0 unreadable\n"


def test_redact_pseudonyms_are_stable_per_salt(log: Path) -> None:
    one = invoke("redact", str(log), "--salt", "a").stdout
    two = invoke("redact", str(log), "--salt", "a").stdout
    assert one == two
    other = invoke("redact", str(log), "--salt", "b").stdout
    email = ndjson(one)[0]["data"]["customer"]["email"]
    assert email != ndjson(other)[0]["data"]["customer"]["email"]
    # the same customer gets the same pseudonym in every event
    assert ndjson(one)[1]["data"]["customer"]["email"] == email


def test_redact_metadata_outside_people_only_when_asked(log: Path) -> None:
    plain = ndjson(invoke("redact", str(log), "--salt", "a").stdout)[1]["data"]
    assert plain["voucher"]["metadata"] == {"channel": "web"}
    assert plain["customer"]["metadata"]["channel"].startswith("meta-")  # a person's metadata: always
    redacted = ndjson(invoke("redact", str(log), "--salt", "a", "--metadata").stdout)[1]["data"]
    assert redacted["voucher"]["metadata"]["channel"].startswith("meta-")


def test_redact_writes_a_file_but_never_over_its_input(log: Path, tmp_path: Path) -> None:
    before = log.read_bytes()
    refused = invoke("redact", str(log), "--out", str(log))
    assert refused.exit_code == 2 and "input" in refused.stderr
    assert log.read_bytes() == before
    inside = invoke("redact", str(tmp_path), "--out", str(tmp_path / "redacted.ndjson"))
    assert inside.exit_code == 2
    out = tmp_path / "shareable" / "r.ndjson"
    out.parent.mkdir()
    assert invoke("redact", str(log), "--out", str(out), "--salt", "x").exit_code == 0
    assert len(ndjson(out.read_text())) == 8 and b"ada@example.test" not in out.read_bytes()


# --- legacy previous_attributes ---------------------------------------------------------------------


def test_legacy_previous_attributes_are_shown_as_changes(tmp_path: Path) -> None:
    customer = samples.sample("customer.updated")["data"]["customer"]
    payload = {
        "id": "evcus_legacy0update",
        "object": "event",
        "type": "customer.updated",
        "created_at": T0,
        "data": {"object": customer, "previous_attributes": {"email": "old@example.test", "phone": None}},
    }
    result = invoke("show", "-", input=orjson.dumps(payload))
    assert result.exit_code == 0
    assert f"email: old@example.test -> {customer['email']}" in result.stdout
    assert f"phone: null -> {customer['phone']}" in result.stdout


# --- piped stdin and progress (subprocesses) --------------------------------------------------------


def test_piped_stdin_is_processed_line_by_line() -> None:
    proc = popen("show", "--format", "json", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin and proc.stdout
    try:
        for minute, etype in ((1, "voucher.published"), (2, "customer.created")):
            proc.stdin.write(orjson.dumps(event(etype, created_at=at(minute))) + b"\n")
            proc.stdin.flush()
            line = proc.stdout.readline()  # arrives while stdin is still open
            assert orjson.loads(line)["type"] == etype
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_progress_goes_to_a_terminal_stderr_never_to_json_stdout(log: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    result = run("stats", "--format", "json", str(log), stdout=subprocess.PIPE, stderr=follower, timeout=30)
    os.close(follower)
    seen = read_pty(leader)
    assert orjson.loads(result.stdout)["events"] == 8
    assert b"reading" in seen
