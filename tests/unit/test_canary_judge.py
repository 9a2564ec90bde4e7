"""The canary judge: one case (at least) per gotcha of the deploy-inference-gateway runbook,
and the policy read from the runbook's environment variables."""

from __future__ import annotations

import pytest

from tui.domain.canary import (
    ENV,
    CanaryPolicy,
    Reading,
    Side,
    binomial_tail,
    judge,
    policy_from_env,
)

POLICY = CanaryPolicy()
HELD = POLICY.stage_hold_s
ENOUGH = 1000.0

# A healthy baseline: 1 % errors, p99 2.5 s, so the gates sit at 1.5 % and 3.0 s.
BASELINE = Side(requests=ENOUGH, errors=10, p99_s=2.5, model_version="v6")


def canary(
    requests: float = ENOUGH,
    errors: float = 10,
    p99_s: float | None = 2.5,
    model_version: str | None = "v6",
) -> Side:
    """A canary that, unless told otherwise, looks exactly like the baseline."""
    return Side(requests, errors, p99_s, model_version)


def read(side: Side | None = None, baseline: Side | None = BASELINE) -> Reading:
    return Reading(canary=side if side is not None else canary(), baseline=baseline)


# --- the window too short to mean anything -------------------------------------------------

TERRIBLE = canary(errors=500, p99_s=30.0)


def test_a_healthy_canary_waits_for_the_hold_before_advancing() -> None:
    v = judge(POLICY, 0, HELD - 1, read(canary(errors=12, p99_s=2.7)))
    assert v.decision == "wait"
    assert (v.metric, v.value, v.threshold) == ("hold", HELD - 1, HELD)
    assert v.reason.startswith("Holding 5 % for the hold time:")
    assert "299 of 300 s" in v.reason


def test_min_requests_not_reached_waits_while_a_regression_is_not_significant() -> None:
    """2 % errors against a 1.5 % gate over 499 requests, and a p99 of 30 s: both past
    their gates, neither significant yet (10 errors are what a canary at the gate shows
    one time in five; a p99 from fewer than MIN_REQUESTS is not judged)."""
    short = canary(requests=POLICY.min_requests - 1, errors=10, p99_s=30.0)
    v = judge(POLICY, 0, HELD * 10, read(short))
    assert v.decision == "wait"
    assert (v.metric, v.value, v.threshold) == ("requests", 499, 500)
    assert v.samples == 499
    assert v.reason.startswith("Holding 5 % for more requests:")
    assert "499 of 500 requests" in v.reason
    assert not any(g.passed for g in v.gates)


def test_both_short_says_both_and_blames_the_hold() -> None:
    v = judge(POLICY, 0, 120, read(canary(requests=240, errors=2)))
    assert v.decision == "wait"
    assert v.metric == "hold"
    assert v.reason == (
        "Holding 5 % for the hold time and more requests: 120 of 300 s, 240 of 500 requests."
    )


def test_waiting_still_shows_the_gates_without_deciding_on_them() -> None:
    """5 % errors over 40 requests (2 of them) and a slow p99: past both gates, but two
    errors in forty are what a canary at the 1.5 % gate shows one time in eight."""
    v = judge(POLICY, 0, 10, read(canary(requests=40, errors=2, p99_s=30.0)))
    assert v.decision == "wait"
    assert [g.metric for g in v.gates] == ["error_rate", "p99"]
    assert not any(g.passed for g in v.gates)


def test_once_hold_and_min_requests_are_reached_it_decides() -> None:
    at_minimum = canary(requests=POLICY.min_requests, errors=250, p99_s=30.0)
    assert judge(POLICY, 0, HELD, read(at_minimum)).decision == "rollback"
    healthy = canary(requests=POLICY.min_requests, errors=5)
    assert judge(POLICY, 0, HELD, read(healthy)).decision == "advance"


# --- a regression already significant does not wait for the hold (issue 22 item 4) ---------


def test_a_significant_error_regression_rolls_back_during_the_hold() -> None:
    v = judge(POLICY, 0, 10, read(TERRIBLE))
    assert v.decision == "rollback"
    assert (v.metric, v.value, v.threshold) == ("error_rate", 0.5, 0.015)
    assert v.reason.startswith("Error rate and p99 regressed at 5 %:")
    assert v.reason.endswith(
        "over 1000 requests, already significant 10 s into the 300 s hold (500 errors, p < 0.0001)."
    )


def test_an_error_regression_is_significant_on_few_requests_when_it_is_large() -> None:
    """bad-canary-errors' first seconds at 5 %: 3 % errors against a 0.15 % gate. Three
    errors in 107 requests are beyond chance (p 0.0007) although the hold has barely
    started and the requests are a fifth of the minimum; one error in 42 is not."""
    baseline = Side(2037, 2.1, 2.36)
    first = judge(POLICY, 0, 10, Reading(Side(42, 1.3, 2.36), baseline))
    assert first.decision == "wait"
    assert [g.passed for g in first.gates] == [False, True]
    later = judge(POLICY, 0, 25, Reading(Side(107, 3.3, 2.36), baseline))
    assert later.decision == "rollback" and later.metric == "error_rate"
    assert (
        "over 107 requests, already significant 25 s into the 300 s hold (3 errors, p = 0.0007)."
        in (later.reason)
    )


def test_a_p99_regression_rolls_back_during_the_hold_from_min_requests_on() -> None:
    """A quantile carries no count of the requests past the gate: MIN_REQUESTS is what
    makes a p99 significant, the hold is not."""
    slow = canary(requests=POLICY.min_requests - 1, errors=5, p99_s=4.1)
    assert judge(POLICY, 0, 60, read(slow)).decision == "wait"
    enough = canary(requests=POLICY.min_requests, errors=5, p99_s=4.1)
    v = judge(POLICY, 0, 60, read(enough))
    assert (v.decision, v.metric) == ("rollback", "p99")
    assert v.reason.endswith("over 500 requests, already significant 60 s into the 300 s hold.")


def test_only_the_significant_gates_are_named_in_an_early_rollback() -> None:
    v = judge(POLICY, 0, 30, read(canary(requests=300, errors=60, p99_s=30.0)))
    assert (v.decision, v.metric) == ("rollback", "error_rate")
    assert v.reason.startswith("Error rate regressed at 5 %: canary 20.00 % > gate 1.50 %")
    assert [g.passed for g in v.gates] == [False, False]


def test_a_canary_at_its_gate_is_not_significant() -> None:
    at_line = canary(requests=400, errors=6)  # 1.5 %: exactly the gate
    assert judge(POLICY, 0, 30, read(at_line)).decision == "wait"


@pytest.mark.parametrize(
    ("k", "n", "p", "expected"),
    [
        (0, 10, 0.1, 1.0),
        (11, 10, 0.1, 0.0),
        (1, 10, 0.0, 0.0),
        (1, 1, 0.5, 0.5),
        (2, 40, 0.015, 0.120892),
        (3, 129, 0.001368, 0.000787),
        (10, 10, 0.5, 0.5**10),
    ],
)
def test_binomial_tail(k: int, n: int, p: float, expected: float) -> None:
    assert binomial_tail(k, n, p) == pytest.approx(expected, rel=1e-3)


def test_the_binomial_tail_of_a_large_window_is_quick_and_tiny() -> None:
    assert binomial_tail(20_000, 1_000_000, 0.019) < 1e-10


def test_the_policy_significance_moves_the_early_rollback() -> None:
    few = read(canary(requests=100, errors=5))  # 5 % against 1.5 %: p ≈ 0.019
    assert judge(POLICY, 0, 30, few).decision == "wait"
    assert judge(CanaryPolicy(significance=0.05), 0, 30, few).decision == "rollback"


# --- cold weights ---------------------------------------------------------------------------


def test_the_judge_only_sees_post_warm_up_figures() -> None:
    """The caller drops the warm-up window before judging: the same canary with its cold
    first requests counted would roll back, and without them it passes. The judge cannot
    tell the two apart, which is why the exclusion must happen upstream."""
    with_cold_requests = canary(p99_s=9.0)
    warm_only = canary(p99_s=2.6)
    assert judge(POLICY, 0, HELD, read(with_cold_requests)).decision == "rollback"
    assert judge(POLICY, 0, HELD, read(warm_only)).decision == "advance"


# --- a baseline serving another model version -----------------------------------------------


def test_different_model_version_refuses_even_when_figures_look_fine() -> None:
    v = judge(POLICY, 1, HELD, read(canary(model_version="v7")))
    assert v.decision == "refuse"
    assert v.metric == "model_version"
    assert (v.value, v.threshold) == (None, None)
    assert "v7" in v.reason and "v6" in v.reason
    assert "eval harness" in v.reason


def test_different_model_version_refuses_before_anything_else() -> None:
    v = judge(POLICY, 0, 0, read(canary(requests=0, errors=0, model_version="v7")))
    assert v.decision == "refuse"


@pytest.mark.parametrize(
    ("canary_version", "baseline_version"), [(None, "v6"), ("v7", None), (None, None)]
)
def test_unknown_model_version_on_one_side_compares(
    canary_version: str | None, baseline_version: str | None
) -> None:
    baseline = Side(ENOUGH, 10, 2.5, baseline_version)
    v = judge(POLICY, 0, HELD, read(canary(model_version=canary_version), baseline))
    assert v.decision == "advance"


# --- error rate and p99 move independently --------------------------------------------------


def test_error_rate_regressing_with_p99_flat_rolls_back_on_error_rate() -> None:
    v = judge(POLICY, 0, HELD, read(canary(errors=30)))
    assert v.decision == "rollback"
    assert (v.metric, v.value, v.threshold) == ("error_rate", 0.03, 0.015)
    assert [g.passed for g in v.gates] == [False, True]


def test_p99_regressing_with_errors_flat_rolls_back_on_p99() -> None:
    v = judge(POLICY, 0, HELD, read(canary(requests=812, errors=8, p99_s=4.1)))
    assert v.decision == "rollback"
    assert (v.metric, v.value, v.threshold) == ("p99", 4.1, 3.0)
    assert v.samples == 812
    assert [g.passed for g in v.gates] == [True, False]
    assert v.reason == (
        "p99 regressed at 5 %: canary 4.10 s > gate 3.00 s (baseline 2.50 s × 1.2) "
        "over 812 requests."
    )


def test_both_regressing_names_both_and_leads_with_error_rate() -> None:
    v = judge(POLICY, 0, HELD, read(canary(errors=30, p99_s=4.1)))
    assert v.decision == "rollback"
    assert v.metric == "error_rate"
    assert "error rate" in v.reason.lower() and "p99" in v.reason
    assert "3.00 %" in v.reason and "4.10 s" in v.reason


def test_error_regression_rolls_back_even_without_latency_data() -> None:
    v = judge(POLICY, 0, HELD, read(canary(errors=30, p99_s=None)))
    assert v.decision == "rollback"
    assert v.metric == "error_rate"


# --- both pass ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "decision", "pct"),
    [(0, "advance", 5), (1, "advance", 25), (2, "advance", 50), (3, "promote", 100)],
)
def test_both_gates_passing_advances_then_promotes_at_100(
    stage: int, decision: str, pct: int
) -> None:
    v = judge(POLICY, stage, HELD, read(canary(errors=12, p99_s=2.7)))
    assert (v.decision, v.stage_pct) == (decision, pct)
    assert [g.metric for g in v.gates] == ["error_rate", "p99"]
    assert all(g.passed for g in v.gates)
    assert "1.20 %" in v.reason and "1.50 %" in v.reason
    assert "2.70 s" in v.reason and "3.00 s" in v.reason
    assert "1000 requests" in v.reason


def test_promotion_follows_the_policys_last_stage() -> None:
    two_stages = CanaryPolicy(stages=(50, 100))
    assert judge(two_stages, 0, HELD, read()).decision == "advance"
    assert judge(two_stages, 1, HELD, read()).decision == "promote"


@pytest.mark.parametrize("stage", [-1, 4, 10])
def test_stage_outside_the_policy_is_a_programming_error(stage: int) -> None:
    with pytest.raises(ValueError, match="Stage"):
        judge(POLICY, stage, HELD, read())


# --- no data --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reading", "side"),
    [
        (Reading(canary=None, baseline=BASELINE), "canary"),
        (Reading(canary=canary(requests=0, errors=0), baseline=BASELINE), "canary"),
        (Reading(canary=canary(), baseline=None), "baseline"),
        (Reading(canary=canary(), baseline=Side(0, 0, None, "v6")), "baseline"),
        (Reading(canary=None, baseline=None), "canary or baseline"),
    ],
)
def test_a_side_without_figures_is_no_data(reading: Reading, side: str) -> None:
    v = judge(POLICY, 0, HELD, reading)
    assert v.decision == "no-data"
    assert v.reason.startswith(f"No {side} figures yet at 5 %")
    assert "neither pass nor fail" in v.reason
    assert v.gates == ()


def test_no_data_counts_the_canarys_requests_when_known() -> None:
    assert judge(POLICY, 0, HELD, Reading(canary(), None)).samples == 1000
    assert judge(POLICY, 0, HELD, Reading(None, BASELINE)).samples is None


@pytest.mark.parametrize(
    ("reading", "side"),
    [
        (read(canary(p99_s=None)), "canary"),
        (read(canary(), Side(ENOUGH, 10, None, "v6")), "baseline"),
    ],
)
def test_missing_p99_after_the_hold_never_passes(reading: Reading, side: str) -> None:
    v = judge(POLICY, 0, HELD, reading)
    assert v.decision == "no-data"
    assert v.metric == "p99"
    assert side in v.reason
    assert [g.metric for g in v.gates] == ["error_rate"]


# --- thresholds -----------------------------------------------------------------------------


def test_a_baseline_with_zero_errors_gates_on_the_floor() -> None:
    clean = Side(ENOUGH, 0, 2.5, "v6")
    one_in_a_thousand = judge(POLICY, 0, HELD, read(canary(errors=1), clean))
    assert one_in_a_thousand.decision == "advance"
    assert one_in_a_thousand.gates[0].threshold == POLICY.error_rate_floor
    two = judge(POLICY, 0, HELD, read(canary(errors=2), clean))
    assert two.decision == "rollback"
    assert two.threshold == POLICY.error_rate_floor
    assert "floor" in two.reason


def test_exact_thresholds_pass() -> None:
    # The canary's values are computed the way the judge computes the lines, so they are
    # equal to the last bit: only <= lets them through.
    at_line = canary(errors=15, p99_s=BASELINE.p99_s * POLICY.p99_regression)
    v = judge(POLICY, 0, HELD, read(at_line))
    assert [g.canary == g.threshold for g in v.gates] == [True, True]
    assert v.decision == "advance"


def test_the_rollback_reason_carries_value_threshold_and_samples() -> None:
    v = judge(POLICY, 2, HELD, read(canary(requests=2000, errors=48)))
    assert v.reason == (
        "Error rate regressed at 50 %: canary 2.40 % > gate 1.50 % (baseline 1.00 % × 1.5) "
        "over 2000 requests."
    )
    assert (v.value, v.threshold, v.samples) == (0.024, 0.015, 2000)


def test_policy_regressions_move_the_lines() -> None:
    lenient = CanaryPolicy(error_rate_regression=4.0, p99_regression=2.0)
    assert judge(POLICY, 0, HELD, read(canary(errors=30, p99_s=4.1))).decision == "rollback"
    assert judge(lenient, 0, HELD, read(canary(errors=30, p99_s=4.1))).decision == "advance"


# --- policy_from_env ------------------------------------------------------------------------


def test_no_variables_keeps_the_seeds_defaults() -> None:
    assert policy_from_env({}) == CanaryPolicy()
    assert CanaryPolicy().stages == (5, 25, 50, 100)
    assert CanaryPolicy().min_requests == 500


def test_every_variable_overrides_its_field() -> None:
    env = {
        "STAGES": "10, 50,100",
        "STAGE_HOLD_S": "60",
        "ERROR_RATE_REGRESSION": "2",
        "P99_REGRESSION": "1.0",
        "WARMUP_S": "0",
        "MIN_REQUESTS": "50",
        "DRAIN_TIMEOUT_S": "30.5",
        "UNRELATED": "ignored",
    }
    assert set(env) - {"UNRELATED"} == set(ENV)
    assert policy_from_env(env) == CanaryPolicy(
        stages=(10, 50, 100),
        stage_hold_s=60.0,
        error_rate_regression=2.0,
        p99_regression=1.0,
        warmup_s=0.0,
        min_requests=50,
        drain_timeout_s=30.5,
    )


def test_missing_variables_keep_the_base() -> None:
    base = CanaryPolicy(stage_hold_s=30.0, min_requests=10, error_rate_floor=0.01)
    policy = policy_from_env({"P99_REGRESSION": "1.5"}, base)
    assert policy == CanaryPolicy(
        stage_hold_s=30.0, min_requests=10, error_rate_floor=0.01, p99_regression=1.5
    )


@pytest.mark.parametrize("text", ["5 25 50 100", "5,25,50,100", " 5, 25 ,50 100 ", "100"])
def test_stages_accept_spaces_or_commas(text: str) -> None:
    expected = tuple(int(t) for t in text.replace(",", " ").split())
    assert policy_from_env({"STAGES": text}).stages == expected


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("STAGES", "5 50 25", "STAGES must be increasing percentages ending at 100"),
        ("STAGES", "5 25 50", "ending at 100"),
        ("STAGES", "5 5 100", "increasing"),
        ("STAGES", "0 50 100", "percentages"),
        ("STAGES", "50 100 150", "percentages"),
        ("STAGES", "5 half 100", "percentages"),
        ("STAGES", "", "percentages"),
        ("STAGE_HOLD_S", "0", "above 0"),
        ("STAGE_HOLD_S", "-5", "above 0"),
        ("STAGE_HOLD_S", "5m", "seconds"),
        ("STAGE_HOLD_S", "inf", "seconds"),
        ("WARMUP_S", "-1", "at least 0"),
        ("WARMUP_S", "nan", "at least 0"),
        ("DRAIN_TIMEOUT_S", "soon", "at least 0"),
        ("ERROR_RATE_REGRESSION", "0.9", "at least 1.0"),
        ("ERROR_RATE_REGRESSION", "x", "ratio"),
        ("P99_REGRESSION", "0.5", "at least 1.0"),
        ("MIN_REQUESTS", "0", "at least 1"),
        ("MIN_REQUESTS", "12.5", "whole number"),
        ("MIN_REQUESTS", "many", "whole number"),
    ],
)
def test_a_bad_value_is_one_sentence_naming_variable_and_value(
    name: str, text: str, says: str
) -> None:
    with pytest.raises(ValueError) as caught:
        policy_from_env({name: text})
    message = str(caught.value)
    assert message.startswith(f"{name} must be ")
    assert says in message
    assert message.endswith(f"not {text!r}.")
    assert message.count(". ") == 0


def test_the_stages_error_reads_as_the_runbook_says() -> None:
    with pytest.raises(ValueError) as caught:
        policy_from_env({"STAGES": "5 50 25"})
    assert str(caught.value) == (
        "STAGES must be increasing percentages ending at 100, not '5 50 25'."
    )
