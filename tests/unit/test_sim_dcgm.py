"""The simulated dcgm-exporter writes what 4.x writes: its labels (host label in either
spelling, driver version, workload pod), FB reserved beside used and free, XID texts."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tui.config import MetricProfile
from tui.domain.model import MIB
from tui.sim.engine import Engine
from tui.sim.exporter import make_server
from tui.sim.fleet import GPU_MEMORY_MIB, GPU_PRODUCT, NAMESPACE, build_fleet
from tui.sim.scenarios import GpuOom, scenario
from tui.sim.stacks import Reading, emitters, parse_stack
from tui.sim.stacks.dcgm import DRIVER_VERSION, FB_RESERVED_MIB
from tui.sources.dcgm import gpus_from_series
from tui.sources.promql import GPU_FIELD_LABEL, IDENTITY_FIELD

FIELDS = {
    "DCGM_FI_DEV_GPU_UTIL": "util",
    "DCGM_FI_DEV_FB_USED": "fb_used",
    "DCGM_FI_DEV_FB_FREE": "fb_free",
    "DCGM_FI_DEV_FB_RESERVED": "fb_reserved",
    "DCGM_FI_DEV_GPU_TEMP": "temp",
    "DCGM_FI_DEV_POWER_USAGE": "power",
    "DCGM_FI_DEV_XID_ERRORS": "xid",
}


def reading(at_s: float = 600.0) -> Reading:
    fleet = build_fleet(12, None, 7)
    engine = Engine(fleet, scenario("gpu-oom"), start_s=at_s)
    engine.advance(at_s)
    return Reading(
        fleet=fleet,
        scenario=engine.scenario,
        sample=engine.sample(),
        pods=engine.pods(),
        gpus=engine.gpus(),
        in_flight=engine.in_flight(),
    )


def samples(stack: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in emitters()[stack](reading()):
        out[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return out


def test_released_exporter_labels() -> None:
    got = samples("dcgm")
    assert set(FIELDS) <= set(got)
    labels, _ = got["DCGM_FI_DEV_GPU_UTIL"][0]
    assert set(labels) == {
        "gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname",
        "DCGM_FI_DRIVER_VERSION", "container", "namespace", "pod",
    }  # fmt: skip
    assert labels["DCGM_FI_DRIVER_VERSION"] == DRIVER_VERSION
    assert labels["modelName"] == GPU_PRODUCT
    assert labels["namespace"] == NAMESPACE
    assert labels["device"] == f"nvidia{labels['gpu']}"


def test_main_exporter_writes_lowercase_hostname() -> None:
    labels, _ = samples("dcgm-main")["DCGM_FI_DEV_GPU_UTIL"][0]
    assert "hostname" in labels and "Hostname" not in labels
    assert parse_stack("generic,vllm,dcgm-main") == ("generic", "vllm", "dcgm-main")


def test_used_free_and_reserved_add_up_to_the_card() -> None:
    got = samples("dcgm")
    by_uuid: dict[str, dict[str, float]] = {}
    for name in ("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_RESERVED"):
        for labels, value in got[name]:
            by_uuid.setdefault(labels["UUID"], {})[name] = value
    assert {sum(v.values()) for v in by_uuid.values()} == {GPU_MEMORY_MIB}
    assert {v["DCGM_FI_DEV_FB_RESERVED"] for v in by_uuid.values()} == {FB_RESERVED_MIB}
    # The sick model's GPUs are full: nothing free, the reserved part taken from used.
    fleet = build_fleet(12, None, 7)
    sick = {g.uuid for g in GpuOom().sick(fleet).gpus}
    assert all(by_uuid[u]["DCGM_FI_DEV_FB_FREE"] == 0 for u in sick)
    assert all(by_uuid[u]["DCGM_FI_DEV_FB_USED"] / GPU_MEMORY_MIB >= 0.99 for u in sick)


def test_xid_carries_err_code_and_err_msg() -> None:
    xids = samples("dcgm")["DCGM_FI_DEV_XID_ERRORS"]
    texts = {(labels["err_code"], labels["err_msg"], value) for labels, value in xids}
    assert ("0", "No Error", 0.0) in texts
    assert ("31", "GPU memory page fault", 31.0) in texts
    assert ("43", "GPU stopped processing", 43.0) in texts


@pytest.mark.parametrize("stack", ["dcgm", "dcgm-main"])
def test_what_the_exporter_writes_parses_back_to_the_card(stack: str) -> None:
    """Each family as the GPU query tags it: every GPU is its pod's, full-size."""
    tagged = [
        ({**labels, GPU_FIELD_LABEL: field}, value)
        for name, field in FIELDS.items()
        for labels, value in samples(stack)[name]
    ]
    ident = [({**labels, GPU_FIELD_LABEL: IDENTITY_FIELD}, 1.0)
             for labels, _ in samples(stack)["DCGM_FI_DEV_GPU_UTIL"]]  # fmt: skip
    gpus = gpus_from_series(ident + tagged, {}, MetricProfile())
    fleet = build_fleet(12, None, 7)
    assert {(g.node, g.gpu, g.pod) for g in gpus} == {(g.node, g.index, g.pod) for g in fleet.gpus}
    assert {g.mem_total_bytes for g in gpus} == {GPU_MEMORY_MIB * MIB}


@pytest.fixture
def server() -> Iterator[str]:
    http, _ = make_server(scenario="gpu-oom", models=4, at_s=600.0,
                          stack=("generic", "vllm", "dcgm-main"))  # fmt: skip
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = http.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        http.shutdown()
        http.server_close()
        thread.join()


def test_each_stack_is_served_alone(server: str) -> None:
    text = httpx.get(f"{server}/metrics/dcgm-main").text
    names = {f.name for f in text_string_to_metric_families(text)}
    assert "DCGM_FI_DEV_FB_RESERVED" in names
    assert not any(n.startswith(("vllm", "http_")) for n in names)
    assert 'hostname="' in text and 'Hostname="' not in text
