"""Access to the vendor's reference data in ../shared (development only, never shipped).

The OpenAPI file and the legacy Event object page are read from where they lie; nothing
of them is copied into the project. Everything here returns plain Python values.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENDOR_DIR = Path(
    os.environ.get("VEVENTS_VENDOR_DIR", REPO.parent / "shared" / "vendor" / "voucherify")
)
SPEC_PATH = VENDOR_DIR / "OpenAPIWebhooks.json"
LEGACY_PATH = VENDOR_DIR / "legacy-event-object.md"

# Webhook keys whose event type is not simply the lower-cased key (EVENTS.X.Y -> x.y).
_KEY_RENAMES = {"BUS_VAL_RULE": "BUSINESS_VALIDATION_RULE"}


def available() -> bool:
    """True when ../shared holds the vendor files."""
    return SPEC_PATH.is_file() and LEGACY_PATH.is_file()


def webhook_type(key: str) -> str:
    """Map a webhook key of the OpenAPI file to the type Voucherify sends.

    >>> webhook_type("EVENTS.BUS_VAL_RULE.CREATED")
    'business_validation_rule.created'
    """
    parts = key.split(".")
    if parts[0] != "EVENTS":
        raise ValueError(f"not an event webhook key: {key}")
    return ".".join(_KEY_RENAMES.get(p, p).lower() for p in parts[1:])


@functools.cache
def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def webhooks() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(webhook key, event type, data component name, example data) for each webhook."""
    for key, item in load_spec()["webhooks"].items():
        content = item["post"]["requestBody"]["content"]["application/json"]
        component = content["schema"]["$ref"].rsplit("/", 1)[-1]
        (example,) = content["examples"].values()
        yield key, webhook_type(key), component, example["value"]


def examples() -> list[tuple[str, dict[str, Any]]]:
    """(event type, example data) for the 72 webhooks, in the file's order."""
    return [(etype, example) for _key, etype, _component, example in webhooks()]


@functools.cache
def legacy_examples() -> list[tuple[str, dict[str, Any]]]:
    """(title, payload) for each JSON example of the legacy Event object page."""
    text = LEGACY_PATH.read_text(encoding="utf-8")
    blocks = re.findall(r"```json([^\n]*)\n(.*?)```", text, re.S)
    return [(title.strip(), json.loads(body)) for title, body in blocks]
