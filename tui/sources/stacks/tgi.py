"""Hugging Face TGI's router metrics: requests, failures by cause, latency, queue.

Names from huggingface/text-generation-inference (written by ``metrics-exporter-prometheus``,
which keeps counter names as recorded: no ``_total``, as TGI's ``assets/tgi_grafana.json``
queries them):

- ``router/src/server.rs``: ``tgi_request_count`` (every request) → requests;
  ``tgi_request_duration`` (successful requests; buckets from 0.00015 s, each 1.5x the
  last, to ~146 s) → latency;
- ``router/src/infer/mod.rs``, ``backends/v3/src/backend.rs``:
  ``tgi_request_failure{err}``. ``server.rs`` (``impl From<InferError> for (StatusCode, …)``)
  answers ``generation`` (a shard failed) with 424 and ``incomplete`` with 500: both are
  the server failing, so both count as 5xx here; ``overloaded`` (its concurrency limit)
  is its 429; ``validation``/``template`` (422) and ``dropped`` (client gone) are neither;
- ``backends/v3/src/queue.rs``: ``tgi_queue_size`` → queue;
- ``backends/v3/src/backend.rs`` ``tgi_batch_current_max_tokens`` over
  ``backends/v3/src/lib.rs`` ``tgi_batch_max_total_tokens`` (the KV-cache token budget
  warm-up found) → KV cache: the share of it the running batch holds.

TGI exports no time to first token (only queue, validation, inference and per-token
durations), so TTFT has no source here. The series carry no model: TGI serves one model
per Deployment, so the model row is the Deployment, read off the scraped ``pod`` label
(``<deployment>-<replicaset hash>-<suffix>``, `base.POD_NAME_OF_DEPLOYMENT`). A pod
not named that way (a StatefulSet's, a bare pod) gives no row.
"""

from __future__ import annotations

from tui.sources.promql import selector
from tui.sources.stacks.base import (
    MODEL,
    POD_NAME_OF_DEPLOYMENT,
    Buckets,
    Query,
    Stack,
    relabel,
    zero_filled,
)

SERVER_FAILURES = "generation|incomplete"
OVERLOADED = "overloaded"


def deployment(expr: str) -> str:
    """``expr`` (per pod) with its pod's Deployment as ``warroom_model``."""
    return relabel(expr, MODEL, "pod", POD_NAME_OF_DEPLOYMENT)


class Tgi(Stack):
    name = "tgi"
    title = "TGI"
    layer = "server"
    source = (
        "huggingface/text-generation-inference router/src/server.rs; router/src/infer/mod.rs; "
        "backends/v3/src/{backend,queue,lib}.rs"
    )
    detect = ("tgi_request_count", "tgi_queue_size")

    def _by_deployment(self, expr: str, *also: str) -> str:
        return f"sum by ({', '.join((MODEL, *also))}) ({deployment(expr)})"

    def requests(self, q: Query) -> str:
        return self._by_deployment(q.rate("tgi_request_count"))

    def errors(self, q: Query) -> str:
        failed = q.rate("tgi_request_failure", regex={"err": SERVER_FAILURES})
        return zero_filled(self._by_deployment(failed), self.requests(q))

    def limited(self, q: Query) -> str:
        overloaded = q.rate("tgi_request_failure", {"err": OVERLOADED})
        return zero_filled(self._by_deployment(overloaded), self.requests(q))

    def latency(self, q: Query) -> Buckets:
        return Buckets(self._by_deployment(q.rate("tgi_request_duration_bucket"), "le"))

    def queue(self, q: Query) -> str:
        return self._by_deployment(selector("tgi_queue_size"))

    def kv_cache(self, q: Query) -> str:
        held = selector("tgi_batch_current_max_tokens")
        budget = selector("tgi_batch_max_total_tokens")
        return f"max by ({MODEL}) ({deployment(f'({held} / {budget})')})"

    def pods(self) -> str:
        # A gauge set at start-up, and the request counter for backends without it; only
        # pods named like a Deployment's (another pod would join with no model).
        named = {"pod": POD_NAME_OF_DEPLOYMENT}
        either = " or ".join(
            selector(m, regex=named) for m in ("tgi_batch_max_total_tokens", "tgi_request_count")
        )
        return f"group by (namespace, pod, {MODEL}) ({deployment(f'({either})')})"
