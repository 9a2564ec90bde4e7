"""Pod evidence for a model's 5xx: OOMKilled containers, restarts and CUDA OOM log lines.

A GPU OOM on a model server reaches the gateway as a plain 5xx; the pods behind the model
say why. `KubeEvidence` reads them through the official client: one pod list per
namespace (restarts, last terminations), then the recent log of at most ``max_pods`` pods
(CUDA OOM lines), bounded by lines and time. `tui.sim.evidence` reads the simulator's pods.
Both feed the same parsers, `events_from_pod` and `events_from_log`, so the demo shows
exactly what a cluster would.

Reading never raises: a failure becomes ``PodEvidence.error``, one sentence, and whatever
was read before it is still returned.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from tui.clock import Clock, WallClock
from tui.domain.model import GpuEvent, GpuState
from tui.kubeclient import (
    api_client,
    connect_reason,
    display_host,
    first_line,
    parse_time,
    status_message,
    trim,
)

if TYPE_CHECKING:
    # The client (and urllib3 under it) costs a tenth of a second to import: the demo and
    # a cockpit without a cluster never pay it, so the functions that talk to a cluster
    # import it themselves.
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

CONTAINER = "vllm"
"""The model-server container's name; a pod without one has its first container read."""
BURST_S = 1.0
"""Lines of one traceback are logged together: matches this close are one OOM."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PodTarget:
    """A pod to look at, and what the caller knows of it from GPU metrics."""

    namespace: str
    pod: str
    model: str
    gpus: tuple[tuple[str, int], ...] = ()
    """(node, GPU index on the node) in the pod's CUDA device order: device k is gpus[k]."""

    @property
    def node(self) -> str | None:
        return self.gpus[0][0] if self.gpus else None


@dataclass(frozen=True, slots=True)
class PodEvidence:
    events: tuple[GpuEvent, ...] = ()
    """Oldest first."""
    restarts: dict[str, int] = field(default_factory=dict)
    """Pod name -> container restarts, for every target pod that was found."""
    error: str | None = None
    """One sentence: why the evidence is missing or partial. None when nothing failed."""


def targets_for(gpus: Iterable[GpuState], models: Sequence[str]) -> list[PodTarget]:
    """The pods serving ``models``, in the order the models are given (most urgent first),
    each with its GPUs in index order (the CUDA device order inside the pod)."""
    rank = {name: i for i, name in enumerate(models)}
    found: dict[tuple[str, str], tuple[str, list[tuple[str, int]]]] = {}
    for g in gpus:
        if g.model in rank and g.pod and g.namespace:
            found.setdefault((g.namespace, g.pod), (g.model, []))[1].append((g.node, g.gpu))
    ordered = sorted(found.items(), key=lambda kv: (rank[kv[1][0]], kv[0][1]))
    return [
        PodTarget(namespace, pod, model, tuple(sorted(devices)))
        for (namespace, pod), (model, devices) in ordered
    ]


# -- parsers -------------------------------------------------------------------------


def restart_count(pod: dict[str, Any]) -> int:
    """Restarts summed over the pod's containers, as ``kubectl get pods`` counts them."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def events_from_pod(pod: dict[str, Any], target: PodTarget) -> list[GpuEvent]:
    """An ``oomkilled`` event for each container the kernel killed for memory, at the time
    it died. The API keeps only a container's latest termination, so an OOMKill followed
    by an ordinary crash is no longer visible here."""
    node = (pod.get("spec") or {}).get("nodeName") or target.node
    gpu = target.gpus[0][1] if len(target.gpus) == 1 else None
    restarts = restart_count(pod)
    events: dict[tuple[object, ...], GpuEvent] = {}
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        for where in ("lastState", "state"):
            ended = ((status.get(where) or {}).get("terminated")) or {}
            at = parse_time(ended.get("finishedAt"))
            if ended.get("reason") != "OOMKilled" or at is None:
                continue
            code = ended.get("exitCode")
            detail = (
                f"container {status.get('name', '?')} OOMKilled"
                + (f" (exit {code})" if code is not None else "")
                + f", {restarts} restart{'' if restarts == 1 else 's'}"
            )
            event = GpuEvent(
                at=at,
                kind="oomkilled",
                detail=detail,
                node=node,
                gpu=gpu,
                pod=target.pod,
                model=target.model,
                namespace=target.namespace,
            )
            events[event.key] = event
    return sorted(events.values(), key=lambda e: e.at)


_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (.*)")
_CUDA_OOM = re.compile(r"CUDA out of memory|OutOfMemoryError")
_GPU = re.compile(r"\bGPU (\d+)\b")
# vLLM's record prefix, with the worker's when a tensor-parallel worker logged it.
_VLLM_PREFIX = re.compile(
    r"^(?:\(\w+ pid=\d+\)\s+)?(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+"
    r"\d\d-\d\d \d\d:\d\d:\d\d\s+[\w.]+:\d+\]\s?"
)
_EXCEPTION_LINE = re.compile(r"^[\w.]*OutOfMemoryError: ")


def events_from_log(text: str, target: PodTarget) -> list[GpuEvent]:
    """``oom`` events from a log read with kubelet timestamps, oldest first.

    One event per CUDA OOM: the lines one traceback prints together (the exception's
    repr, then the exception itself) are one event, at the first line's time, described
    by the exception line. Lines without a timestamp prefix are skipped, never guessed.
    """
    bursts: list[_Burst] = []
    for raw in text.splitlines():
        if not _CUDA_OOM.search(raw):
            continue
        stamped = _STAMP.match(raw)
        at = parse_time(stamped.group(1)) if stamped else None
        if stamped is None or at is None:
            continue
        line = _clean(stamped.group(2))
        found = _GPU.search(line)
        device = int(found.group(1)) if found else None
        burst = next((b for b in reversed(bursts) if b.takes(at, device)), None)
        if burst is None:
            bursts.append(_Burst(at, device, line))
        else:
            burst.add(device, line)
    return [b.event(target) for b in bursts]


@dataclass(slots=True)
class _Burst:
    at: datetime
    device: int | None
    line: str

    def takes(self, at: datetime, device: int | None) -> bool:
        same_gpu = device is None or self.device is None or device == self.device
        return same_gpu and abs((at - self.at).total_seconds()) <= BURST_S

    def add(self, device: int | None, line: str) -> None:
        if device is not None:
            self.device = device
        # The exception line itself says most; the traceback's other matches repeat it.
        if _EXCEPTION_LINE.match(line):
            self.line = line

    def event(self, target: PodTarget) -> GpuEvent:
        node, gpu = target.node, None
        if self.device is not None and self.device < len(target.gpus):
            node, gpu = target.gpus[self.device]
        return GpuEvent(
            at=self.at,
            kind="oom",
            detail=trim(self.line),
            node=node,
            gpu=gpu,
            pod=target.pod,
            model=target.model,
            namespace=target.namespace,
        )


def _clean(line: str) -> str:
    """The message without vLLM's record prefix and the traceback's indentation."""
    return _VLLM_PREFIX.sub("", line.rstrip()).strip()


def events_since(events: list[GpuEvent], since: datetime) -> list[GpuEvent]:
    return [e for e in events if e.at >= since]


def gathered(events: list[GpuEvent], restarts: dict[str, int], error: str | None) -> PodEvidence:
    ordered = sorted({e.key: e for e in events}.values(), key=lambda e: (e.at, e.pod or ""))
    return PodEvidence(tuple(ordered), restarts, error)


def unique_pods(targets: Sequence[PodTarget]) -> list[PodTarget]:
    seen: set[tuple[str, str]] = set()
    out = []
    for t in targets:
        if (t.namespace, t.pod) not in seen:
            seen.add((t.namespace, t.pod))
            out.append(t)
    return out


def as_utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def since_seconds(now: float, since: datetime) -> int:
    # The API counts whole seconds back from its own clock: round up so nothing after
    # ``since`` is cut off, and drop the extra by time afterwards.
    return max(1, math.ceil(now - since.timestamp()))


# -- reading from a cluster ----------------------------------------------------------


Scope = Literal["api", "namespace", "pod"]


class _Failure(Exception):
    """One sentence, and how much it rules out for the rest of this read: every request
    (the API is unreachable or refuses us), the namespace's further reads of the same
    kind (RBAC), or just this pod (e.g. its node's kubelet)."""

    def __init__(self, sentence: str, scope: Scope) -> None:
        super().__init__(" ".join(sentence.split()))
        self.scope = scope


class _Gone(Exception):
    """404: the pod went away between the list and the log read."""


class KubeEvidence:
    """Pod evidence from a Kubernetes API through the official (synchronous) client, run
    in worker threads so the event loop never waits on the network."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        tail_lines: int = 200,
        max_pods: int = 4,
        request_timeout_s: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        from kubernetes import client

        self._api = api
        self._core = client.CoreV1Api(api)
        self._host = display_host(api.configuration.host)
        self.tail_lines = tail_lines
        self.max_pods = max_pods
        self.request_timeout_s = request_timeout_s
        self._clock = clock or WallClock()

    @classmethod
    def from_config(
        cls,
        kubeconfig: Path | None = None,
        context: str | None = None,
        **options: Any,
    ) -> KubeEvidence:
        """From a kubeconfig (``kubeconfig``, else ``$KUBECONFIG`` or ``~/.kube/config``),
        or the pod's service account when there is none and we run in a cluster.

        Raises `ConfigError` with one sentence when no usable configuration is found.
        """
        return cls(api_client(kubeconfig, context), **options)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._api.close)

    async def read(self, targets: Sequence[PodTarget], since: datetime) -> PodEvidence:
        """Events at or after ``since`` for ``targets`` (most urgent first: only the first
        ``max_pods`` found have their logs read), and every found target's restarts."""
        targets, since = unique_pods(targets), as_utc(since)
        since_s = since_seconds(self._clock.now(), since)
        events: list[GpuEvent] = []
        restarts: dict[str, int] = {}
        errors: list[str] = []
        try:
            found: list[tuple[PodTarget, dict[str, Any]]] = []
            for namespace in dict.fromkeys(t.namespace for t in targets):
                wanted = [t for t in targets if t.namespace == namespace]
                try:
                    pods = await self._list(namespace, {t.pod for t in wanted})
                except _Failure as exc:
                    if exc.scope == "api":
                        raise
                    errors.append(str(exc))
                    continue
                found += [(t, pods[t.pod]) for t in wanted if t.pod in pods]
            # Logs are read for the caller's first targets, whatever their namespace.
            rank = {t: i for i, t in enumerate(targets)}
            found.sort(key=lambda pair: rank[pair[0]])
            for target, pod in found:
                restarts[target.pod] = restart_count(pod)
                events += events_since(events_from_pod(pod, target), since)
            forbidden: set[str] = set()
            for target, pod in found[: self.max_pods]:
                if target.namespace in forbidden:
                    continue
                try:
                    log = await self._log(target, pod, since_s)
                except _Gone:
                    continue
                except _Failure as exc:
                    if exc.scope == "api":
                        raise
                    errors.append(str(exc))
                    if exc.scope == "namespace":
                        forbidden.add(target.namespace)
                    continue
                events += events_since(events_from_log(log, target), since)
        except _Failure as exc:
            errors.append(str(exc))
        return gathered(events, restarts, errors[0] if errors else None)

    async def _list(self, namespace: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
        # A field selector narrows the list to the one pod when there is one; otherwise
        # the namespace's pods are filtered here (a selector cannot name several).
        selector = f"metadata.name={next(iter(wanted))}" if len(wanted) == 1 else None

        def call() -> bytes:
            response = self._core.list_namespaced_pod(
                namespace,
                field_selector=selector,
                _preload_content=False,
                _request_timeout=self.request_timeout_s,
            )
            return bytes(response.data)

        try:
            body = await self._call(call, namespace)
        except _Gone:
            return {}
        try:
            items = json.loads(body)["items"] or []
            pods = {p["metadata"]["name"]: p for p in items}
        except (ValueError, KeyError, TypeError):
            raise _Failure(
                f"The Kubernetes API at {self._host} answered the pod list for namespace "
                f"{namespace} with something that is not a pod list; check that the "
                "kubeconfig's server is a Kubernetes API server.",
                scope="api",
            ) from None
        return {name: pod for name, pod in pods.items() if name in wanted}

    async def _log(self, target: PodTarget, pod: dict[str, Any], since_s: int) -> str:
        names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        container = CONTAINER if CONTAINER in names or not names else names[0]

        def call() -> bytes:
            response = self._core.read_namespaced_pod_log(
                target.pod,
                target.namespace,
                container=container,
                tail_lines=self.tail_lines,
                since_seconds=since_s,
                timestamps=True,
                _preload_content=False,
                _request_timeout=self.request_timeout_s,
            )
            return bytes(response.data)

        body = await self._call(call, target.namespace, target.pod)
        return body.decode("utf-8", errors="replace")

    async def _call(self, fn: Callable[[], T], namespace: str, pod: str | None = None) -> T:
        """``fn`` in a worker thread; its failures as `_Failure` (`_Gone` for a 404).
        ``pod`` names the pod whose log is read; None for the namespace's pod list."""
        # The client's own timeout is per attempt; a client built with retries could wait
        # several times over, so the loop gives up a little after one attempt's worth.
        deadline = self.request_timeout_s * 1.25 + 0.05
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            return await asyncio.wait_for(asyncio.to_thread(fn), deadline)
        except ApiException as exc:
            if exc.status == 404:
                raise _Gone from None
            raise self._api_failure(exc, namespace, pod) from None
        except TimeoutError:
            raise self._timeout() from None
        except urllib3.exceptions.MaxRetryError as exc:
            raise self._network_failure(exc.reason or exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._network_failure(exc) from None

    def _api_failure(self, exc: ApiException, namespace: str, pod: str | None) -> _Failure:
        status, message = exc.status, status_message(exc)
        what = (
            f"listing pods in namespace {namespace}"
            if pod is None
            else f"reading the log of pod {pod} in namespace {namespace}"
        )
        if status == 401:
            return _Failure(
                f"The Kubernetes API at {self._host} rejected the credentials (401 "
                "Unauthorized); refresh the kubeconfig's token or client certificate.",
                scope="api",
            )
        if status == 403:
            if pod is None:
                return _Failure(
                    f"Kubernetes RBAC forbids listing pods in namespace {namespace} (403 "
                    f"Forbidden); grant `list pods` in {namespace} to see restarts and "
                    "OOMKilled containers.",
                    scope="namespace",
                )
            return _Failure(
                f"Kubernetes RBAC forbids reading pod logs in namespace {namespace} (403 "
                f"Forbidden); grant `get pods/log` in {namespace} to see CUDA OOM lines.",
                scope="namespace",
            )
        if not status:
            return _Failure(
                f"The Kubernetes API at {self._host} could not be read while {what} "
                f"({first_line(exc.reason)}); check the kubeconfig's server and CA.",
                scope="api",
            )
        detail = f"{status} {exc.reason or ''}".strip() + (f": {message}" if message else "")
        if pod is None:
            return _Failure(
                f"The Kubernetes API at {self._host} failed {what} ({detail}); if it "
                "persists, check the API server's health.",
                scope="api" if status >= 500 else "namespace",
            )
        # The API server relays logs from the pod's node: one node's kubelet can fail alone.
        return _Failure(
            f"The Kubernetes API at {self._host} failed {what} ({detail}); if it persists, "
            "check the kubelet on that pod's node.",
            scope="pod",
        )

    def _network_failure(self, exc: BaseException) -> _Failure:
        import urllib3

        # urllib3 makes a refused connection a kind of connect timeout: ask it first.
        if isinstance(exc, urllib3.exceptions.NewConnectionError):
            return self._unreachable(exc)
        if isinstance(exc, urllib3.exceptions.TimeoutError):
            return self._timeout()
        return self._unreachable(exc)

    def _timeout(self) -> _Failure:
        return _Failure(
            f"The Kubernetes API at {self._host} did not answer within "
            f"{self.request_timeout_s:g} s; check the cluster's health or raise the "
            "request timeout.",
            scope="api",
        )

    def _unreachable(self, exc: object) -> _Failure:
        reason = connect_reason(exc)
        return _Failure(
            f"Cannot reach the Kubernetes API at {self._host} ({reason}); check the "
            "kubeconfig's server address and that the cluster is up.",
            scope="api",
        )
