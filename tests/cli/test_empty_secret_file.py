"""An empty `--secret-file` (issue 18, item 13c) is a usage error naming the file, in every
command that takes one, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke
from vevents_cli import samples


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
@pytest.mark.parametrize(
    "command", [("verify",), ("listen", "--port", "0", "--require-signature"), ("send", "http://127.0.0.1:9/")]
)
def test_an_empty_secret_file_is_named(tmp_path: Path, content: bytes, command: tuple[str, ...]) -> None:
    secret = tmp_path / "webhook.secret"
    secret.write_bytes(content)
    event = tmp_path / "event.json"
    event.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    args = [*command, "--secret-file", str(secret)] + ([str(event)] if command[0] != "listen" else [])
    result = invoke(*args)
    assert result.exit_code == 2
    assert f"{secret}: empty secret file" in result.stderr
    assert "no webhook secret" not in result.stderr
