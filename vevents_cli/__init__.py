"""vevents: inspect, validate and summarise Voucherify webhook and event payloads."""

__version__ = "0.1.0"
