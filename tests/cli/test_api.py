"""The Python API (`vevents_cli.api`): its records are the commands' JSON records for the same
input (samples, the vendor's examples, a bench log, unreadable lines, gzip), read from
paths, bytes, lines, dicts and `memory://` URLs; plain data only; one schema set per process."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import invoke, ndjson, run
from tests.helpers.corpus import SAMPLES, build
from vevents_cli import api, jsonout, samples

PLAIN = (dict, list, str, int, float, bool, type(None))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [SAMPLES, *build(tmp_path_factory.mktemp("corpus"))]


def cli_json(*args: str, input: bytes | None = None) -> Any:
    result = invoke(*args, input=input)
    assert result.exit_code in (0, 1), result.output
    return ndjson(result.stdout) if args[0] == "show" else jsonout.loads(result.stdout_bytes)  # integers exact


def is_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    return isinstance(value, PLAIN)


def events(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if "payload" in item]


@pytest.mark.parametrize("which", [0, 1, 2, pytest.param(3, marks=pytest.mark.heavy)])  # 3: the bench log
def test_records_equal_the_commands_records_on_the_corpus(corpus: list[Path], which: int) -> None:
    """Samples, every payload (with unreadable lines), its gzip copy, the bench log."""
    path = corpus[which]
    items = list(api.read(path))
    assert is_plain(items)
    assert [api.facts(item) for item in events(items)] == cli_json("show", "--format", "json", str(path))
    report = cli_json("validate", "--format", "json", str(path))
    assert [api.check(item) for item in events(items)] == report["events"]
    unreadable = [item for item in items if "unreadable" in item]
    assert [(u["source"], u["line"], u["column"], u["unreadable"]) for u in unreadable] == [
        (u["source"], u["line"], u["column"], u["error"]) for u in report["unreadable"]
    ]
    assert api.stats(items) == cli_json("stats", "--format", "json", str(path))
    if which == 0:  # every row, not only the top 10 (the same document, longer)
        assert api.stats(items, top=None) == cli_json("stats", "--format", "json", "--all", str(path))


def test_the_corpus_has_what_the_records_need(corpus: list[Path]) -> None:
    """The comparison above is over invalid events, errors at lines and columns, unreadable
    lines, gzip, several dialects and a bench log of thousands of events."""
    items = [item for path in corpus for item in api.read(path)]
    checked = [api.check(item) for item in events(items)]
    assert len(checked) > 2500
    assert sum(not c["valid"] for c in checked) > 20
    assert any(e["column"] for c in checked for e in c["errors"])
    assert {c["dialect"] for c in checked} >= {"v2024", "distribution", "legacy"}
    assert sum("unreadable" in item for item in items) >= 6
    assert any(item["source"].endswith(".gz") for item in items)


def test_bytes_and_lines_read_as_standard_input(corpus: list[Path]) -> None:
    """Bytes (gzip or not) and an iterable of lines give the records the commands give for
    the same bytes on standard input (the source named `<bytes>`, `<lines>`)."""
    data = corpus[1].read_bytes()
    stdin = cli_json("show", "--format", "json", "-", input=data)
    for source, name in (
        (data, "<bytes>"),
        (gzip.compress(data), "<bytes>"),
        (data.decode().splitlines(), "<lines>"),
        (data.splitlines(keepends=True), "<lines>"),
    ):
        items = list(api.read(source))
        assert {item["source"] for item in items} == {name}
        assert [{**api.facts(item), "source": "<stdin>"} for item in events(items)] == stdin


def test_stats_sums_integers_beyond_64_bits_exactly_as_the_command_does(tmp_path: Path) -> None:
    """+(10**25 + 1) then -10**25 points: exactly 1 (as floats, 0)."""
    events = [samples.sample("voucher.loyalty_card.points_added") for _ in range(2)]
    for event, points in zip(events, (10**25 + 1, -(10**25)), strict=True):
        event["data"]["balance"]["points"] = points
        event["id"] += str(points)  # two deliveries of two events, not a retry
        event["event"]["id"] += str(points)
    log = tmp_path / "huge.ndjson"
    log.write_bytes(b"".join(jsonout.dumps(event, newline=True) for event in events))  # exact integers, as text
    expected = cli_json("stats", "--format", "json", str(log))
    assert expected["customers"]["rows"][0]["points"] == 1
    assert api.stats(api.read(log)) == expected


def test_payloads_as_dicts_bytes_and_text() -> None:
    payload = samples.sample("voucher.loyalty_card.points_added")
    text = orjson.dumps(payload)
    expected = cli_json("show", "--format", "json", "-", input=text)[0]
    for given in (payload, text, text.decode(), orjson.dumps(payload, option=orjson.OPT_INDENT_2)):
        record = api.facts(given)
        assert {**record, "source": "<stdin>"} == expected
        assert record["points"]["delta"] == expected["points"]["delta"] != 0
    bad = dict(payload, data={**payload["data"], "voucher": []})
    checked = api.check(bad)
    assert checked == {
        **cli_json("validate", "--format", "json", "-", input=orjson.dumps(bad))["events"][0],
        "source": "<payload>",
    }
    assert checked["valid"] is False and checked["errors"][0]["column"] is not None


def test_as_type_and_strict() -> None:
    data = samples.sample("customer.updated")["data"]
    assert api.facts(data)["type"] is None
    for as_type in ("customer.updated", "customer.created"):
        shown = cli_json("show", "--format", "json", "--as", as_type, "-", input=orjson.dumps(data))[0]
        assert api.facts(data, as_type=as_type) == {**shown, "source": "<payload>"}
        assert shown["type"] == as_type
    report = cli_json(
        "validate", "--format", "json", "--strict", "--as", "voucher.published", "-", input=orjson.dumps(data)
    )
    assert api.check(data, as_type="voucher.published", strict=True) == {**report["events"][0], "source": "<payload>"}
    with pytest.raises(ValueError, match=r"unknown event type: no\.such\.type"):
        api.check(data, as_type="no.such.type")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[1, 2]", "<payload>:1[0]: array member is a number"),
        (b'{"a": 1', "<payload>:1"),
        (b"", "no JSON value"),
        (b'{"a": 1}\n{"b": 2}\n', "2 values, not one"),
        ({"source": "x.ndjson", "line": 3, "column": 4, "unreadable": "bad"}, "x.ndjson:3:4: bad"),
    ],
)
def test_what_is_not_one_event_is_a_value_error(payload: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("[", r"\[")):
        api.facts(payload)


def test_memory_urls_read_as_their_files(corpus: list[Path]) -> None:
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    log, packed = corpus[1], corpus[2]
    memory.pipe("/api-test/every.ndjson", log.read_bytes())
    memory.pipe("/api-test/every-copy.ndjson.gz", packed.read_bytes())
    try:
        local = [{**item, "source": "?"} for item in api.read(log)]
        for url in ("memory://api-test/every.ndjson", "memory://api-test/every-copy.ndjson.gz"):
            items = list(api.read(url))
            assert {item["source"] for item in items} == {url}
            assert [{**item, "source": "?"} for item in items] == local
            assert [api.facts(item) for item in events(items)] == cli_json("show", "--format", "json", url)
        found = list(api.read("memory://api-test/*.ndjson*"))
        assert {item["source"] for item in found} == {
            "memory:///api-test/every.ndjson",
            "memory:///api-test/every-copy.ndjson.gz",
        }
        assert len(found) == 2 * len(local)
        (missing,) = api.read("memory://api-test/none.ndjson")
        assert missing == {
            "source": "memory://api-test/none.ndjson",
            "line": 0,
            "column": None,
            "unreadable": "no such object",
        }
    finally:
        memory.rm("/api-test", recursive=True)


def test_a_url_without_fsspec_is_one_unreadable_item_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # import fsspec: ImportError
    (item,) = api.read("s3://bucket/webhooks.ndjson.gz")
    assert item["source"] == "s3://bucket/webhooks.ndjson.gz" and item["line"] == 0
    assert "pip install 'vevents[remote]'" in item["unreadable"]


def test_a_missing_path_is_one_unreadable_item(tmp_path: Path) -> None:
    (item,) = api.read(tmp_path / "none.ndjson")
    assert item["source"] == str(tmp_path / "none.ndjson") and item["line"] == 0 and "unreadable" in item


def test_one_schema_set_per_process_is_reused() -> None:
    payload = samples.sample("voucher.published")
    api.check(payload)
    schemas = api._schemas(False)
    plans = len(schemas._plans)
    for _ in range(3):
        api.check(payload)
        api.facts(payload)
    assert api._schemas(False) is schemas and len(schemas._plans) == plans
    assert api._schemas(True) is not schemas


def test_the_command_line_never_imports_the_api() -> None:
    """Nor pyarrow or fsspec: `vevents --version` and `show` start as they did."""
    for args in (["--version"], ["show", "--format", "json", str(SAMPLES / "voucher.published.json")]):
        child = run(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert child.returncode == 0, child.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in child.stderr.decode().splitlines()}
        assert "vevents_cli.cli" in imported
        assert not imported & {"vevents_cli.api", "vevents_cli.output.parquet", "pyarrow", "fsspec"}
