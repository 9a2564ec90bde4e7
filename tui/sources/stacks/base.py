"""The one protocol every stack adapter implements, and the PromQL they share.

An adapter knows one real exporter's spelling (vLLM, SGLang, LiteLLM, Istio…) and turns
it into warroom's normal shape, in PromQL, so the cockpit folds every stack's answer the
same way: each figure is a vector ``by (warroom_model)`` in the unit the pane shows
(requests per second, seconds, a 0..1 ratio). Joins that real deployments need (a
per-pod HTTP counter to the model its pod serves, a mesh workload or a gateway route to
the served model) are done in the query too, so a refresh stays one request whatever
the number of stacks and models.

Every expression an adapter returns is a complete PromQL instant vector; ``None`` says
"this stack has no source for that figure", which the screen shows as such, never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from tui.sources.promql import check_label_name, escape_label_value, selector

MODEL = "warroom_model"
"""The label every adapter's per-model vector carries: the served model's name."""
WORKLOAD = "warroom_workload"
"""The label `Query.workloads` adds: the Deployment a pod belongs to, read off its name."""
POD_NAME_OF_DEPLOYMENT = "(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}"
"""A Deployment's pod is ``<deployment>-<replicaset hash>-<pod suffix>`` (the ReplicaSet
controller's naming, kubernetes/kubernetes ``pkg/controller/deployment/sync.go`` and
``names.SimpleNameGenerator``): the first group is the Deployment's name."""

Layer = Literal["gateway", "server"]


@dataclass(frozen=True, slots=True)
class Buckets:
    """A latency histogram as bucket rates ``by (warroom_model, le)``, in ``unit_s``
    seconds per unit of ``le`` (0.001 for millisecond buckets)."""

    expr: str
    unit_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Query:
    """What an adapter needs to write its queries: the rate window and the pod map."""

    window: str
    """A PromQL duration, e.g. ``5m``."""
    pods: str = "vector(0) unless vector(0)"
    """One series per model-server pod with ``namespace``, ``pod`` and ``warroom_model``,
    from every server stack in use (empty when none): what per-pod series join through."""
    matchers: dict[str, str] = field(default_factory=dict)
    """Extra matchers the user set for gateway series (``[metrics] matchers``)."""

    def rate(self, metric: str, matchers: dict[str, str] | None = None,
             regex: dict[str, str] | None = None) -> str:  # fmt: skip
        return f"rate({selector(metric, matchers, regex=regex)}[{self.window}])"

    def workloads(self) -> str:
        """The pod map with each pod's Deployment as ``warroom_workload`` (one series per
        Deployment and model)."""
        named = relabel(self.pods, WORKLOAD, "pod", POD_NAME_OF_DEPLOYMENT)
        return f"group by (namespace, {WORKLOAD}, {MODEL}) ({named})"


def relabel(expr: str, to: str, source: str, regex: str = "(?s)(.+)") -> str:
    """``expr`` with label ``to`` set from ``source`` where ``regex`` matches it whole.
    Raises ValueError for a label name PromQL would not take (from a config)."""
    check_label_name(to)
    check_label_name(source)
    return f'label_replace({expr}, "{to}", "$1", "{source}", "{escape_label_value(regex)}")'


def with_model(expr: str, label: str) -> str:
    """``expr`` whose model sits in ``label``, with it also as ``warroom_model``."""
    return expr if label == MODEL else relabel(expr, MODEL, label)


def by_model(expr: str, label: str = MODEL, *also: str) -> str:
    """``sum by (warroom_model, *also)`` of ``expr`` whose model sits in ``label``."""
    return f"sum by ({', '.join((MODEL, *also))}) ({with_model(expr, label)})"


def through_pods(expr: str, q: Query) -> str:
    """``expr`` (per pod, with ``namespace`` and ``pod``) given its pod's model: how a
    model server's own HTTP counters, which carry no model, reach a model row."""
    return f"({expr}) * on (namespace, pod) group_left ({MODEL}) ({q.pods})"


def zero_filled(part: str, total: str) -> str:
    """``part`` by model, reading 0 (not "no data") for a model with traffic but none of
    ``part``: a counter that never saw a 5xx has no 5xx series at all."""
    return f"({part}) or (0 * ({total}))"


class Stack:
    """One real stack's spelling. Subclasses set the class attributes and override the
    figures they can feed; the defaults say "no source"."""

    name: ClassVar[str]
    """What ``[metrics] stacks`` and ``--stack`` call it, e.g. ``vllm``."""
    title: ClassVar[str]
    """What the top line shows, e.g. ``vLLM``."""
    layer: ClassVar[Layer]
    """``gateway``: what callers see (wins for requests, errors, 429s and latency);
    ``server``: a model server's own view (TTFT, queue, KV cache, and the fallback)."""
    source: ClassVar[str]
    """The upstream file the names were read from."""
    detect: ClassVar[tuple[str, ...]]
    """Series selectors: any of them having series means this stack is present."""

    def requests(self, q: Query) -> str | None:
        """Requests per second by model, every status."""
        return None

    def errors(self, q: Query) -> str | None:
        """5xx per second by model (0 for a model with traffic and no 5xx)."""
        return None

    def limited(self, q: Query) -> str | None:
        """429s per second by model (0 for a model with traffic and no 429)."""
        return None

    def totals(self, q: Query) -> dict[str, str]:
        """The whole API's ``requests``/``errors``/``limited`` where summing the model
        rows would be wrong (a gateway hop that answers requests no model sees); by
        default the sum of the rows."""
        return {}

    def latency(self, q: Query) -> Buckets | None:
        """End-to-end request duration buckets by model."""
        return None

    def ttft(self, q: Query) -> Buckets | None:
        """Time-to-first-token buckets by model."""
        return None

    def queue(self, q: Query) -> str | None:
        """Requests waiting by model (summed over its pods)."""
        return None

    def kv_cache(self, q: Query) -> str | None:
        """KV-cache usage 0..1 by model (its fullest pod)."""
        return None

    def pods(self) -> str | None:
        """``namespace``, ``pod``, ``warroom_model`` per pod of this model server: no rate,
        so it is read whatever the window."""
        return None
