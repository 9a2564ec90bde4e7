"""The report's analysis, pure: threshold crossings from the history, the severity the
evidence suggests (one case per SEV), the root cause for an OOM and a single-key surge,
the decision path without retraced steps, the start and end of the incident, and the
engineer's overrides keeping the suggestion on record."""

from __future__ import annotations

from typing import Any

import pytest
from report_inputs import NOW_OK, OK, SLO, T0, entry, series, snapshot

from tui.domain.model import AGGREGATE, HistoryPoint, KeyRejections, Snapshot
from tui.domain.report import (
    Overrides,
    apply,
    build_report,
    crossings,
    decision_path,
    suggest_root_cause,
)
from tui.domain.report_text import report_json, report_markdown


def test_crossings_over_and_back_with_gaps_ignored() -> None:
    points = {"m": series(OK, (1.0, 0.05, 0.001), (None, None, None), (1.0, 0.2, 0.001), OK)}
    found = crossings(points, SLO)
    assert [(c.at - T0, c.metric, c.crossed) for c in found] == [(10, "5xx", True),
                                                                   (40, "5xx", False)]  # fmt: skip
    assert found[0].text == "m: 5xx crossed its SLO (5.00% against 1.00%)"
    assert found[1].text.startswith("m: 5xx back under its SLO")


def test_a_history_starting_over_the_line_crosses_at_its_start() -> None:
    found = crossings({"m": series((9.0, 0.0, 0.0), (9.0, 0.0, 0.0))}, SLO)
    assert [(c.at, c.metric) for c in found] == [(T0, "p99")]


def report_for(points: dict[str, list[HistoryPoint]], snap: Snapshot, **kw: Any) -> Any:
    return build_report(snapshot=snap, points=points, events=[], causes={}, entries=[],
                        slo=SLO, now=T0 + 600, **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("whole", "sick", "severity", "why"),
    [
        ((1.0, 0.30, 0.0), [(1.0, 0.5, 0.0)], "SEV1", "user-facing outage"),
        ((16.0, 0.0, 0.0), [(16.0, 0.0, 0.0)], "SEV1", "user-facing outage"),
        ((1.0, 0.02, 0.0), [(1.0, 0.2, 0.0)], "SEV2", "the whole API breached its SLO (5xx"),
        ((1.0, 0.005, 0.0), [(1.0, 0.2, 0.0)], "SEV3", "limited impact: 1 of 4 models"),
        ((1.0, 0.005, 0.0), [(1.0, 0.2, 0.0), (8.0, 0.0, 0.0)], "SEV2", "2 of 4 models"),
        ((1.0, 0.005, 0.0), [(1.0, 0.009, 0.0)], "SEV4", "warnings only"),
    ],
)
def test_severity_by_how_much_of_the_api_the_incident_reached(
    whole: tuple[float, float, float], sick: list[tuple[float, float, float]],
    severity: str, why: str,
) -> None:  # fmt: skip
    names = ["a", "b", "c", "d"]
    points = {AGGREGATE: series(OK, whole)}
    for name, worst in zip(names, sick + [OK] * (4 - len(sick)), strict=True):
        points[name] = series(OK, worst)
    snap = snapshot({AGGREGATE: NOW_OK, **dict.fromkeys(names, NOW_OK)})
    report = report_for(points, snap)
    assert report.severity == severity
    assert why in report.severity_why


def test_single_key_surge_is_named_as_the_root_cause() -> None:
    keys = (KeyRejections("key_177149", 40.0, 0.92), KeyRejections("key_4c7690", 2.0, 0.05))
    snap = snapshot({AGGREGATE: (1.0, 0.0, 0.26, 90.0), "a": (1.0, 0.0, 0.3, 50.0)}, keys)
    points = {AGGREGATE: series(OK, (1.0, 0.0, 0.26)), "a": series(OK, (1.0, 0.0, 0.3))}
    report = report_for(points, snap)
    assert report.root_cause.startswith("Single-tenant surge: API key key_177149 drew 92%")
    assert report.severity == "SEV2"
    assert any("key_177149 92%" in line for line in report.impact)


def test_no_evidence_is_said_not_guessed() -> None:
    snap = snapshot({AGGREGATE: NOW_OK})
    cause, items = suggest_root_cause(snap, {}, [], None, SLO)
    assert cause == "Not determined from the evidence warroom saw."
    assert items[0].action == "Find the root cause"


def test_decision_path_drops_retraced_answers_and_keeps_the_evidence() -> None:
    evidence = {"expression": "error_5xx_ratio > 0.05", "values": {"error_5xx_ratio": 0.2},
                "suggested": "yes"}  # fmt: skip
    entries = [
        entry("runbook.opened", 0, runbook="errors-5xx", title="5xx surge", model="m"),
        entry("runbook.answer", 10, runbook="errors-5xx", text="5xx over 5 %?", answer="yes",
              by="evidence", evidence=evidence),
        entry("runbook.answer", 20, runbook="errors-5xx", text="Provider down?", answer="yes"),
        entry("runbook.back", 25, runbook="errors-5xx", text="Provider down?"),
        entry("runbook.answer", 30, runbook="errors-5xx", text="Provider down?", answer="no"),
        entry("runbook.reached", 40, runbook="errors-5xx", title="GPU OOM: mitigate"),
    ]  # fmt: skip
    path = decision_path(entries)
    assert [(s.text, s.answer) for s in path] == [
        ("5xx over 5 %?", "yes"), ("Provider down?", "no"), ("Reached: GPU OOM: mitigate", None)
    ]  # fmt: skip
    assert path[0].evidence == "error_5xx_ratio > 0.05 (error_5xx_ratio = 0.2)"


def test_span_ends_at_the_last_recovery_once_all_is_back_under() -> None:
    points = {"a": series(OK, (1.0, 0.2, 0.0), (1.0, 0.2, 0.0), OK, OK)}
    snap = snapshot({AGGREGATE: NOW_OK, "a": NOW_OK})
    report = report_for(points, snap)
    assert (report.start, report.end, report.duration_s) == (T0 + 10, T0 + 30, 20)
    assert report_json(report)["ongoing"] is False
    still = report_for({"a": series(OK, (1.0, 0.2, 0.0))}, snap)
    assert still.end is None and still.duration_s == 590
    assert "ongoing at export" in report_markdown(still)


def test_overrides_win_and_the_suggestion_stays_on_record() -> None:
    points = {"a": series(OK, (1.0, 0.2, 0.0))}
    snap = snapshot({AGGREGATE: NOW_OK, **dict.fromkeys("abcd", NOW_OK)})
    report = report_for(points, snap)
    edited = apply(report, Overrides(severity="SEV2", root_cause="A bad batch config."))
    assert (edited.severity, edited.severity_suggested) == ("SEV2", "SEV3")
    assert edited.severity_why.startswith("set by the engineer (suggested SEV3")
    text = report_markdown(edited)
    assert "A bad batch config." in text and "(warroom suggested: " in text
    data = report_json(edited)
    assert data["root_cause_suggested"] == report.root_cause
    assert data["severity"]["suggested"] == "SEV3"


def test_markdown_table_cells_survive_a_pipe_in_a_log_line() -> None:
    entries = [entry("gpu.oom", 5, node="n1", gpu=0, pod="p", detail="a | b")]
    snap = snapshot({AGGREGATE: NOW_OK})
    report = build_report(snapshot=snap, points={}, events=[], causes={}, entries=entries,
                          slo=SLO, now=T0 + 600)  # fmt: skip
    rows = report_markdown(report).splitlines()
    line = next(row for row in rows if row.startswith("| ") and "a \\| b" in row)
    assert line.replace("\\|", "").count("|") == 3  # two cells: time, event


def test_title_names_the_signal_that_breached_not_the_first_one_read() -> None:
    snap = snapshot({AGGREGATE: NOW_OK, **dict.fromkeys("abcd", NOW_OK)})
    slow = report_for({"a": series(OK, (16.0, 0.001, 0.001))}, snap)
    assert slow.title == "a: p99 16.0s over its SLO"
    rejected = report_for({"b": series(OK, (1.0, 0.0, 0.3))}, snap)
    assert rejected.title == "b: 429 30.0% over its SLO"


def test_worst_is_each_figure_at_its_highest_never_below_now() -> None:
    # The worst moment is the 5xx peak (20 x its SLO); p99 and 429 peaked at other
    # moments, and p99 is higher still now than anywhere in the history.
    points = {"a": series(OK, (2.0, 0.2, 0.001), (3.0, 0.05, 0.03), (2.5, 0.1, 0.002))}
    snap = snapshot({AGGREGATE: NOW_OK, "a": (3.5, 0.08, 0.002, 10.0)})
    report = report_for(points, snap)
    a = next(m for m in report.models if m.model == "a")
    assert a.worst == {"p99_s": 3.5, "error_5xx_ratio": 0.2, "rate_429_ratio": 0.03}
    assert a.worst_at == T0 + 10  # when it was furthest over a line: the 5xx peak
    for signal, value in a.worst.items():
        assert value is not None and value >= (a.now[signal] or 0.0), signal
    row = next(line for line in report_markdown(report).splitlines() if line.startswith("| a |"))
    assert row.split(" | ")[2:7] == ["3.50s", "20.0%", "3.00%", "3.50s", "8.00%"]
    # A model with no history is at its worst now; no figure at all is no worst moment.
    empty = snapshot({AGGREGATE: NOW_OK, "b": (1.0, 0.5, 0.0, 1.0)})
    b = next(m for m in report_for({}, empty).models if m.model == "b")
    assert b.worst == {"p99_s": 1.0, "error_5xx_ratio": 0.5, "rate_429_ratio": 0.0}
    assert b.worst_at == T0 + 600 and b.breached
