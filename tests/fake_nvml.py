"""A fake NVML driver at pynvml's boundary: the few functions `NvmlGpus` calls, over GPUs
a test describes (figures, processes, a GPU lost, XID events), installed with
``monkeypatch``; and three H100s to install it with.

Imported as ``fake_nvml``: pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import ctypes
from collections import Counter, deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

GIB = 1024**3
MISSING_PID = 99_999_999
"""Above Linux's largest possible pid_max, so /proc never has it."""


@dataclass(eq=False)
class FakeDevice:
    """One GPU; the object itself is its handle, as NVML's handle is a stable pointer."""

    uuid: str | bytes
    name: str | bytes
    util_pct: int = 0
    mem_used: int = 0
    mem_total: int = 80 * GIB
    temp: int = 40
    power_mw: int | None = 100_000
    """None: the driver does not report power for this GPU."""
    procs: list[SimpleNamespace] = field(default_factory=list)
    lost: bool = False

    def check(self) -> None:
        if self.lost:
            raise pynvml.NVMLError_GpuIsLost()


class FakeNvml:
    """The few NVML functions `NvmlGpus` uses, installed over pynvml's own."""

    def __init__(self, *devices: FakeDevice) -> None:
        self.devices = list(devices)
        self.calls: Counter[str] = Counter()
        self.init_error: pynvml.NVMLError | None = None
        self.event_set_error: pynvml.NVMLError | None = None
        self.register_error: pynvml.NVMLError | None = None
        self.registered: list[FakeDevice] = []
        self.pending: deque[SimpleNamespace] = deque()
        self.event_set = object()
        self.ctypes_handles = False
        """Hand out real ctypes pointers, a new object on every call, as pynvml does."""
        self._structs = [pynvml.struct_c_nvmlDevice_t() for _ in devices]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
        for name in (
            "nvmlInit",
            "nvmlShutdown",
            "nvmlDeviceGetCount",
            "nvmlDeviceGetHandleByIndex",
            "nvmlDeviceGetUUID",
            "nvmlDeviceGetName",
            "nvmlDeviceGetUtilizationRates",
            "nvmlDeviceGetMemoryInfo",
            "nvmlDeviceGetTemperature",
            "nvmlDeviceGetPowerUsage",
            "nvmlDeviceGetComputeRunningProcesses",
            "nvmlEventSetCreate",
            "nvmlDeviceRegisterEvents",
            "nvmlEventSetWait_v2",
            "nvmlEventSetFree",
        ):
            monkeypatch.setattr(pynvml, name, self._counted(name))
        return self

    def _counted(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            self.calls[name] += 1
            return getattr(self, name)(*args)

        return call

    def xid(self, device: Any, code: int) -> None:
        self.pending.append(
            SimpleNamespace(
                device=device,
                eventType=pynvml.nvmlEventTypeXidCriticalError,
                eventData=code,
                gpuInstanceId=0,
                computeInstanceId=0,
            )
        )

    # pynvml's names, so the fake reads like the calls it stands for.
    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error

    def nvmlShutdown(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def device(self, handle: Any) -> FakeDevice:
        if isinstance(handle, FakeDevice):
            return handle
        address = ctypes.addressof(handle.contents)
        (index,) = [i for i, s in enumerate(self._structs) if ctypes.addressof(s) == address]
        return self.devices[index]

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        device = self.devices[index]
        device.check()
        return ctypes.pointer(self._structs[index]) if self.ctypes_handles else device

    def nvmlDeviceGetUUID(self, handle: Any) -> str | bytes:
        return self.device(handle).uuid

    def nvmlDeviceGetName(self, handle: Any) -> str | bytes:
        return self.device(handle).name

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> SimpleNamespace:
        handle = self.device(handle)
        handle.check()
        return SimpleNamespace(gpu=handle.util_pct, memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> SimpleNamespace:
        handle = self.device(handle)
        handle.check()
        free = handle.mem_total - handle.mem_used
        return SimpleNamespace(total=handle.mem_total, free=free, used=handle.mem_used)

    def nvmlDeviceGetTemperature(self, handle: Any, sensor: int) -> int:
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        handle = self.device(handle)
        handle.check()
        return handle.temp

    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        handle = self.device(handle)
        handle.check()
        if handle.power_mw is None:
            raise pynvml.NVMLError_NotSupported()
        return handle.power_mw

    def nvmlDeviceGetComputeRunningProcesses(self, handle: Any) -> list[SimpleNamespace]:
        handle = self.device(handle)
        handle.check()
        return handle.procs

    def nvmlEventSetCreate(self) -> object:
        if self.event_set_error is not None:
            raise self.event_set_error
        return self.event_set

    def nvmlDeviceRegisterEvents(self, handle: Any, types: int, event_set: object) -> None:
        assert types == pynvml.nvmlEventTypeXidCriticalError
        assert event_set is self.event_set
        if self.register_error is not None:
            raise self.register_error
        self.registered.append(self.device(handle))

    def nvmlEventSetWait_v2(self, event_set: object, timeout_ms: int) -> SimpleNamespace:
        assert event_set is self.event_set
        assert timeout_ms == 0, "a read must never wait for events"
        if not self.pending:
            raise pynvml.NVMLError_Timeout()
        return self.pending.popleft()

    def nvmlEventSetFree(self, event_set: object) -> None:
        assert event_set is self.event_set


def three_gpus() -> tuple[FakeDevice, FakeDevice, FakeDevice]:
    return (
        FakeDevice(
            uuid="GPU-aaaa",
            name="NVIDIA H100 80GB HBM3",
            util_pct=87,
            mem_used=70 * GIB,
            temp=71,
            power_mw=612_345,
            procs=[SimpleNamespace(pid=MISSING_PID, usedGpuMemory=None)],
        ),
        FakeDevice(uuid=b"GPU-bbbb", name=b"NVIDIA H100 80GB HBM3", util_pct=3, power_mw=None),
        FakeDevice(uuid="GPU-cccc", name="NVIDIA H100 80GB HBM3", util_pct=50),
    )
