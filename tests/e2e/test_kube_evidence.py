"""Pod evidence: the simulated pods, the parsers, and `KubeEvidence` through the official
client against kmock's Kubernetes emulator (a real HTTP server, see FIELD-NOTES).

kmock stores and lists pods itself; the ``/log`` subresource it does not emulate is
scripted here from `tui.sim.pods.pod_log`, honouring ``tailLines`` and ``sinceSeconds``
the way the kubelet does, so `KubeEvidence` and `DemoEvidence` can be held to the same
answer.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock as km
import pytest
from kubernetes.client import ApiClient, Configuration

from tui.clock import FrozenClock, utc
from tui.domain.model import GpuEvent, GpuState
from tui.errors import ConfigError
from tui.sim.evidence import DemoEvidence
from tui.sim.fleet import NAMESPACE, build_fleet
from tui.sim.pods import pod_log, pod_manifest, pods_for, rfc3339_nano
from tui.sim.scenarios import ONSET_S, GpuOom
from tui.sources.kube import (
    KubeEvidence,
    PodEvidence,
    PodTarget,
    events_from_log,
    events_from_pod,
    targets_for,
)

EPOCH = 1_795_000_000.0
AT_S = 600.0
"""Ten minutes in: the sick model's pod has crashed four times and logged nine CUDA OOMs."""
OOMKILLED_AT_S = ONSET_S + 150
JUST_OOMKILLED_S = OOMKILLED_AT_S + 60
"""The first OOMKill is the container's last termination."""
FLEET = build_fleet()
SCENARIO = GpuOom()
SICK = SCENARIO.sick(FLEET)
HEALTHY = next(m for m in FLEET.models if len(m.pods) == 2)
"""A healthy model behind two pods, so a read of it stays under ``max_pods``."""
POD_RESOURCE = km.resource("", "v1", "pods")
LOGS = ("get", POD_RESOURCE, km.subresource("log"))
REQUEST_TIMEOUT_S = 2.0
"""The reads' timeout where a stalled log read is the fault: long enough for the reads
before it (the pod list) on a loaded machine."""
STALL_S = 10 * REQUEST_TIMEOUT_S
"""How long a stalled log read holds its answer: well past the timeout."""
LISTS = (km.action.LIST, POD_RESOURCE)


def gpu_states() -> list[GpuState]:
    return [
        GpuState(
            node=g.node, gpu=g.index, uuid=g.uuid, model=g.model, pod=g.pod, namespace=NAMESPACE
        )
        for g in FLEET.gpus
    ]


def targets(*models: str) -> list[PodTarget]:
    return targets_for(gpu_states(), list(models))


def ago(at_s: float, seconds: float) -> datetime:
    return utc(EPOCH + at_s - seconds)


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def load_cluster(kmock: Any, at_s: float) -> None:
    """Every pod of the fleet as the API would hold it at ``at_s``, and their logs."""
    for pod in pods_for(FLEET):
        kmock.objects[POD_RESOURCE, NAMESPACE, pod] = pod_manifest(
            FLEET, SCENARIO, pod, at_s, EPOCH
        )

    def serve_log(request: km.Request) -> bytes:
        key = (POD_RESOURCE, request.namespace, request.name)
        if key not in kmock.objects or kmock.objects[key].deleted:
            raise km.KubernetesObjectNotFoundError()
        params = request.params
        text = pod_log(
            FLEET,
            SCENARIO,
            request.name,
            at_s,
            EPOCH,
            since_s=float(params["sinceSeconds"]) if "sinceSeconds" in params else None,
            tail_lines=int(params["tailLines"]) if "tailLines" in params else None,
            timestamps=params.get("timestamps") == "true",
        )
        return text.encode()

    kmock[LOGS] << km.headers({"Content-Type": "text/plain; charset=utf-8"}) << serve_log


def kube(api: ApiClient, at_s: float = AT_S, **options: Any) -> KubeEvidence:
    return KubeEvidence(api, clock=FrozenClock(EPOCH + at_s), **options)


def demo(at_s: float = AT_S, **options: Any) -> DemoEvidence:
    return DemoEvidence(FLEET, SCENARIO, EPOCH, FrozenClock(EPOCH + at_s), **options)


def of_kind(evidence: PodEvidence, kind: str) -> list[GpuEvent]:
    return [e for e in evidence.events if e.kind == kind]


# -- the sick model through a cluster -------------------------------------------------


async def test_sick_pod_shows_its_cuda_ooms_and_restarts(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    (target,) = targets(SICK.name)
    evidence = await kube(api).read([target], since=ago(AT_S, 300))

    assert evidence.error is None
    assert evidence.restarts == {target.pod: 4}
    expected = [
        o for o in SCENARIO.cuda_ooms(FLEET, SICK, target.pod, AT_S) if o.at_s >= AT_S - 300
    ]
    assert len(expected) == 6
    ooms = of_kind(evidence, "oom")
    assert [e.at for e in ooms] == [utc(EPOCH + o.at_s) for o in expected]
    assert [(e.node, e.gpu) for e in ooms] == [target.gpus[o.device] for o in expected]
    assert {g for _, g in target.gpus} == {e.gpu for e in ooms}, "both devices are mapped"
    assert all(e.detail.startswith("torch.OutOfMemoryError: CUDA out of memory.") for e in ooms)
    assert all(len(e.detail) <= 160 for e in ooms)
    assert all((e.pod, e.model, e.namespace) == (target.pod, SICK.name, NAMESPACE) for e in ooms)
    # The API keeps only the latest termination: the OOMKill at 9:30, not those before.
    (killed,) = of_kind(evidence, "oomkilled")
    assert killed.at == utc(EPOCH + OOMKILLED_AT_S + 2 * SCENARIO.crash_every_s)
    assert killed.detail == "container vllm OOMKilled (exit 137), 4 restarts"

    (log_request,) = list(kmock[LOGS])
    assert log_request.name == target.pod
    assert log_request.params == {
        "container": "vllm",
        "tailLines": "200",
        "sinceSeconds": "300",
        "timestamps": "true",
    }


async def test_oomkilled_container_is_an_event_while_it_is_the_last_termination(
    kmock: Any, api: ApiClient
) -> None:
    load_cluster(kmock, JUST_OOMKILLED_S)
    (target,) = targets(SICK.name)
    evidence = await kube(api, JUST_OOMKILLED_S).read([target], since=ago(JUST_OOMKILLED_S, 600))

    assert evidence.error is None
    (killed,) = of_kind(evidence, "oomkilled")
    assert killed.at == utc(EPOCH + OOMKILLED_AT_S)
    assert killed.node == SICK.gpus[0].node == target.node
    assert killed.gpu is None, "two GPUs: the kill is the pod's, not one GPU's"
    assert killed.detail == "container vllm OOMKilled (exit 137), 2 restarts"
    assert evidence.restarts == {target.pod: 2}
    assert list(evidence.events) == sorted(evidence.events, key=lambda e: e.at)


@pytest.mark.parametrize(
    ("at_s", "window_s", "tail_lines"),
    [(AT_S, 300, 200), (AT_S, 3600, 200), (AT_S, 3600, 25), (JUST_OOMKILLED_S, 120, 200)],
)
async def test_cluster_and_demo_agree(
    kmock: Any, api: ApiClient, at_s: float, window_s: float, tail_lines: int
) -> None:
    load_cluster(kmock, at_s)
    wanted = targets(SICK.name, HEALTHY.name)
    since = ago(at_s, window_s)
    from_cluster = await kube(api, at_s, tail_lines=tail_lines).read(wanted, since)
    from_demo = await demo(at_s, tail_lines=tail_lines).read(wanted, since)

    assert from_cluster.error is None
    assert from_cluster == from_demo
    assert of_kind(from_demo, "oom"), "the comparison has something to compare"
    assert all(e.at >= since for e in from_demo.events)


async def test_events_before_since_are_left_out(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, JUST_OOMKILLED_S)
    (target,) = targets(SICK.name)
    old = rfc3339_nano(EPOCH + JUST_OOMKILLED_S - 40)
    new = rfc3339_nano(EPOCH + JUST_OOMKILLED_S - 10)
    # An API server whose clock runs behind, or that rounds, may send older lines.
    text = f"{old} {EXCEPTION}\n{new} {EXCEPTION}\n"
    kmock[LOGS].override << km.headers({"Content-Type": "text/plain"}) << text.encode()
    evidence = await kube(api, JUST_OOMKILLED_S).read([target], since=ago(JUST_OOMKILLED_S, 30))

    assert [e.at for e in evidence.events] == [utc(EPOCH + JUST_OOMKILLED_S - 10)]
    assert evidence.restarts == {target.pod: 2}, "restarts do not depend on the window"


async def test_healthy_pods_have_no_events(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    wanted = targets(HEALTHY.name)
    evidence = await kube(api).read(wanted, since=ago(AT_S, 3600))

    assert len(wanted) == len(HEALTHY.pods) >= 2
    assert evidence == PodEvidence((), {t.pod: 0 for t in wanted}, None)
    assert sorted(r.name for r in kmock[LOGS]) == sorted(HEALTHY.pods)


async def test_logs_are_read_for_at_most_max_pods_in_the_given_order(
    kmock: Any, api: ApiClient
) -> None:
    load_cluster(kmock, AT_S)
    wanted = targets(SICK.name, *(m.name for m in FLEET.models))
    elsewhere = PodTarget("staging", "vllm-canary-0", SICK.name)
    assert len(wanted) > 4
    evidence = await kube(api, max_pods=4).read([*wanted, elsewhere], since=ago(AT_S, 300))

    assert evidence.error is None
    assert [r.name for r in kmock[LOGS]] == [t.pod for t in wanted[:4]]
    assert set(evidence.restarts) == {t.pod for t in wanted}
    lists = list(kmock[LISTS])
    assert sorted(r.namespace for r in lists) == sorted([NAMESPACE, "staging"])


async def test_a_single_pod_is_listed_with_a_field_selector(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    await kube(api).read(targets(SICK.name), since=ago(AT_S, 60))
    (listing,) = list(kmock[LISTS])
    assert listing.params.get("fieldSelector") == f"metadata.name={SICK.pods[0]}"


# -- failures ----------------------------------------------------------------------


async def test_forbidden_logs_keep_the_pod_status_evidence(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, JUST_OOMKILLED_S)
    message = 'pods "x" is forbidden: User "warroom" cannot get resource "pods/log"'
    kmock[LOGS].override << 403 << status(403, "Forbidden", message)
    wanted = targets(SICK.name, HEALTHY.name)
    evidence = await kube(api, JUST_OOMKILLED_S).read(wanted, since=ago(JUST_OOMKILLED_S, 600))

    assert [e.kind for e in evidence.events] == ["oomkilled"]
    assert evidence.restarts[SICK.pods[0]] == 2
    assert evidence.error is not None
    assert "RBAC" in evidence.error
    assert f"namespace {NAMESPACE}" in evidence.error
    assert "`get pods/log`" in evidence.error
    assert evidence.error.count(".") <= 2, "one sentence"
    assert len(kmock[LOGS]) == 1, "the namespace's other pods are not asked again"


async def test_forbidden_pod_list_names_the_verb(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    kmock[LISTS] << 403 << status(403, "Forbidden", "pods is forbidden")
    evidence = await kube(api).read(targets(SICK.name), since=ago(AT_S, 300))

    assert evidence.events == ()
    assert evidence.error is not None
    assert "`list pods`" in evidence.error and f"namespace {NAMESPACE}" in evidence.error
    assert len(kmock[LOGS]) == 0


async def test_a_deleted_pod_is_skipped_quietly(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    (sick,) = targets(SICK.name)
    healthy = targets(HEALTHY.name)
    assert len(healthy) == 2
    # Listed, then gone before its log is read: the list still carries it.
    del kmock.objects[POD_RESOURCE, NAMESPACE, healthy[0].pod]
    listed = [pod_manifest(FLEET, SCENARIO, t.pod, AT_S, EPOCH) for t in (*healthy, sick)]
    kmock[LISTS] << {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": listed}
    never_listed = PodTarget(NAMESPACE, "vllm-long-gone-7d9f8c-abcde", SICK.name)
    evidence = await kube(api).read([*healthy, never_listed, sick], since=ago(AT_S, 300))

    assert evidence.error is None
    assert never_listed.pod not in evidence.restarts
    assert [r.name for r in kmock[LOGS]] == [*(t.pod for t in healthy), sick.pod]
    assert len(of_kind(evidence, "oom")) == 6, "the pods after the gone one are still read"


async def test_unauthorized(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    kmock[LISTS] << 401 << status(401, "Unauthorized", "Unauthorized")
    evidence = await kube(api).read(targets(SICK.name), since=ago(AT_S, 300))

    assert evidence.events == () and evidence.restarts == {}
    assert evidence.error is not None
    assert "401" in evidence.error and "credentials" in evidence.error
    assert str(kmock.url).rstrip("/") in evidence.error
    assert len(kmock[LOGS]) == 0


async def test_server_error_on_one_log_keeps_the_others(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, AT_S)
    healthy = targets(HEALTHY.name)
    message = "Get https://gpu-node-001:10250/containerLogs: dial tcp: connect: no route to host"
    one_log = kmock["get", POD_RESOURCE, km.name(healthy[0].pod), km.subresource("log")]
    one_log.override << 500 << status(500, "InternalError", message)
    (sick,) = targets(SICK.name)
    evidence = await kube(api).read([healthy[0], sick], since=ago(AT_S, 300))

    assert len(of_kind(evidence, "oom")) == 6
    assert evidence.error is not None
    assert "500" in evidence.error and healthy[0].pod in evidence.error
    assert "no route to host" in evidence.error, "the API's own message says why"


async def test_unreachable_api_server_is_one_sentence() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ApiClient(Configuration(host=f"http://127.0.0.1:{port}"))
    try:
        evidence = await kube(client).read(targets(SICK.name), since=ago(AT_S, 300))
    finally:
        client.close()

    assert evidence.events == ()
    assert evidence.error == (
        f"Cannot reach the Kubernetes API at http://127.0.0.1:{port} (connection refused); "
        "check the kubeconfig's server address and that the cluster is up."
    )


async def test_a_slow_log_read_times_out_with_what_was_read(kmock: Any, api: ApiClient) -> None:
    load_cluster(kmock, JUST_OOMKILLED_S)

    async def stall() -> bytes:
        await asyncio.sleep(STALL_S)
        return b""

    kmock[LOGS].override << stall
    started = time.monotonic()
    # The plain client retries a read timeout three times; the reader must not wait that.
    evidence = await kube(api, JUST_OOMKILLED_S, request_timeout_s=REQUEST_TIMEOUT_S).read(
        targets(SICK.name), since=ago(JUST_OOMKILLED_S, 600)
    )
    elapsed = time.monotonic() - started

    assert elapsed < 2.5 * REQUEST_TIMEOUT_S  # one attempt's wait, not three
    assert [e.kind for e in evidence.events] == ["oomkilled"]
    assert evidence.error is not None
    assert f"did not answer within {REQUEST_TIMEOUT_S:g} s" in evidence.error


# -- configuration -------------------------------------------------------------------


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: {server}
users:
- name: oncall
  user:
    token: not-a-real-token
contexts:
- name: lab
  context:
    cluster: lab
    user: oncall
current-context: lab
"""
    )
    return path


async def test_from_config_reads_through_a_kubeconfig_without_retries(
    kmock: Any, tmp_path: Path
) -> None:
    load_cluster(kmock, AT_S)
    kubeconfig = write_kubeconfig(tmp_path / "config", str(kmock.url))
    evidence = KubeEvidence.from_config(
        kubeconfig, "lab", clock=FrozenClock(EPOCH + AT_S), request_timeout_s=REQUEST_TIMEOUT_S
    )
    try:
        found = await evidence.read(targets(SICK.name), since=ago(AT_S, 300))
        assert found.error is None and len(of_kind(found, "oom")) == 6
        assert kmock[LOGS][0].headers.get("Authorization") == "Bearer not-a-real-token"

        async def stall() -> bytes:
            await asyncio.sleep(STALL_S)
            return b""

        kmock[LOGS].override << stall
        before = len(kmock[LOGS])
        timed_out = await evidence.read(targets(SICK.name), since=ago(AT_S, 300))
        await asyncio.sleep(0.5)  # time for any retry to arrive
        assert timed_out.error is not None and "did not answer" in timed_out.error
        assert len(kmock[LOGS]) - before == 1, "one attempt: the next refresh is the retry"
    finally:
        await evidence.aclose()


def test_from_config_errors_are_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=r"^The kubeconfig .*nope does not exist; "):
        KubeEvidence.from_config(missing)

    kubeconfig = write_kubeconfig(tmp_path / "config", "https://10.0.0.1:6443")
    with pytest.raises(ConfigError, match=r"context 'prod'.*check the file and the context"):
        KubeEvidence.from_config(kubeconfig, "prod")

    monkeypatch.setenv("KUBECONFIG", str(missing))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError, match=r"^No Kubernetes configuration was found"):
        KubeEvidence.from_config()


# -- parsers -------------------------------------------------------------------------

TARGET = PodTarget(NAMESPACE, "vllm-x-abc-12345", "x", (("gpu-node-002", 4), ("gpu-node-002", 5)))
EXCEPTION = (
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.95 GiB. GPU 1 has a "
    "total capacity of 79.19 GiB of which 212.00 MiB is free. Including non-PyTorch memory, "
    "this process has 78.97 GiB memory in use."
)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-23T10:00:00.123456789Z", datetime(2026, 11, 23, 10, 0, 0, 123456)),
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, 0, 0)),
        ("2026-11-23T10:00:00.5Z", datetime(2026, 11, 23, 10, 0, 0, 500000)),
        ("2026-11-23T11:00:00.000000000+01:00", datetime(2026, 11, 23, 10, 0, 0)),
    ],
)
def test_kubelet_timestamp_variants(stamp: str, expected: datetime) -> None:
    (event,) = events_from_log(f"{stamp} {EXCEPTION}\n", TARGET)
    assert event.at == expected.replace(tzinfo=UTC)


def test_lines_without_a_usable_timestamp_are_skipped() -> None:
    text = "\n".join(
        [
            EXCEPTION,  # no prefix at all
            f"2026-11-23T10:00:00.000000000 {EXCEPTION}",  # no zone: not guessed
            f"2026-11-23 10:00:00Z {EXCEPTION}",
            f"2026-13-45T99:00:00Z {EXCEPTION}",
            "\x00\xff garbage OutOfMemoryError",
            "",
        ]
    )
    assert events_from_log(text, TARGET) == []


def test_out_of_memory_spellings_and_gpu_mapping() -> None:
    text = "\n".join(
        [
            "2026-11-23T10:00:00.000000000Z ERROR 11-23 10:00:00 engine.py:160] "
            "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total",
            "2026-11-23T10:01:00.000000000Z RuntimeError: CUDA out of memory. Tried to allocate "
            "20.00 MiB (GPU 1; 79.19 GiB total capacity; 78.50 GiB already allocated)",
            "2026-11-23T10:02:00.000000000Z torch.cuda.OutOfMemoryError: CUDA out of memory.",
            "2026-11-23T10:03:00.000000000Z torch.OutOfMemoryError: CUDA out of memory. GPU 7 has",
            "2026-11-23T10:04:00.000000000Z INFO 11-23 10:04:00 metrics.py:351] GPU KV cache "
            "usage: 99.5%, CPU KV cache usage: 0.0%.",
        ]
    )
    events = events_from_log(text, TARGET)
    assert [e.at.minute for e in events] == [0, 1, 2, 3]
    assert [e.kind for e in events] == ["oom"] * 4
    assert [(e.node, e.gpu) for e in events] == [
        ("gpu-node-002", 4),
        ("gpu-node-002", 5),
        ("gpu-node-002", None),  # no GPU named: the pod's node, no GPU
        ("gpu-node-002", None),  # GPU 7 is not one of the pod's two
    ]
    assert events[0].detail.startswith("OutOfMemoryError: CUDA out of memory."), "prefix gone"
    assert events[1].detail.startswith("RuntimeError: CUDA out of memory.")


def test_one_traceback_is_one_event_described_by_its_exception_line() -> None:
    at = "2026-11-23T10:00:00.000000000Z"
    prefix = "ERROR 11-23 10:00:00 engine.py:160] "
    text = "\n".join(
        [
            f"{at} {prefix}OutOfMemoryError({EXCEPTION.split(': ', 1)[1]!r})",
            f"{at} {prefix}Traceback (most recent call last):",
            f'{at} {prefix}  File "/usr/lib/python3/vllm/worker/model_runner.py", line 1658',
            f"{at} {prefix}{EXCEPTION}",
            # The other tensor-parallel worker fails at the same instant on its own GPU.
            f"{at} (VllmWorkerProcess pid=212) {prefix}{EXCEPTION.replace('GPU 1', 'GPU 0')}",
            # The next OOM, a minute later.
            f"2026-11-23T10:01:00.000000000Z {prefix}{EXCEPTION}",
        ]
    )
    events = events_from_log(text, TARGET)
    assert [(e.at.minute, e.gpu) for e in events] == [(0, 5), (0, 4), (1, 5)]
    assert events[0].detail.startswith("torch.OutOfMemoryError: CUDA out of memory.")
    assert all(len(e.detail) <= 160 and e.detail.endswith("…") for e in events)


def test_events_from_pod_status() -> None:
    def pod(**container: Any) -> dict[str, Any]:
        status = {"name": "vllm", "restartCount": 3, **container}
        return {"spec": {"nodeName": "gpu-node-009"}, "status": {"containerStatuses": [status]}}

    killed = {
        "terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-11-23T10:00:05Z"}
    }
    crashed = {
        "terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2026-11-23T10:00:05Z"}
    }
    one_gpu = PodTarget(NAMESPACE, "p", "m", (("gpu-node-009", 3),))

    (event,) = events_from_pod(pod(lastState=killed), one_gpu)
    assert (event.kind, event.node, event.gpu) == ("oomkilled", "gpu-node-009", 3)
    assert event.at == datetime.fromisoformat("2026-11-23T10:00:05+00:00")
    assert event.detail == "container vllm OOMKilled (exit 137), 3 restarts"
    assert len(events_from_pod(pod(state=killed), one_gpu)) == 1, "killed and not yet restarted"
    assert events_from_pod(pod(lastState=crashed), one_gpu) == []
    no_time = {"terminated": {"reason": "OOMKilled", "exitCode": 137}}
    assert events_from_pod(pod(lastState=no_time), one_gpu) == []
    assert events_from_pod({}, one_gpu) == []
    (unplaced,) = events_from_pod({"status": pod(lastState=killed)["status"]}, TARGET)
    assert (unplaced.node, unplaced.gpu) == ("gpu-node-002", None)


def test_targets_follow_the_models_order_with_gpus_in_device_order() -> None:
    found = targets(SICK.name, HEALTHY.name)
    assert [t.model for t in found] == [SICK.name] + [HEALTHY.name] * len(HEALTHY.pods)
    (sick,) = found[:1]
    assert sick.gpus == tuple((g.node, g.index) for g in SICK.gpus)
    assert list(sick.gpus) == sorted(sick.gpus)


# -- the simulated pods --------------------------------------------------------------


def test_pod_manifest_follows_the_scenario() -> None:
    pod = SICK.pods[0]
    manifest = pod_manifest(FLEET, SCENARIO, pod, AT_S, EPOCH)
    container = manifest["status"]["containerStatuses"][0]
    assert manifest["metadata"]["labels"]["app.kubernetes.io/name"] == "vllm"
    assert manifest["metadata"]["labels"]["model"] == SICK.name
    assert manifest["spec"]["nodeName"] == SICK.gpus[0].node
    assert manifest["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["restartCount"] == 4
    assert container["lastState"]["terminated"]["finishedAt"] == "2026-11-18T11:16:10Z"
    assert container["state"]["running"]["startedAt"] == "2026-11-18T11:16:20Z"
    backing_off = pod_manifest(FLEET, SCENARIO, pod, 575.0, EPOCH)
    assert backing_off["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == (
        "CrashLoopBackOff"
    )
    healthy = pod_manifest(FLEET, SCENARIO, HEALTHY.pods[0], AT_S, EPOCH)
    assert healthy["status"]["containerStatuses"][0]["restartCount"] == 0
    assert healthy["status"]["containerStatuses"][0]["lastState"] == {}


def test_pod_log_honours_since_tail_and_timestamps() -> None:
    pod = SICK.pods[0]
    full = pod_log(FLEET, SCENARIO, pod, AT_S, EPOCH, since_s=120, timestamps=True)
    lines = full.splitlines()
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")
    assert all(stamp.match(line) for line in lines)
    assert lines[0].startswith("2026-11-18T11:14:40.000000000Z INFO 11-18 11:14:40 metrics.py")
    assert sum("torch.OutOfMemoryError" in line for line in lines) == 2  # at 515 and 560 s
    tail = pod_log(FLEET, SCENARIO, pod, AT_S, EPOCH, since_s=120, tail_lines=5, timestamps=True)
    assert tail.splitlines() == lines[-5:]
    plain = pod_log(FLEET, SCENARIO, pod, AT_S, EPOCH, since_s=120)
    assert plain.splitlines() == [line.split(" ", 1)[1] for line in lines]
    assert pod_log(FLEET, SCENARIO, pod, AT_S, EPOCH, tail_lines=0) == ""
    healthy = pod_log(FLEET, SCENARIO, HEALTHY.pods[0], AT_S, EPOCH)
    assert len(healthy.splitlines()) == 361 and "OutOfMemory" not in healthy


async def test_demo_evidence_skips_pods_the_fleet_does_not_have() -> None:
    stranger = PodTarget(NAMESPACE, "vllm-stranger-abc-12345", "x")
    elsewhere = PodTarget("staging", SICK.pods[0], SICK.name)
    evidence = await demo().read([stranger, elsewhere], since=ago(AT_S, 300))
    assert evidence == PodEvidence((), {}, None)
