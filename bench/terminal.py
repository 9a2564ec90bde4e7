"""The cockpit as a terminal program: start-up, key latency, bytes, CPU and memory.

`warroom` runs in a pseudo-terminal of a fixed size (TERM=xterm-256color, COLUMNS and
LINES, and the same size set on the pty), and a thread reads everything it writes the
moment it is written, so the cockpit never waits on a full terminal buffer. Textual asks
the terminal about synchronized output (mode 2026) and in-band resize (mode 2048); the
rig answers as xterm does, "mode not recognized", and the cockpit asks nothing else.

Unless said otherwise the cockpit reads a real Prometheus (Debian's) scraping
`warroom simulate` with 200 models and 1024 GPUs (`gpu-oom`), refreshing every 2 s.

  first-paint  launch to the first model row on screen: `warroom --demo` as shipped,
               `--demo` at fleet size, and through Prometheus; median of --launches
  keypress     a key written to the pty: time to the first byte back, and until output
               stops; each press waits until the cockpit is idle (no output, no CPU)
  bytes        bytes written per second over --idle-s idle, at each of --sizes
  cpu          CPU % of one core over the same window, with its peers running in tmux
               beside it at the same size and refresh: htop (`-d 20`) and glances
               (`-t 2`, a Python terminal monitor, from the `bench` extra); Prometheus
               and the simulator for context
  rss          VmRSS every --rss-every-s: over an hour of demo time (--rss-speed), and
               through Prometheus over --rss-prom-s of wall time (no speed-up there:
               the plots' history, 720 points a model, fills for 24 min at a 2 s
               refresh, so --rss-prom-s 1800 shows where it levels off)

Run from the repository root, with nothing else loading the machine:

    .venv/bin/python bench/terminal.py                    # every figure, about 13 min
    .venv/bin/python bench/terminal.py --quick            # every figure, about 2 min
    .venv/bin/python bench/terminal.py --only keypress --presses 50 --keys g
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import os
import random
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from _rig import (  # also puts the repository on sys.path
    ROOT,
    OtherLoad,
    SimulatedFleet,
    clean_env,
    cpu_seconds,
    rss_mb,
    simulated_fleet,
    stop_on_sigterm,
    stop_process,
)

from tui.sim.fleet import build_fleet

MEASUREMENTS = ("first-paint", "keypress", "bytes", "cpu", "rss")
SCREEN_UP = b"\x1b[?1049h"
"""Textual switches to the alternate screen once the app is built: interpreter start,
imports and configuration are behind it; data is not."""
QUERIES = {b"\x1b[?2026$p": b"\x1b[?2026;0$y", b"\x1b[?2048$p": b"\x1b[?2048;0$y"}
"""DECRQM queries Textual sends, and xterm's answer to each: mode not recognized."""
KEYS = {"down": b"\x1b[B", "up": b"\x1b[A", "g": b"g"}
BOUNCE = 80
"""`arrows` presses down this many times, then up as many: the cursor never sticks at
the end of the table, where a press would change nothing."""


@dataclass(frozen=True)
class Size:
    cols: int
    rows: int

    def __str__(self) -> str:
        return f"{self.cols}x{self.rows}"


def parse_size(text: str) -> Size:
    cols, _, rows = text.partition("x")
    return Size(int(cols), int(rows))


@dataclass
class Chunk:
    at: float
    size: int


class Terminal:
    """One command in a pseudo-terminal: every byte it writes is drained by a thread
    and time-stamped as it is read; input is written to the pty as a terminal would."""

    def __init__(
        self,
        argv: Sequence[str],
        size: Size,
        env: dict[str, str],
        marker: bytes,
        answer: bool = True,
    ):
        self.argv = list(argv)
        self.size = size
        self.marker = re.compile(marker)
        self.chunks: list[Chunk] = []
        self.total = 0
        self.screen_at: float | None = None
        self.data_at: float | None = None
        self.answer = answer
        self.answered = 0
        self._cond = threading.Condition()
        self._scan = bytearray()
        """Output since launch, kept only until the marker is seen."""
        self._tail = b""
        self._recent = b""
        """The last few kB written, for the message when the command dies."""
        master, slave = os.openpty()
        winsize = struct.pack("HHHH", size.rows, size.cols, 0, 0)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, winsize)
        self.master = master
        self.launched = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=ROOT,
                # Its own session with the pty as controlling terminal, as a shell gives
                # it; also keeps the bench's Ctrl-C from reaching it before we stop it.
                start_new_session=True,
                preexec_fn=_take_terminal,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self._reader = threading.Thread(target=self._drain, name="pty-drain", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:  # EIO: the last writer on the other side has gone
                break
            if not data:
                break
            now = time.monotonic()
            seen = self._tail + data
            for query, answer in QUERIES.items() if self.answer else ():
                if query in seen and query not in self._tail:
                    os.write(self.master, answer)
                    self.answered += 1
            self._tail = seen[-16:]
            self._recent = (self._recent + data)[-4096:]
            with self._cond:
                self.chunks.append(Chunk(now, len(data)))
                self.total += len(data)
                if self.data_at is None:
                    start = max(0, len(self._scan) - 256)  # a marker may straddle reads
                    self._scan += data
                    if self.screen_at is None and SCREEN_UP in self._scan:
                        self.screen_at = now
                    if self.marker.search(self._scan, start):
                        self.data_at = now
                        self._scan = bytearray()
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            tail = self._recent.decode("utf-8", "replace")
            raise RuntimeError(f"{' '.join(self.argv)} exited ({self.proc.returncode}): {tail}")

    def wait_for_data(self, timeout_s: float) -> float:
        """Seconds from launch to the first read holding the marker."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self.data_at is None:
                self.check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no data painted {timeout_s:g} s after launch")
                self._cond.wait(min(left, 0.5))
            return self.data_at - self.launched

    def mark(self) -> int:
        with self._cond:
            return len(self.chunks)

    def press(self, key: bytes) -> tuple[float, int]:
        """Write ``key``; return when it was written and the chunk index it starts at."""
        with self._cond:
            index = len(self.chunks)
        at = time.monotonic()
        os.write(self.master, key)
        return at, index

    def first_after(self, at: float, index: int, timeout_s: float) -> Chunk | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for chunk in self.chunks[index:]:
                    if chunk.at >= at:
                        return chunk
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def wait_quiet(self, quiet_s: float, timeout_s: float) -> float:
        """Until nothing has been written for ``quiet_s``; the time of the last write."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                last = self.chunks[-1].at if self.chunks else self.launched
                now = time.monotonic()
                if now - last >= quiet_s or now >= deadline:
                    return last
                self._cond.wait(min(quiet_s - (now - last), deadline - now))

    def bytes_since(self, index: int, until: float = float("inf")) -> int:
        with self._cond:
            return sum(c.size for c in self.chunks[index:] if c.at <= until)

    def close(self) -> None:
        """Quit with ctrl+q, at once (`q` asks first during an incident, and the bench's
        fleet is in one); stop the process group if that does not work."""
        if self.alive():
            try:
                os.write(self.master, b"\x11")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop_process(self.proc, group=True)
        self._reader.join(timeout=5)
        os.close(self.master)


def _take_terminal() -> None:
    """In the child, after setsid: make the pty (fd 0) the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def warroom_command() -> str:
    beside = Path(sys.executable).with_name("warroom")
    found = str(beside) if beside.exists() else shutil.which("warroom")
    if found is None:
        raise SystemExit("no warroom command: install the project (pip install -e .)")
    return found


def model_marker(models: int, gpus: int | None) -> bytes:
    """Any model's name as the table shows it (its first 12 characters, in case a
    narrow column cuts it): nothing on screen names a model before data arrives."""
    names = {m.name[:12] for m in build_fleet(models, gpus).models}
    return b"|".join(re.escape(n.encode()) for n in sorted(names))


def read_io(pid: int) -> int:
    """Bytes the process has read through syscalls (sockets included): a refresh's
    answers from Prometheus show up here as a jump of hundreds of kB."""
    with open(f"/proc/{pid}/io", encoding="ascii") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1), interpolated; the value itself for one sample."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def slope_per_min(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(samples) < 2:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [v for _, v in samples]
    return statistics.linear_regression(xs, ys).slope * 60


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Row:
    measure: str
    case: str
    figure: str
    target: str = ""
    verdict: str = ""
    others: str = ""
    """CPU the machine's other processes used meanwhile, % of one core."""


@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    stack: ExitStack
    only: set[str]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    answered: int = 0
    """Terminal queries (DECRQM) a launch sent and the rig answered."""
    _fleet: SimulatedFleet | None = None
    _runs: int = 0

    # -- launching ------------------------------------------------------------------

    def fleet(self) -> SimulatedFleet:
        """The simulator and Prometheus, started on first use and kept for the rest."""
        if self._fleet is None:
            a = self.args
            log(f"starting warroom simulate ({a.models} models, {a.gpus} GPUs) and Prometheus…")
            began = time.monotonic()
            self._fleet = self.stack.enter_context(
                simulated_fleet(
                    self.workdir / "fleet",
                    a.models,
                    a.gpus,
                    scenario=a.scenario,
                    speed=1.0,
                    window="5m",
                    scrape_interval=a.scrape_interval,
                )
            )
            log(
                f"  Prometheus at {self._fleet.url} has every model "
                f"({time.monotonic() - began:.0f} s)"
            )
        return self._fleet

    def env(self, size: Size) -> dict[str, str]:
        self._runs += 1
        home = self.workdir / f"run{self._runs}"
        home.mkdir(parents=True)
        env = clean_env(home / "config")
        # A fresh state dir per launch: each starts a new incident, as a first launch does.
        env.update(
            HOME=str(home),
            XDG_STATE_HOME=str(home / "state"),
            TERM="xterm-256color",
            COLUMNS=str(size.cols),
            LINES=str(size.rows),
            LANG="C.UTF-8",
        )
        for k in ("LC_ALL", "NO_COLOR", "TEXTUAL", "KUBECONFIG"):
            env.pop(k, None)
        return env

    @contextmanager
    def cockpit(
        self, extra: Sequence[str], size: Size, demo_fleet: bool = True
    ) -> Iterator[Terminal]:
        """`warroom` with ``extra`` arguments in a pty, quit and reaped on leaving."""
        a = self.args
        models, gpus = (a.models, a.gpus) if demo_fleet else (12, None)
        command = shlex.split(a.warroom) if a.warroom else [warroom_command()]
        extra = [*extra, *shlex.split(a.cockpit_args)]
        term = Terminal(
            [*command, *extra],
            size,
            self.env(size),
            model_marker(models, gpus),
            answer=not a.no_answers,
        )
        try:
            yield term
        finally:
            term.close()

    def prometheus_args(self) -> list[str]:
        return ["--prometheus", self.fleet().url, "--refresh", f"{self.args.refresh:g}"]

    def demo_args(self, *more: str) -> list[str]:
        a = self.args
        return [
            "--demo",
            "--scenario",
            a.scenario,
            "--models",
            str(a.models),
            "--gpus",
            str(a.gpus),
            "--refresh",
            f"{a.refresh:g}",
            *more,
        ]

    def wait_quiet(self) -> None:
        """With --wait-quiet: until the machine's other processes have used less than that
        share of a core over 3 s, so a figure is not taken in the middle of someone
        else's burst (this machine may be shared). Gives up after --wait-quiet-s."""
        a = self.args
        if not a.wait_quiet:
            return
        deadline = time.monotonic() + a.wait_quiet_s
        while True:
            load = OtherLoad()
            time.sleep(3.0)
            busy = load.percent()
            if busy <= a.wait_quiet:
                return
            if time.monotonic() > deadline:
                log(f"  the machine stayed busy ({busy:.0f} % of a core elsewhere); going on")
                return
            log(f"  waiting: other processes use {busy:.0f} % of a core")

    # -- 1. launch to first data ------------------------------------------------------

    def first_paint(self, prometheus: bool) -> None:
        """The demo cases, or (``prometheus``) the case through Prometheus."""
        a = self.args
        size = a.sizes[0]
        cases: list[tuple[str, list[str] | None, bool]] = [
            ("`warroom --demo` (12 models)", ["--demo"], False),
            (f"`--demo` {a.models} models / {a.gpus} GPUs", self.demo_args(), True),
        ]
        if prometheus:
            cases = [(f"Prometheus, {a.models} models / {a.gpus} GPUs", None, True)]
        for case, extra, fleet_sized in cases:
            screen: list[float] = []
            data: list[float] = []
            others: list[float] = []
            for i in range(a.launches):
                argv = extra if extra is not None else self.prometheus_args()
                self.wait_quiet()
                load = OtherLoad()
                with self.cockpit(argv, size, demo_fleet=fleet_sized) as term:
                    data.append(term.wait_for_data(timeout_s=60))
                    others.append(load.percent())
                    self.answered = max(self.answered, term.answered)
                    assert term.screen_at is not None
                    screen.append(term.screen_at - term.launched)
                log(
                    f"  first paint, {case}, launch {i + 1}: screen {screen[-1]:.2f} s, "
                    f"data {data[-1]:.2f} s"
                )
            med = statistics.median(data)
            is_target = extra == ["--demo"]
            self.rows.append(
                Row(
                    "launch to first data",
                    f"{case}, {size}",
                    f"{med:.2f} s (screen up {statistics.median(screen):.2f} s; "
                    f"range {min(data):.2f}–{max(data):.2f}; {len(data)} launches)",
                    "≤ 1 s" if is_target else "",
                    _verdict(med <= 1.0) if is_target else "",
                    f"{statistics.mean(others):.0f} %",
                )
            )

    # -- 2. keypress to paint ---------------------------------------------------------

    def keypress(self) -> None:
        a = self.args
        size = a.sizes[0]
        with self.cockpit(self.prometheus_args(), size) as term:
            term.wait_for_data(timeout_s=60)
            time.sleep(a.settle_s)
            for case in a.keys:
                self.wait_quiet()
                self._presses(term, case, size)
            term.check_alive()

    def _presses(self, term: Terminal, case: str, size: Size) -> None:
        a = self.args
        first: list[float] = []
        settle: list[float] = []
        sizes: list[int] = []
        overlapped: list[float] = []
        silent = ungated = 0
        load = OtherLoad()
        for i in range(a.presses):
            if case == "arrows":
                key = KEYS["down"] if (i // BOUNCE) % 2 == 0 else KEYS["up"]
            else:
                key = KEYS[case]
            # A random pause first, so presses fall at every phase of the refresh and
            # the once-a-second status tick rather than locking onto one.
            time.sleep(random.uniform(0.05, 0.3))
            if not self._wait_idle(term, a.quiet_s, timeout_s=10):
                ungated += 1
            io_before = read_io(term.pid)
            at, index = term.press(key)
            chunk = term.first_after(at, index, timeout_s=2)
            if chunk is None:
                silent += 1
                continue
            last = term.wait_quiet(a.quiet_s, timeout_s=10)
            # Answers from Prometheus read between the press and the end of its paint
            # mean a refresh landed inside the measurement.
            refreshed = read_io(term.pid) - io_before > 20_000
            (overlapped if refreshed else first).append(chunk.at - at)
            settle.append(last - at)
            sizes.append(term.bytes_since(index, last))
        label = {
            "arrows": "↓/↑ (table cursor: plots, cause line, grid highlight follow)",
            "g": "g (GPU grid focus toggle)",
        }.get(case, case)
        if not first and not overlapped:
            self.notes.append(f"{label}: no press painted anything within 2 s.")
            return
        clean = first or overlapped
        med = statistics.median(clean) * 1000
        everything = sorted(first + overlapped)
        self.rows.append(
            Row(
                "keypress to first byte",
                f"{label}, {size}",
                f"{med:.1f} ms median, {pct(clean, 0.95) * 1000:.1f} ms p95 "
                f"({len(first)} presses clear of a refresh)",
                "median ≤ 50 ms",
                _verdict(med <= 50),
                _others(load),
            )
        )
        if overlapped:
            self.rows.append(
                Row(
                    "keypress to first byte",
                    f"{label}, refresh answers read during it",
                    f"{statistics.median(overlapped) * 1000:.1f} ms median, "
                    f"{max(overlapped) * 1000:.1f} ms max ({len(overlapped)} presses); all "
                    f"{len(everything)}: p95 {pct(everything, 0.95) * 1000:.1f} ms",
                )
            )
        self.rows.append(
            Row(
                "keypress until output stops",
                f"{label}, {size}",
                f"{statistics.median(settle) * 1000:.1f} ms median, "
                f"{pct(settle, 0.95) * 1000:.1f} ms p95; "
                f"{statistics.median(sizes) / 1000:.1f} kB a press (median)",
            )
        )
        if silent or ungated:
            self.notes.append(
                f"{label}: {silent} presses painted nothing within 2 s; "
                f"{ungated} were pressed without the cockpit going idle first."
            )

    def _wait_idle(self, term: Terminal, quiet_s: float, timeout_s: float) -> bool:
        """Until no output for ``quiet_s`` and no CPU used over 100 ms: nothing (refresh,
        status tick) is being computed or painted when the key arrives."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            term.wait_quiet(quiet_s, timeout_s=deadline - time.monotonic())
            before = cpu_seconds(term.pid, tree=False)
            time.sleep(0.1)
            busy = cpu_seconds(term.pid, tree=False) - before
            last = term.chunks[-1].at if term.chunks else 0.0
            if busy <= 0.011 and time.monotonic() - last >= quiet_s:
                return True
        return False

    # -- 3 and 4. idle bytes and CPU; RSS through Prometheus rides on the first -----

    def idle(self, size: Size, peers_beside: bool, rss_s: float) -> None:
        """One cockpit left alone: bytes and CPU over --idle-s (beside its peers when asked),
        then, when ``rss_s``, on until that many seconds sampling its RSS."""
        a = self.args
        self.fleet()
        self.wait_quiet()
        with self.cockpit(self.prometheus_args(), size) as term:
            term.wait_for_data(timeout_s=60)
            began = time.monotonic()
            rss_load = OtherLoad()
            rss = [(0.0, rss_mb(term.pid))]
            next_rss = began + a.rss_every_s

            def sample_rss() -> None:
                nonlocal next_rss
                if rss_s and time.monotonic() >= next_rss:
                    rss.append((time.monotonic() - began, rss_mb(term.pid)))
                    next_rss += a.rss_every_s

            time.sleep(a.settle_s)  # the history load and first plots are painted by now
            with ExitStack() as beside:
                fleet = self.fleet()
                pids = {
                    "warroom": term.pid,
                    "Prometheus": fleet.server.process.pid,
                    "simulator": fleet.simulator.pid,
                }
                terminals: list[int] = []
                if peers_beside:
                    for name, command in peers(a.refresh):
                        peer, server = beside.enter_context(in_tmux(name, command, size))
                        pids |= {name: peer, f"tmux server ({name}'s terminal)": server}
                        terminals.append(server)
                    # Their own start-up (glances imports for a second or two) is not
                    # what they cost idle.
                    time.sleep(3.0)
                cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
                load = OtherLoad(*terminals)
                index, start = term.mark(), time.monotonic()
                per_s: list[int] = []
                while (now := time.monotonic()) < start + a.idle_s:
                    mark = term.mark()
                    time.sleep(min(1.0, start + a.idle_s - now))
                    per_s.append(term.bytes_since(mark))
                    sample_rss()
                wall = time.monotonic() - start
                used = {k: cpu_seconds(p) - cpu0[k] for k, p in pids.items()}
                sent = term.bytes_since(index)
                others = _others(load)
                term.check_alive()
            self._idle_rows(size, wall, sent, per_s, used, peers_beside, others)
            while rss_s and (now := time.monotonic()) < began + rss_s:
                time.sleep(max(0.0, min(next_rss, began + rss_s) - now))
                sample_rss()
                term.check_alive()
            if rss_s and time.monotonic() - began - rss[-1][0] > 0.5:
                rss.append((time.monotonic() - began, rss_mb(term.pid)))
            if rss_s:
                refreshes = int(rss[-1][0] / a.refresh)
                self._rss_row(
                    f"Prometheus, {size}, {rss[-1][0] / 60:.1f} min wall "
                    f"(~{refreshes} refreshes; wall clock, no speed-up)",
                    rss,
                    None,
                    _others(rss_load),
                )

    def _idle_rows(
        self,
        size: Size,
        wall: float,
        sent: int,
        per_s: list[int],
        used: dict[str, float],
        peers_beside: bool,
        others: str,
    ) -> None:
        a = self.args
        if "bytes" in self.only:
            rate = sent / wall / 1000
            self.rows.append(
                Row(
                    "bytes to the terminal, idle",
                    f"{size}, refresh {a.refresh:g} s",
                    f"{rate:.1f} kB/s ({sent / 1e6:.2f} MB in {wall:.0f} s; busiest second "
                    f"{max(per_s, default=0) / 1000:.0f} kB)",
                    "≤ 20 kB/s",
                    _verdict(rate <= 20),
                    others,
                )
            )
        if "cpu" not in self.only:
            return
        share = used["warroom"] / wall * 100
        self.rows.append(
            Row(
                "CPU, idle (% of one core)",
                f"warroom, {size}, refresh {a.refresh:g} s",
                f"{share:.1f} % ({used['warroom']:.2f} s CPU in {wall:.0f} s)",
                "≤ 5 %",
                _verdict(share <= 5),
                others,
            )
        )
        context = ["Prometheus", "simulator"]
        commands = dict(peers(a.refresh)) if peers_beside else {}
        for name in reversed(commands):
            context[:0] = [name, f"tmux server ({name}'s terminal)"]
        for name in context:
            what = f"{name}, same window"
            if name in commands:
                what += f", {size}, `{commands[name]}`"
            self.rows.append(
                Row("CPU, idle (% of one core)", what, f"{used[name] / wall * 100:.1f} %")
            )

    # -- 5. RSS over an hour of demo time ---------------------------------------------

    def rss_demo(self) -> None:
        a = self.args
        self.wait_quiet()
        size = a.sizes[0]
        with self.cockpit(self.demo_args("--speed", f"{a.rss_speed:g}"), size) as term:
            term.wait_for_data(timeout_s=60)
            began = time.monotonic()
            load = OtherLoad()
            samples = [(0.0, rss_mb(term.pid))]
            while (elapsed := time.monotonic() - began) < a.rss_demo_s:
                time.sleep(min(a.rss_every_s, a.rss_demo_s - elapsed))
                term.check_alive()
                samples.append((time.monotonic() - began, rss_mb(term.pid)))
        wall = samples[-1][0]
        sim_h = wall * a.rss_speed / 3600
        self._rss_row(
            f"`--demo --speed {a.rss_speed:g}`, {size}, {sim_h:.2f} h demo time in "
            f"{wall / 60:.1f} min (~{int(wall / a.refresh)} refreshes)",
            samples,
            a.rss_speed,
            _others(load),
        )

    def _rss_row(
        self, case: str, samples: list[tuple[float, float]], speed: float | None, others: str
    ) -> None:
        start, end = samples[0][1], samples[-1][1]
        overall = slope_per_min(samples)
        peak = max(v for _, v in samples)
        half = [s for s in samples if s[0] >= samples[-1][0] / 2]
        late = slope_per_min(half)
        per = f"; {overall * 60 / speed:+.1f} MB per demo hour" if speed else ""
        flat = late * 10 < 2.0  # under 2 MB per 10 minutes once warmed up
        # A slope over a handful of samples is noise (each refresh allocates and frees
        # megabytes): with fewer than 6 in the second half, flatness is not judged.
        judged = len(half) >= 6
        self.rows.append(
            Row(
                "RSS",
                case,
                f"{start:.0f} → {end:.0f} MB (peak {peak:.0f}); slope {overall:+.2f} "
                f"MB/min, second half {late:+.2f} MB/min{per}",
                "≤ 150 MB, flat",
                _verdict(peak <= 150 and flat) if judged or peak > 150 else "too short",
                others,
            )
        )
        listed = ", ".join(f"{t:.0f}s {v:.1f}" for t, v in samples)
        self.notes.append(f"RSS samples (s after first data, MB), {case}: {listed}")

    # -- the table ----------------------------------------------------------------------

    def report(self) -> None:
        print("| measure | case | figure | target | met | others' CPU |")
        print("|---|---|---|---|---|---:|")
        for r in self.rows:
            print(
                f"| {r.measure} | {r.case} | {r.figure} | {r.target} | {r.verdict} | {r.others} |"
            )
        print(
            f"\n*others' CPU*: what processes this run did not start used meanwhile, % of one "
            f"core ({os.cpu_count()} CPUs here); well above zero means the figure beside it "
            "was taken on a busy machine."
        )
        if "first-paint" in self.only:
            print(
                f"\nTerminal queries answered per launch (DECRQM 2026/2048, as xterm): "
                f"{self.answered}" + (" (--no-answers)" if self.args.no_answers else "")
            )
        for note in self.notes:
            print(f"\n{note}")


def _others(load: OtherLoad) -> str:
    return f"{load.percent():.0f} %"


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def peers(refresh_s: float) -> list[tuple[str, str]]:
    """The terminal monitors the cockpit's idle CPU is read beside, at its refresh: htop
    (C, the floor) and glances (Python and curses, the peer to beat), by command line."""
    glances = shutil.which("glances") or str(Path(sys.executable).with_name("glances"))
    return [
        ("htop", f"htop -d {round(refresh_s * 10)}"),
        ("glances", f"{glances} -t {refresh_s:g} --disable-webui"),
    ]


@contextmanager
def in_tmux(name: str, command: str, size: Size) -> Iterator[tuple[int, int]]:
    """``command`` in a detached tmux session of ``size`` on a socket of its own; yields
    its pid (the pane's process) and the tmux server's. The server is killed on leaving."""
    program = shlex.split(command)[0]
    if shutil.which(program) is None or shutil.which("tmux") is None:
        raise SystemExit(
            f"the cpu comparison needs {name} and tmux (apt-get install htop tmux; "
            ".venv/bin/pip install -e '.[bench]' for glances)"
        )
    sock = f"warroom-bench-{name}-{os.getpid()}"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", name, "-x", str(size.cols), "-y", str(size.rows),
         f"exec {command}"],
        check=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )  # fmt: skip
    try:
        out = subprocess.run(
            [*tmux, "display-message", "-p", "-t", name, "#{pane_pid} #{pid}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        yield int(out[0]), int(out[1])
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument(
        "--only",
        default=",".join(MEASUREMENTS),
        help=f"comma-separated, from {','.join(MEASUREMENTS)} (default all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer launches and presses, shorter windows: under 2 minutes",
    )
    parser.add_argument(
        "--sizes",
        default="200x50,80x24",
        help="terminal sizes COLSxROWS; the first is used for all but bytes",
    )
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--gpus", type=int, default=1024)
    parser.add_argument("--scenario", default="gpu-oom", help="for the simulator and --demo runs")
    parser.add_argument("--refresh", type=float, default=2.0, help="cockpit refresh, seconds")
    parser.add_argument("--scrape-interval", default="5s", help="Prometheus scrape interval")
    parser.add_argument("--launches", type=int, help="launches per first-paint case (5)")
    parser.add_argument("--presses", type=int, help="presses per key (100)")
    parser.add_argument("--keys", default="arrows,g", help="arrows (↓ then ↑), g")
    parser.add_argument(
        "--quiet-s",
        type=float,
        default=0.1,
        help="no output for this long counts as the paint being over",
    )
    parser.add_argument(
        "--settle-s", type=float, help="idle after first data, before measuring (5)"
    )
    parser.add_argument("--idle-s", type=float, help="idle window for bytes and cpu (60)")
    parser.add_argument("--rss-speed", type=float, help="demo clock speed-up for rss (30)")
    parser.add_argument(
        "--rss-demo-s",
        type=float,
        help="wall seconds of the demo rss run (default: one demo hour at --rss-speed)",
    )
    parser.add_argument(
        "--rss-prom-s", type=float, help="wall seconds of the Prometheus rss run (300)"
    )
    parser.add_argument("--rss-every-s", type=float, help="RSS sample interval (10)")
    parser.add_argument(
        "--warroom",
        metavar="CMD",
        help="the command to run in place of warroom, e.g. to profile it: "
        "'.venv/bin/python -m cProfile -o idle.prof -m tui'",
    )
    parser.add_argument(
        "--cockpit-args",
        default="",
        metavar="ARGS",
        help="more warroom options for every launch, e.g. '--window 1m'",
    )
    parser.add_argument(
        "--no-answers",
        action="store_true",
        help="leave Textual's terminal queries unanswered, to show it does not wait on them",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="PCT",
        help="before each measurement, wait until other processes use at most PCT %% of a "
        "core (0: do not wait)",
    )
    parser.add_argument("--wait-quiet-s", type=float, default=300.0, help="give up after this")
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")
    a = parser.parse_args()
    quick = a.quick
    defaults = {
        "launches": (5, 2),
        "presses": (100, 12),
        "settle_s": (5.0, 1.5),
        "idle_s": (60.0, 10.0),
        "rss_speed": (30.0, 360.0),
        "rss_prom_s": (300.0, 15.0),
        "rss_every_s": (10.0, 2.5),
    }
    for name, (full, short) in defaults.items():
        if getattr(a, name) is None:
            setattr(a, name, short if quick else full)
    if a.rss_demo_s is None:
        a.rss_demo_s = 3600 / a.rss_speed
    a.sizes = [parse_size(s) for s in a.sizes.split(",")]
    a.keys = [k for k in a.keys.split(",") if k]
    only = {m.strip() for m in a.only.split(",") if m.strip()}
    unknown = only - set(MEASUREMENTS)
    if unknown or not set(a.keys) <= {"arrows", *KEYS}:
        parser.error(f"unknown: {', '.join(sorted(unknown | (set(a.keys) - {'arrows', *KEYS})))}")
    stop_on_sigterm()
    # An installed warroom has its bytecode compiled at install time; an editable install
    # writes it on the first run, unless PYTHONDONTWRITEBYTECODE is set (as on some CI
    # machines), when every launch would compile the cockpit's modules again and
    # first-paint would measure the compiler. Compile once, as an install does.
    for package in ("tui", "widgets"):
        compileall.compile_dir(ROOT / package, quiet=1)
    with ExitStack() as stack:
        workdir = a.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        bench = Bench(a, workdir, stack, only)
        # Demo runs first, before the simulator and Prometheus load the machine.
        if "first-paint" in only:
            bench.first_paint(prometheus=False)
        if "rss" in only:
            bench.rss_demo()
        if "first-paint" in only:
            bench.first_paint(prometheus=True)
        if "keypress" in only:
            bench.keypress()
        for i, size in enumerate(a.sizes):
            # CPU beside its peers and RSS ride on the first size's idle run; bytes on every.
            beside = "cpu" in only and i == 0
            rss_s = a.rss_prom_s if "rss" in only and i == 0 else 0.0
            if beside or rss_s or "bytes" in only:
                bench.idle(size, peers_beside=beside, rss_s=rss_s)
        bench.report()


if __name__ == "__main__":
    main()
