"""``warroom canary drive`` on the demo fleet: the exit status a pipeline reads, one log
line per transition and comparison, the seed's variables from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tui.cli import main


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("STAGES", "STAGE_HOLD_S", "WARMUP_S", "MIN_REQUESTS", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)


DEMO = ["canary", "drive", "--demo", "--speed", "2000", "--poll", "5"]


def test_a_bad_canary_exits_non_zero_after_a_drained_rollback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*DEMO, "--scenario", "bad-canary-errors"]) == 1
    out = capsys.readouterr().out
    # The demo clock runs on wall time here, so the figures move by a hair between runs.
    assert re.search(r"Error rate regressed at 5 %: canary 3\.\d\d % > gate 0\.1\d %", out)
    assert "in-flight requests drained to 0" in out
    assert "stage 25 %" not in out


def test_a_good_canary_exits_zero_promoted_and_reads_the_seed_variables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGES", "10 100")
    monkeypatch.setenv("STAGE_HOLD_S", "120")
    assert main([*DEMO, "--scenario", "good-canary"]) == 0
    out = capsys.readouterr().out
    assert "stages 10 100 %, hold 120 s" in out
    assert "promoted" in out.splitlines()[-1]


def test_a_bad_variable_is_one_sentence_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGES", "5 50 25")
    assert main([*DEMO, "--scenario", "good-canary"]) == 2
    assert "STAGES must be increasing percentages ending at 100" in capsys.readouterr().err


def test_a_scenario_without_a_canary_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--scenario", "gpu-oom"]) == 2
    assert "has no gateway canary" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "speed"),
    [
        (["--demo", "--scenario", "bad-canary-p99"], 10.0),  # stages of 300 s hold 30 s
        (["--demo", "--scenario", "bad-canary-p99", "--speed", "2"], 2.0),
        (["--demo", "--scenario", "gpu-oom"], 1.0),
        (["--demo"], 1.0),
    ],
)
def test_canary_scenarios_run_the_demo_clock_faster_unless_told(
    argv: list[str], speed: float
) -> None:
    from tui.cli.parser import build_parser
    from tui.cli.wiring import build_source, load
    from tui.clock import SimClock

    args = build_parser().parse_args(argv)
    _, clock = build_source(args, load(args))
    assert isinstance(clock, SimClock) and clock.speed == speed
