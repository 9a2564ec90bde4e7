"""Hugging Face text-generation-inference's router metrics, per pod, with no model label.

Names from huggingface/text-generation-inference (the router records them through the
``metrics`` crate; ``metrics-exporter-prometheus`` 0.15 writes counters as named, with no
``_total``, and TGI's own dashboard ``assets/tgi_grafana.json`` queries them so):

- ``router/src/server.rs``: counters ``tgi_request_count`` (every request) and
  ``tgi_request_success``; histogram ``tgi_request_duration`` (successful requests only),
  whose buckets are the ``Matcher::Suffix("duration")`` ones: 35 bounds from 0.00015 s,
  each 1.5 times the last (to ~146 s);
- ``router/src/infer/mod.rs`` and ``backends/v3/src/backend.rs``: counter
  ``tgi_request_failure{err}``: ``generation`` (a shard failed: answered 424),
  ``incomplete`` (500), ``overloaded`` (429), ``validation``/``template`` (422),
  ``dropped`` (the client went away); ``server.rs`` maps errors to status codes in
  ``impl From<InferError> for (StatusCode, …)``;
- ``backends/v3/src/queue.rs``: gauge ``tgi_queue_size``; ``backends/v3/src/backend.rs``:
  gauges ``tgi_batch_current_size``, ``tgi_batch_current_max_tokens``;
  ``backends/v3/src/lib.rs``: gauge ``tgi_batch_max_total_tokens`` (the KV-cache token
  budget found at warm-up).

TGI exports no time to first token. ``namespace`` and ``pod`` come from the scrape
(Kubernetes service discovery); one model per Deployment, so the pod's name says the
model. The router answers what the platform admitted: the engine's 200s as successes,
its 503s as shard failures (``generation``) and its 500s as ``incomplete``.
prometheus-client cannot write a counter without ``_total``, so these counters go out
untyped; Prometheus stores the same series either way.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from tui.sim.fleet import NAMESPACE
from tui.sim.stacks.reading import Reading
from tui.sim.stacks.serving import cumulative_at, per_pod


def _duration_buckets() -> tuple[float, ...]:
    # router/src/server.rs: `let mut value = 0.0001; for _ in 0..35 { value *= 1.5; … }`
    out, value = [], 0.0001
    for _ in range(35):
        value *= 1.5
        out.append(value)
    return tuple(out)


DURATION_BUCKETS = _duration_buckets()
MAX_BATCH_TOTAL_TOKENS = 131072
"""The simulated pods' KV-cache token budget (``tgi_batch_max_total_tokens``)."""
FAILURES = {"503": "generation", "500": "incomplete"}
"""Engine status codes the router answers with an error, by ``err`` label."""


def emit(r: Reading) -> Iterator[Metric]:
    where = ["namespace", "pod"]
    count = Metric("tgi_request_count", "Total number of requests", "unknown")
    success = Metric("tgi_request_success", "Number of successful requests", "unknown")
    failure = Metric("tgi_request_failure", "Number of failed requests", "unknown")
    duration = HistogramMetricFamily(
        "tgi_request_duration", "Total time spent processing the request", labels=where
    )
    queue = GaugeMetricFamily("tgi_queue_size", "Current queue size", labels=where)
    batch = GaugeMetricFamily("tgi_batch_current_size", "Current batch size", labels=where)
    batch_tokens = GaugeMetricFamily(
        "tgi_batch_current_max_tokens", "Maximum tokens for the current batch", labels=where
    )
    budget = GaugeMetricFamily(
        "tgi_batch_max_total_tokens", "Maximum amount of tokens in total.", labels=where
    )
    pods = {p.pod: p for p in r.pods}
    for model in r.fleet.models:
        m = r.sample.models[model.name]
        n = len(model.pods)
        counts = cumulative_at(m.e2e, DURATION_BUCKETS)
        buckets = [
            *((repr(le), per_pod(c, n)) for le, c in zip(DURATION_BUCKETS, counts, strict=True)),
            ("+Inf", per_pod(m.e2e.count, n)),
        ]
        answered = m.requests.get("200", 0.0) + sum(m.requests.get(s, 0.0) for s in FAILURES)
        for pod in model.pods:
            at = {"namespace": NAMESPACE, "pod": pod}
            count.add_sample("tgi_request_count", at, per_pod(answered, n))
            success.add_sample("tgi_request_success", at, per_pod(m.requests.get("200", 0.0), n))
            for status, err in FAILURES.items():
                failed = per_pod(m.requests.get(status, 0.0), n)
                if failed:  # the exporter writes a labelled counter once it is incremented
                    failure.add_sample("tgi_request_failure", {**at, "err": err}, failed)
            duration.add_metric([NAMESPACE, pod], buckets, m.e2e.sum / n)
            gauge = pods.get(pod)
            if gauge is None:
                continue
            queue.add_metric([NAMESPACE, pod], round(gauge.waiting))
            batch.add_metric([NAMESPACE, pod], gauge.running)
            batch_tokens.add_metric(
                [NAMESPACE, pod], round(gauge.kv_cache_usage * MAX_BATCH_TOTAL_TOKENS)
            )
            budget.add_metric([NAMESPACE, pod], MAX_BATCH_TOTAL_TOKENS)
    yield from (count, success, failure, duration, queue, batch, batch_tokens, budget)
