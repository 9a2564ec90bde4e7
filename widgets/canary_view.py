"""The canary view: a gateway canary rollout as the driver last left it.

Top to bottom: the phase, the stage ladder (done ✓, current ▶ with its hold and request
count, rolled back ✗, skipped by a promotion », future dim), canary against baseline at
each gate, the verdicts that moved the rollout (UTC, newest last), on a tall screen the
drive's log, the last log line and the keys. Every mark is a symbol as well as a colour,
so it reads on a monochrome terminal.

It only renders: `show` hands it a `DriveState`, the policy and the time, and it draws
what they say. Where the history does not fit the height, its oldest entries give way,
never the ladder, the gates or the key hint.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Literal

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from tui.clock import utc
from tui.domain.canary import CanaryPolicy, Gate, Verdict, floor_drew_line, fmt_figure
from tui.domain.drive_state import DECIDED, DriveState, Phase
from tui.domain.format import NO_DATA

PHASE_STYLE: dict[Phase, str] = {
    "rolled-back": "bold red",
    "failed": "bold red",
    "refused": "bold red",
    "rolling-back": "bold yellow",
    "promoted": "bold green",
}
"""Phases with a colour of their own; the rest are bold in the default colour."""
DECISION_STYLE: dict[str, str] = {
    "advance": "green",
    "promote": "bold green",
    "rollback": "bold red",
    "refuse": "bold red",
    "no-data": "dim",
}

PENDING = ("wait", "no-data")
"""Verdicts that decide nothing: they say where a live stage stands, not how it ended."""

DONE, CURRENT, FAILED, FUTURE, SKIPPED = "✓", "▶", "✗", "·", "»"
PASS, FAIL, UNKNOWN = "✓", "✗", "?"
BAR_FULL, BAR_EMPTY = "█", "░"
"""Full and empty cells read apart without colour, unlike a bar drawn in one glyph."""
BAR_MIN, BAR_MAX = 10, 40

METRICS: tuple[tuple[str, str], ...] = (("error_rate", "error rate"), ("p99", "p99"))
"""The gates in the order the judge computes them, with their names on screen."""
KEYS = "p pause · P promote · A abort (drained rollback) · esc back"
WATCH_KEYS = "A drained rollback · esc back"
"""Watching someone else's drive: it cannot be paused or promoted from here, but the
canary can still be taken out of traffic, as the mitigation it is."""
BACK = "esc back"
DEFAULT_WIDTH = 80
"""The width drawn at before the widget has a size (a test rendering it unmounted)."""
WIDE = 100
"""Width from which the gates show their ratio to the baseline and how each line was set."""

_MEASURE = Console(file=io.StringIO(), width=DEFAULT_WIDTH, color_system=None)
"""Counts the lines a part wraps to; it never writes anywhere."""


class CanaryView(Widget):
    """Renders the canary drive handed to `show`; it never reads a source."""

    DEFAULT_CSS = """
    CanaryView { height: 1fr; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._state = DriveState()
        self._policy = CanaryPolicy()
        self._now = 0.0
        self._watch_only = False
        self._acts = True
        self._shown: tuple[object, ...] | None = None

    def show(
        self,
        state: DriveState,
        policy: CanaryPolicy,
        now: float,
        watch_only: bool = False,
        acts: bool = True,
    ) -> None:
        """Repaint only when what is drawn changes: ``now`` moves the hold timer by whole
        seconds, and a poll that changed nothing on screen costs no redraw over SSH.
        ``acts`` is False where no key may change anything (a kiosk screen)."""
        key = (state, policy, math.floor(hold_elapsed(state, now)), watch_only, acts)
        self._state, self._policy, self._now = state, policy, now
        self._watch_only, self._acts = watch_only, acts
        if key != self._shown:
            self._shown = key
            self.refresh()

    def render(self) -> RenderableType:
        size = self.size
        # Unmounted (a test calling render()), there is no size: draw at 80 columns and
        # let the content set the height.
        width = size.width or DEFAULT_WIDTH
        height = size.height or None
        return canary_renderable(
            self._state, self._policy, self._now, self._watch_only, self._acts,
            width=width, height=height,
        )  # fmt: skip


def hold_elapsed(state: DriveState, now: float) -> float:
    """Seconds the current stage has held. While ramping the clock runs on between two
    polls, so the timer does not stand still for the poll interval; once the drive
    stopped, the figure the last verdict was judged on stands."""
    if state.phase in ("ramping", "watching") and state.stage_started is not None:
        return max(state.elapsed_s, now - state.stage_started)
    return state.elapsed_s


def canary_renderable(
    state: DriveState,
    policy: CanaryPolicy,
    now: float,
    watch_only: bool = False,
    acts: bool = True,
    *,
    width: int = DEFAULT_WIDTH,
    height: int | None = None,
) -> RenderableType:
    """The whole view at ``width`` cells; with a ``height``, the history is cut to fit
    and the key hint sits on the bottom line."""
    top: list[RenderableType] = [
        title(state, watch_only),
        Text(),
        ladder_heading(policy),
        ladder(state, policy, now, width),
        Text(),
        *comparison(state, policy, width),
        Text(),
        Text("Verdicts", style="bold"),
    ]
    last = footer(state)
    hint = key_hint(state, watch_only, acts)
    entries = [history_row(when, verdict) for when, verdict in state.history]
    if not entries:
        entries = [Text("none yet", style="dim")]
    if height is None:
        return Group(*top, *entries, *last, hint)
    # The message follows the history it continues; only the hint goes to the bottom
    # line, where keys are looked for.
    used = _lines(Group(*top, *last, hint), width)
    kept = _fit(entries, height - used, width)
    gap = height - used - sum(_lines(e, width) for e in kept)
    # Room to spare (a wall screen): the drive's own log, oldest first, what it did
    # between the verdicts. The last line then closes the log, in its place in time,
    # rather than standing under it; the verdicts are not said twice.
    said = {v.reason for _, v in state.history}
    rows = [log_row(when, line, _message_style(state) if line == state.message else "dim")
            for when, line in state.log if line not in said]  # fmt: skip
    if rows:
        bare = footer(state, message=False)
        room = gap + _lines(Group(*last), width) - _lines(Group(*bare), width)
        fitted = _fit(rows, room - 2, width) if room >= LOG_MIN_ROOM else []
        if any(isinstance(e, Table) for e in fitted):  # a count of earlier lines alone: none
            log = [Text(), Text("Log", style="bold"), *fitted]
            return Group(*top, *kept, *log, *bare,
                         *([Text()] * max(0, room - sum(_lines(e, width) for e in log))),
                         hint)  # fmt: skip
    return Group(*top, *kept, *last, *([Text()] * max(0, gap)), hint)


LOG_MIN_ROOM = 4
"""Spare lines from which the log is shown: its heading, a gap and two lines at least."""


def log_row(when: float, line: str, style: str = "dim") -> Table:
    row = Table.grid(padding=(0, 1), pad_edge=False)
    row.add_column(width=8, no_wrap=True)
    row.add_column(ratio=1)
    row.add_row(Text(f"{utc(when):%H:%M:%S}", style="dim"), Text(line, style=style))
    return row


def title(state: DriveState, watch_only: bool) -> Text:
    text = Text.assemble(
        ("Canary", "bold"), "  ", (state.phase, PHASE_STYLE.get(state.phase, "bold"))
    )
    if state.stage is not None:
        text.append(f" at {state.stage_pct} %")
    if state.paused:
        text.append("  ")
        text.append(" PAUSED ", style="bold reverse yellow")
    if watch_only and state.phase != "watching":
        text.append("  watch only", style="dim")
    return text


def ladder_heading(policy: CanaryPolicy) -> Text:
    return Text.assemble(
        ("Stages", "bold"),
        (
            f"  hold {policy.stage_hold_s:g} s · at least {policy.min_requests} requests"
            f" · warm-up {policy.warmup_s:g} s not counted",
            "dim",
        ),
        overflow="ellipsis",
        no_wrap=True,
    )


StageStatus = Literal["done", "current", "failed", "future", "skipped"]


def ladder(state: DriveState, policy: CanaryPolicy, now: float, width: int) -> Table:
    """One row per stage. The current stage's bar fills over the hold, and its request
    count stands against the minimum: both must be met before a stage passes (a
    significant regression rolls back sooner)."""
    table = Table.grid(padding=(0, 1), pad_edge=False)
    table.add_column(width=1)
    table.add_column(justify="right", width=5)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    decided = {v.stage_pct: (when, v) for when, v in state.history if v.decision != "no-data"}
    elapsed = hold_elapsed(state, now)
    # The labels beside the bar take about 30 cells; the bar has the rest, within bounds.
    bar_width = max(BAR_MIN, min(BAR_MAX, width - 34))
    for index, pct in enumerate(policy.stages):
        status = stage_status(state, index, pct)
        label = Text(f"{pct} %", style=_STAGE_STYLE[status])
        mark = Text(_STAGE_MARK[status], style=_MARK_STYLE[status])
        if status in ("current", "failed"):
            table.add_row(
                mark,
                label,
                bar(elapsed / policy.stage_hold_s, bar_width, failed=status == "failed"),
                hold_timer(elapsed, policy),
                requests(state, policy),
            )
        elif status == "done":
            table.add_row(mark, label, _decided_note(decided.get(pct)))
        elif status == "skipped":
            table.add_row(mark, label, Text("skipped: promoted by hand", style="yellow"))
        else:
            table.add_row(mark, label)
    return table


_STAGE_MARK: dict[StageStatus, str] = {
    "skipped": SKIPPED,
    "done": DONE,
    "current": CURRENT,
    "failed": FAILED,
    "future": FUTURE,
}
_MARK_STYLE: dict[StageStatus, str] = {
    "skipped": "yellow",
    "done": "green",
    "current": "bold",
    "failed": "bold red",
    "future": "dim",
}
_STAGE_STYLE: dict[StageStatus, str] = {
    "skipped": "dim",
    "done": "",
    "current": "bold",
    "failed": "bold red",
    "future": "dim",
}


def stage_status(state: DriveState, index: int, pct: int) -> StageStatus:
    """Where stage ``index`` stands. Before the first stage (smoke, warm-up, a refusal
    with no traffic moved) every stage is still to come."""
    current = state.stage
    if current is None or index > current:
        return "future"
    if index < current and state.phase != "watching":
        # A stage promoted past by hand was never judged: it did not pass.
        passed = {v.stage_pct for _, v in state.history if v.decision in ("advance", "promote")}
        return "done" if pct in passed else "skipped"
    if index < current or state.phase == "promoted":
        return "done"
    if state.phase in ("rolling-back", "rolled-back"):
        return "failed"
    if state.phase == "failed":
        # A drive that broke shifting past a stage it had passed (the route refused the
        # next weight) did not fail that stage: its advance is in the history.
        advanced = {v.stage_pct for _, v in state.history if v.decision == "advance"}
        return "done" if pct in advanced else "failed"
    return "current"


def _decided_note(entry: tuple[float, Verdict] | None) -> Text:
    if entry is None:
        return Text()
    when, verdict = entry
    return Text(f"{verdict.decision} {utc(when):%H:%M:%S}", style="dim")


def bar(fraction: float, width: int, failed: bool = False) -> Text:
    """The hold so far; green once served in full, red on a stage that was rolled back,
    where a green bar would read as a success beside the ✗."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    colour = "red" if failed else "green" if filled == width else "cyan"
    return Text.assemble(
        (BAR_FULL * filled, colour),
        (BAR_EMPTY * (width - filled), "dim"),
    )


def hold_timer(elapsed: float, policy: CanaryPolicy) -> Text:
    # Rounded down, as the judge logs it: 299.9 of 300 s must not read "300/300".
    met = elapsed >= policy.stage_hold_s
    return Text(f"{math.floor(elapsed)}/{policy.stage_hold_s:g} s", style="green" if met else "")


def requests(state: DriveState, policy: CanaryPolicy) -> Text:
    canary = state.reading.canary if state.reading is not None else None
    if canary is None:
        return Text(f"{NO_DATA}/{policy.min_requests} req", style="dim")
    met = canary.requests >= policy.min_requests
    return Text(f"{int(canary.requests)}/{policy.min_requests} req", style="green" if met else "")


def comparison(state: DriveState, policy: CanaryPolicy, width: int) -> list[RenderableType]:
    """Canary against the line the baseline sets, gate by gate. A gate the figures do not
    allow yet reads ``no data yet``: its own state, neither a pass nor a fail. From
    `WIDE` cells on, each gate also says how far the canary is from the baseline and how
    its line was set."""
    heading = Text("Canary vs baseline", style="bold")
    reading = state.reading
    if reading is not None and reading.canary is not None and reading.baseline is not None:
        heading.append(
            f"  {int(reading.canary.requests)} vs {int(reading.baseline.requests)} requests",
            style="dim",
        )
    out: list[RenderableType] = [heading]
    gates = {g.metric: g for g in state.verdict.gates} if state.verdict is not None else {}
    versions = _model_versions(state)
    if versions is not None:
        out.append(Text(versions, style="bold red"))
    if not gates:
        out.append(Text("  no data yet", style="dim"))
        return out
    table = Table(box=None, header_style="dim", pad_edge=False, padding=(0, 1))
    table.add_column(width=1)
    table.add_column(no_wrap=True)
    for name in ("canary", "baseline", "gate"):
        table.add_column(name, justify="right", no_wrap=True)
    wide = width >= WIDE
    if wide:
        table.add_column("ratio", justify="right", no_wrap=True)
        table.add_column("gate set by", no_wrap=True)
    for metric, name in METRICS:
        gate = gates.get(metric)
        if gate is None:
            no_data = Text("no data yet", style="dim")
            table.add_row(Text(UNKNOWN, style="dim"), Text(name, style="dim"), no_data)
            continue
        cells = gate_row(gate, name)
        if wide:
            cells = (
                *cells,
                Text(_ratio(gate), style="dim"),
                Text(line_set_by(gate, policy), style="dim"),
            )
        table.add_row(*cells)
    out.append(table)
    return out


def _ratio(gate: Gate) -> str:
    return f"{gate.canary / gate.baseline:.2f}×" if gate.baseline > 0 else NO_DATA


def line_set_by(gate: Gate, policy: CanaryPolicy) -> str:
    """How the judge drew the line, so a gate that looks too tight can be checked."""
    if gate.metric == "p99":
        return f"baseline × {policy.p99_regression:g}"
    if floor_drew_line(policy, gate):
        # The floor drew it: "baseline × 1.5" would not add up to the figure shown.
        return f"floor {fmt_figure('error_rate', policy.error_rate_floor)}"
    return f"baseline × {policy.error_rate_regression:g}"


def gate_row(gate: Gate, name: str) -> tuple[Text, ...]:
    style = "green" if gate.passed else "bold red"
    return (
        Text(PASS if gate.passed else FAIL, style=style),
        Text(name, style="" if gate.passed else style),
        Text(fmt_figure(gate.metric, gate.canary), style=style),
        Text(fmt_figure(gate.metric, gate.baseline)),
        Text(f"≤ {fmt_figure(gate.metric, gate.threshold)}", style="" if gate.passed else style),
    )


def _model_versions(state: DriveState) -> str | None:
    """The one thing that makes the comparison meaningless, said where the figures are."""
    reading = state.reading
    if reading is None or reading.canary is None or reading.baseline is None:
        return None
    theirs, ours = reading.canary.model_version, reading.baseline.model_version
    if theirs is None or ours is None or theirs == ours:
        return None
    return f"  {FAIL} model version: canary {theirs}, baseline {ours}"


def history_row(when: float | None, verdict: Verdict) -> Table:
    """``HH:MM:SS decision reason``, the reason wrapping under itself, not under the time;
    ``now`` in place of the time for the verdict in hand."""
    row = Table.grid(padding=(0, 1), pad_edge=False)
    row.add_column(width=8, no_wrap=True)
    row.add_column(width=8, no_wrap=True)
    row.add_column(ratio=1)
    row.add_row(
        Text(f"{utc(when):%H:%M:%S}" if when is not None else "now", style="dim"),
        Text(verdict.decision, style=DECISION_STYLE.get(verdict.decision, "")),
        Text(verdict.reason),
    )
    return row


def footer(state: DriveState, message: bool = True) -> list[RenderableType]:
    """The verdict in hand when the history does not already end with it (a wait is
    never in the history), lined up with the history as ``now``; then the last log line
    unless it says the same (or ``message`` is False: the log shows it).

    Once the drive is decided (rolling back, rolled back, promoted, refused, failed) a
    wait or a no-data in hand is no longer "now": an abort at 100 % left "Holding 100 %
    for the hold time: 90.6 of 300 s" under "rolled back" (issue 22). The last line,
    the final state, stands alone."""
    out: list[RenderableType] = []
    latest = state.history[-1][1] if state.history else None
    verdict = state.verdict
    if verdict is not None and state.phase in DECIDED and verdict.decision in PENDING:
        verdict = None
    if verdict is not None and verdict != latest:
        out.append(history_row(None, verdict))
    if message and state.message and (verdict is None or state.message != verdict.reason):
        out.append(Text(state.message, style=_message_style(state)))
    return out


def _message_style(state: DriveState) -> str:
    # The phase's colour without its weight: a wrapped bold paragraph shouts over the
    # title and the failing gate it only explains.
    return PHASE_STYLE.get(state.phase, "").replace("bold", "").strip()


def key_hint(state: DriveState, watch_only: bool, acts: bool = True) -> Text:
    """Once the drive has ended or is rolling back, or where nothing may be changed,
    only leaving means anything; watching, only the rollback does."""
    if not acts or state.phase in DECIDED:
        return Text(BACK, style="dim")
    if watch_only:
        return Text(WATCH_KEYS, style="dim")
    keys = KEYS.replace("p pause", "p resume") if state.paused else KEYS
    return Text(keys, style="dim", overflow="ellipsis", no_wrap=True)


def _lines(renderable: RenderableType, width: int) -> int:
    options = _MEASURE.options.update_width(width)
    return len(_MEASURE.render_lines(renderable, options, pad=False))


def _fit(entries: Sequence[RenderableType], room: int, width: int) -> list[RenderableType]:
    """The newest entries that fit in ``room`` lines, behind a count of those left out."""
    kept: list[RenderableType] = []
    used = 0
    for entry in reversed(entries):
        need = _lines(entry, width)
        # Keep a line for the "earlier" note whenever something has to go.
        spare = 1 if len(kept) + 1 < len(entries) else 0
        if used + need + spare > room:
            break
        kept.insert(0, entry)
        used += need
    left_out = len(entries) - len(kept)
    if left_out and room > used:
        kept.insert(0, Text(f"… {left_out} earlier", style="dim"))
    return kept
