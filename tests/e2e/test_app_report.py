"""The acceptance of the incident report: in gpu-oom, walk the runbook to its OOM leaf,
turn the fallback on against kmock's emulator, press `e`: the report's timeline holds
the 5xx crossing, the OOM events, the path and the toggle, at their times; it matches
the golden files; a second export asks before replacing; Escape writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cockpit_pilot import done, press
from demo_app import EPOCH, frozen_demo_app, settle
from kubernetes.client import ApiClient
from mitigation_rig import choose
from textual.widgets import Button

from tui.actions.kube import Mitigator
from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.config import MitigationSettings
from tui.store.timeline import Timeline
from widgets.screens.report_form import ReportForm

GOLDEN = Path(__file__).parents[1] / "golden"
UPDATE = os.environ.get("WARROOM_UPDATE_GOLDEN") == "1"
"""Set to rewrite the golden files after an intended change; then read the diff."""


def app_for(api: ApiClient, tmp_path: Path) -> WarroomApp:
    mitigator = Mitigator(api, MitigationSettings(), clock=FrozenClock(EPOCH + 900),
                          context="prod-us-east")  # fmt: skip
    timeline = Timeline(tmp_path / "state" / "incidents" / "t.jsonl")
    timeline.path.parent.mkdir(parents=True)
    return frozen_demo_app("gpu-oom", at_s=900, timeline=timeline, mitigator=mitigator)


def clock_of(app: WarroomApp) -> FrozenClock:
    assert isinstance(app.clock, FrozenClock)
    return app.clock


async def export(pilot: Any, app: WarroomApp) -> ReportForm:
    await press(pilot, "e")
    form = app.screen
    assert isinstance(form, ReportForm)
    return form


async def test_report_after_a_walk_and_a_fallback_toggle(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    reports = tmp_path / "state" / "reports"
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        clock = clock_of(app)
        clock.at += 60  # the responder opens the runbook a minute later
        await press(pilot, "t")
        for _ in range(4):
            clock.at += 20
            await press(pilot, "enter")
        await press(pilot, "escape")
        clock.at += 60
        await press(pilot, "m")
        await choose(pilot, "fallback-on")
        app.screen.query_one("#ca-apply", Button).press()
        await done(pilot)
        clock.at += 30
        form = await export(pilot, app)
        assert form.report.severity == "SEV3"
        assert form.report.root_cause.startswith("GPU out of memory surfacing as 5xx")
        form.query_one("#rf-export", Button).press()
        await done(pilot)
        await app.workers.wait_for_complete()
        markdown = (reports / "incident-20261118T111010Z.md").read_text()
        data = json.loads((reports / "incident-20261118T111010Z.json").read_text())
        assert (reports / "incident-20261118T111010Z.svg").read_text().startswith("<svg")

        # Exporting again: the form says the report is there and offers Replace.
        form = await export(pilot, app)
        assert form.existing and str(form.query_one("#rf-export", Button).label) == "Replace"
        await press(pilot, "escape")
        assert not isinstance(app.screen, ReportForm)

    events = [row["event"] for row in data["timeline"]]
    times = {row["event"]: row["time"] for row in data["timeline"]}
    crossing = next(e for e in events if e.startswith("codellama-34b-instruct: 5xx crossed"))
    oom = next(e for e in events if e.startswith("oom: gpu-node-006 GPU 6"))
    toggle = next(e for e in events if e.startswith("Turn on the fallback provider")
                  and e.endswith(": done"))  # fmt: skip
    reached = next(e for e in events if e.startswith("Runbook reached:"))
    # In the order they happened, at the times they happened.
    assert events.index(crossing) < events.index(oom) < events.index(reached)
    assert events.index(reached) < events.index(toggle)
    assert times[toggle] == "2026-11-18T11:25:00Z"
    answers = [(s["answer"], s["by"]) for s in data["decision_path"] if s["answer"]]
    assert answers == [("yes", "evidence")] * 3
    assert data["decision_path"][0]["evidence"] == "gpu_oom_events > 0 (gpu_oom_events = 12)"
    assert times[crossing] == "2026-11-18T11:10:20Z"
    assert times[oom] == "2026-11-18T11:13:00Z"
    assert data["start"] == "2026-11-18T11:10:10Z" and data["ongoing"] is True
    assert data["severity"]["level"] == "SEV3"

    golden_md = GOLDEN / "report-gpu-oom.md"
    golden_json = GOLDEN / "report-gpu-oom.json"
    if UPDATE:
        golden_md.write_text(markdown)
        golden_json.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert markdown == golden_md.read_text()
    assert data == json.loads(golden_json.read_text())
