from __future__ import annotations

import pytest

from tui.domain.format import fmt_latency, fmt_ratio, fmt_rps
from tui.durations import human_age, parse_duration, promql_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", "m5", "-3", "5x"])
def test_parse_duration_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_promql_duration() -> None:
    assert [promql_duration(s) for s in (300, 30, 7200, 90)] == ["5m", "30s", "2h", "90s"]


def test_human_age() -> None:
    assert [human_age(s) for s in (4, 130, 3900)] == ["4s", "2m10s", "1h05m"]


def test_formats() -> None:
    assert fmt_latency(0.85) == "850ms"
    assert fmt_latency(2.345) == "2.35s"
    assert fmt_latency(12.34) == "12.3s"
    assert fmt_latency(123.4) == "123s"
    assert all(len(fmt_latency(s)) <= 5 for s in (0.9994, 9.994, 99.94, 999.4))
    assert fmt_latency(None) == "–"
    assert fmt_ratio(0.2) == "20.0%"
    assert fmt_ratio(0.0042) == "0.42%"
    assert fmt_rps(1530) == "1.5k"
