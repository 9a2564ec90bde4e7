"""A snapshot is judged once per refresh (`tui.domain.assessed`), and every reader reads
that judgement: the verdicts are `assess`'s, the panes, the report and the headless
output agree with them, and no module applies the rule anywhere else."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from demo_app import AT_S, EPOCH, frozen_demo_app, settle

from tui.cli.snapshot import snapshot_json
from tui.clock import FrozenClock
from tui.config import Slo
from tui.domain import severity
from tui.domain.assessed import Assessed, judge
from tui.domain.cause import suspect
from tui.domain.model import AGGREGATE, GpuEvent, ModelHealth, Snapshot
from tui.domain.severity import Level, assess, rank
from tui.domain.signals import read
from tui.domain.triage import worst_symptom
from tui.sim.source import DemoSource
from widgets.cause_line import CauseLine
from widgets.health_table import SYMBOL, HealthTable
from widgets.status_bar import StatusBar

ROOT = Path(__file__).resolve().parents[2]
SLO = Slo()
SIZE = (160, 48)


def demo_snapshot(scenario: str = "gpu-oom") -> Snapshot:
    """The demo fleet in an incident, with a CUDA OOM on the sick model's first GPU (the
    pod evidence a refresh reads apart)."""
    clock = FrozenClock(EPOCH + AT_S)
    source = DemoSource(scenario, clock=clock, epoch=EPOCH, history_s=0.0)
    snap = source.refresh_now()
    sick = source.scenario.expected(source.fleet).model
    g = next(g for g in snap.gpus if g.model == sick)
    oom = GpuEvent(snap.taken_at - timedelta(minutes=1), "oom", "CUDA out of memory",
                   node=g.node, gpu=g.gpu, model=sick)  # fmt: skip
    return replace(snap, events=(*snap.events, oom))


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every verdict made from now on, by model: the rule wrapped where it is looked up."""
    calls: list[str] = []
    real = severity.assess

    def counted(health: ModelHealth, slo: Slo) -> severity.Assessment:
        calls.append(health.model)
        return real(health, slo)

    monkeypatch.setattr(severity, "assess", counted)
    return calls


# -- the value ------------------------------------------------------------------------


def test_the_verdicts_are_assess_per_model_and_the_rest_is_read_from_them() -> None:
    snap = demo_snapshot()
    assessed = Assessed.build(snap, SLO, events=snap.events, within_s=1800)
    for m in (*snap.models, snap.aggregate):
        assert assessed.of(m) == assess(m, SLO)
    breaching = [m for m in snap.models if assess(m, SLO).level == Level.BREACH]
    assert breaching and assessed.breaching == len(breaching)
    verdicts = judge(snap, SLO)
    assert list(assessed.ranked) == rank(snap.models, SLO, verdicts)
    assert assessed.symptom == worst_symptom(snap.models, snap.aggregate, SLO, verdicts)
    assert assessed.symptom is not None and assessed.symptom.model == breaching[0].model
    causes = suspect(snap.models, snap.gpus, snap.events, SLO, now=snap.taken_at,
                     within_s=1800, verdicts=verdicts)  # fmt: skip
    assert assessed.causes == causes and causes
    # The navigator's evidence and the headless output read the same verdicts.
    facts = assessed.facts(assessed.symptom.model)
    assert read(["models_breaching"], facts) == {"models_breaching": len(breaching)}
    out = snapshot_json(assessed)
    assert out["breaching"] == len(breaching)
    assert [e["model"] for e in out["models"]] == [m.model for m in assessed.ranked]
    for entry in out["models"]:
        verdict = assessed.of(snap.model(entry["model"]))  # type: ignore[arg-type]
        assert entry["severity"] == round(verdict.severity, 4)
        assert entry["worst_signal"] == verdict.worst


def test_it_judges_each_row_once_and_learning_events_judges_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snap = demo_snapshot()
    calls = counting(monkeypatch)
    assessed = Assessed.build(snap, SLO, within_s=1800)
    assert sorted(calls) == sorted(m.model for m in (*snap.models, snap.aggregate))
    assert assessed.causes == {}  # no GPU evidence handed over yet
    calls.clear()
    later = assessed.with_events(snap.events)
    assert calls == []
    assert later.causes and later.verdicts is assessed.verdicts
    assert assessed.with_events(assessed.events) is assessed


def test_a_narrowed_snapshot_reads_the_whole_snapshots_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`/` hands the table the rows the filter keeps: the same rows, judged already."""
    from tui.domain.name_filter import narrowed

    snap = demo_snapshot()
    assessed = Assessed.build(snap, SLO)
    calls = counting(monkeypatch)
    kept = narrowed(snap, snap.models[0].model)
    for m in (*kept.models, kept.aggregate):
        assert assessed.of(m) == assess(m, SLO)
    assert calls == []


# -- in the cockpit -------------------------------------------------------------------


def status_text(app: object) -> str:
    return str(app.query_one(StatusBar).render())  # type: ignore[attr-defined]


async def test_the_cockpit_judges_once_per_refresh_and_every_pane_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counting(monkeypatch)
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assessed = app.tracker.assessed
        assert assessed is not None
        snap = assessed.snapshot
        rows = len(snap.models) + 1
        assert len(calls) == rows, "one verdict per row for the first refresh"

        # The panes read that judgement.
        table = app.query_one(HealthTable)
        for m in (*snap.models, snap.aggregate):
            assert table.get_cell(m.model, "state").plain == SYMBOL[assessed.of(m).level]
        assert f"{assessed.breaching}/{len(snap.models)} breaching" in status_text(app)
        assert assessed.breaching > 0 and assessed.causes
        assert app.causes == assessed.causes
        sickest = next(iter(assessed.causes))
        assert sickest in str(app.query_one(CauseLine).render())

        # A refresh judges its snapshot once more; what else happens judges nothing.
        await pilot.press("r")
        await settle(pilot)
        assert len(calls) == 2 * rows
        assert app.tracker.assessed is not None
        assert app.tracker.assessed.snapshot is app.tracker.current
        report = app.incident_report()
        assert report is not None
        await pilot.press("t")
        await settle(pilot)
        assert len(calls) == 2 * rows


async def test_the_name_filter_narrows_the_table_not_the_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counting(monkeypatch)
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assessed = app.tracker.assessed
        assert assessed is not None
        snap = assessed.snapshot
        count = f"{assessed.breaching}/{len(snap.models)} breaching"
        assert count in status_text(app)
        sick = assessed.ranked[0]
        healthy = next(
            m for m in snap.models if assessed.of(m).level == Level.OK and m.model not in sick.model
        )
        before = len(calls)

        await pilot.press("slash")
        await pilot.press(*healthy.model)
        await settle(pilot)
        table = app.query_one(HealthTable)
        shown = {table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)}
        assert sick.model not in shown and healthy.model in shown and AGGREGATE in shown
        assert table.get_cell(healthy.model, "state").plain == SYMBOL[Level.OK]
        # The top line counts every model, as before the filter; nothing was judged again.
        assert count in status_text(app)
        assert len(calls) == before


# -- the rule is applied in one place -------------------------------------------------


class _Calls(ast.NodeVisitor):
    """Each call of ``assess`` (plain or through its module), with the function it is in."""

    def __init__(self) -> None:
        self.found: list[tuple[str, int]] = []
        self._in: list[str] = ["<module>"]

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._in.append(node.name)
        self.generic_visit(node)
        self._in.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name == "assess":
            self.found.append((self._in[-1], node.lineno))
        self.generic_visit(node)


def test_assess_is_called_only_by_the_builder() -> None:
    calls: list[tuple[str, str]] = []
    for path in sorted([*ROOT.glob("tui/**/*.py"), *ROOT.glob("widgets/**/*.py")]):
        visitor = _Calls()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        rel = path.relative_to(ROOT).as_posix()
        calls += [(rel, f"{function}:{line}") for function, line in visitor.found]
    where = [(rel, at.split(":")[0]) for rel, at in calls]
    assert where == [("tui/domain/assessed.py", "judge_rows")], (
        "assess( outside tui.domain.assessed.judge_rows: read the refresh's verdicts "
        f"(`Assessed`) instead: {calls}"
    )
