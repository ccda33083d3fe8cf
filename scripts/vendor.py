"""Access to the vendor's reference data in ../shared (development only, never shipped).

The OpenAPI file and the legacy Event object page are read from where they lie
(`VEVENTS_VENDOR_DIR`, else ../shared/vendor/voucherify beside the repository); nothing of them
is copied into the project. Everything here returns plain Python values; a script that needs
the files calls `require` first, which ends it with one line when they are missing.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENDOR_DIR = Path(os.environ.get("VEVENTS_VENDOR_DIR", REPO.parent / "shared" / "vendor" / "voucherify"))
SPEC_PATH = VENDOR_DIR / "OpenAPIWebhooks.json"
LEGACY_PATH = VENDOR_DIR / "legacy-event-object.md"

DOCS_DIR = VENDOR_DIR / "docs"

# Webhook keys whose event type is not simply the lower-cased key (EVENTS.X.Y -> x.y).
_KEY_RENAMES = {"BUS_VAL_RULE": "BUSINESS_VALIDATION_RULE"}
# Whole keys whose event type, as Voucherify sends it, is not the key's x.y: the
# distribution-webhooks page lists `manual_distribution_schedule` in `event.type` (no
# `distribution.` prefix). tests/conformance/test_vendor_examples.py checks every name against the pages.
_WIRE_NAMES = {"EVENTS.DISTRIBUTION.MANUAL_DISTRIBUTION_SCHEDULE": "manual_distribution_schedule"}


def available() -> bool:
    """True when ../shared holds the vendor files."""
    return SPEC_PATH.is_file() and LEGACY_PATH.is_file()


def require(script: str, *paths: Path) -> None:
    """End `script` with one line on stderr and status 2 unless the vendor files `paths` are there."""
    missing = [path for path in paths if not path.is_file()]
    if missing:
        names = ", ".join(str(path) for path in missing)
        sys.stderr.write(
            f"{script}: the vendor's reference data is missing ({names} not found): "
            "put it in ../shared/vendor/voucherify/ or set VEVENTS_VENDOR_DIR\n"
        )
        raise SystemExit(2)


def webhook_type(key: str) -> str:
    """Map a webhook key of the OpenAPI file to the type Voucherify sends.

    >>> webhook_type("EVENTS.BUS_VAL_RULE.CREATED")
    'business_validation_rule.created'
    >>> webhook_type("EVENTS.DISTRIBUTION.MANUAL_DISTRIBUTION_SCHEDULE")
    'manual_distribution_schedule'
    """
    if key in _WIRE_NAMES:
        return _WIRE_NAMES[key]
    parts = key.split(".")
    if parts[0] != "EVENTS":
        raise ValueError(f"not an event webhook key: {key}")
    return ".".join(_KEY_RENAMES.get(p, p).lower() for p in parts[1:])


@functools.cache
def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


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


# --------------------------------------------------------------------------- doc pages

PROJECT_PAGE = DOCS_DIR / "project-settings-webhooks.mdx"
DISTRIBUTION_PAGE = DOCS_DIR / "distribution-webhooks.mdx"


def docs_available() -> bool:
    return PROJECT_PAGE.is_file() and DISTRIBUTION_PAGE.is_file()


def _bullets(block: str) -> list[str]:
    """The event names of a bullet list: `  - [name](link)`, `  - name` or `- \\`name\\``."""
    return [m.group(1) for m in re.finditer(r"^\s*- \[?`?([a-z_][a-z_.]*[a-z_])", block, re.M)]


def documented_types(page: Path) -> dict[str, list[str]]:
    """The type lists of a webhooks page, by where they stand.

    `data`: the events the payload covers (`data` (`object`): ... the following events:);
    `type`: the `type` member's "Available values" (project settings page);
    `event.type`: the names listed under the `event` object's `type` member.
    """
    text = page.read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    data = re.search(r"^- `data` \(`object`\):[^\n]*\n((?:  - [^\n]*\n)+)", text, re.M)
    if data:
        out["data"] = _bullets(data.group(1))
    available = re.search(r"^- `type` \(`string`\):[^\n]*Available values: ([^\n]*)$", text, re.M)
    if available:
        out["type"] = re.findall(r"`([^`]+)`", available.group(1))
    event = re.search(
        r"^  - `type` \(`string`\): Determines the type of the event\.[^\n]*\n((?:    - `[^\n]*\n)+)",
        text,
        re.M,
    )
    if event:
        out["event.type"] = re.findall(r"`([^`]+)`", event.group(1))
    return out
