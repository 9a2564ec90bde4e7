"""Every mitigation a runbook may name, by id: the one list runbooks are checked against.

``automated`` mitigations are the ones warroom itself carries out through the
Kubernetes API (bound to keys, confirmed, dry-run first, recorded in the timeline);
the others are steps the engineer takes by hand, and the navigator shows ``how``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Mitigation:
    id: str
    title: str
    changes: str
    """What it changes, in one line: what the confirmation will spell out."""
    automated: bool
    how: str | None = None
    """For a manual step: the command or procedure, ready to copy where there is one."""
    about: Literal["api_key"] | None = None
    """What it acts on besides the model: ``api_key``, the key taking most of the 429s,
    which the navigator names beside it when one key takes most of them."""


_CATALOG = (
    # -- carried out by warroom through the Kubernetes API
    Mitigation(
        "fallback-on", "Turn on the fallback provider", "gateway env FALLBACK_ENABLED=true", True
    ),
    Mitigation(
        "fallback-off", "Turn off the fallback provider", "gateway env FALLBACK_ENABLED=false", True
    ),
    Mitigation(
        "overflow-routing", "Turn on overflow routing", "gateway env OVERFLOW_THRESHOLD=0.7", True
    ),
    Mitigation(
        "request-shedding",
        "Shed a share of requests (emergency only)",
        "gateway env SHED_RATE=0.1",
        True,
    ),
    Mitigation("batch-size-cap", "Cap the batch size", "model-server env MAX_BATCH_SIZE=16", True),
    Mitigation(
        "scale-up",
        "Scale the model's servers up",
        "model-server deployment replicas, up by the scale step",
        True,
    ),
    Mitigation(
        "scale-down",
        "Scale the model's servers down",
        "model-server deployment replicas, down by the scale step (to 0 stops the model)",
        True,
    ),
    Mitigation(
        "rollout-undo",
        "Roll back to the previous revision",
        "deployment pod template -> previous ReplicaSet's",
        True,
    ),
    Mitigation(
        "rollout-restart",
        "Restart the model's servers",
        "deployment restartedAt annotation (rolling restart)",
        True,
    ),
    Mitigation(
        "deploy-freeze",
        "Freeze deployments",
        "deploy-freeze=true annotation on the deployments",
        True,
    ),
    Mitigation(
        "deploy-unfreeze", "Lift the deploy freeze", "deploy-freeze annotation removed", True
    ),
    Mitigation(
        "drained-rollback",
        "Roll back the canary, drained",
        "canary weight -> 0, wait for in-flight to drain, replicas -> 0",
        True,
    ),
    # -- steps the engineer takes; the runbook says how
    Mitigation(
        "block-api-key",
        "Block or throttle the abusing API key",
        "the key's quota in the rate limiter",
        False,
        "Lower the key's quota or block it in the rate limiter; tell the tenant.",
        about="api_key",
    ),
    Mitigation(
        "contact-tenant",
        "Contact the tenant behind the key",
        "nothing in the platform",
        False,
        "Tell the tenant their key is being throttled, and why.",
        about="api_key",
    ),
    Mitigation(
        "raise-key-quota",
        "Raise the key's quota (if the traffic is legitimate)",
        "the key's quota in the rate limiter",
        False,
        about="api_key",
    ),
    Mitigation(
        "page-rate-limiter-team", "Page the rate-limiter team", "nothing in the platform", False
    ),
    Mitigation(
        "reduce-max-seqs",
        "Lower the model server's concurrent sequences",
        "vLLM --max-num-seqs",
        False,
        "Lower vLLM's --max-num-seqs (or the KV-cache share) and roll the deployment.",
    ),
    Mitigation(
        "smaller-or-quantized-model",
        "Serve a smaller or quantized model",
        "the model served",
        False,
    ),
    Mitigation("smaller-warmup", "Shrink the warm-up requests", "the warm-up job's prompts", False),
    Mitigation("add-gpu-capacity", "Add GPUs or backends", "the GPU pool", False),
    Mitigation(
        "routing-rules",
        "Route long prompts or large max_tokens elsewhere",
        "the router's routing rules",
        False,
    ),
    Mitigation(
        "router-timeout", "Raise the router's request timeout", "router-config.yaml timeout", False
    ),
    Mitigation(
        "fix-router-upstream",
        "Point the router at the backend service's DNS",
        "router-config.yaml upstream URLs",
        False,
    ),
    Mitigation(
        "fix-fallback-config",
        "Load the fallback into the router's runtime config",
        "routing-rules.yaml merge, retry status codes",
        False,
    ),
    Mitigation(
        "deploy-dcgm-exporter",
        "Run the DCGM exporter on every GPU node",
        "dcgm-exporter DaemonSet",
        False,
    ),
    Mitigation(
        "fix-servicemonitor",
        "Align the ServiceMonitor labels with Prometheus's selector",
        "ServiceMonitor labels",
        False,
    ),
    Mitigation(
        "widen-dashboard-window",
        "Widen the dashboard window and fix its aggregation labels",
        "the dashboard",
        False,
    ),
    Mitigation(
        "fix-network", "Fix the network path or load balancer", "load balancer / network", False
    ),
    Mitigation(
        "restart-router",
        "Restart the router",
        "router deployment (rolling restart)",
        False,
        "kubectl rollout restart -n router deploy/router-service",
    ),
    Mitigation(
        "trace-sampling-full",
        "Sample every trace on the affected route",
        "gateway env TRACE_SAMPLE_RATE=1.0",
        False,
        "kubectl set env deployment/llm-gateway TRACE_SAMPLE_RATE=1.0",
    ),
    Mitigation(
        "run-evals",
        "Run the offline eval suite against production",
        "nothing in the platform",
        False,
        "python run_evals.py --target prod --suite quality --compare baseline",
    ),
    Mitigation(
        "rollback-prompt",
        "Roll back the prompt template",
        "the prompt version",
        False,
        "Revert the prompt change (git revert + GitOps redeploy).",
    ),
    Mitigation("reindex", "Rebuild the retrieval index", "the retrieval index", False),
    Mitigation(
        "rollback-embedding-model",
        "Roll back the embedding model",
        "the embedding model version",
        False,
    ),
    Mitigation("raise-retrieval-k", "Retrieve more context", "TOP_K=10", False),
    Mitigation("add-to-eval-set", "Add the case to the eval set", "nothing in the platform", False),
    Mitigation(
        "quality-gate",
        "Turn on the emergency quality gate",
        "responses below the quality threshold are withheld",
        False,
    ),
    Mitigation(
        "emergency-token-caps",
        "Cap tokens and requests per minute",
        "llm-quotas ConfigMap",
        False,
        "kubectl patch configmap llm-quotas -n ai --patch "
        '\'{"data":{"max_tokens_per_request":"4096","rpm_limit":"60"}}\'',
    ),
    Mitigation(
        "enable-cache",
        "Turn the semantic cache on / raise its TTL",
        "gateway env CACHE_ENABLED=true, CACHE_TTL=3600",
        False,
        "kubectl set env deployment/llm-gateway CACHE_ENABLED=true CACHE_TTL=3600",
    ),
    Mitigation(
        "cheaper-model-tier",
        "Route traffic to a cheaper model tier",
        "gateway env DEFAULT_MODEL",
        False,
        "kubectl set env deployment/llm-gateway DEFAULT_MODEL=<cheaper model>",
    ),
    Mitigation("block-user", "Block the user or IP", "the gateway's blocklist", False),
    Mitigation(
        "rotate-credentials", "Rotate the exposed credentials or API keys", "the credentials", False
    ),
    Mitigation(
        "strict-rate-limits",
        "Turn on strict rate limits",
        "the rate limiter's global limits",
        False,
    ),
    Mitigation(
        "strict-input-filter",
        "Turn on stricter input filtering",
        "the guardrail configuration",
        False,
    ),
    Mitigation(
        "escalate-security",
        "Escalate to security (level 2 at least)",
        "nothing in the platform",
        False,
    ),
    Mitigation(
        "provider-ticket",
        "Open a support ticket with the provider",
        "nothing in the platform",
        False,
    ),
    Mitigation(
        "billing-review",
        "Check the bill for a pricing change or anomaly",
        "nothing in the platform",
        False,
    ),
    Mitigation(
        "drain-gpu-node",
        "Cordon and drain the node with the faulty GPU",
        "the node: unschedulable, its pods evicted",
        False,
        "kubectl cordon <node> && kubectl drain <node> --ignore-daemonsets --delete-emptydir-data",
    ),
    Mitigation(
        "raise-memory-limit",
        "Raise the model server's container memory limit",
        "model-server container resources.limits.memory",
        False,
        "Raise resources.limits.memory on the model-server container (or lower vLLM's "
        "--swap-space) and roll the deployment.",
    ),
    Mitigation(
        "trim-prompts",
        "Audit and trim the prompts",
        "the prompt templates",
        False,
        "Review the recent prompt changes; cut context and boilerplate that grew.",
    ),
    Mitigation(
        "fix-model-routing",
        "Fix the model selection and routing thresholds",
        "the gateway's model routing (DEFAULT_MODEL, routing thresholds)",
        False,
        "Check the model selection code and DEFAULT_MODEL; route back to the intended model.",
    ),
)

MITIGATIONS: dict[str, Mitigation] = {m.id: m for m in _CATALOG}

SCALES = {"scale-up": 1, "scale-down": -1}
"""The scale mitigations, and which way each moves the replicas."""


def scaled_to(mitigation: str, replicas: int, step: int) -> int:
    """The replicas after ``mitigation`` by ``step`` from ``replicas`` (never below 0)."""
    return max(0, replicas + SCALES[mitigation] * step)


def replicas_word(n: int) -> str:
    return "replica" if n == 1 else "replicas"


def scale_title(model: str, old: int, new: int) -> str:
    """``Scale llama-3 from 4 to 6 replicas``: the change in numbers."""
    return f"Scale {model} from {old} to {new} {replicas_word(new)}"


def stops_serving(model: str) -> str:
    """What a scale to zero means, in the engineer's words."""
    return f"This stops serving {model}: no replica is left to answer its requests."


def scale_words(
    mitigation: str, model: str, step: int, replicas: int | None
) -> tuple[str, str | None]:
    """A scale's menu line and, for a scale to zero, the warning under it. With the
    replicas unknown (not read yet, or unreadable), the step in words."""
    if replicas is None:
        way = "up" if SCALES[mitigation] > 0 else "down"
        return f"Scale {model} {way} by {step} {replicas_word(step)}", None
    new = scaled_to(mitigation, replicas, step)
    if new == replicas:
        return f"{model} runs {replicas} {replicas_word(replicas)}: nothing to scale down", None
    warning = stops_serving(model) if new == 0 else None
    return scale_title(model, replicas, new), warning
