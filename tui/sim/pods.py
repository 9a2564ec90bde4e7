"""The simulated Kubernetes view of the fleet: each model-server pod as the API serves it,
and what ``kubectl logs`` prints for it.

Pure functions of (fleet, scenario, t, epoch), like the rest of the simulator: a pod's
restarts and last termination come from `Scenario.terminations`, its CUDA OOM tracebacks
from `Scenario.cuda_ooms`, so the Kubernetes evidence the demo shows agrees with the
metrics it shows. ``t`` is seconds since the simulation began; ``epoch + t`` is unix time.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
import uuid
from typing import Any

from tui.sim.fleet import NAMESPACE, Fleet, Gpu, ServedModel, _dns_label, stable_fraction
from tui.sim.scenarios import Conditions, CudaOom, Scenario

CONTAINER = "vllm"
IMAGE = "vllm/vllm-openai:v0.6.3"
PORT = 8000
LOG_EVERY_S = 10.0
"""vLLM logs its throughput and cache figures this often."""
DEFAULT_SINCE_S = 3600.0
BOOT_S = 75.0
"""From pod creation to a serving engine: image pull and loading the weights."""
BACKOFF_S = 10.0
"""The kubelet's first CrashLoopBackOff delay before it restarts a failed container."""
GPU_CAPACITY_GIB = 79.19
"""What torch reports as an H100 80GB's total capacity."""
PROMPT_TOKENS = 480
GENERATED_TOKENS = 220

# The frames a CUDA OOM in the engine loop unwinds through in vLLM 0.6.3: enough to read
# like the real thing, few enough to keep the log cheap.
_SITE = "/usr/local/lib/python3.12/dist-packages"
_FRAMES = (
    "Traceback (most recent call last):",
    f'  File "{_SITE}/vllm/engine/multiprocessing/engine.py", line 158, in start',
    "    self.run_engine_loop()",
    f'  File "{_SITE}/vllm/engine/multiprocessing/engine.py", line 221, in run_engine_loop',
    "    request_outputs = self.engine_step()",
    f'  File "{_SITE}/vllm/worker/model_runner.py", line 1658, in execute_model',
    "    hidden_or_intermediate_states = model_executable(",
    f'  File "{_SITE}/torch/nn/modules/module.py", line 1747, in _call_impl',
    "    return forward_call(*args, **kwargs)",
    f'  File "{_SITE}/vllm/model_executor/layers/sampler.py", line 289, in forward',
    "    logits = logits.to(torch.float)",
)


def pods_for(fleet: Fleet) -> list[str]:
    """Every model-server pod in the fleet, busiest model first."""
    return [pod for model in fleet.models for pod in model.pods]


def pod_model(fleet: Fleet, pod_name: str) -> ServedModel:
    """The model ``pod_name`` serves; KeyError for a pod the fleet does not have."""
    return _index(fleet)[pod_name][0]


def pod_gpus(fleet: Fleet, pod_name: str) -> tuple[Gpu, ...]:
    """The pod's GPUs in CUDA device order (their index order on the node)."""
    return _index(fleet)[pod_name][1]


def replica_set_name(pod_name: str) -> str:
    """The ReplicaSet that made ``pod_name``: a Deployment's ReplicaSet is named
    ``<deployment>-<pod-template-hash>`` and its pods ``<replicaset>-<5 characters>``."""
    return pod_name.rsplit("-", 1)[0]


def deployment_name(model: ServedModel) -> str:
    """The Deployment serving ``model``: its ReplicaSet's name less the template hash."""
    return replica_set_name(model.pods[0]).rsplit("-", 1)[0]


def replica_set_manifest(fleet: Fleet, model: ServedModel) -> dict[str, Any]:
    """The ReplicaSet behind ``model``'s pods as ``GET .../replicasets/<name>`` returns it:
    ``metadata.ownerReferences`` names its Deployment, as the Deployment controller sets
    it, so a pod's owners lead to the Deployment as on a real cluster."""
    name = replica_set_name(model.pods[0])
    deployment = deployment_name(model)
    template_hash = name.rsplit("-", 1)[1]
    # The pods' own labels (`pod_manifest`): a ReplicaSet selects the pods it made.
    instance = _dns_label(model.name)[:63].rstrip("-")
    labels = {"app.kubernetes.io/instance": instance, "pod-template-hash": template_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": _uid(fleet, name),
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment,
                    "uid": _uid(fleet, deployment),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"replicas": len(model.pods), "selector": {"matchLabels": labels}},
    }


@functools.lru_cache(maxsize=8)
def _index(fleet: Fleet) -> dict[str, tuple[ServedModel, tuple[Gpu, ...]]]:
    out: dict[str, tuple[ServedModel, tuple[Gpu, ...]]] = {}
    for model in fleet.models:
        for pod in model.pods:
            gpus = tuple(sorted((g for g in model.gpus if g.pod == pod), key=lambda g: g.index))
            out[pod] = (model, gpus)
    return out


def pod_manifest(
    fleet: Fleet, scenario: Scenario, pod_name: str, t: float, epoch: float
) -> dict[str, Any]:
    """The Pod as ``GET /api/v1/namespaces/<ns>/pods/<name>`` returns it, at ``t``."""
    model, gpus = _index(fleet)[pod_name]
    created_s = _created_s(fleet, pod_name)
    ends = scenario.terminations(fleet, model, pod_name, t)
    starts = [created_s + BOOT_S] + [end.at_s + BACKOFF_S for end in ends]
    replica_set = replica_set_name(pod_name)
    template_hash = replica_set.rsplit("-", 1)[1]
    dns = _dns_label(model.name)[:63].rstrip("-")
    status: dict[str, Any] = {
        "name": CONTAINER,
        "image": IMAGE,
        "imageID": f"docker.io/{IMAGE.split(':')[0]}@sha256:{_hex(64, 'image', IMAGE)}",
        "containerID": f"containerd://{_hex(64, fleet.seed, pod_name, len(ends))}",
        "restartCount": len(ends),
        "started": True,
        "ready": True,
    }
    if starts[-1] > t:
        # Between a crash and the kubelet's restart the container waits in back-off.
        status.update(started=False, ready=False)
        status["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {BACKOFF_S:g}s restarting failed "
                f"container={CONTAINER} pod={pod_name}_{NAMESPACE}",
            }
        }
    else:
        status["state"] = {"running": {"startedAt": rfc3339(epoch + starts[-1])}}
    status["lastState"] = {}
    if ends:
        last = ends[-1]
        status["lastState"] = {
            "terminated": {
                "reason": last.reason,
                "exitCode": last.exit_code,
                "startedAt": rfc3339(epoch + starts[-2]),
                "finishedAt": rfc3339(epoch + last.at_s),
                "containerID": f"containerd://{_hex(64, fleet.seed, pod_name, len(ends) - 1)}",
            }
        }
    gpu_count = str(len(gpus))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "generateName": f"{replica_set}-",
            "namespace": NAMESPACE,
            "uid": _uid(fleet, pod_name),
            "creationTimestamp": rfc3339(epoch + created_s),
            "labels": {
                "app.kubernetes.io/name": "vllm",
                "app.kubernetes.io/instance": dns,
                "app.kubernetes.io/component": "model-server",
                "model": model.name,
                "pod-template-hash": template_hash,
            },
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT)},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": replica_set,
                    "uid": _uid(fleet, replica_set),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": gpus[0].node if gpus else None,
            "restartPolicy": "Always",
            "containers": [
                {
                    "name": CONTAINER,
                    "image": IMAGE,
                    "args": [
                        "--model",
                        model.name,
                        "--served-model-name",
                        model.name,
                        "--tensor-parallel-size",
                        gpu_count,
                        "--gpu-memory-utilization",
                        "0.92",
                    ],
                    "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                    "resources": {
                        "limits": {"nvidia.com/gpu": gpu_count},
                        "requests": {"nvidia.com/gpu": gpu_count},
                    },
                }
            ],
        },
        "status": {
            "phase": "Running",
            "hostIP": _ip(fleet, "host", gpus[0].node if gpus else pod_name),
            "podIP": _ip(fleet, "pod", pod_name),
            "startTime": rfc3339(epoch + created_s),
            "qosClass": "Burstable",
            "containerStatuses": [status],
        },
    }


def pod_log(
    fleet: Fleet,
    scenario: Scenario,
    pod_name: str,
    t: float,
    epoch: float,
    *,
    since_s: float | None = None,
    tail_lines: int | None = None,
    timestamps: bool = False,
) -> str:
    """What ``kubectl logs`` prints for the pod at ``t``: the lines of the last ``since_s``
    seconds (an hour if None), then only the last ``tail_lines`` of those.

    One log across restarts: which container run a line came from does not matter to
    anything that reads it here.
    """
    if tail_lines is not None and tail_lines <= 0:
        return ""
    model = _index(fleet)[pod_name][0]
    start = t - (DEFAULT_SINCE_S if since_s is None else since_s)
    if tail_lines is not None:
        # Each tick writes at least one line, so the last n lines lie in the last n ticks:
        # no need to render an hour of them to keep two hundred.
        start = max(start, t - LOG_EVERY_S * tail_lines)
    ooms = [o for o in scenario.cuda_ooms(fleet, model, pod_name, t) if start <= o.at_s <= t]
    # The scenario changes by the minute at most as fast as anyone reads these figures:
    # asking it once a minute instead of once a line keeps a 200-line tail cheap.
    minutes: dict[float, Conditions] = {}

    def info(tick: float) -> str:
        minute = tick // 60 * 60
        if minute not in minutes:
            minutes[minute] = scenario.conditions(fleet, model, minute)
        return _stamp(epoch + tick, timestamps) + _metrics(
            fleet, model, minutes[minute], tick, epoch
        )

    lines: list[str] = []
    tick = math.ceil(start / LOG_EVERY_S) * LOG_EVERY_S
    for oom in ooms:
        while tick <= oom.at_s:
            lines.append(info(tick))
            tick += LOG_EVERY_S
        stamp = _stamp(epoch + oom.at_s, timestamps)
        lines += [stamp + line for line in _traceback(fleet, pod_name, oom, epoch)]
    while tick <= t:
        lines.append(info(tick))
        tick += LOG_EVERY_S
    if tail_lines is not None:
        lines = lines[-tail_lines:]
    return "".join(line + "\n" for line in lines)


def _metrics(fleet: Fleet, model: ServedModel, c: Conditions, t: float, epoch: float) -> str:
    rps = c.rps / len(model.pods)
    # Little's law: requests in flight are the arrival rate times the time each takes.
    running = round(rps * model.latency_p50_s * c.latency_scale)
    pending = round(c.queue_waiting / len(model.pods))
    # vLLM preallocates its GPU memory, so the framebuffer ratio says little about the KV
    # cache until memory is short; then the cache is full and sequences swap out.
    pressure = min(1.0, max(0.0, (c.gpu_mem_ratio - 0.92) / 0.075))
    kv = 100 * ((1 - pressure) * running / (running + 24) + pressure * 0.995)
    swapped = round(4 * pressure)
    spread = 0.9 + 0.2 * stable_fraction(fleet.seed, model.name, "tokens", t)
    return (
        f"INFO {_local(epoch + t)} metrics.py:351] "
        f"Avg prompt throughput: {rps * PROMPT_TOKENS * spread:.1f} tokens/s, "
        f"Avg generation throughput: {rps * GENERATED_TOKENS * spread:.1f} tokens/s, "
        f"Running: {running} reqs, Swapped: {swapped} reqs, Pending: {pending} reqs, "
        f"GPU KV cache usage: {kv:.1f}%, CPU KV cache usage: {100 * pressure * 0.3:.1f}%."
    )


def _traceback(fleet: Fleet, pod_name: str, oom: CudaOom, epoch: float) -> list[str]:
    free_mib = 64 + 384 * stable_fraction(fleet.seed, pod_name, oom.at_s, "free")
    in_use = GPU_CAPACITY_GIB - free_mib / 1024 - 0.01
    by_torch = in_use - 1.2 - 0.8 * stable_fraction(fleet.seed, pod_name, oom.at_s, "torch")
    message = (
        f"CUDA out of memory. Tried to allocate {oom.tried_gib:.2f} GiB. GPU {oom.device} has a "
        f"total capacity of {GPU_CAPACITY_GIB:.2f} GiB of which {free_mib:.2f} MiB is free. "
        f"Including non-PyTorch memory, this process has {in_use:.2f} GiB memory in use. Of "
        f"the allocated memory {by_torch:.2f} GiB is allocated by PyTorch, and "
        f"{in_use - by_torch - 0.25:.2f} GiB is reserved by PyTorch but unallocated. If "
        "reserved but unallocated memory is large try setting "
        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation."
    )
    # vLLM's formatter repeats the prefix on every line of a multi-line record, and
    # logger.exception puts the exception's repr first: two lines name the same OOM.
    prefix = f"ERROR {_local(epoch + oom.at_s)} engine.py:160] "
    return [
        prefix + f"OutOfMemoryError({message!r})",
        *(prefix + frame for frame in _FRAMES),
        prefix + "torch.OutOfMemoryError: " + message,
    ]


def rfc3339(unix: float) -> str:
    """``2026-11-23T10:00:00Z``: how the API writes times (whole seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.floor(unix)))


def rfc3339_nano(unix: float) -> str:
    """``2026-11-23T10:00:00.000000000Z``: how the kubelet stamps log lines."""
    whole = math.floor(unix)
    nanos = min(999_999_999, round((unix - whole) * 1e9))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


def _stamp(unix: float, timestamps: bool) -> str:
    return rfc3339_nano(unix) + " " if timestamps else ""


def _local(unix: float) -> str:
    """vLLM's own ``11-23 10:00:00`` (the container's clock is UTC)."""
    return time.strftime("%m-%d %H:%M:%S", time.gmtime(math.floor(unix)))


def _created_s(fleet: Fleet, pod_name: str) -> float:
    """Pods were created hours to days before the simulation began (negative seconds)."""
    return -float(round(7200 + 3 * 86400 * stable_fraction(fleet.seed, pod_name, "created")))


def _hex(n: int, *parts: object) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=32).hexdigest()[:n]


def _uid(fleet: Fleet, name: str) -> str:
    """An object's ``metadata.uid``, the same wherever it is named (owner and owned)."""
    return str(uuid.UUID(_hex(32, fleet.seed, "uid", name)))


def _ip(fleet: Fleet, *parts: object) -> str:
    h = int(_hex(6, fleet.seed, *parts), 16)
    return f"10.{(h >> 16) & 0xFF}.{(h >> 8) & 0xFF}.{h & 0xFF or 1}"
