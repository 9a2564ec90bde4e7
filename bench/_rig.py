"""What the benchmarks share: a simulated fleet scraped by a real Prometheus, reading a
process's CPU and memory from /proc, and stopping everything on SIGTERM as on Ctrl-C.

Not a benchmark itself; `refresh.py` and `terminal.py` import it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from promserver import PromServer, clean_env, start_prometheus  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class SimulatedFleet:
    """`warroom simulate` and the Prometheus scraping it; both alive while the context is."""

    server: PromServer
    simulator: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def simulated_fleet(
    workdir: Path,
    models: int,
    gpus: int,
    *,
    scenario: str = "gpu-oom",
    at: str = "10m",
    speed: float = 10.0,
    window: str = "30s",
    scrape_interval: str = "1s",
) -> Iterator[SimulatedFleet]:
    """Start the simulator on a free port and a Prometheus scraping it, and wait until
    every model has a request rate over ``window``: before that a refresh shows gaps."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", "0", "--scenario", scenario,
         "--models", str(models), "--gpus", str(gpus), "--at", at, "--speed", f"{speed:g}"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=ROOT,
        env=clean_env(workdir),
    )  # fmt: skip
    server: PromServer | None = None
    try:
        assert sim.stdout is not None
        banner = sim.stdout.readline()
        if "http://" not in banner:
            raise RuntimeError(f"warroom simulate did not start (said {banner!r})")
        target = banner.rsplit("http://", 1)[1].split("/")[0]
        server = start_prometheus(workdir, targets=[target], scrape_interval=scrape_interval)
        server.wait_for(
            f"count(rate(http_requests_total[{window}]) > 0)",
            ready=lambda r: bool(r) and float(r[0]["value"][1]) >= models,
            timeout_s=120,
            what="a rate for every model",
        )
        yield SimulatedFleet(server, sim)
    finally:
        if server is not None:
            server.stop()
        stop_process(sim)


def stop_process(
    proc: subprocess.Popen[str] | subprocess.Popen[bytes], group: bool = False
) -> None:
    """Terminate ``proc`` (its process group when ``group``: it leads a session of its
    own), then kill it if it has not gone in 10 s. Safe on a process already gone."""

    def send(sig: signal.Signals) -> None:
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass

    if proc.poll() is None:
        send(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            proc.wait(timeout=10)
    elif group:
        send(signal.SIGKILL)  # the leader is gone; anything it left in its group is not


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        text = f.read()
    # The command name (field 2) may hold spaces or brackets: split after its last ')'.
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry))[1])
        except (OSError, ValueError, IndexError):
            continue  # gone between listing and reading
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, ()))
    return found


def cpu_seconds(pid: int, tree: bool = True) -> float:
    """User plus system CPU of ``pid`` (every thread), its reaped children, and with
    ``tree`` its live descendants: what the process costs the machine so far."""
    total = 0
    for p in descendants(pid) if tree else [pid]:
        try:
            fields = _stat_fields(p)
        except OSError:
            continue
        # utime, stime, cutime, cstime are fields 14-17; fields[0] here is field 3.
        total += sum(int(v) for v in fields[11:15])
    return total / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS) in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for process {pid}")


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent not idle, since boot."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class OtherLoad:
    """CPU the rest of the machine uses while a measurement runs: every process but this
    one and what it started (and ``outside``, started by it but not its children). A
    figure taken while others kept the CPUs busy says so beside it."""

    def __init__(self, *outside: int) -> None:
        self.outside = outside
        self.began = time.monotonic()
        self.busy = machine_busy_seconds()
        self.ours = self._ours()

    def _ours(self) -> float:
        return cpu_seconds(os.getpid()) + sum(cpu_seconds(p) for p in self.outside)

    def percent(self) -> float:
        """Of one core, on average since this was made."""
        wall = time.monotonic() - self.began
        others = machine_busy_seconds() - self.busy - (self._ours() - self.ours)
        return max(0.0, others) / wall * 100 if wall > 0 else 0.0


def stop_on_sigterm() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so every `finally` stops what it started."""

    def interrupt(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
