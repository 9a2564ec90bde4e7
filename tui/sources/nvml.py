"""This host's GPUs read directly through NVML: figures, processes and XID events.

The GPU grid uses this for the machine warroom runs on, and for the per-GPU process list
that DCGM does not have. A read never raises: when NVML is missing or a GPU misbehaves, the
reading says so in one sentence and still carries whatever could be read.

Every NVML call goes through the ``pynvml`` module object, so tests can replace single
functions at the module boundary; there is no NVML simulator to test against.
"""

from __future__ import annotations

import asyncio
import ctypes
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pynvml

from tui.clock import Clock, WallClock, utc
from tui.domain.model import GpuEvent, GpuProcess, GpuState
from tui.domain.xid import describe

INIT_RETRY_S = 60.0
"""After NVML failed to start, wait this long before trying again: a missing library or
driver does not appear between two refreshes, and every attempt costs a dlopen."""
MAX_EVENTS_PER_READ = 256
"""Bounds one drain of the event set so a GPU storming XIDs cannot stall a refresh."""


# A figure the GPU or driver cannot report is no data, not a failure: old drivers lack
# newer functions, and virtualised or consumer GPUs refuse some queries.
_UNSUPPORTED: tuple[type[Exception], ...] = (
    pynvml.NVMLError_NotSupported,
    pynvml.NVMLError_FunctionNotFound,
    pynvml.NVMLLibraryMismatchError,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NvmlReading:
    """One read of this host's GPUs."""

    gpus: tuple[GpuState, ...]
    events: tuple[GpuEvent, ...]
    """XID events that arrived since the previous read."""
    error: str | None
    """One sentence when NVML is unusable or some of it failed; None when all went well."""


class NvmlGpus:
    """Reads this host's GPUs through NVML, starting it on the first read.

    `read` blocks on the driver, so async callers use `aread`, which runs it in a thread.
    """

    def __init__(self, node: str | None = None, clock: Clock | None = None) -> None:
        self.node = node if node is not None else socket.gethostname()
        self._clock: Clock = clock if clock is not None else WallClock()
        # read() runs in a worker thread while close() may come from the event loop.
        self._lock = threading.Lock()
        self._started = False
        self._init_error: str | None = None
        self._retry_at = 0.0
        self._event_set: Any = None
        self._event_set_tried = False
        self._watch_tried: set[str] = set()
        self._watched: set[str] = set()
        self._last_xid: dict[str, int] = {}
        self._devices: dict[object, tuple[int, str]] = {}
        """Handle identity -> (index, UUID): names the GPU an event came from, even when
        that GPU can no longer be read."""

    @property
    def xid_supported(self) -> bool:
        """True once XID events are watched on at least one GPU. Drivers that refuse event
        registration (common on virtualised GPUs) leave it False; that is not an error."""
        return bool(self._watched)

    async def aread(self) -> NvmlReading:
        return await asyncio.to_thread(self.read)

    def read(self) -> NvmlReading:
        with self._lock:
            failure = self._start()
            if failure is not None:
                return NvmlReading(gpus=(), events=(), error=failure)
            return self._read_started()

    def close(self) -> None:
        """Free the event set and shut NVML down; safe to call twice. A later read starts
        NVML again."""
        with self._lock:
            if self._event_set is not None:
                with suppress(pynvml.NVMLError):
                    pynvml.nvmlEventSetFree(self._event_set)
                self._event_set = None
            self._event_set_tried = False
            if self._started:
                self._started = False
                with suppress(pynvml.NVMLError):
                    pynvml.nvmlShutdown()
            self._watch_tried.clear()
            self._watched.clear()
            self._last_xid.clear()
            self._devices.clear()

    def _start(self) -> str | None:
        """Start NVML if it is not running; the sentence to show when it cannot start."""
        if self._started:
            return None
        now = self._clock.now()
        if self._init_error is not None and now < self._retry_at:
            return self._init_error
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            self._init_error = _init_failure(exc)
            self._retry_at = now + INIT_RETRY_S
            return self._init_error
        self._started = True
        self._init_error = None
        return None

    def _read_started(self) -> NvmlReading:
        at = utc(self._clock.now())
        problems: list[str] = []
        try:
            count = pynvml.nvmlDeviceGetCount()
        except pynvml.NVMLError as exc:
            return NvmlReading(
                gpus=(),
                events=(),
                error=f"NVML could not list this host's GPUs ({_why(exc)}); "
                "check that `nvidia-smi` works on this host.",
            )
        if count and not self._event_set_tried:
            self._create_event_set(problems)
        states: list[GpuState] = []
        failed: dict[str, list[int]] = {}
        for index in range(count):
            try:
                states.append(self._read_device(index, problems))
            except pynvml.NVMLError as exc:
                failed.setdefault(_why(exc), []).append(index)
        # Every GPU failing alike (the driver went away, a reset is pending) is one short
        # clause, not one per GPU: the status line keeps room for how old the grid is.
        every = len(failed) == 1 and not states
        for why, indices in failed.items():
            which = f"any of this host's {count} GPUs" if every else f"GPU {_indices(indices)}"
            problems.append(f"NVML could not read {which} ({why})")
        events = self._drain(at, problems)
        # After the drain, so a GPU shows the XID that arrived in this very read.
        gpus = tuple(replace(s, xid=self._xid_of(s.uuid)) for s in states)
        if every and len(problems) == 1:
            error = f"{problems[0]}; check that `nvidia-smi` works on this host."
        else:
            error = _partial_failure(problems)
        return NvmlReading(gpus=gpus, events=tuple(events), error=error)

    def _create_event_set(self, problems: list[str]) -> None:
        """One event set for every GPU, tried once per session."""
        self._event_set_tried = True
        try:
            self._event_set = pynvml.nvmlEventSetCreate()
        except _UNSUPPORTED:
            pass
        except pynvml.NVMLError as exc:
            problems.append(f"XID events on this host are not watched ({_why(exc)})")

    def _read_device(self, index: int, problems: list[str]) -> GpuState:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        uuid = _text(pynvml.nvmlDeviceGetUUID(handle))
        self._devices[_handle_key(handle)] = (index, uuid)
        self._watch(handle, index, uuid, problems)
        name = _optional(pynvml.nvmlDeviceGetName, handle)
        util = _optional(pynvml.nvmlDeviceGetUtilizationRates, handle)
        memory = _optional(pynvml.nvmlDeviceGetMemoryInfo, handle)
        temp = _optional(pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU)
        power_mw = _optional(pynvml.nvmlDeviceGetPowerUsage, handle)
        procs = _optional(pynvml.nvmlDeviceGetComputeRunningProcesses, handle) or []
        return GpuState(
            node=self.node,
            gpu=index,
            uuid=uuid,
            product=_text(name) if name is not None else None,
            util_ratio=util.gpu / 100 if util is not None else None,
            mem_used_bytes=float(memory.used) if memory is not None else None,
            mem_total_bytes=float(memory.total) if memory is not None else None,
            temp_c=float(temp) if temp is not None else None,
            power_w=power_mw / 1000 if power_mw is not None else None,
            processes=tuple(_process(p) for p in procs),
        )

    def _watch(self, handle: Any, index: int, uuid: str, problems: list[str]) -> None:
        """Register a GPU for XID events, once per session whatever the outcome."""
        if self._event_set is None or uuid in self._watch_tried:
            return
        self._watch_tried.add(uuid)
        try:
            pynvml.nvmlDeviceRegisterEvents(
                handle, pynvml.nvmlEventTypeXidCriticalError, self._event_set
            )
        except _UNSUPPORTED:
            return
        except pynvml.NVMLError as exc:
            problems.append(f"XID events on GPU {index} are not watched ({_why(exc)})")
            return
        self._watched.add(uuid)

    def _drain(self, at: datetime, problems: list[str]) -> list[GpuEvent]:
        """Take every XID event waiting in the set, without waiting for new ones."""
        if self._event_set is None or not self._watched:
            return []
        events: list[GpuEvent] = []
        for _ in range(MAX_EVENTS_PER_READ):
            try:
                data = pynvml.nvmlEventSetWait_v2(self._event_set, 0)
            except pynvml.NVMLError_Timeout:
                break
            except pynvml.NVMLError as exc:
                problems.append(f"XID events could not be read ({_why(exc)})")
                break
            if data.eventType != pynvml.nvmlEventTypeXidCriticalError:
                continue
            code = int(data.eventData)
            index, uuid = self._device_of(data.device)
            if uuid is not None:
                self._last_xid[uuid] = code
            events.append(
                GpuEvent(at=at, kind="xid", detail=describe(code), node=self.node, gpu=index)
            )
        return events

    def _device_of(self, handle: Any) -> tuple[int | None, str | None]:
        known = self._devices.get(_handle_key(handle))
        if known is not None:
            return known
        try:
            uuid = _text(pynvml.nvmlDeviceGetUUID(handle))
        except pynvml.NVMLError:
            return None, None
        for index, known_uuid in self._devices.values():
            if known_uuid == uuid:
                return index, uuid
        return None, uuid

    def _xid_of(self, uuid: str) -> int | None:
        if uuid not in self._watched:
            return None
        return self._last_xid.get(uuid, 0)


def _init_failure(exc: pynvml.NVMLError) -> str:
    if isinstance(exc, pynvml.NVMLError_LibraryNotFound):
        return (
            "NVML is not available on this host (libnvidia-ml.so.1 was not found); "
            "the GPU grid has no local GPUs to show."
        )
    if isinstance(exc, pynvml.NVMLError_DriverNotLoaded):
        return (
            "NVML found no NVIDIA driver loaded on this host; load the driver "
            "(`nvidia-smi` should then list the GPUs) and the GPU grid picks them up "
            "within a minute."
        )
    if isinstance(exc, pynvml.NVMLError_NoPermission):
        return (
            "NVML was refused access to this host's GPUs; run warroom as a user "
            "allowed to open /dev/nvidia*."
        )
    if isinstance(exc, pynvml.NVMLError_LibRmVersionMismatch):
        return (
            "NVML and the loaded NVIDIA kernel driver are different versions, usually "
            "after a driver upgrade; reload the driver or reboot the host."
        )
    return f"NVML could not start ({_why(exc)}); check that `nvidia-smi` works on this host."


def _indices(indices: list[int]) -> str:
    return ", ".join(str(i) for i in indices)


def _why(exc: pynvml.NVMLError) -> str:
    """NVML's reason as a clause: some of its strings end with a period of their own."""
    return str(exc).rstrip(".")


def _partial_failure(problems: list[str]) -> str | None:
    if not problems:
        return None
    return (
        "; ".join(problems)
        + "; the GPU grid shows what could be read, and `nvidia-smi` on this host tells more."
    )


def _optional(read: Callable[..., T], *args: Any) -> T | None:
    """A figure, or None when this GPU or driver cannot report it."""
    try:
        return read(*args)
    except _UNSUPPORTED:
        return None


def _process(info: Any) -> GpuProcess:
    used = info.usedGpuMemory
    # pynvml turns NVML's "not available" into None, but older releases pass it through.
    if used is not None and used >= pynvml.NVML_VALUE_NOT_AVAILABLE_ulonglong.value:
        used = None
    return GpuProcess(
        pid=int(info.pid),
        name=_process_name(int(info.pid)),
        used_bytes=float(used) if used is not None else None,
    )


def _process_name(pid: int) -> str | None:
    """The command name, or None when the process is gone or not visible from here.

    NVML reports PIDs as the host sees them: inside a container with its own PID namespace
    the name is usually missing, and can belong to an unrelated process."""
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _text(value: str | bytes) -> str:
    # pynvml decodes most strings, but not every release does it for every function.
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _handle_key(handle: Any) -> object:
    """Identity of a device handle: NVML gives one pointer per device, but every call wraps
    it in a new ctypes object, so compare addresses."""
    if isinstance(handle, ctypes._Pointer):
        return ctypes.cast(handle, ctypes.c_void_p).value
    return handle
