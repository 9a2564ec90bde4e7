"""This host's GPUs through NVML: the real no-GPU path, and a fake driver at pynvml's boundary."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace

import pynvml
import pytest
from fake_nvml import GIB, MISSING_PID, FakeDevice, FakeNvml, three_gpus

from tui.clock import FrozenClock, utc
from tui.domain.model import GpuEvent, GpuProcess, GpuState
from tui.sources.nvml import INIT_RETRY_S, NvmlGpus, NvmlReading

T0 = 1_790_000_000.0


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def by_index(gpus: tuple[GpuState, ...]) -> dict[int, GpuState]:
    return {g.gpu: g for g in gpus}


def test_without_an_nvml_library_the_reading_says_so_and_nothing_raises() -> None:
    gpus = NvmlGpus(node="n1")
    try:
        first = gpus.read()
        again = gpus.read()
    finally:
        gpus.close()
    gpus.close()
    assert first.gpus == () and first.events == ()
    assert first.error == (
        "NVML is not available on this host (libnvidia-ml.so.1 was not found); "
        "the GPU grid has no local GPUs to show."
    )
    assert again == first
    assert gpus.xid_supported is False


async def test_aread_returns_what_read_would() -> None:
    gpus = NvmlGpus(node="n1")
    reading = await gpus.aread()
    gpus.close()
    assert reading.gpus == ()
    assert reading.error is not None and reading.error.startswith("NVML is not available")


def test_node_defaults_to_the_host_name() -> None:
    assert NvmlGpus().node == socket.gethostname()


def test_a_failed_start_is_retried_at_most_once_a_minute(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    fake.init_error = pynvml.NVMLError_LibraryNotFound()
    gpus = NvmlGpus(node="n1", clock=clock)
    gpus.read()
    clock.at = T0 + INIT_RETRY_S - 1
    assert gpus.read().gpus == ()
    assert fake.calls["nvmlInit"] == 1
    # The library appears (driver installed): the next attempt after the wait finds the GPUs.
    fake.init_error = None
    clock.at = T0 + INIT_RETRY_S
    reading = gpus.read()
    assert fake.calls["nvmlInit"] == 2
    assert [g.gpu for g in reading.gpus] == [0, 1, 2]
    assert reading.error is None


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            pynvml.NVMLError_DriverNotLoaded(),
            "NVML found no NVIDIA driver loaded on this host; load the driver "
            "(`nvidia-smi` should then list the GPUs) and the GPU grid picks them up "
            "within a minute.",
        ),
        (
            pynvml.NVMLError_NoPermission(),
            "NVML was refused access to this host's GPUs; run warroom as a user "
            "allowed to open /dev/nvidia*.",
        ),
        (
            pynvml.NVMLError_Unknown(),
            "NVML could not start (Unknown Error); check that `nvidia-smi` works on this host.",
        ),
    ],
)
def test_each_start_failure_has_its_own_sentence(
    monkeypatch: pytest.MonkeyPatch, error: pynvml.NVMLError, expected: str
) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    fake.init_error = error
    gpus = NvmlGpus(node="n1")
    reading = gpus.read()
    gpus.close()
    assert reading == NvmlReading(gpus=(), events=(), error=expected)
    assert fake.calls["nvmlShutdown"] == 0


def test_figures_map_from_nvml_units(monkeypatch: pytest.MonkeyPatch, clock: FrozenClock) -> None:
    FakeNvml(*three_gpus()).install(monkeypatch)
    reading = NvmlGpus(node="n1", clock=clock).read()
    assert reading.error is None
    assert reading.events == ()
    shown = by_index(reading.gpus)
    assert shown[0] == GpuState(
        node="n1",
        gpu=0,
        uuid="GPU-aaaa",
        product="NVIDIA H100 80GB HBM3",
        util_ratio=0.87,
        mem_used_bytes=70 * GIB,
        mem_total_bytes=80 * GIB,
        temp_c=71.0,
        power_w=612.345,
        xid=0,
        processes=(GpuProcess(pid=MISSING_PID, name=None, used_bytes=None),),
    )
    assert shown[0].mem_ratio == pytest.approx(0.875)
    assert shown[0].model is None and shown[0].pod is None and shown[0].namespace is None
    # Bytes from the driver are decoded like strings.
    assert shown[1].uuid == "GPU-bbbb"
    assert shown[1].product == "NVIDIA H100 80GB HBM3"
    assert shown[2].util_ratio == 0.5


def test_a_figure_the_gpu_cannot_report_is_none_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeNvml(*three_gpus()).install(monkeypatch)
    reading = NvmlGpus(node="n1").read()
    gpu1 = by_index(reading.gpus)[1]
    assert gpu1.power_w is None
    assert gpu1.util_ratio == 0.03
    assert gpu1.temp_c == 40.0
    assert reading.error is None


def test_processes_are_named_from_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    me = os.getpid()
    comm = Path(f"/proc/{me}/comm").read_text().strip()
    device = FakeDevice(
        uuid="GPU-aaaa",
        name="NVIDIA L4",
        procs=[
            SimpleNamespace(pid=me, usedGpuMemory=3 * GIB),
            SimpleNamespace(pid=MISSING_PID, usedGpuMemory=None),
        ],
    )
    FakeNvml(device).install(monkeypatch)
    (gpu,) = NvmlGpus(node="n1").read().gpus
    assert comm
    assert gpu.processes == (
        GpuProcess(pid=me, name=comm, used_bytes=3 * GIB),
        GpuProcess(pid=MISSING_PID, name=None, used_bytes=None),
    )


def test_a_gpu_lost_mid_run_is_named_and_the_others_still_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    devices = three_gpus()
    FakeNvml(*devices).install(monkeypatch)
    gpus = NvmlGpus(node="n1")
    assert len(gpus.read().gpus) == 3
    devices[1].lost = True
    reading = gpus.read()
    assert [g.gpu for g in reading.gpus] == [0, 2]
    assert reading.error == (
        "NVML could not read GPU 1 (GPU is lost); the GPU grid shows what could be read, "
        "and `nvidia-smi` on this host tells more."
    )
    devices[1].lost = False
    recovered = gpus.read()
    assert [g.gpu for g in recovered.gpus] == [0, 1, 2]
    assert recovered.error is None


def test_xid_events_are_drained_with_their_gpu_and_meaning(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    devices = three_gpus()
    fake = FakeNvml(*devices).install(monkeypatch)
    gpus = NvmlGpus(node="n1", clock=clock)
    first = gpus.read()
    assert gpus.xid_supported is True
    assert fake.registered == list(devices)
    assert [g.xid for g in first.gpus] == [0, 0, 0]

    fake.xid(devices[2], 79)
    fake.xid(devices[0], 13)
    fake.xid(devices[0], 200)
    clock.at = T0 + 5
    reading = gpus.read()
    assert reading.events == (
        GpuEvent(utc(T0 + 5), "xid", "XID 79 (GPU has fallen off the bus)", node="n1", gpu=2),
        GpuEvent(utc(T0 + 5), "xid", "XID 13 (graphics engine exception)", node="n1", gpu=0),
        GpuEvent(utc(T0 + 5), "xid", "XID 200", node="n1", gpu=0),
    )
    assert not fake.pending
    # Drained until the driver said there was nothing more: three events, then one timeout.
    assert fake.calls["nvmlEventSetWait_v2"] == 1 + 4
    assert {g.gpu: g.xid for g in reading.gpus} == {0: 200, 1: 0, 2: 79}

    later = gpus.read()
    assert later.events == ()
    assert {g.gpu: g.xid for g in later.gpus} == {0: 200, 1: 0, 2: 79}
    # Registered once per GPU for the whole session.
    assert fake.calls["nvmlDeviceRegisterEvents"] == 3
    assert fake.calls["nvmlEventSetCreate"] == 1


def test_an_xid_from_a_fresh_handle_is_matched_by_uuid(monkeypatch: pytest.MonkeyPatch) -> None:
    devices = three_gpus()
    fake = FakeNvml(*devices).install(monkeypatch)
    gpus = NvmlGpus(node="n1")
    gpus.read()
    fake.xid(FakeDevice(uuid=b"GPU-bbbb", name=""), 48)
    reading = gpus.read()
    assert [(e.gpu, e.detail) for e in reading.events] == [(1, "XID 48 (double-bit ECC error)")]
    assert by_index(reading.gpus)[1].xid == 48


def test_an_xid_is_matched_to_its_gpu_by_handle_address(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    fake.ctypes_handles = True
    gpus = NvmlGpus(node="n1")
    gpus.read()
    # A different ctypes object for the same device, as NVML's event data carries.
    fake.xid(fake.nvmlDeviceGetHandleByIndex(1), 95)
    reading = gpus.read()
    assert [(e.gpu, e.detail) for e in reading.events] == [(1, "XID 95 (uncontained ECC error)")]
    assert fake.calls["nvmlDeviceGetUUID"] == 2 * 3, "matched without asking the driver"


def test_an_xid_from_a_gpu_that_then_got_lost_still_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    devices = three_gpus()
    fake = FakeNvml(*devices).install(monkeypatch)
    gpus = NvmlGpus(node="n1")
    gpus.read()
    devices[2].lost = True
    fake.xid(devices[2], 79)
    reading = gpus.read()
    assert [(e.gpu, e.detail) for e in reading.events] == [
        (2, "XID 79 (GPU has fallen off the bus)")
    ]
    assert [g.gpu for g in reading.gpus] == [0, 1]
    assert reading.error is not None and "GPU 2 (GPU is lost)" in reading.error


@pytest.mark.parametrize("refused", ["nvmlEventSetCreate", "nvmlDeviceRegisterEvents"])
def test_a_driver_without_xid_events_is_read_without_them(
    monkeypatch: pytest.MonkeyPatch, refused: str
) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    if refused == "nvmlEventSetCreate":
        fake.event_set_error = pynvml.NVMLError_NotSupported()
    else:
        fake.register_error = pynvml.NVMLError_NotSupported()
    gpus = NvmlGpus(node="n1")
    first = gpus.read()
    second = gpus.read()
    assert gpus.xid_supported is False
    assert [g.gpu for g in second.gpus] == [0, 1, 2]
    assert [g.xid for g in second.gpus] == [None, None, None]
    assert first.error is None and second.error is None
    assert fake.calls["nvmlEventSetWait_v2"] == 0
    # Refused once is refused for the session: no asking again on every read.
    assert fake.calls[refused] == (1 if refused == "nvmlEventSetCreate" else 3)


def test_an_event_read_failure_is_reported_and_the_gpus_still_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    gpus = NvmlGpus(node="n1")
    gpus.read()

    def broken_wait(event_set: object, timeout_ms: int) -> None:
        raise pynvml.NVMLError_Unknown()

    monkeypatch.setattr(pynvml, "nvmlEventSetWait_v2", broken_wait)
    reading = gpus.read()
    assert len(reading.gpus) == 3
    assert reading.error == (
        "XID events could not be read (Unknown Error); the GPU grid shows what could be "
        "read, and `nvidia-smi` on this host tells more."
    )
    assert fake.calls["nvmlShutdown"] == 0


def test_a_failed_device_count_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeNvml(*three_gpus()).install(monkeypatch)

    def broken_count() -> int:
        raise pynvml.NVMLError_Uninitialized()

    monkeypatch.setattr(pynvml, "nvmlDeviceGetCount", broken_count)
    reading = NvmlGpus(node="n1").read()
    assert reading.gpus == ()
    assert reading.error == (
        "NVML could not list this host's GPUs (Uninitialized); "
        "check that `nvidia-smi` works on this host."
    )


def test_close_frees_the_event_set_and_shuts_down_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    gpus = NvmlGpus(node="n1")
    gpus.read()
    gpus.close()
    gpus.close()
    assert fake.calls["nvmlEventSetFree"] == 1
    assert fake.calls["nvmlShutdown"] == 1
    assert gpus.xid_supported is False


def test_close_before_any_read_touches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml(*three_gpus()).install(monkeypatch)
    NvmlGpus(node="n1").close()
    assert sum(fake.calls.values()) == 0
