"""The gateway canary as the simulated platform has it: the route's weight, the canary's
replicas, and the requests in flight on it.

Whoever drives the rollout changes it — the driver directly in the demo, or the
Kubernetes API through `Rollout.follow` in tests and the demo cluster — and the engine
reads it at every step. Times are simulated seconds. Thread-safe: the exporter's
scrapes and the driver run in different threads.

In-flight requests follow from the traffic: a request admitted at ``s`` is still in
flight at ``t`` while its latency exceeds ``t - s``. Over a stretch of constant weight
that integrates to a closed form (`_excess`), so the gauge drains the way a real one
does after the weight goes to 0 — quickly for short requests, slowly for long streams —
and scaling to zero while requests are in flight severs exactly those.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

STABLE = "stable"
CANARY = "canary"
REVISIONS = (STABLE, CANARY)


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _excess(a: float, median_s: float, sigma: float) -> float:
    """E[(L - a)+] for a log-normal latency L: how much of a request admitted ``a``
    seconds ago is, on average, still to run. At ``a = 0`` it is the mean latency."""
    mu = math.log(median_s)
    if a <= 0:
        return math.exp(mu + sigma * sigma / 2) - a
    la = math.log(a)
    return math.exp(mu + sigma * sigma / 2) * _phi((mu + sigma * sigma - la) / sigma) - a * _phi(
        (mu - la) / sigma
    )


@dataclass(frozen=True, slots=True)
class _Stretch:
    """Canary traffic at one weight from ``start`` until ``end`` (None: still running)."""

    start: float
    end: float | None
    weight: float


class Rollout:
    def __init__(self, replicas: int = 1) -> None:
        self._lock = threading.Lock()
        self._stretches: list[_Stretch] = []
        self._weight = 0.0
        self._replicas = replicas
        self.serving_since: float | None = None
        """When the canary first took any request, warm-up included: its weights and
        caches are warm some time after this."""
        self.severed = 0
        """Requests cut off mid-flight by scaling the canary to zero."""

    # -- what the driver changes

    def set_weight(self, t: float, percent: float) -> None:
        """Route ``percent`` of real traffic to the canary from ``t`` on."""
        weight = min(1.0, max(0.0, percent / 100))
        with self._lock:
            if weight == self._weight:
                return
            if self._stretches and self._stretches[-1].end is None:
                last = self._stretches[-1]
                self._stretches[-1] = _Stretch(last.start, t, last.weight)
            if weight > 0:
                self._stretches.append(_Stretch(t, None, weight))
                if self.serving_since is None:
                    self.serving_since = t
            self._weight = weight

    def warm_up(self, t: float) -> None:
        """Synthetic requests sent straight to the canary (not through the route): they
        warm it and are never counted as real traffic."""
        with self._lock:
            if self.serving_since is None:
                self.serving_since = t

    def set_replicas(
        self, t: float, replicas: int, rps: float, median_s: float, sigma: float
    ) -> int:
        """Scale the canary; going to zero severs what is in flight, returned."""
        with self._lock:
            cut = 0
            if replicas == 0 and self._replicas > 0:
                cut = round(self._in_flight(t, rps, median_s, sigma))
                self.severed += cut
                # Nothing admitted before now is in flight any more.
                self._stretches = [
                    _Stretch(t, s.end, s.weight) for s in self._stretches if s.end is None
                ]
            if replicas > 0 and self._replicas == 0:
                self.serving_since = None  # new pods start cold
            self._replicas = replicas
            return cut

    # -- what the engine reads

    @property
    def weight(self) -> float:
        with self._lock:
            return self._weight

    @property
    def replicas(self) -> int:
        with self._lock:
            return self._replicas

    def weight_at(self, t: float) -> float:
        """The canary's share of real traffic at ``t``."""
        with self._lock:
            for s in reversed(self._stretches):
                if s.start <= t and (s.end is None or t < s.end):
                    return s.weight
            return 0.0

    def in_flight(self, t: float, rps: float, median_s: float, sigma: float) -> float:
        """Requests in flight on the canary at ``t``, for a fleet taking ``rps`` in all
        with log-normal latency (``median_s``, ``sigma``)."""
        with self._lock:
            return self._in_flight(t, rps, median_s, sigma)

    def _in_flight(self, t: float, rps: float, median_s: float, sigma: float) -> float:
        if self._replicas == 0:
            return 0.0
        total = 0.0
        for s in self._stretches:
            if s.start >= t:
                continue
            end = t if s.end is None else min(s.end, t)
            # Admitted over [start, end): still running at t when latency > t - admitted.
            total += s.weight * (
                _excess(t - end, median_s, sigma) - _excess(t - s.start, median_s, sigma)
            )
        return max(0.0, rps * total)
