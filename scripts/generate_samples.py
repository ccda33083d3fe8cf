"""Generate samples/: one v2024 webhook payload per event type, made from our own schemas.

Each event's `data` is built by walking schemas/default/data/<type>.json (refs resolved in
defs.json, allOf merged, the first non-null anyOf/oneOf branch that validates, required
and optional members filled down to a modest depth), with values taken from a small
fictional world (Ada Lovelace, Grace Hopper, "Stardust Rewards", ...). A per-type table of
facts then makes each payload tell a coherent story (points accrued, tiers changed, ...).
Nothing is copied from the vendor's examples. The output is deterministic.

    python scripts/generate_samples.py            # write samples/
    python scripts/generate_samples.py --check    # exit 1 when samples/ is out of date
    python scripts/generate_samples.py --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

try:
    from scripts import vendor  # noqa: F401  (keeps `python -m scripts...` and tests alike)
except ModuleNotFoundError:  # run as a script: put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jsonschema_rs

from vevents_cli.resources import schema_for_id
from vevents_cli.samples import wrap
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES
from vevents_cli.voucherify.dialects import DISTRIBUTION, LEGACY, V2024

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
SAMPLES = REPO / "samples"

# --- The fictional world -----------------------------------------------------------------

ADA: dict[str, str] = {
    "id": "cust_ada0lovelace001",
    "source_id": "ada-l",
    "name": "Ada Lovelace",
    "email": "ada@example.test",
    "phone": "+44 20 7946 0018",
    "city": "London",
}
GRACE: dict[str, str] = {
    "id": "cust_grace0hopper002",
    "source_id": "grace-h",
    "name": "Grace Hopper",
    "email": "grace@example.test",
    "phone": "+1 202 555 0147",
    "city": "Arlington",
}

# One program per event family: the campaign and the voucher the event is about.
PROGRAMS: dict[str, dict[str, Any]] = {
    "loyalty": {
        "campaign_id": "camp_stardust0rewards",
        "campaign": "Stardust Rewards",
        "campaign_type": "LOYALTY_PROGRAM",
        "voucher_id": "v_star7q2k0loyalty",
        "code": "STAR-7Q2K",
        "voucher_type": "LOYALTY_CARD",
        "omit": {"gift", "discount"},
    },
    "gift": {
        "campaign_id": "camp_winter0giftcards",
        "campaign": "Winter Gift Cards",
        "campaign_type": "GIFT_VOUCHERS",
        "voucher_id": "v_gift4m8x0winter",
        "code": "GIFT-4M8X",
        "voucher_type": "GIFT_VOUCHER",
        "omit": {"loyalty_card", "discount"},
    },
    "discount": {
        "campaign_id": "camp_spring0sale2026",
        "campaign": "Spring Sale 2026",
        "campaign_type": "DISCOUNT_COUPONS",
        "voucher_id": "v_sprg9d3w0spring",
        "code": "SPRING-9D3W",
        "voucher_type": "DISCOUNT_VOUCHER",
        "omit": {"loyalty_card", "gift"},
    },
}

# Which program an event type is about: first matching pattern wins.
PROGRAM_OF: tuple[tuple[str, str], ...] = (
    ("*loyalty*", "loyalty"),
    ("customer.rewarded*", "loyalty"),
    ("customer.reward_redemptions.*", "loyalty"),
    ("*gift*", "gift"),
    ("*", "discount"),
)

# The nearest enclosing member names the entity a value belongs to.
ENTITY_OF_KEY: dict[str, str] = {
    "customer": "customer",
    "holder": "customer",
    "referee": "customer",
    "referrer": "referrer",
    "created_by": "user",
    "voucher": "voucher",
    "source_voucher": "voucher",
    "destination_voucher": "voucher",
    "loyalty_card": "voucher",
    "campaign": "campaign",
    "order": "order",
    "redemption": "redemption",
    "rollback": "rollback",
    "redemption_rollback": "rollback",
    "reward": "reward",
    "transaction": "transaction",
    "loyalty_tier": "tier",
    "holder_loyalty_tier": "tier",
    "loyalty_tier_from": "tier",
    "loyalty_tier_to": "tier",
    "segment": "segment",
    "promotion_tier": "promotion_tier",
    "earning_rule": "earning_rule",
    "product": "product",
    "sku": "sku",
    "items": "order_item",
    "category": "category",
    "categories": "category",
    "validation_rule": "validation_rule",
    "business_validation_rule": "validation_rule",
    "assignment": "assignment",
    "publication": "publication",
    "distribution": "distribution",
    "custom_event": "custom_event",
    "event": "custom_event",
    "pending_points": "pending_points",
    "referral_tier": "referral_tier",
    "promotion_stack": "promotion_stack",
    "reward_assignment": "reward_assignment",
    "rules": "rules",
    "related_object": "voucher",
}

PREFIX: dict[str, str] = {
    "customer": "cust",
    "referrer": "cust",
    "voucher": "v",
    "campaign": "camp",
    "order": "ord",
    "redemption": "r",
    "rollback": "rr",
    "reward": "rew",
    "transaction": "vtx",
    "tier": "ltr",
    "segment": "seg",
    "promotion_tier": "promo",
    "earning_rule": "ern",
    "product": "prod",
    "sku": "sku",
    "category": "cat",
    "validation_rule": "val",
    "assignment": "asgm",
    "publication": "pub",
    "distribution": "distr",
    "custom_event": "evcus",
    "pending_points": "lpp",
    "referral_tier": "reft",
    "promotion_stack": "stack",
    "reward_assignment": "rewa",
    "user": "user",
    "order_item": "item",
}

NAMES: dict[str, str] = {
    "customer": ADA["name"],
    "referrer": GRACE["name"],
    "tier": "Silver",
    "segment": "Frequent Buyers",
    "promotion_tier": "10% off orders over 100 EUR",
    "earning_rule": "1 point per 1 EUR spent",
    "product": "Espresso Grinder",
    "sku": "Espresso Grinder, matte black",
    "category": "Seasonal",
    "validation_rule": "Orders over 50 EUR",
    "reward": "Free Coffee Beans",
    "custom_event": "review_posted",
    "referral_tier": "Bring a Friend",
    "promotion_stack": "Spring stack",
    "order_item": "Espresso Grinder",
    "distribution": "Welcome e-mail",
    "user": "Lin Ops",
}

# Integers and numbers by member name (amounts in minor units).
NUMBERS: dict[str, int] = {
    "amount": 12900,
    "total_amount": 11400,
    "discount_amount": 1500,
    "total_discount_amount": 1500,
    "items_discount_amount": 0,
    "total_applied_discount_amount": 1500,
    "applied_discount_amount": 1500,
    "items_applied_discount_amount": 0,
    "initial_amount": 12900,
    "subtotal_amount": 12900,
    "price": 12900,
    "amount_off": 1500,
    "percent_off": 10,
    "unit_off": 1,
    "amount_limit": 5000,
    "points": 120,
    "balance": 1240,
    "total": 1240,
    "quantity": 1,
    "redeemed_quantity": 1,
    "redeemed_amount": 0,
    "redeemed_points": 0,
    "count": 1,
    "total_count": 1,
    "level": 1,
    "min": 0,
    "max": 999,
    "expired_points": 0,
    "subtracted_points": 0,
    "pending_points": 0,
    "next_expiration_points": 0,
    "length": 4,
    "value": 1,
    "every": 100,
    "holder_count": 1,
    "vouchers_count": 250,
    "total_failed": 0,
    "total_succeeded": 1,
}

STRINGS: dict[str, str] = {
    "email": ADA["email"],
    "phone": ADA["phone"],
    "currency": "EUR",
    "city": "London",
    "country": "GB",
    "postal_code": "N1 9GU",
    "line_1": "12 Analytical Row",
    "line_2": "",
    "state": "",
    "description": "Sample generated by vevents",
    "charset": "0123456789ABCDEFGHJKMNPQRSTVWXYZ",
    "pattern": "STAR-####",
    "prefix": "STAR-",
    "postfix": "",
    "url": "https://example.test/v",
    "target_url": "https://hooks.example.test/voucherify",
    "channel": "API",
    "reason": "Order ORD-1042 paid",
    "source": "vevents-sample",
    "property": "order.amount",
    "message": "Order amount too low",
    "logic": "1",
    "formula": "$amount * 1",
    "timezone": "Europe/London",
    "language": "en",
    "image_url": "https://example.test/g.png",
    "event_type": "customer.order.paid",
    "error": "",
    "result": "SUCCESS",
    "additional_info": "Issued at the spring fair",
    "tracking_id": "track_ada0001",
    "category": "Seasonal",
    "short_url": "https://example.test/s/STAR",
    "url_image": "https://example.test/i.png",
    "code_url": "https://example.test/c",
}

TRUE_KEYS = {"active", "enabled", "auto_join", "join_once", "use_voucher_metadata_schema"}
SKIP_OPTIONAL = {
    "assets",
    "access_settings_assignments",
    "validation_rules_assignments",
    "promotion",
    "applicable_to",
    "inapplicable_to",
    "skus",
    "referrer",
}
SKIP_NESTED = {"reward"}  # optional members left out below the top level
OPTIONAL_DEPTH = 2
HARD_DEPTH = 12  # below this only required members, then null where allowed

BASE_TIME = datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
DATE_TIMES = {
    "start_date": "2026-01-01T00:00:00.000Z",
    "expiration_date": "2026-12-31T23:59:59.000Z",
    "expires_at": "2026-12-31T23:59:59.000Z",
    "next_expiration_date": "2026-09-30",
}

# --- Facts that must make sense, by event type pattern (later rows win) -----------------
# Dotted paths into the event's data; a path is set when its parent object exists.
LOYALTY_VOUCHER = {
    "voucher.type": "LOYALTY_CARD",
    "voucher.loyalty_card.points": 1400,
    "voucher.loyalty_card.balance": 1240,
}
GIFT_VOUCHER = {"voucher.type": "GIFT_VOUCHER", "voucher.gift.amount": 10000, "voucher.gift.balance": 7500}

FACTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "*",
        {
            "customer.name": ADA["name"],
            "customer.id": ADA["id"],
            "order.status": "PAID",
            "redemption.order.status": "PAID",
        },
    ),
    ("voucher.[!lgp]*", {"voucher.type": "DISCOUNT_VOUCHER"}),  # created, updated, enabled...
    ("*loyalty*", LOYALTY_VOUCHER),
    ("customer.reward_redemptions.*", {**LOYALTY_VOUCHER, "reward_assignment.parameters.loyalty.points": 200}),
    ("*loyalty_card*", {"transaction.type": "POINTS_ACCRUAL"}),
    (
        "voucher.loyalty_card.transaction.created",
        {
            "transaction.type": "POINTS_ACCRUAL",
            "transaction.details.balance.points": 120,
            "transaction.details.balance.balance": 1240,
            "transaction.details.balance.total": 1400,
            "balance.points": 120,
            "balance.balance": 1240,
            "balance.total": 1400,
        },
    ),
    (
        "*.loyalty_card.points_added",
        {
            "transaction.type": "POINTS_ADDITION",
            "transaction.details.balance.points": 40,
            "transaction.details.balance.balance": 1280,
            "balance.points": 40,
            "balance.balance": 1280,
            "balance.total": 1440,
            "voucher.loyalty_card.balance": 1280,
            "voucher.loyalty_card.points": 1440,
        },
    ),
    (
        "*.loyalty_card.points_expired",
        {
            "transaction.type": "POINTS_EXPIRATION",
            "transaction.details.balance.points": -30,
            "transaction.details.balance.balance": 1210,
            "balance.points": -30,
            "balance.balance": 1210,
            "voucher.loyalty_card.balance": 1210,
            "voucher.loyalty_card.expired_points": 30,
        },
    ),
    (
        "*.pending_points.*",
        {
            "voucher_pending_points_balance.points": 60,
            "voucher_pending_points_balance.balance": 60,
            "voucher_pending_points_balance.total": 60,
            "pending_points.points": 60,
            "voucher.loyalty_card.pending_points": 60,
        },
    ),
    (
        "*.pending_points.activated",
        {  # the 60 pending points join the card balance
            "transaction.type": "PENDING_POINTS_ACTIVATION",
            "balance.points": 60,
            "balance.balance": 1300,
            "balance.total": 1460,
            "transaction.details.balance.points": 60,
            "transaction.details.balance.balance": 1300,
            "voucher.loyalty_card.balance": 1300,
            "voucher.loyalty_card.points": 1460,
            "voucher.loyalty_card.pending_points": 0,
        },
    ),
    (
        "*.pending_points.canceled",
        {  # the 60 pending points leave the pending balance (signed, as sent)
            "voucher_pending_points_balance.points": -60,
            "voucher_pending_points_balance.balance": 0,
            "voucher_pending_points_balance.total": 0,
            "voucher.loyalty_card.pending_points": 0,
        },
    ),
    (
        "customer.rewarded",
        {
            "voucher.type": "LOYALTY_CARD",
            "voucher.loyalty_card.balance": 940,
            "voucher.loyalty_card.points": 1240,
            "redemption.amount": 300,
            "balance.points": -300,
            "balance.amount": 0,
        },
    ),
    (
        "customer.rewarded.loyalty_points",
        {"balance.points": 120, "balance.balance": 1240, "balance.total": 1400, "voucher.loyalty_card.balance": 1240},
    ),
    ("*gift*", GIFT_VOUCHER),
    (
        "*.gift.balance_added",
        {
            "balance.amount": 2500,
            "balance.balance": 7500,
            "balance.total": 10000,
            "transaction.type": "CREDITS_ADDITION",
            "transaction.details.balance.amount": 2500,
            "transaction.details.balance.balance": 7500,
        },
    ),
    (
        "voucher.gift.transaction.created",
        {
            "transaction.type": "CREDITS_REDEMPTION",
            "transaction.amount": -2500,
            "transaction.details.balance.amount": -2500,
            "transaction.details.balance.balance": 7500,
        },
    ),
    (
        "customer.loyalty.tier.*",
        {"loyalty_tier.name": "Silver", "loyalty_tier_from.name": "Silver", "loyalty_tier_to.name": "Gold"},
    ),
    ("customer.loyalty.tier.downgraded", {"loyalty_tier_from.name": "Gold", "loyalty_tier_to.name": "Silver"}),
    ("customer.loyalty.tier.joined", {"loyalty_tier.name": "Silver"}),
    ("customer.loyalty.tier.upgraded", {"loyalty_tier.name": "Gold"}),
    ("campaign.loyalty_tier.*", {"loyalty_tier.name": "Gold"}),
    ("customer.segment.*", {"segment.name": "Frequent Buyers"}),
    (
        "*redemption*",
        {
            "order.amount": 12900,
            "order.status": "PAID",
            "redemption.result": "SUCCESS",
            "redemption.status": "SUCCEEDED",
            "redemption.amount": 1500,
            "redemption.order.amount": 12900,
            "redemption.order.status": "PAID",
        },
    ),
    (
        "*redemption*failed",
        {
            "redemption.result": "FAILURE",
            "redemption.status": "FAILED",
            "redemption.failure_code": "order_rules_violated",
            "redemption.failure_message": "Order amount too low",
            "redemption_rollback.result": "FAILURE",
            "redemption_rollback.status": "FAILED",
        },
    ),
    (
        "redemption.rollback.succeeded",
        {
            "redemption.status": "ROLLED_BACK",
            "redemption_rollback.result": "SUCCESS",
            "redemption_rollback.status": "SUCCEEDED",
            "redemption_rollback.amount": -1500,
        },
    ),
    (
        "customer.redemption.rollback.succeeded",
        {"redemption.status": "ROLLED_BACK", "rollback.result": "SUCCESS", "rollback.status": "SUCCEEDED"},
    ),
    ("customer.order.*", {"order.amount": 12900, "order.status": "CREATED"}),
    ("customer.order.paid", {"order.status": "PAID"}),
    ("customer.order.canceled", {"order.status": "CANCELED"}),
    ("voucher.disabled", {"voucher.active": False}),
    ("campaign.disabled", {"campaign.active": False}),
    ("campaign.promotion_tier.disabled", {"promotion_tier.active": False}),
)

# --- Schema access -----------------------------------------------------------------------

_DOCS: dict[str, Any] = {}


def load(uri: str) -> Any:
    """A schema document by file:// URI or by its `$id` (the fragment ignored), cached."""
    bundled = schema_for_id(uri)
    path = bundled.as_uri() if bundled is not None else uri.split("#")[0]
    if path not in _DOCS:
        _DOCS[path] = json.loads(Path(path[len("file://") :]).read_text(encoding="utf-8"))
    return _DOCS[path]


def retrieve(uri: str) -> Any:
    return load(uri)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


class Node:
    """A subschema and where it lives (document URI + JSON pointer)."""

    __slots__ = ("pointer", "schema", "uri")

    def __init__(self, uri: str, pointer: str, schema: Any) -> None:
        self.uri, self.pointer, self.schema = uri, pointer, schema

    def child(self, *tokens: str | int) -> Node:
        schema = self.schema
        for token in tokens:
            schema = schema[token]
        pointer = self.pointer + "".join("/" + _escape(str(t)) for t in tokens)
        return Node(self.uri, pointer, schema)

    def deref(self) -> Node:
        node = self
        while (
            isinstance(node.schema, dict) and "$ref" in node.schema and set(node.schema) <= {"$ref", "$schema", "$id"}
        ):
            ref = node.schema["$ref"]
            base, _, fragment = ref.partition("#")
            uri = node.uri if not base else _join(node.uri, base)
            node = Node(uri, fragment, _resolve_pointer(load(uri), fragment))
        return node


def _join(uri: str, relative: str) -> str:
    base = Path(uri[len("file://") :]).parent
    return (base / relative).resolve().as_uri()


_VALIDATORS: dict[tuple[str, str], Any] = {}


def validator(uri: str, pointer: str = "") -> Any:
    key = (uri, pointer)
    if key not in _VALIDATORS:
        if pointer:  # a stand-alone wrapper pointing into the document
            schema, base = {"$ref": f"{uri}#{pointer}"}, "file:///vevents-samples/wrapper.json"
        else:
            schema, base = load(uri), uri
        _VALIDATORS[key] = jsonschema_rs.validator_for(
            schema, validate_formats=True, registry=_registry(uri), base_uri=base
        )
    return _VALIDATORS[key]


_REGISTRIES: dict[str, Any] = {}


def _registry(uri: str) -> Any:
    """The schema document at `uri` and its level's `defs.json`, registered once for every
    validator that points into them (compiling each wrapper alone re-reads both)."""
    if uri not in _REGISTRIES:
        path = Path(uri[len("file://") :])
        defs = path.parent.parent / "defs.json"
        found = [(uri, load(uri))] + ([(defs.as_uri(), load(defs.as_uri()))] if defs.is_file() else [])
        _REGISTRIES[uri] = jsonschema_rs.Registry(found, retriever=retrieve)
    return _REGISTRIES[uri]


def data_schema_uri(level: str, etype: str) -> str:
    return (SCHEMAS / level / "data" / f"{etype}.json").as_uri()


# --- The generator -----------------------------------------------------------------------


def _hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


class Generator:
    def __init__(self, etype: str, when: str) -> None:
        self.etype = etype
        self.when = when
        program = next(p for pattern, p in PROGRAM_OF if fnmatch.fnmatchcase(etype, pattern))
        self.program: dict[str, str] = PROGRAMS[program]

    # entity context: the nearest member name in the path that names an entity
    @staticmethod
    def entity(path: tuple[str, ...]) -> str | None:
        for key in reversed(path[:-1]):
            if key in ENTITY_OF_KEY:
                return ENTITY_OF_KEY[key]
        return None

    def value(self, node: Node, path: tuple[str, ...], depth: int, required: frozenset[str] = frozenset()) -> Any:
        """A value for `node`; `required` names members an enclosing allOf requires."""
        node = node.deref()
        schema = node.schema
        required = required | frozenset(schema.get("required", ()) if isinstance(schema, dict) else ())
        if schema is True or schema == {}:
            return self.scalar("string", {}, path)
        if "$ref" in schema:  # a ref with siblings: both apply
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            ref_node = Node(node.uri, node.pointer, {"$ref": schema["$ref"]})
            ref = self.value(ref_node, path, depth, required)
            rest_value = self.value(Node(node.uri, node.pointer, rest), path, depth, required)
            return merge(ref, rest_value)
        if "allOf" in schema:
            result: Any = None
            parts = [node.child("allOf", i) for i in range(len(schema["allOf"]))]
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            if rest.get("properties") or "anyOf" in rest or "oneOf" in rest:
                parts.append(Node(node.uri, node.pointer, rest))
            for part in parts:
                result = merge(result, self.value(part, path, depth, required))
            return result
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                return self.choose(node, keyword, path, depth, required)
        if "enum" in schema:
            return next((v for v in schema["enum"] if v is not None), None)
        if "const" in schema:
            return schema["const"]
        types = schema.get("type", "object" if "properties" in schema else "string")
        types = types if isinstance(types, list) else [types]
        kinds = [t for t in types if t != "null"]
        if not kinds:
            return None
        kind = kinds[0]
        if kind == "object":
            if depth > HARD_DEPTH and "null" in types:
                return None
            return self.object(node, path, depth, required)
        if kind == "array":
            if depth > OPTIONAL_DEPTH + 1 or "items" not in schema:
                return []
            return [self.value(node.child("items"), path, depth + 1)]
        return self.scalar(kind, schema, path)

    def choose(self, node: Node, keyword: str, path: tuple[str, ...], depth: int, required: frozenset[str]) -> Any:
        branches = node.schema[keyword]
        fallback: Any = None
        for i, branch in enumerate(branches):
            if branch == {"type": "null"}:
                continue
            candidate = self.value(node.child(keyword, i), path, depth, required)
            valid = [
                j
                for j in range(len(branches))
                if validator(node.uri, f"{node.pointer}/{keyword}/{j}").is_valid(candidate)
            ]
            if i in valid and (keyword == "anyOf" or len(valid) == 1):
                return candidate
            if fallback is None:
                fallback = candidate
        if {"type": "null"} in branches:  # nothing non-null fits: say nothing
            return None
        return fallback

    def object(self, node: Node, path: tuple[str, ...], depth: int, required: frozenset[str]) -> dict[str, Any]:
        schema = node.schema
        key = path[-1] if path else ""
        props = schema.get("properties", {})
        if not props:
            if key == "metadata":
                return {"channel": "web"}
            return {}
        out: dict[str, Any] = {}
        for name in props:
            optional = name not in required
            if optional and (
                depth >= OPTIONAL_DEPTH
                or name in SKIP_OPTIONAL
                or (depth > 0 and name in SKIP_NESTED)
                or (name in self.program["omit"] and ENTITY_OF_KEY.get(key) == "voucher")
            ):
                continue
            out[name] = self.value(node.child("properties", name), (*path, name), depth + 1)
        return out

    def scalar(self, kind: str, schema: dict[str, Any], path: tuple[str, ...]) -> Any:
        key = path[-1] if path else ""
        entity = self.entity(path)
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if kind in ("integer", "number"):
            number = NUMBERS.get(key, 1)
            if entity == "voucher" and key in ("points", "balance"):
                number = {"points": 1400, "balance": 1240}[key]
            if lo is not None and number < lo:
                number = lo
            if hi is not None and number > hi:
                number = hi
            return int(number)
        if kind == "boolean":
            return key in TRUE_KEYS
        fmt = schema.get("format")
        if fmt == "date-time":
            return DATE_TIMES.get(key, self.when) if "T" in DATE_TIMES.get(key, "T") else self.when
        if fmt == "date":
            return DATE_TIMES.get(key, self.when)[:10]
        if fmt == "time":
            return "09:00:00"
        return self.string(key, entity, path)

    def string(self, key: str, entity: str | None, path: tuple[str, ...]) -> str:
        program = self.program
        person = GRACE if entity == "referrer" else ADA
        if key in ("id", "source_id", "name", "email", "code", "object", "type", "status"):
            if entity in ("customer", "referrer") and key in person:
                return person[key]
            if entity == "voucher" and key in ("id", "code"):
                return program["voucher_id" if key == "id" else "code"]
            if entity == "campaign" and key in ("id", "name"):
                return program["campaign_id" if key == "id" else "campaign"]
            if entity == "order" and key == "source_id":
                return "ORD-1042"
            if key == "id":
                prefix = PREFIX.get(entity or "", "obj")
                return f"{prefix}_{_hash(self.etype, *path)}"
            if key == "name":
                return NAMES.get(entity or "", "Sample")
            if key == "object":
                return entity or "object"
            if key == "source_id":
                return f"{entity or 'obj'}-1042"
        if key in ("customer_id", "holder_id", "referrer_id", "related_object_id"):
            return GRACE["id"] if key == "referrer_id" else ADA["id"]
        if key == "campaign_type":
            return program["campaign_type"]
        if key == "campaign_id":
            return program["campaign_id"]
        if key == "campaign" or key == "campaign_name":
            return program["campaign"]
        if key == "voucher_id":
            return program["voucher_id"]
        if key == "code":
            return program["code"]
        if key.endswith("_id"):
            stem = key[: -len("_id")]
            prefix = PREFIX.get(ENTITY_OF_KEY.get(stem, stem), stem[:4])
            return f"{prefix}_{_hash(self.etype, *path)}"
        if key in STRINGS:
            return STRINGS[key]
        return key.replace("_", " ")


class Placeholder:
    """A value that `merge` gives way to anything else for, None included (tests' instance generator)."""


def merge(a: Any, b: Any) -> Any:
    """`a` and `b` merged: dicts member by member; else `a`, unless it is None or a Placeholder."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if k in out else v
        return out
    if isinstance(a, Placeholder):
        return b
    if isinstance(b, Placeholder):
        return a
    return a if b is None else b if a is None else a


def apply_facts(etype: str, data: dict[str, Any]) -> None:
    for pattern, facts in FACTS:
        if not fnmatch.fnmatchcase(etype, pattern):
            continue
        for path, value in facts.items():
            *parents, leaf = path.split(".")
            node: Any = data
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and (leaf in node or value is not None):
                node[leaf] = value


def event_time(index: int) -> str:
    moment = BASE_TIME + timedelta(minutes=7 * index, seconds=13 * index)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def generate(etype: str, when: str, level: str = "default") -> dict[str, Any]:
    uri = data_schema_uri(level, etype)
    data: dict[str, Any] = Generator(etype, when).value(Node(uri, "", load(uri)), (), 0)
    apply_facts(etype, data)
    return data


def best(etype: str, when: str) -> dict[str, Any]:
    """Data walked from the default schema; when that misses the strict level, data walked
    from the strict schema instead if it passes both levels."""
    data = generate(etype, when)
    if errors(data, "default", etype) or not errors(data, "strict", etype):
        return data
    stricter = generate(etype, when, "strict")
    as_full = {k for k, v in data.items() if v is not None} <= {k for k, v in stricter.items() if v is not None}
    if as_full and not errors(stricter, "default", etype) and not errors(stricter, "strict", etype):
        return stricter
    return data


def errors(data: Any, level: str, etype: str) -> list[str]:
    v = validator(data_schema_uri(level, etype))
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"[:200] for e in v.iter_errors(data)]


# --- Output ------------------------------------------------------------------------------


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def build() -> dict[str, str]:
    """Relative path under samples/ -> file text."""
    files: dict[str, str] = {}
    datas: dict[str, dict[str, Any]] = {}
    envelope = validator((SCHEMAS / "default" / "envelope" / "v2024.json").as_uri())
    for index, etype in enumerate(SCHEMA_TYPES):
        when = event_time(index)
        data = best(etype, when)
        problems = errors(data, "default", etype)
        if problems:
            raise SystemExit(f"{etype}: generated data is invalid:\n  " + "\n  ".join(problems))
        event = wrap(data, etype, V2024, created_at=when)
        envelope.validate(event)
        datas[etype] = data
        files[f"{etype}.json"] = dump(event)
    when = event_time(len(SCHEMA_TYPES) + 1)
    points = datas["customer.voucher.loyalty_card.points_added"]
    legacy = wrap(
        datas["customer.rewarded.loyalty_points"],
        "customer.rewarded.loyalty_points",
        LEGACY,
        created_at=when,
        name="points_earned",
    )
    files["dialects/v2024.json"] = dump(
        wrap(points, "customer.voucher.loyalty_card.points_added", V2024, created_at=when)
    )
    files["dialects/distribution.json"] = dump(
        wrap(
            datas["customer.order.paid"], "customer.order.paid", DISTRIBUTION, created_at=when, name="Order paid → SMS"
        )
    )
    files["dialects/legacy.json"] = dump(legacy)
    # Bare: a type whose shape tells it apart, so it is recognised without --as.
    files["dialects/bare.json"] = dump(datas["voucher.loyalty_card.transaction.created"])
    return files


def strict_report() -> tuple[int, dict[str, list[str]]]:
    failing: dict[str, list[str]] = {}
    for etype in SCHEMA_TYPES:
        data = json.loads((SAMPLES / f"{etype}.json").read_text(encoding="utf-8"))["data"]
        problems = errors(data, "strict", etype)
        if problems:
            failing[etype] = problems
    return len(SCHEMA_TYPES) - len(failing), failing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if samples/ is stale")
    parser.add_argument("--out", type=Path, default=SAMPLES, help="output directory")
    parser.add_argument("--strict-report", action="store_true", help="report which samples fail the strict schemas")
    args = parser.parse_args(argv)
    if args.strict_report:
        passed, failing = strict_report()
        for etype, problems in failing.items():
            print(f"{etype}:\n  " + "\n  ".join(problems[:5]))
        print(f"strict: {passed}/{len(SCHEMA_TYPES)} pass")
        return 0
    files = build()
    if args.check:
        stale = [
            rel
            for rel, text in files.items()
            if not (args.out / rel).is_file() or (args.out / rel).read_text(encoding="utf-8") != text
        ]
        extra = (
            sorted(
                str(p.relative_to(args.out))
                for p in args.out.rglob("*.json")
                if str(p.relative_to(args.out)) not in files
            )
            if args.out.is_dir()
            else []
        )
        for rel in [*stale, *extra]:
            print(f"out of date: samples/{rel}")
        return 1 if stale or extra else 0
    for rel, text in files.items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
