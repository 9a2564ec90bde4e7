"""The canary view on its own: what it draws for a drive state, read back as plain text
(and, where the colour is the point, as styled segments)."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from rich.console import Console, RenderableType
from rich.style import Style
from textual.app import App, ComposeResult

from tui.domain.canary import CanaryPolicy, Gate, Reading, Side, Verdict
from tui.domain.drive_state import DriveState
from widgets.canary_view import CanaryView, canary_renderable

POLICY = CanaryPolicy()
ROLLED_BACK_AT = 1_795_000_905.0
"""11:21:45 UTC."""

CANARY = Side(1314, 1, 3.71, "2024-07-23")
BASELINE = Side(24868, 22, 2.32, "2024-07-23")
GATES = (
    Gate("error_rate", 1 / 1314, 22 / 24868, 22 / 24868 * 1.5),
    Gate("p99", 3.71, 2.32, 2.32 * 1.2),
)
ROLLBACK = Verdict(
    "rollback",
    "p99 regressed at 5 %: canary 3.71 s > gate 2.78 s (baseline 2.32 s × 1.2) over 1314 requests.",
    5,
    metric="p99",
    value=3.71,
    threshold=2.32 * 1.2,
    samples=1314,
    gates=GATES,
)
ROLLED_BACK = DriveState(
    phase="rolled-back",
    stage=0,
    stage_pct=5,
    stage_started=ROLLED_BACK_AT - 305,
    elapsed_s=305.0,
    reading=Reading(CANARY, BASELINE),
    verdict=ROLLBACK,
    history=((ROLLED_BACK_AT, ROLLBACK),),
    message="rolled back: Roll back the canary, drained: done; in-flight requests drained "
    "to 0 in 2 s.",
)

ADVANCED_AT = 1_795_000_500.0
"""11:15:00 UTC."""
ADVANCE = Verdict("advance", "Advance from 5 %: error rate 0.05 % ≤ gate 0.13 %.", 5)
WAIT = Verdict(
    "wait",
    "Holding 25 % for the hold time: 120 of 300 s, 523 of 500 requests.",
    25,
    metric="hold",
    value=120.0,
    threshold=300.0,
    samples=523,
    gates=(Gate("error_rate", 0.0, 9 / 9850, 9 / 9850 * 1.5), Gate("p99", 2.41, 2.30, 2.76)),
)
RAMPING = DriveState(
    phase="ramping",
    stage=1,
    stage_pct=25,
    stage_started=ADVANCED_AT,
    elapsed_s=120.0,
    reading=Reading(Side(523, 0, 2.41, "2024-07-23"), Side(9850, 9, 2.30, "2024-07-23")),
    verdict=WAIT,
    history=((ADVANCED_AT, ADVANCE),),
    message=WAIT.reason,
)
RAMPING_NOW = ADVANCED_AT + 120


def plain(renderable: RenderableType, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def line_with(text: str, needle: str) -> str:
    """The one line holding ``needle``; fails when there is none."""
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, f"no line with {needle!r} in:\n{text}"
    return lines[0]


def stage_line(text: str, pct: int) -> str:
    """The ladder's row for ``pct``: a mark, then the percentage."""
    rows = [line for line in text.splitlines() if line[1:].lstrip().startswith(f"{pct} %")]
    assert len(rows) == 1, f"no single row for {pct} % in:\n{text}"
    return rows[0]


def style_of(renderable: RenderableType, needle: str, width: int = 80) -> Style:
    """The style the text ``needle`` is drawn in."""
    console = Console(width=width, color_system="truecolor")
    for segment in console.render(renderable, console.options):
        if needle in segment.text and segment.style is not None:
            return segment.style
    raise AssertionError(f"{needle!r} is not drawn")


def view(state: DriveState, now: float, watch_only: bool = False) -> CanaryView:
    widget = CanaryView()
    widget.show(state, POLICY, now, watch_only)
    return widget


def test_rollback_at_5_marks_the_stage_and_names_the_failing_gate() -> None:
    text = plain(view(ROLLED_BACK, ROLLED_BACK_AT).render())
    assert line_with(text, "Canary").startswith("Canary  rolled-back at 5 %")
    stage = stage_line(text, 5)
    assert stage.startswith("✗")
    assert "305/300 s" in stage and "1314/500 req" in stage
    for pct in (25, 50, 100):
        assert stage_line(text, pct).startswith("·")
    p99 = line_with(text, "p99  ")
    assert p99.startswith("✗")
    assert "3.71 s" in p99 and "2.32 s" in p99 and "≤ 2.78 s" in p99
    errors = line_with(text, "error rate")
    assert errors.startswith("✓")
    assert "0.08 %" in errors and "0.09 %" in errors and "≤ 0.13 %" in errors
    # The history: UTC time, decision, reason; then the last log line.
    assert "11:21:45 rollback p99 regressed at 5 %" in text
    # The verdict in hand is the history's last entry: said once, not again as "now".
    assert text.count("p99 regressed at 5 %") == 1
    assert "rolled back: Roll back the canary" in text


def test_failing_gate_is_red_and_passing_green() -> None:
    renderable = view(ROLLED_BACK, ROLLED_BACK_AT).render()
    assert style_of(renderable, "3.71 s").color.name == "red"
    assert style_of(renderable, "0.08 %").color.name == "green"
    assert style_of(renderable, "rolled-back").color.name == "red"
    # The hold bar of the rolled-back stage: red beside its ✗, though the hold was served.
    assert style_of(renderable, "█").color.name == "red"
    assert style_of(view(RAMPING, RAMPING_NOW).render(), "█").color.name == "cyan"


def test_ramping_stage_ladder() -> None:
    text = plain(view(RAMPING, RAMPING_NOW).render())
    assert stage_line(text, 5).startswith("✓")
    assert "advance 11:15:00" in stage_line(text, 5)
    current = stage_line(text, 25)
    assert current.startswith("▶")
    assert "120/300 s" in current and "523/500 req" in current
    assert "█" in current and "░" in current
    assert stage_line(text, 50).startswith("·")
    assert stage_line(text, 100).startswith("·")
    # The wait is not in the history: it is the verdict in hand, said once.
    assert text.count("Holding 25 %") == 1
    assert re.search(r"^now +wait +Holding 25 %", text, re.MULTILINE)


def test_hold_timer_runs_on_between_polls_while_ramping() -> None:
    text = plain(view(RAMPING, RAMPING_NOW + 30).render())
    assert "150/300 s" in stage_line(text, 25)
    stopped = plain(view(ROLLED_BACK, ROLLED_BACK_AT + 600).render())
    assert "305/300 s" in stage_line(stopped, 5)


def test_promoted_marks_every_stage_done() -> None:
    promote = Verdict("promote", "Promote at 100 %.", 100)
    state = replace(
        RAMPING,
        phase="promoted",
        stage=3,
        stage_pct=100,
        verdict=promote,
        history=(
            *(
                (ADVANCED_AT, replace(promote, decision="advance", stage_pct=p))
                for p in (5, 25, 50)
            ),
            (ADVANCED_AT, promote),
        ),
    )
    text = plain(view(state, RAMPING_NOW).render())
    for pct in (5, 25, 50, 100):
        assert stage_line(text, pct).startswith("✓")
    assert "▶" not in text


def test_failed_drive_marks_the_stage_it_broke_in() -> None:
    # The rollback itself did not complete: the stage it was rolling back is ✗.
    broken = replace(ROLLED_BACK, phase="failed")
    assert stage_line(plain(view(broken, ROLLED_BACK_AT).render()), 5).startswith("✗")
    # The route refused the next weight after 5 % had advanced: 5 % stays passed.
    stuck = replace(RAMPING, phase="failed", stage=0, stage_pct=5)
    text = plain(view(stuck, RAMPING_NOW).render())
    assert stage_line(text, 5).startswith("✓")
    assert "▶" not in text and "✗" not in text.split("Canary vs baseline")[0]


def test_nothing_on_the_ladder_before_the_first_stage() -> None:
    refused = Verdict("refuse", "The canary serves model version 2024-08-01 …", 5)
    state = DriveState(phase="refused", verdict=refused, history=((ADVANCED_AT, refused),))
    text = plain(view(state, ADVANCED_AT).render())
    for pct in (5, 25, 50, 100):
        assert stage_line(text, pct).startswith("·")
    assert "refuse" in text


def test_no_gates_reads_no_data_yet_neither_pass_nor_fail() -> None:
    no_data = Verdict("no-data", "No canary figures yet at 25 %.", 25)
    state = replace(RAMPING, reading=None, verdict=no_data, history=())
    text = plain(view(state, RAMPING_NOW).render())
    section = text.split("Canary vs baseline")[1].split("Verdicts")[0]
    assert "no data yet" in section
    assert "✓" not in section and "✗" not in section
    assert "–/500 req" in stage_line(text, 25)
    # With both gates known, the words are gone.
    known = plain(view(RAMPING, RAMPING_NOW).render())
    assert "no data yet" not in known


def test_missing_p99_gate_is_no_data_not_a_pass() -> None:
    verdict = replace(WAIT, gates=WAIT.gates[:1])
    text = plain(view(replace(RAMPING, verdict=verdict), RAMPING_NOW).render())
    p99 = line_with(text, "p99  ")
    assert "no data yet" in p99
    assert "✓" not in p99 and "✗" not in p99


def test_paused_in_title() -> None:
    assert "PAUSED" not in plain(view(RAMPING, RAMPING_NOW).render())
    text = plain(view(replace(RAMPING, paused=True), RAMPING_NOW).render())
    assert "PAUSED" in line_with(text, "Canary  ramping")
    assert "p resume" in text


def test_watch_only_offers_the_rollback_but_not_the_drive_keys() -> None:
    driving = plain(view(RAMPING, RAMPING_NOW).render())
    assert "A abort (drained rollback)" in driving
    assert "P promote" in driving
    watching = plain(view(RAMPING, RAMPING_NOW, watch_only=True).render())
    assert "watch only" in line_with(watching, "Canary  ramping")
    assert "abort" not in watching and "P promote" not in watching
    assert "p pause" not in watching
    assert line_with(watching, "esc back").strip() == "A drained rollback · esc back"


def test_a_screen_that_may_not_act_offers_only_back() -> None:
    widget = CanaryView()
    for watch_only in (False, True):
        widget.show(RAMPING, POLICY, RAMPING_NOW, watch_only, acts=False)
        text = plain(widget.render())
        assert line_with(text, "esc back").strip() == "esc back", watch_only


def test_ended_or_rolling_back_drive_offers_only_back() -> None:
    for phase in ("rolled-back", "rolling-back", "promoted"):
        text = plain(view(replace(ROLLED_BACK, phase=phase), ROLLED_BACK_AT).render())
        assert "abort" not in text, phase
        assert "esc back" in text


def test_history_newest_last_and_cut_to_the_height() -> None:
    entries = tuple(
        (ADVANCED_AT + 60 * i, replace(ADVANCE, reason=f"verdict number {i}.")) for i in range(30)
    )
    state = replace(RAMPING, history=entries)
    full = plain(canary_renderable(state, POLICY, RAMPING_NOW, width=80))
    assert full.index("verdict number 0.") < full.index("verdict number 29.")
    lines = plain(canary_renderable(state, POLICY, RAMPING_NOW, width=80, height=24)).splitlines()
    assert len(lines) == 24
    assert lines[-1].startswith("p pause")
    text = "\n".join(lines)
    assert "verdict number 29." in text
    assert "verdict number 0." not in text
    assert "earlier" in text
    # The ladder and the gates never give way to the history.
    assert "100 %" in text and "error rate" in text


def test_model_version_mismatch_is_said_with_the_figures() -> None:
    reading = Reading(replace(CANARY, model_version="2024-08-01"), BASELINE)
    text = plain(view(replace(ROLLED_BACK, reading=reading), ROLLED_BACK_AT).render())
    assert "model version: canary 2024-08-01, baseline 2024-07-23" in text


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield CanaryView()


async def test_show_repaints_the_mounted_view() -> None:
    app = _One()
    async with app.run_test(size=(80, 24)) as pilot:
        widget = app.query_one(CanaryView)
        widget.show(RAMPING, POLICY, RAMPING_NOW)
        await pilot.pause()
        text = plain(widget.render(), width=widget.size.width)
        assert len(text.splitlines()) == widget.size.height
        assert "120/300 s" in text
        widget.show(ROLLED_BACK, POLICY, ROLLED_BACK_AT)
        await pilot.pause()
        text = plain(widget.render(), width=widget.size.width)
        assert "305/300 s" in text
        assert "120/300 s" not in text


def test_spare_room_shows_the_drive_log_without_repeating_itself() -> None:
    log = (
        (ROLLED_BACK_AT - 400, "smoke check passed"),
        (ROLLED_BACK_AT - 305, "stage 5 %: HTTPRoute inference/llm-gateway: weight 0 -> 5"),
        (ROLLED_BACK_AT, ROLLBACK.reason),
        (ROLLED_BACK_AT + 2, ROLLED_BACK.message),
    )
    state = replace(ROLLED_BACK, log=log)
    tall = plain(canary_renderable(state, POLICY, ROLLED_BACK_AT, width=120, height=50), 120)
    assert "Log" in tall.splitlines()
    assert "smoke check passed" in tall and "weight 0 -> 5" in tall
    # The verdict's reason and the last line are on screen once each, not again in the log.
    assert tall.count(ROLLBACK.reason) == 1
    assert tall.count(ROLLED_BACK.message) == 1
    # Short of room, the log gives way first: nothing else is cut for it.
    short = plain(canary_renderable(state, POLICY, ROLLED_BACK_AT, width=80, height=19))
    assert "Log" not in short.splitlines() and "smoke check passed" not in short
    assert ROLLBACK.reason[:40] in short and "esc back" in short


def test_stages_promoted_past_by_hand_read_skipped_not_passed() -> None:
    promote = Verdict("promote", "Promote at 100 %: …", 100, gates=GATES)
    state = replace(
        RAMPING, phase="promoted", stage=3, stage_pct=100, verdict=promote,
        history=((RAMPING_NOW - 400, RAMPING.history[0][1]), (RAMPING_NOW, promote)),
    )  # fmt: skip
    text = plain(view(state, RAMPING_NOW).render())
    assert stage_line(text, 5).startswith("✓")
    for pct in (25, 50):
        line = stage_line(text, pct)
        assert line.startswith("»") and "skipped: promoted by hand" in line
    assert stage_line(text, 100).startswith("✓")


# --- issue 22 item 6: a decided drive keeps no "Holding … for the hold time" line ---------

HOLDING_100 = Verdict(
    "wait",
    "Holding 100 % for the hold time: 90.6 of 300 s, 7850 of 500 requests.",
    100,
    metric="hold",
    value=90.6,
    threshold=300.0,
    samples=7850,
    gates=GATES,
)
ABORTED_AT_100 = DriveState(
    phase="rolled-back",
    stage=3,
    stage_pct=100,
    stage_started=ROLLED_BACK_AT - 92,
    elapsed_s=90.6,
    reading=Reading(Side(7850, 7, 2.33, "2024-07-23"), BASELINE),
    verdict=HOLDING_100,
    history=((ADVANCED_AT, ADVANCE),),
    message="rolled back: Roll back the canary, drained: done; in-flight requests drained "
    "to 0 in 2 s.",
)


@pytest.mark.parametrize(
    ("phase", "message"),
    [
        ("rolled-back", ABORTED_AT_100.message),
        ("rolling-back", "rolling back at 100 %: aborted by sre@bastion"),
        ("failed", "the rollback did not complete: the route refused the change."),
    ],
)
async def test_a_decided_drive_drops_the_hold_line(phase: str, message: str) -> None:
    app = _One()
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(CanaryView)
        widget.show(replace(ABORTED_AT_100, phase=phase, message=message), POLICY, ROLLED_BACK_AT)
        await pilot.pause()
        text = plain(widget.render(), width=widget.size.width)
        assert "Holding" not in text and "hold time" not in text
        assert message in text
        # The figures it stopped on stay: the stage's row and the gates.
        assert "90/300 s" in stage_line(text, 100)
        assert "error rate" in text


async def test_a_live_stage_still_shows_its_hold_line() -> None:
    app = _One()
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(CanaryView)
        live = replace(ABORTED_AT_100, phase="ramping", message="stage 100 %: …")
        widget.show(live, POLICY, ROLLED_BACK_AT)
        await pilot.pause()
        text = plain(widget.render(), width=widget.size.width)
        assert "now      wait     Holding 100 % for the hold time: 90.6 of 300 s" in text
