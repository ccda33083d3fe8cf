"""Fixtures and hooks only; what tests share lives in tests/helpers (`from tests.helpers import …`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.cli import cleaning


@pytest.fixture(scope="session", autouse=True)
def _clean_environment() -> Iterator[None]:
    """The whole session (each xdist worker) sees no colour, size, locale, VEVENTS_* or secret
    setting from the shell that started it: see tests/helpers/cli.py."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in cleaning().items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        yield
