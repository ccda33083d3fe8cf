"""How Voucherify delivers a webhook: the sender's numbers, from the vendor's pages.

`docs/introduction-to-webhooks.mdx`: the endpoint "must return a response in under 10
seconds; otherwise, it will be considered an error"; a webhook is disabled (a distribution
paused) "after 12 unsuccessful tries"; every delivery carries `x-voucherify-signature`
(`signatures.py`) and may carry the "additional HTTP headers" set up for it. A failed
delivery is tried again after 1, 2, 4, ... minutes (doubling). `vevents send` reads these
here, never as numbers of its own.
"""

from __future__ import annotations

CONTENT_TYPE = "application/json"
RESPONSE_LIMIT = 10.0  # seconds: a slower answer is a failed delivery
MAX_TRIES = 12  # unsuccessful tries before Voucherify disables the webhook
FIRST_RETRY = 60.0  # seconds before the first retry; each next one waits twice as long
# Headers the sender itself writes: an additional header may not replace them.
OWN_HEADERS = frozenset(("host", "content-length", "transfer-encoding", "connection"))


def retry_delay(retry: int, scale: float = 1.0) -> float:
    """Seconds to wait before the `retry`-th retry (1-based): 60, 120, 240... times `scale`."""
    return FIRST_RETRY * float(2 ** (retry - 1)) * scale


def succeeded(status: int | None) -> bool:
    """Whether an HTTP status is a delivered webhook (2xx)."""
    return status is not None and 200 <= status < 300
