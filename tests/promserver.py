"""A real Prometheus server for tests and benchmarks: Debian's ``prometheus`` binary.

Two ways to get data into it: scrape live targets (``targets=``), or start it on a data
directory backfilled from an OpenMetrics file with ``promtool`` (`backfill`). Nothing here
sleeps a fixed time: readiness and data are polled against a deadline, and a timeout
says what was awaited and shows the end of Prometheus's log.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

INSTALL_HINT = (
    "Install Debian's prometheus package (apt-get install -y --no-install-recommends "
    "prometheus), which provides both prometheus and promtool."
)


# The end-to-end rigs' shared pace: the simulator runs 10x faster than real time from
# 10 minutes in (the incident at full strength), so a 30 s window holds 5 simulated
# minutes, and 15 scrapes in it (150 simulated seconds) hold enough whole requests for a
# quiet sick model's ratio.
WINDOW = "30s"
SPEED = 10
AT = "10m"
MIN_SCRAPES = 15


class PrometheusUnavailable(RuntimeError):
    """The binaries are missing or the server did not come up."""


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PrometheusUnavailable(f"{name} is not on PATH. {INSTALL_HINT}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backfill(openmetrics: str, data_dir: Path) -> Path:
    """Write ``openmetrics`` (ending ``# EOF``, timestamps in seconds) into TSDB blocks
    under ``data_dir`` and return it."""
    if not openmetrics.rstrip().endswith("# EOF"):
        raise ValueError("an OpenMetrics file must end with '# EOF'")
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / f"{data_dir.name}.om"
    source.write_text(openmetrics, encoding="utf-8")
    done = subprocess.run(
        [
            binary("promtool"),
            *("tsdb", "create-blocks-from", "openmetrics"),
            str(source),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PrometheusUnavailable(
            f"promtool could not backfill {source}: {done.stderr.strip() or done.stdout.strip()}"
        )
    return data_dir


@dataclass
class PromServer:
    """One running Prometheus; `stop` kills it (also safe to call twice)."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    _client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(base_url=self.url, timeout=10)

    def query(self, expr: str, at: float | None = None) -> dict[str, Any]:
        """``data`` of an instant query; raises AssertionError on an error answer."""
        form = {"query": expr}
        if at is not None:
            form["time"] = f"{at:.3f}"
        body = self._client.post("/api/v1/query", data=form).json()
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus rejected {expr!r}: {body}")
        return dict(body["data"])

    def vector(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        data = self.query(expr, at)
        if data["resultType"] != "vector":
            raise AssertionError(f"{expr!r} gave a {data['resultType']}, not a vector")
        return list(data["result"])

    def wait_for(
        self,
        expr: str,
        *,
        timeout_s: float = 60.0,
        ready: Callable[[list[dict[str, Any]]], bool] = bool,
        what: str | None = None,
    ) -> list[dict[str, Any]]:
        """Poll ``expr`` until ``ready(result)`` holds; return that result."""
        deadline = time.monotonic() + timeout_s
        last: object = None
        while True:
            self._check_alive()
            try:
                result = self.vector(expr)
            except (httpx.HTTPError, AssertionError) as exc:
                last = exc
            else:
                if ready(result):
                    return result
                last = result
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Prometheus at {self.url} had no {what or 'data'} for {expr!r} after "
                    f"{timeout_s:g}s; last answer: {str(last)[:500]}\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive()
            try:
                if self._client.get("/-/ready").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise PrometheusUnavailable(
                    f"Prometheus at {self.url} was not ready after {timeout_s:g}s.\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no Prometheus log)"
        return "Prometheus log (end):\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self._client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def _check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise PrometheusUnavailable(f"Prometheus exited with code {code}.\n{self.log_tail()}")


@dataclass(frozen=True)
class Job:
    """One scrape job of the simulator: a path (``/metrics/<stack>``), the target labels
    Kubernetes service discovery would attach, and whether the exposition's own labels
    win a clash (``honor_labels``). dcgm-exporter's Helm chart scrapes with
    ``honorLabels: false`` and its own pod as target: Prometheus then keeps the GPU's
    workload as ``exported_pod``/``exported_namespace``."""

    name: str
    path: str = "/metrics"
    labels: dict[str, str] = field(default_factory=dict)
    honor_labels: bool = False


def start_prometheus(
    workdir: Path,
    *,
    targets: Sequence[str] = (),
    jobs: Sequence[Job] = (),
    data_dir: Path | None = None,
    scrape_interval: str = "1s",
    extra_args: Sequence[str] = (),
    ready_timeout_s: float = 30.0,
) -> PromServer:
    """Start Prometheus with its files under ``workdir`` and wait until it is ready.

    ``targets`` are ``host:port`` scraped every ``scrape_interval`` (job ``warroom``);
    ``data_dir`` (e.g. a copy of a `backfill`) is used in place of a fresh one.
    The caller must `PromServer.stop` it.
    """
    prometheus = binary("prometheus")
    workdir.mkdir(parents=True, exist_ok=True)
    if data_dir is None:
        data_dir = workdir / "data"
        data_dir.mkdir()
    config = workdir / "prometheus.yml"
    config.write_text(_config_yaml(targets, scrape_interval, jobs), encoding="utf-8")
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data_dir}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1d",
                *extra_args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = PromServer(f"http://127.0.0.1:{port}", process, data_dir, log)
    try:
        server.wait_ready(ready_timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


def _config_yaml(targets: Sequence[str], scrape_interval: str, jobs: Sequence[Job] = ()) -> str:
    lines = [
        "global:",
        f"  scrape_interval: {scrape_interval}",
        f"  evaluation_interval: {scrape_interval}",
        "scrape_configs:",
    ]
    if not targets:
        return "\n".join([*lines[:-1], "scrape_configs: []", ""])
    for job in jobs or (Job("warroom"),):
        lines += [
            f"  - job_name: {json.dumps(job.name)}",
            f"    scrape_interval: {scrape_interval}",
            f"    scrape_timeout: {scrape_interval}",
            f"    metrics_path: {json.dumps(job.path)}",
            f"    honor_labels: {'true' if job.honor_labels else 'false'}",
            "    static_configs:",
            "      - targets: [" + ", ".join(f'"{t}"' for t in targets) + "]",
        ]
        if job.labels:
            lines.append(f"        labels: {json.dumps(job.labels)}")
    lines.append("")
    return "\n".join(lines)


def clean_env(config_home: Path) -> dict[str, str]:
    """This process's environment without the developer's Prometheus or warroom settings,
    and a config home of its own: nothing from the machine leaks into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS_", "WARROOM_"))}
    env["XDG_CONFIG_HOME"] = str(config_home)
    return env


@contextmanager
def scraping_simulator(
    workdir: Path, *simulate_args: str, scrape_interval: str = "1s", jobs: Sequence[Job] = ()
) -> Iterator[PromServer]:
    """``warroom simulate`` with ``simulate_args`` on a free port, scraped by a Prometheus
    of its own (one job for ``/metrics``, or ``jobs``); both stopped on leaving."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", "0", *simulate_args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(workdir),
    )  # fmt: skip
    server: PromServer | None = None
    try:
        assert sim.stdout is not None
        banner = sim.stdout.readline()
        assert "http://" in banner, sim.stderr.read() if sim.stderr else banner
        target = banner.rsplit("http://", 1)[1].split("/")[0]
        server = start_prometheus(
            workdir, targets=[target], scrape_interval=scrape_interval, jobs=jobs
        )
        yield server
    finally:
        if server is not None:
            server.stop()
        sim.terminate()
        sim.wait(timeout=10)


def wait_for_scrapes(
    server: PromServer, scrapes: int, window: str, metric: str = "http_requests_total"
) -> None:
    """Until every series of ``metric`` (a selector) has ``scrapes`` samples in ``window``."""
    server.wait_for(
        f"min(count_over_time({metric}[{window}]))",
        ready=lambda r: bool(r) and float(r[0]["value"][1]) >= scrapes,
        timeout_s=90,
        what=f"{scrapes} scrapes",
    )


def wait_for_every_model(server: PromServer, window: str) -> None:
    """Until the quietest model has three whole requests in ``window``. Counters move in
    whole requests: before that some model's figures have no request behind them, and a
    healthy reading would not show a figure in every cell."""
    server.wait_for(
        f"min(sum by (model) (increase(http_requests_total[{window}])))",
        ready=lambda r: bool(r) and float(r[0]["value"][1]) >= 3,
        what="three requests for every model",
    )


def run_warroom(
    *args: str, env: Mapping[str, str] | None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m tui *args`` in ``env`` (None: this process's own); asserts it exits 0,
    showing its stderr if not."""
    done = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, timeout=timeout, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def warroom_json(
    command: str, *args: str, env: Mapping[str, str] | None, timeout: float = 60
) -> dict[str, Any]:
    """``python -m tui <command> --json *args`` (see `run_warroom`), its output parsed."""
    return dict(json.loads(run_warroom(command, "--json", *args, env=env, timeout=timeout).stdout))


def snapshot_json(
    url: str,
    *args: str,
    home: Path,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    """``warroom snapshot --json --prometheus url *args`` in `clean_env` of ``home`` (plus
    ``extra_env``), its JSON parsed."""
    env = {**clean_env(home), **(extra_env or {})}
    return warroom_json("snapshot", "--prometheus", url, *args, env=env, timeout=timeout)


def taken_at_unix(snapshot: dict[str, Any]) -> float:
    """A snapshot's ``taken_at`` (ISO 8601, ``Z``) as unix seconds, for `PromServer.query`'s
    ``at``."""
    return datetime.fromisoformat(snapshot["taken_at"].replace("Z", "+00:00")).timestamp()
