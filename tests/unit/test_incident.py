"""An incident holds only its own events: one file per fleet (context and Prometheus) or
per demo run, resumed only by processes of the same scope, started exclusively, and
listed, closed and started anew by `warroom incident`."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tui.cli import main
from tui.cli.cockpit import build_cockpit
from tui.cli.parser import build_parser
from tui.cli.wiring import build_source, timeline_for
from tui.clock import utc
from tui.config import load_config
from tui.domain.entries import CLOSED
from tui.sim.source import DemoSource
from tui.store.incident import (
    OPENED,
    demo_scope,
    find_open,
    listed,
    live_scope,
    open_or_start,
    read,
)
from tui.store.timeline import Timeline

T0 = 1_790_000_000.0
PROD = live_scope("prod-east", "http://prometheus:9090")
STAGING = live_scope("staging", "http://prometheus.staging:9090")


def test_a_fleet_resumes_its_own_open_incident_and_no_other(tmp_path: Path) -> None:
    prod = open_or_start(tmp_path, PROD, utc(T0))
    prod.append("note", utc(T0 + 1), text="paged")
    assert prod.entries()[0]["kind"] == OPENED and prod.entries()[0]["scope"] == PROD.about
    # A second cockpit on the same fleet joins it; one on another fleet does not.
    assert open_or_start(tmp_path, PROD, utc(T0 + 60)).path == prod.path
    staging = open_or_start(tmp_path, STAGING, utc(T0 + 60))
    assert staging.path != prod.path
    assert [e["kind"] for e in staging.entries()] == [OPENED]
    # Closed, it is not resumed: the next page opens the next incident.
    prod.append(CLOSED, utc(T0 + 120))
    again = open_or_start(tmp_path, PROD, utc(T0 + 180))
    assert again.path not in (prod.path, staging.path)


def test_an_incident_from_before_scopes_is_never_joined(tmp_path: Path) -> None:
    """A file with no ``incident.opened`` (every run shared it) is left as it is."""
    old = Timeline(tmp_path / "incidents" / "20261101T000000Z.jsonl")
    old.path.parent.mkdir(parents=True)
    old.append("canary.rolled_back", utc(T0 - 3600))
    assert read(old.path).scope is None
    assert open_or_start(tmp_path, PROD, utc(T0)).path != old.path


def test_every_demo_run_is_an_incident_of_its_own(tmp_path: Path) -> None:
    """The demo's clock starts with the run: two runs, even of one scenario, never share
    an incident, and the demo's incidents live apart from real ones."""
    first = open_or_start(tmp_path, demo_scope("gpu-oom"), utc(T0))
    second = open_or_start(tmp_path, demo_scope("gpu-oom"), utc(T0))
    assert first.path != second.path
    assert first.path.parent == tmp_path / "demo" / "incidents"
    assert find_open(tmp_path, demo_scope("gpu-oom")) is not None
    assert find_open(tmp_path, PROD) is None


def test_two_cockpits_starting_at_once_settle_on_one_incident(tmp_path: Path) -> None:
    opened: list[Path] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        opened.append(open_or_start(tmp_path, PROD, utc(T0)).path)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(opened)) == 1
    assert len(list((tmp_path / "incidents").glob("*.jsonl"))) == 1


def _args(*argv: str, state: Path) -> tuple[object, object]:
    args = build_parser().parse_args(list(argv))
    config = load_config(None, env={"XDG_STATE_HOME": str(state)})
    return args, config


def test_a_demo_canary_drive_beside_a_gpu_oom_cockpit_writes_into_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a new user saw: `warroom --demo --scenario gpu-oom` in one shell and `warroom
    canary drive --demo --scenario bad-canary-p99 --speed 60` in another; the gpu-oom
    report listed the canary's rollback, stamped minutes in the future."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    cockpit = build_cockpit(build_parser().parse_args(["--demo", "--scenario", "gpu-oom"]))
    assert cockpit.timeline is not None
    drive_args = build_parser().parse_args(
        ["canary", "drive", "--demo", "--scenario", "bad-canary-p99", "--speed", "60"]
    )
    config = load_config(None)
    source, clock = build_source(drive_args, config)
    assert isinstance(source, DemoSource)
    drive_timeline = timeline_for(config, source)
    assert drive_timeline.path != cockpit.timeline.path
    drive_timeline.append("canary.rolled_back", utc(clock.now() + 420), route="llm-gateway")
    kinds = [e["kind"] for e in cockpit.timeline.entries()]
    assert kinds == [OPENED]
    # The next gpu-oom run is an incident of its own, not an append to this one.
    again = build_cockpit(build_parser().parse_args(["--demo", "--scenario", "gpu-oom"]))
    assert again.timeline is not None and again.timeline.path != cockpit.timeline.path
    # Each incident's first entry is stamped by its own clock: the demo's, not the wall's.
    opened_at = cockpit.timeline.entries()[0]["at"]
    assert opened_at.startswith(utc(cockpit.clock.now()).strftime("%Y-%m-%dT%H:%M"))


def test_warroom_incident_lists_closes_and_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    fleet = ["--prometheus", "http://user:pw@prometheus:9090/?access_token=s3cret", "--context",
             "prod-east"]  # fmt: skip
    assert main(["incident", "new", *fleet]) == 0
    started = capsys.readouterr().out.split()[-1]
    assert main(["incident", "list"]) == 0
    out = capsys.readouterr().out
    assert "open" in out and "prod-east" in out and started in out
    assert "s3cret" not in out and "pw@" not in out  # the scope is written redacted
    assert main(["incident", "new", *fleet]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"closed {started}" and lines[1].startswith("started ")
    assert main(["incident", "close", *fleet]) == 0
    assert capsys.readouterr().out.startswith("closed ")
    assert main(["incident", "close", *fleet]) == 0
    assert "no open incident" in capsys.readouterr().err
    assert all(i.closed for i in listed(tmp_path / "warroom"))
    assert main(["incident", "close"]) == 2  # no fleet named: one sentence, exit 2
    assert "--prometheus" in capsys.readouterr().err
