"""Webhooks over HTTP, in and out: receive deliveries, save them, forward them, send them.

- `http`: the pieces of an HTTP message everything here shares: case-insensitive
  `Headers`, the one Content-Length reading, chunked bodies, a request body as a record,
  loopback hosts.
- `saved`: the `listen --save` NDJSON file, the one place that writes, recognises and
  reads it back.
- `server`: connections: a thread each, a cap (and the open-files limit), a deadline per
  phase, eviction of waiting connections, backoff when out of file descriptors.
- `receive`: one delivery: the `Receiver` reads it, checks its signature, saves it,
  answers it and queues it as a record for the pipeline (and for forwarding).
- `forward`: the `Forwarder`, which passes accepted deliveries on from its own thread.
- `send`: `vevents send`'s client: deliveries made from events or bundled samples, POSTed
  as Voucherify does (signed, within its response limit, retried on its schedule).

`http` and `saved` depend only on `model` and `jsonout`, so the pipeline reads captures
and saved files through them; nothing here imports the pipeline, the output or the CLI.
"""
