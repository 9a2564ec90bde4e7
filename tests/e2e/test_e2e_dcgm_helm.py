"""dcgm-exporter as its Helm chart installs it, through a real Prometheus.

NVIDIA/dcgm-exporter ``deployment/templates/service-monitor.yaml`` scrapes the exporter
with ``honorLabels: {{ .Values.serviceMonitor.honorLabels }}``, ``false`` by default
(``deployment/values.yaml``). The exporter's pod mapper writes the GPU's workload as
``pod``/``namespace``/``container``; those clash with the target labels of the exporter's
own pod, so Prometheus stores them as ``exported_pod``/``exported_namespace``/
``exported_container``. Here the simulator is scraped as three jobs like a cluster's
(gateway, vLLM pods, dcgm-exporter with its own pod as target labels) and `warroom
snapshot` must still put every GPU on its vLLM pod and model, and the XIDs on the sick one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from promserver import Job, PromServer, scraping_simulator, snapshot_json

from tui.domain.model import MIB
from tui.sim.fleet import GPU_MEMORY_MIB, NAMESPACE, build_fleet
from tui.sim.scenarios import GpuOom

pytestmark = pytest.mark.prometheus

MODELS = 12
EXPORTER_POD = {"pod": "dcgm-exporter-7xk2p", "namespace": "gpu-operator", "container": "exporter"}
"""The target labels the Prometheus Operator's endpoint discovery gives the exporter's pod
(its container is ``exporter`` in ``deployment/templates/daemonset.yaml``)."""


@pytest.fixture(scope="module", params=["dcgm", "dcgm-main"])
def snapshot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PromServer, dict[str, Any]]]:
    """Released dcgm-exporter (``Hostname``) and main (``hostname``), each scraped as the
    Helm chart does."""
    dcgm: str = request.param
    tmp = tmp_path_factory.mktemp(dcgm)
    no_cluster = {"KUBECONFIG": str(tmp / "no-kubeconfig")}  # GPU evidence from DCGM only
    jobs = (
        Job("gateway", "/metrics/generic"),
        Job("vllm", "/metrics/vllm"),
        Job("dcgm", f"/metrics/{dcgm}", labels=EXPORTER_POD, honor_labels=False),
    )
    args = ("--scenario", "gpu-oom", "--models", str(MODELS), "--stack", f"generic,vllm,{dcgm}",
            "--at", "10m", "--speed", "10")  # fmt: skip
    gpus = len(build_fleet(MODELS).gpus)
    with scraping_simulator(tmp, *args, scrape_interval="2s", jobs=jobs) as server:
        server.wait_for(
            "count(DCGM_FI_DEV_GPU_UTIL) and count(rate(http_requests_total[30s]))"
            ' and count({__name__=~"vllm[:_]num_requests_running"})',
            ready=lambda r: bool(r) and float(r[0]["value"][1]) == gpus,
            timeout_s=120,
            what=f"{gpus} GPUs, vLLM pods and a first rate",
        )
        snap = snapshot_json(
            server.url, "--window", "30s", "--gpu-source", "dcgm", home=tmp, extra_env=no_cluster
        )
        yield server, snap


def test_prometheus_holds_the_workload_as_exported_labels(
    snapshot: tuple[PromServer, dict[str, Any]],
) -> None:
    """The premise: what the Helm chart's scrape stores."""
    server, _ = snapshot
    series = server.vector("DCGM_FI_DEV_GPU_UTIL")
    assert {(s["metric"]["pod"], s["metric"]["namespace"]) for s in series} == {
        (EXPORTER_POD["pod"], EXPORTER_POD["namespace"])
    }
    assert {s["metric"]["exported_namespace"] for s in series} == {NAMESPACE}
    assert {s["metric"]["exported_container"] for s in series} == {"vllm"}
    assert all(s["metric"]["exported_pod"].startswith("vllm-") for s in series)


def test_every_gpu_is_its_vllm_pods_and_serves_its_model(
    snapshot: tuple[PromServer, dict[str, Any]],
) -> None:
    _, snap = snapshot
    fleet = build_fleet(MODELS)
    assert snap["gpu_error"] is None
    got = {(g["node"], g["gpu"]): (g["uuid"], g["namespace"], g["pod"], g["model"])
           for g in snap["gpus"]}  # fmt: skip
    assert got == {(g.node, g.index): (g.uuid, NAMESPACE, g.pod, g.model) for g in fleet.gpus}
    # used + free + reserved: the whole H100.
    assert {g["mem_total_bytes"] for g in snap["gpus"]} == {GPU_MEMORY_MIB * MIB}


def test_the_xids_are_the_sick_models_and_the_cause_names_them(
    snapshot: tuple[PromServer, dict[str, Any]],
) -> None:
    _, snap = snapshot
    fleet = build_fleet(MODELS)
    sick = GpuOom().sick(fleet)
    first, second = sick.gpus[0], sick.gpus[1]
    xids = sorted(
        (e["node"], e["gpu"], e["pod"], e["model"], e["detail"])
        for e in snap["events"]
        if e["kind"] == "xid"
    )
    assert xids == sorted([
        (first.node, first.index, first.pod, sick.name, "XID 31 (GPU memory page fault)"),
        (second.node, second.index, second.pod, sick.name, "XID 43 (GPU stopped processing)"),
    ])  # fmt: skip
    for g in snap["gpus"]:
        if (g["node"], g["gpu"]) in {(first.node, first.index), (second.node, second.index)}:
            assert g["model"] == sick.name
            assert g["mem_used_bytes"] / g["mem_total_bytes"] >= 0.99
    top = snap["models"][0]
    assert top["model"] == sick.name
    cause = top["suspected_cause"]
    assert cause is not None and cause["kind"] == "gpu_xid"
    assert cause["summary"].startswith("5xx likely downstream of XID ")
    where = (
        f"{first.node} GPU {first.index}, {second.index}"
        if first.node == second.node
        else f"{first.node} GPU {first.index}; {second.node} GPU {second.index}"
    )
    assert f" on {where} (2 XID in the last 30m)" in cause["summary"]
    assert all(m["suspected_cause"] is None for m in snap["models"][1:])
