"""Gateway API Inference Extension: the endpoint picker's (EPP's) counters per model.

Names from kubernetes-sigs/gateway-api-inference-extension ``pkg/epp/metrics/metrics.go``
and, since the EPP moved to llm-d/llm-d-router (gateway-api-inference-extension#2967),
that repository's ``pkg/epp/metrics/metrics.go`` and ``llm_d_router_metrics.go``. Three
spellings of one family exist:

- ``inference_model_*``: releases before gateway-api-inference-extension#1567 (2025-09);
- ``inference_objective_*``: since then, and still written by llm-d-router (deprecated);
- ``llm_d_router_epp_*``: llm-d-router, recorded by the same call as the deprecated name.

An EPP writes one of the first two, and llm-d-router writes the second and third with the
same counts, so adding them up would count every request twice. Each figure reads the
first two (``{__name__=~"inference_(objective|model)_..."}``) and falls back to the third
per model and scrape target only where those are absent (`_family`).

The model row is ``target_model_name`` (the model the request was sent to after any
InferenceModelRewrite: the served model, so it meets vLLM's ``model_name`` row), or
``model_name`` where no target is recorded.

What each counter counts (``pkg/epp/handlers/server.go``, ``pkg/common/error/error.go``):
``request_total`` is incremented only once the request is scheduled; a request the EPP
answers itself (shed with ``ResourceExhausted``, or ``ServiceUnavailable``,
``Internal``, ``BadRequest``…) is only in ``request_error_total``, while a scheduled one
whose model server answered non-200 is in both (``ModelServerError``). So:

- requests: ``request_total`` + ``request_error_total{error_code!="ModelServerError"}``;
- 5xx: ``error_code`` ``ModelServerError`` (any non-200 from the model server: a 4xx
  from vLLM reads as 5xx here, the counter cannot tell), ``Internal`` (500),
  ``ServiceUnavailable`` (503) and ``Unknown`` (not a mapped error: Envoy's ext_proc
  failure, a 500);
- 429: ``ResourceExhausted``, which the EPP answers 429 (flow control shedding, no
  endpoint fits). Rate limiting in front of the EPP is not seen here;
- latency: ``request_duration_seconds`` (``generalLatencyBuckets``, 5 ms to 1 h), the
  scheduled requests whose response completed.

Not read: the ``inference_pool_*`` gauges are per pool (label ``name``), averages over its
pods: an average KV cache is not the fullest pod's, and a pool's queue beside the model
servers' own would count every waiting request twice. ``request_ttft_seconds`` is only
recorded with the latency-predictor plugins.
"""

from __future__ import annotations

from tui.sources.promql import check_label_name, escape_label_value
from tui.sources.stacks.base import MODEL, Buckets, Query, Stack, relabel, zero_filled

NAMES = "inference_(objective|model)_{stem}"
LLM_D_NAMES = "llm_d_router_epp_{stem}"
ERROR_CODES_5XX = "ModelServerError|Internal|ServiceUnavailable|Unknown"
ANSWERED_BY_THE_EPP = "ModelServerError"
"""The one error code of a scheduled request: every other is in no ``request_total``."""
SHED = "ResourceExhausted"
TARGET = "target_model_name"
INCOMING = "model_name"
PART = "warroom_part"
SCRAPE = ("job", "instance")


def _selector(name_regex: str, ops: list[tuple[str, str, str]]) -> str:
    terms = [f'__name__=~"{escape_label_value(name_regex)}"']
    for label, op, value in sorted(ops):
        terms.append(f'{check_label_name(label)}{op}"{escape_label_value(value)}"')
    return "{" + ",".join(terms) + "}"


def _modelled(expr: str) -> str:
    """``expr`` with ``warroom_model``: the target model, else the incoming one."""
    return relabel(relabel(expr, MODEL, INCOMING), MODEL, TARGET)


def _family(q: Query, stem: str, ops: list[tuple[str, str, str]], *by: str) -> str:
    """Rates of one family by model (and ``by``) per scrape target: the
    ``inference_(objective|model)_`` spelling, or ``llm_d_router_epp_`` where an EPP
    writes only that."""
    ops = [*((k, "=", v) for k, v in q.matchers.items()), *ops]
    group = ", ".join((MODEL, *by, *SCRAPE))
    rates = [
        f"rate({_selector(pattern.format(stem=stem), ops)}[{q.window}])"
        for pattern in (NAMES, LLM_D_NAMES)
    ]
    return " or ".join(f"(sum by ({group}) ({_modelled(rate)}))" for rate in rates)


def _by_model(expr: str, *by: str) -> str:
    return f"sum by ({', '.join((MODEL, *by))}) ({expr})"


class InferenceExtension(Stack):
    name = "inference_extension"
    title = "Inference Extension"
    layer = "gateway"
    source = "kubernetes-sigs/gateway-api-inference-extension pkg/epp/metrics/metrics.go"
    detect = (
        '{__name__=~"inference_(objective|model)_request_total|llm_d_router_epp_request_total"}',
    )

    def requests(self, q: Query) -> str:
        scheduled = _family(q, "request_total", [])
        answered = _family(q, "request_error_total", [("error_code", "!=", ANSWERED_BY_THE_EPP)])
        parts = [
            f'label_replace({part}, "{PART}", "{tag}", "", "")'
            for tag, part in (("scheduled", scheduled), ("answered", answered))
        ]
        return _by_model(" or ".join(parts))

    def _errors(self, q: Query, op: str, codes: str) -> str:
        return _by_model(_family(q, "request_error_total", [("error_code", op, codes)]))

    def errors(self, q: Query) -> str:
        return zero_filled(self._errors(q, "=~", ERROR_CODES_5XX), self.requests(q))

    def limited(self, q: Query) -> str:
        return zero_filled(self._errors(q, "=", SHED), self.requests(q))

    def latency(self, q: Query) -> Buckets:
        return Buckets(_by_model(_family(q, "request_duration_seconds_bucket", [], "le"), "le"))
