"""Watching a canary someone else drives: the stage from the route's weight or, with no
route, the traffic share; the hold counted from when the weight was seen; the judge's
verdicts kept once each; no traffic and lost figures said as such."""

from __future__ import annotations

import pytest

from tui.domain.canary import CanaryPolicy, Reading, Side
from tui.domain.canary_watch import MIN_WINDOW_S, CanaryWatch, observed_share, stage_index

POLICY = CanaryPolicy()
T0 = 1_795_000_000.0


def reading(canary_requests: float, stable_requests: float, *, p99: float = 1.0) -> Reading:
    return Reading(
        canary=Side(canary_requests, canary_requests * 0.001, p99, "v1"),
        baseline=Side(stable_requests, stable_requests * 0.001, 1.0, "v1"),
    )


@pytest.mark.parametrize(
    ("canary", "stable", "share"),
    [
        (50, 950, 5),  # exactly a stage
        (46, 954, 5),  # 4.6 %: chance, not a different weight
        (260, 740, 25),
        (100, 900, 10),  # between stages and far from both: the share itself
        (1000, 0, 100),
        (0, 1000, 0),
    ],
)
def test_share_of_traffic_snaps_to_a_nearby_stage(canary: int, stable: int, share: int) -> None:
    assert observed_share(reading(canary, stable), POLICY.stages) == share


def test_no_requests_is_no_share() -> None:
    assert observed_share(Reading(None, None), POLICY.stages) is None
    assert observed_share(None, POLICY.stages) is None


def test_stage_index_is_the_highest_stage_reached() -> None:
    assert stage_index((5, 25, 50, 100), 0) is None
    assert stage_index((5, 25, 50, 100), 5) == 0
    assert stage_index((5, 25, 50, 100), 30) == 1
    assert stage_index((5, 25, 50, 100), 100) == 3


def test_route_weight_wins_over_the_traffic_share() -> None:
    watch = CanaryWatch(POLICY)
    # The traffic says 5 % (the window still holds the previous stage), the route 25 %.
    state = watch.observe(T0, reading(50, 950), weight=25)
    assert (state.stage, state.stage_pct, state.phase) == (1, 25, "watching")
    assert "route weight" in state.message


def test_hold_counts_from_when_the_weight_was_seen_and_restarts_on_a_change() -> None:
    watch = CanaryWatch(POLICY)
    watch.observe(T0, reading(600, 11400), weight=5)
    state = watch.observe(T0 + 200, reading(600, 11400), weight=5)
    assert state.elapsed_s == 200
    assert state.verdict is not None and state.verdict.decision == "wait"
    assert watch.window_s(T0 + 200) == 200
    state = watch.observe(T0 + 250, reading(3000, 9000), weight=25)
    assert (state.stage_pct, state.elapsed_s) == (25, 0)
    # Too early in a stage for its own window: the last minute stands in.
    assert watch.window_s(T0 + 260) == MIN_WINDOW_S


def test_a_decision_enters_the_history_once() -> None:
    watch = CanaryWatch(POLICY)
    bad = reading(600, 11400, p99=2.0)  # p99 twice the baseline's: over the x1.2 gate
    watch.observe(T0, bad, weight=5)
    for t in (301, 330, 360):
        state = watch.observe(T0 + t, bad, weight=5)
    assert state.verdict is not None and state.verdict.decision == "rollback"
    assert [v.decision for _, v in state.history] == ["rollback"]
    # 600 canary requests past the p99 gate: significant at the first look, without the
    # hold (issue 22 item 4), and not entered again at the next ones.
    assert state.history[0][0] == T0
    assert "p99 regressed at 5 %" in state.history[0][1].reason
    assert "already significant 0 s into the 300 s hold" in state.history[0][1].reason


def test_weight_falling_to_zero_is_said_and_clears_the_stage() -> None:
    watch = CanaryWatch(POLICY)
    watch.observe(T0, reading(600, 11400), weight=5)
    state = watch.observe(T0 + 30, reading(0, 12000), weight=0)
    assert (state.stage, state.stage_pct, state.verdict) == (None, 0, None)
    assert "fell from 5 % to 0 %" in state.message


def test_no_traffic_and_read_errors_are_said() -> None:
    watch = CanaryWatch(POLICY)
    state = watch.observe(T0, Reading(None, None))
    assert state.stage is None
    assert state.message.startswith("No traffic on the gateway revisions")
    state = watch.observe(T0, None, error="Canary figures not read: Prometheus timed out.")
    assert state.message == "Canary figures not read: Prometheus timed out."
    state = watch.observe(T0, reading(0, 1000))
    assert state.message == "The canary serves no traffic (traffic share 0 %)."


def test_figures_lost_mid_stage_are_no_data_not_a_verdict() -> None:
    watch = CanaryWatch(POLICY)
    watch.observe(T0, reading(600, 11400), weight=25)
    state = watch.observe(T0 + 400, None, weight=25, error="Canary figures not read: HTTP 503.")
    assert state.verdict is not None and state.verdict.decision == "no-data"
    assert state.history == ()
    assert state.message == "Canary figures not read: HTTP 503."
