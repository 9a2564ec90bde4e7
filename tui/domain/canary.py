"""The canary judge: pure, no I/O. From the policy, the stage, how long it has been held
and canary-vs-baseline figures, decide wait / advance / promote / rollback, with the
reason an SRE would want in the log (metric, value, threshold, sample count).

The gotchas it exists for (seed: deploy-inference-gateway): a window too short to mean
anything, cold weights that look like a regression, a baseline serving another model
version, and error rate and p99 moving independently. Warm-up traffic never reaches the
judge: the figures it is given start when the stage's real traffic started.

The hold and the minimum of requests are what a promotion waits for; a rollback does not
wait for them once the regression is significant (see `significant_failures`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tui.config import CanarySettings

Decision = Literal["wait", "no-data", "advance", "promote", "rollback", "refuse"]
"""``no-data``: nothing to compare (neither pass nor fail); ``refuse``: the comparison
itself is meaningless (different model versions) and the rollout must stop."""

ENV = {
    "STAGES": "stages",
    "STAGE_HOLD_S": "stage_hold_s",
    "ERROR_RATE_REGRESSION": "error_rate_regression",
    "P99_REGRESSION": "p99_regression",
    "WARMUP_S": "warmup_s",
    "MIN_REQUESTS": "min_requests",
    "DRAIN_TIMEOUT_S": "drain_timeout_s",
}
"""The seed's environment variables, and the policy field each sets."""


@dataclass(frozen=True, slots=True)
class CanaryPolicy:
    """The seed's defaults."""

    stages: tuple[int, ...] = (5, 25, 50, 100)
    """Percent of real traffic on the canary at each stage; the last is the promotion."""
    stage_hold_s: float = 300.0
    error_rate_regression: float = 1.5
    p99_regression: float = 1.2
    warmup_s: float = 90.0
    min_requests: int = 500
    drain_timeout_s: float = 120.0
    """How long a rollback waits for the canary's in-flight requests before scaling it to
    zero anyway."""
    error_rate_floor: float = 0.001
    """The error-rate gate is never below this: with a baseline of zero errors, one failed
    request in a thousand is noise, not a regression."""
    significance: float = 0.001
    """Before the hold is over, an error rate past its gate rolls back once a canary no
    worse than the gate would show that many errors less often than this: the chance of
    rolling back a good canary on one look. The looks of one stage share their window,
    so they are far from independent chances of a false alarm."""


def policy_of(settings: CanarySettings, drain_timeout_s: float) -> CanaryPolicy:
    """The judge's policy from the config's ``[canary]``; the drain timeout is the
    mitigations' (one setting)."""
    return CanaryPolicy(
        stages=settings.stages, stage_hold_s=settings.stage_hold_s,
        error_rate_regression=settings.error_rate_regression,
        p99_regression=settings.p99_regression, warmup_s=settings.warmup_s,
        min_requests=settings.min_requests, drain_timeout_s=drain_timeout_s,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Side:
    """One revision's figures over the stage's window (warm-up excluded)."""

    requests: float
    """Requests it answered in the window."""
    errors: float
    """Of those, 5xx."""
    p99_s: float | None
    """None: no latency samples in the window."""
    model_version: str | None = None
    """The model version it serves; None: not known."""

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests > 0 else None


@dataclass(frozen=True, slots=True)
class Reading:
    """Canary and baseline over the same window. None for a side nothing was read for."""

    canary: Side | None
    baseline: Side | None


Metric = Literal["error_rate", "p99"]


@dataclass(frozen=True, slots=True)
class Gate:
    """One comparison: the canary's value against the line the baseline sets."""

    metric: Metric
    canary: float
    baseline: float
    threshold: float
    """canary > threshold fails the gate."""

    @property
    def passed(self) -> bool:
        return self.canary <= self.threshold


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str
    """One sentence with the figures: what the log line and the view say."""
    stage_pct: int
    metric: str | None = None
    """What decided it: ``error_rate``, ``p99``, ``model_version``, ``requests``,
    ``hold`` or None."""
    value: float | None = None
    threshold: float | None = None
    samples: int | None = None
    """Canary requests in the window."""
    gates: tuple[Gate, ...] = field(default_factory=tuple)
    """Both gates whenever both could be computed, passed or not, for the view."""


def policy_from_env(env: Mapping[str, str], base: CanaryPolicy | None = None) -> CanaryPolicy:
    """``base`` (default: the seed's defaults) with the seed's variables from ``env``
    applied. ValueError with one sentence naming the variable on a bad value."""
    changes = {ENV[name]: _PARSERS[name](name, env[name]) for name in ENV if name in env}
    return replace(base if base is not None else CanaryPolicy(), **changes)


def _parse_stages(name: str, text: str) -> tuple[int, ...]:
    bad = ValueError(f"{name} must be increasing percentages ending at 100, not {text!r}.")
    try:
        stages = tuple(int(t) for t in re.split(r"[\s,]+", text.strip()) if t)
    except ValueError:
        raise bad from None
    in_range = all(1 <= pct <= 100 for pct in stages)
    increasing = all(a < b for a, b in itertools.pairwise(stages))
    if not stages or not in_range or not increasing or stages[-1] != 100:
        raise bad
    return stages


def _float_parser(minimum: float, strict: bool, what: str) -> Callable[[str, str], float]:
    """A parser for a finite float at least (``strict``: above) ``minimum``."""

    def parse(name: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        # NaN fails both comparisons; inf is refused so a typo cannot mean "never".
        ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
        if not ok:
            raise ValueError(f"{name} must be {what}, not {text!r}.")
        return value

    return parse


def _parse_min_requests(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a whole number of requests of at least 1, not {text!r}.")
    return value


_SECONDS = _float_parser(0.0, strict=False, what="a number of seconds of at least 0")
_REGRESSION = _float_parser(1.0, strict=False, what="a ratio of at least 1.0")

_PARSERS: dict[str, Callable[[str, str], object]] = {
    "STAGES": _parse_stages,
    "STAGE_HOLD_S": _float_parser(0.0, strict=True, what="a number of seconds above 0"),
    "ERROR_RATE_REGRESSION": _REGRESSION,
    "P99_REGRESSION": _REGRESSION,
    "WARMUP_S": _SECONDS,
    "MIN_REQUESTS": _parse_min_requests,
    "DRAIN_TIMEOUT_S": _SECONDS,
}


def judge(policy: CanaryPolicy, stage: int, elapsed_s: float, reading: Reading) -> Verdict:
    """The verdict for stage index ``stage`` (0-based into ``policy.stages``) after
    ``elapsed_s`` seconds of real traffic at that stage."""
    if stage not in range(len(policy.stages)):
        raise ValueError(f"Stage {stage} is outside the policy's {len(policy.stages)} stages.")
    pct = policy.stages[stage]
    canary, baseline = reading.canary, reading.baseline
    refused = _refuse_other_model(pct, canary, baseline)
    if refused is not None:
        return refused
    if canary is None or baseline is None or canary.requests <= 0 or baseline.requests <= 0:
        return _no_figures(pct, canary, baseline)
    gates = _gates(policy, canary, baseline)
    if elapsed_s < policy.stage_hold_s or canary.requests < policy.min_requests:
        # Only a promotion waits for the hold: a regression already significant rolls back
        # now, as a failed measurement aborts an Argo Rollouts analysis at once (its
        # `failureLimit` defaults to 0, analysis/analysis.go `assessMetricStatus`) and
        # Flagger rolls back on its `threshold` of failed checks, not at the end of the
        # analysis (pkg/controller/scheduler.go). A gate failed on too few requests is
        # neither pass nor fail yet: Argo's "inconclusive", here a wait.
        failed = significant_failures(policy, canary, gates)
        if failed:
            return _rollback(
                policy, pct, _count(canary.requests), failed, gates,
                early=_early(policy, elapsed_s, canary, failed[0]),
            )  # fmt: skip
        return _wait(policy, pct, elapsed_s, canary, gates)
    return _decide(policy, stage, canary, baseline, gates)


def significant_failures(policy: CanaryPolicy, canary: Side, gates: tuple[Gate, ...]) -> list[Gate]:
    """The failed gates whose failure is already beyond chance, error rate first.

    Error rate: the canary's whole errors against a binomial at the gate's rate — were
    the canary exactly at its gate, would it show this many errors or more out of this
    many requests less often than `CanaryPolicy.significance`? Three errors in 128
    requests against a 0.14 % gate is one such (p ≈ 0.0008); one in 40 is not.

    p99: a quantile says nothing about how many requests sit past the gate, so there is
    no such test; a p99 from at least ``min_requests`` requests (five past the 99th
    percentile at the default) is taken as significant, without the hold."""
    out: list[Gate] = []
    for gate in gates:
        if gate.passed:
            continue
        if gate.metric == "error_rate":
            if error_p_value(policy, canary, gate) < policy.significance:
                out.append(gate)
        elif canary.requests >= policy.min_requests:
            out.append(gate)
    return out


def error_p_value(policy: CanaryPolicy, canary: Side, gate: Gate) -> float:
    """The chance that a canary failing requests at exactly the gate's rate shows at
    least the canary's errors. Counts from Prometheus are extrapolated (``increase()``
    gives 2.6 errors): errors are rounded down and requests up, which errs toward
    waiting."""
    return binomial_tail(int(canary.errors), math.ceil(canary.requests), gate.threshold)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed from k up in log space."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    if k <= n * p:
        return 1.0  # at or below the mean: nowhere near significant, no need to sum
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    total = 0.0
    for i in range(k, n + 1):
        term = math.exp(
            base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )
        total += term
        # Past the mean the terms fall geometrically: the rest adds nothing a double holds.
        if term <= total * 1e-16:
            break
    return min(1.0, total)


def _early(policy: CanaryPolicy, elapsed_s: float, canary: Side, first: Gate) -> str:
    """Why a rollback did not wait for the hold and the minimum of requests."""
    held = f"already significant {_secs(elapsed_s)} s into the {_secs(policy.stage_hold_s)} s hold"
    if first.metric == "error_rate":
        p = error_p_value(policy, canary, first)
        return f"{held} ({int(canary.errors)} errors, p {_p(p)})"
    return held


def _p(p: float) -> str:
    return "< 0.0001" if p < 0.0001 else f"= {p:.4f}"


def _refuse_other_model(pct: int, canary: Side | None, baseline: Side | None) -> Verdict | None:
    if canary is None or baseline is None:
        return None
    theirs, ours = canary.model_version, baseline.model_version
    # An unknown version on either side is not evidence of a mismatch: compare anyway.
    if theirs is None or ours is None or theirs == ours:
        return None
    return Verdict(
        "refuse",
        f"The canary serves model version {theirs} but the baseline serves {ours}: the "
        "comparison would measure the model change, not the deploy; stop and validate the "
        "model through the eval harness.",
        pct,
        metric="model_version",
        samples=_count(canary.requests),
    )


def _no_figures(pct: int, canary: Side | None, baseline: Side | None) -> Verdict:
    empty = [
        label
        for label, side in (("canary", canary), ("baseline", baseline))
        if side is None or side.requests <= 0
    ]
    return Verdict(
        "no-data",
        f"No {' or '.join(empty)} figures yet at {pct} %: nothing to compare "
        "(neither pass nor fail).",
        pct,
        samples=_count(canary.requests) if canary is not None else None,
    )


def _gates(policy: CanaryPolicy, canary: Side, baseline: Side) -> tuple[Gate, ...]:
    """Every gate the figures allow, error rate first; both sides have requests."""
    canary_rate = canary.errors / canary.requests
    baseline_rate = baseline.errors / baseline.requests
    line = max(baseline_rate * policy.error_rate_regression, policy.error_rate_floor)
    gates = [Gate("error_rate", canary_rate, baseline_rate, line)]
    if canary.p99_s is not None and baseline.p99_s is not None:
        line = baseline.p99_s * policy.p99_regression
        gates.append(Gate("p99", canary.p99_s, baseline.p99_s, line))
    return tuple(gates)


def _wait(
    policy: CanaryPolicy, pct: int, elapsed_s: float, canary: Side, gates: tuple[Gate, ...]
) -> Verdict:
    short_of_hold = elapsed_s < policy.stage_hold_s
    short_of_requests = canary.requests < policy.min_requests
    missing = " and ".join(
        what
        for what, short in (("the hold time", short_of_hold), ("more requests", short_of_requests))
        if short
    )
    figures = (
        f"{_secs(elapsed_s)} of {_secs(policy.stage_hold_s)} s, "
        f"{_count(canary.requests)} of {policy.min_requests} requests"
    )
    # The hold wins when both are short: it is the one that cannot be hurried.
    if short_of_hold:
        metric, value, threshold = "hold", elapsed_s, policy.stage_hold_s
    else:
        metric, value, threshold = "requests", canary.requests, float(policy.min_requests)
    return Verdict(
        "wait",
        f"Holding {pct} % for {missing}: {figures}.",
        pct,
        metric=metric,
        value=value,
        threshold=threshold,
        samples=_count(canary.requests),
        gates=gates,
    )


def _decide(
    policy: CanaryPolicy, stage: int, canary: Side, baseline: Side, gates: tuple[Gate, ...]
) -> Verdict:
    pct = policy.stages[stage]
    samples = _count(canary.requests)
    failed = [g for g in gates if not g.passed]
    # A known error regression rolls back even without latency data: waiting on a missing
    # p99 would leave a failing canary serving traffic.
    if failed:
        return _rollback(policy, pct, samples, failed, gates)
    if len(gates) < 2:
        return _no_latency(pct, samples, canary, baseline, gates)
    last = stage == len(policy.stages) - 1
    verb = f"Promote at {pct} %" if last else f"Advance from {pct} %"
    passed = " and ".join(
        f"{_describe(g)} ≤ gate {fmt_figure(g.metric, g.threshold)}" for g in gates
    )
    return Verdict(
        "promote" if last else "advance",
        f"{verb}: {passed} over {samples} requests.",
        pct,
        samples=samples,
        gates=gates,
    )


def _rollback(
    policy: CanaryPolicy,
    pct: int,
    samples: int,
    failed: list[Gate],
    gates: tuple[Gate, ...],
    early: str | None = None,
) -> Verdict:
    first = failed[0]
    if len(failed) == 1:
        reason = f"{_NAMES[first.metric]} regressed at {pct} %: " + _failure(policy, first)
    else:
        parts = ", ".join(f"{_NAMES[g.metric]} {_failure(policy, g)}" for g in failed)
        names = " and ".join(_NAMES[g.metric] for g in failed)
        reason = f"{names} regressed at {pct} %: {parts},"
    tail = f", {early}" if early else ""
    return Verdict(
        "rollback",
        f"{_capitalized(reason)} over {samples} requests{tail}.",
        pct,
        metric=first.metric,
        value=first.canary,
        threshold=first.threshold,
        samples=samples,
        gates=gates,
    )


def _no_latency(
    pct: int, samples: int, canary: Side, baseline: Side, gates: tuple[Gate, ...]
) -> Verdict:
    empty = " or ".join(
        label for label, side in (("canary", canary), ("baseline", baseline)) if side.p99_s is None
    )
    return Verdict(
        "no-data",
        f"No {empty} p99 at {pct} % over {samples} requests: a stage never passes without "
        "latency data (neither pass nor fail).",
        pct,
        metric="p99",
        samples=samples,
        gates=gates,
    )


_NAMES: dict[str, str] = {"error_rate": "error rate", "p99": "p99"}


def _failure(policy: CanaryPolicy, gate: Gate) -> str:
    """``canary X > gate Y (how Y was set)`` for a failed gate."""
    if gate.metric == "error_rate":
        how = f"baseline {_pct(gate.baseline)} × {policy.error_rate_regression:g}"
        # Say so when the floor set the line: "baseline × 1.5" would not add up to it.
        if floor_drew_line(policy, gate):
            how = f"the floor; {how} is below it"
    else:
        how = f"baseline {fmt_figure('p99', gate.baseline)} × {policy.p99_regression:g}"
    canary, line = (fmt_figure(gate.metric, v) for v in (gate.canary, gate.threshold))
    return f"canary {canary} > gate {line} ({how})"


def _capitalized(text: str) -> str:
    # "p99" is a symbol and stays lower case even at the start of a sentence.
    return text if text.startswith("p99") else text[0].upper() + text[1:]


def _describe(gate: Gate) -> str:
    return f"{_NAMES[gate.metric]} {fmt_figure(gate.metric, gate.canary)}"


def fmt_figure(metric: str, value: float) -> str:
    """Error rate in percent, p99 in seconds, both to two decimals: how the judge's
    reasons, the driver's log and the canary view all write a figure."""
    return _pct(value) if metric == "error_rate" else f"{value:.2f} s"


def floor_drew_line(policy: CanaryPolicy, gate: Gate) -> bool:
    """True when the error-rate floor, not ``baseline × regression``, set the gate."""
    return (
        gate.metric == "error_rate"
        and gate.baseline * policy.error_rate_regression < policy.error_rate_floor
    )


def _pct(rate: float) -> str:
    return f"{rate * 100:.2f} %"


def _count(requests: float) -> int:
    """Whole requests, rounded down so that a count shown below the minimum is below it."""
    return int(requests)


def _secs(seconds: float) -> str:
    # Rounded down for the same reason as _count: 299.99 of 300 s must not read "300 of 300".
    if seconds == int(seconds):
        return str(int(seconds))
    return f"{math.floor(seconds * 10) / 10:.1f}"
