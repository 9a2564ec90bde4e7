"""The GPU grid's data path at fleet scale: `warroom simulate` exporting dcgm-exporter
series for 1024 GPUs, Debian's Prometheus scraping them, `warroom snapshot --json`
reading every GPU back with one query, mapped to node, pod and served model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promserver import PromServer, scraping_simulator, snapshot_json, taken_at_unix

from tui.domain.model import MIB
from tui.sim.fleet import GPU_MEMORY_MIB, GPU_PRODUCT, build_fleet
from tui.sim.scenarios import GpuOom

pytestmark = pytest.mark.prometheus

MODELS, GPUS = 200, 1024


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PromServer, Path]]:
    tmp = tmp_path_factory.mktemp("gpus")
    args = ("--scenario", "gpu-oom", "--models", str(MODELS), "--gpus", str(GPUS),
            "--at", "10m", "--speed", "10")  # fmt: skip
    with scraping_simulator(tmp, *args, scrape_interval="2s") as server:
        server.wait_for(
            "count(DCGM_FI_DEV_GPU_UTIL) and count(rate(http_requests_total[30s]))",
            ready=lambda r: bool(r) and float(r[0]["value"][1]) == GPUS,
            timeout_s=120,
            what=f"{GPUS} GPUs and a first rate",
        )
        yield server, tmp


@pytest.fixture(scope="module")
def snapshot(rig: tuple[PromServer, Path]) -> dict[str, Any]:
    server, home = rig
    # No cluster: GPU evidence from DCGM only.
    no_cluster = {"KUBECONFIG": str(home / "no-kubeconfig")}
    return snapshot_json(
        server.url, "--window", "30s", "--gpu-source", "dcgm", home=home, extra_env=no_cluster
    )


def test_every_gpu_is_read_and_mapped_to_its_pod_and_model(snapshot: dict[str, Any]) -> None:
    fleet = build_fleet(MODELS, GPUS)
    gpus = snapshot["gpus"]
    assert len(gpus) == GPUS
    assert snapshot["gpu_error"] is None
    assert {(g["node"], g["gpu"]): (g["uuid"], g["pod"], g["model"]) for g in gpus} == {
        (g.node, g.index): (g.uuid, g.pod, g.model) for g in fleet.gpus
    }
    assert {g["product"] for g in gpus} == {GPU_PRODUCT}
    assert {g["mem_total_bytes"] for g in gpus} == {GPU_MEMORY_MIB * MIB}
    assert all(0 <= g["util_ratio"] <= 1 and g["temp_c"] > 0 and g["power_w"] > 0 for g in gpus)


def test_figures_are_what_prometheus_holds(
    rig: tuple[PromServer, Path], snapshot: dict[str, Any]
) -> None:
    server, _ = rig
    at = taken_at_unix(snapshot)
    util = {s["metric"]["UUID"]: float(s["value"][1]) for s in server.vector(
        "DCGM_FI_DEV_GPU_UTIL", at)}  # fmt: skip
    used = {s["metric"]["UUID"]: float(s["value"][1]) for s in server.vector(
        "DCGM_FI_DEV_FB_USED", at)}  # fmt: skip
    for g in snapshot["gpus"]:
        assert g["util_ratio"] == pytest.approx(util[g["uuid"]] / 100)
        assert g["mem_used_bytes"] == used[g["uuid"]] * MIB


def test_the_oom_model_is_full_and_its_xids_are_events(snapshot: dict[str, Any]) -> None:
    fleet = build_fleet(MODELS, GPUS)
    sick = GpuOom().sick(fleet)
    mine = [g for g in snapshot["gpus"] if g["model"] == sick.name]
    others = [g for g in snapshot["gpus"] if g["model"] != sick.name]
    assert len(mine) == len(sick.gpus)
    assert min(g["mem_used_bytes"] / g["mem_total_bytes"] for g in mine) >= 0.99
    assert max(g["mem_used_bytes"] / g["mem_total_bytes"] for g in others) < 0.95
    xids = [(e["node"], e["gpu"], e["detail"]) for e in snapshot["events"] if e["kind"] == "xid"]
    first, second = sick.gpus[0], sick.gpus[1]
    # Both codes were set before Prometheus first scraped: both are events of that scrape.
    assert sorted(xids) == [
        (first.node, first.index, "XID 31 (GPU memory page fault)"),
        (second.node, second.index, "XID 43 (GPU stopped processing)"),
    ]
    top = snapshot["models"][0]
    assert top["model"] == sick.name
    cause = top["suspected_cause"]
    assert cause["kind"] == "gpu_xid"
    assert cause["summary"].startswith("5xx likely downstream of XID ")
    assert (
        f" on {first.node} GPU {first.index}, {second.index} (2 XID in the last 30m)"
        in (cause["summary"])
    )
    assert all(m["suspected_cause"] is None for m in snapshot["models"][1:])
    # A first read: one query finds the stacks, one for the panes, two for the grid, one
    # for the XID history.
    assert snapshot["queries"] == 5
