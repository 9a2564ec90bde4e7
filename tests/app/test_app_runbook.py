"""Pilot tests: the runbook navigator (`t`) over the frozen simulated fleet — opening on
the worst symptom's tree, answering with and against the live evidence, going back and
starting over, the picker, the incident timeline, and evidence that follows refreshes.

Only ``latency.yaml`` (the p99 tree) is relied on step by step; of the other trees, only
that ``troubleshooting`` exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cockpit_pilot import FailsAfterFirst, advance, row_order
from demo_app import settle
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from tui.app import WarroomApp
from tui.domain.assessed import judge
from tui.domain.model import AGGREGATE
from tui.domain.triage import Symptom, worst_symptom
from tui.store.timeline import Timeline
from widgets.health_table import HealthTable
from widgets.key_hints import KeyHints
from widgets.runbook_view import RunbookTree, StepCard
from widgets.screens.runbook_screen import RunbookPicker, RunbookScreen

AppFactory = Callable[..., WarroomApp]
SIZE = (120, 40)
GPU_HOT = "Is GPU utilization above 90 %?"
QUEUE_DEEP = "Is the request queue deep?"
UTIL = re.compile(r"highest GPU utilization: (\d+(?:\.\d+)?)%")


# -- helpers ------------------------------------------------------------------------------


@asynccontextmanager
async def running(app: WarroomApp) -> AsyncIterator[Pilot[object]]:
    """The app at `SIZE`, its first refresh landed."""
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield pilot


def navigator(app: WarroomApp) -> RunbookScreen:
    screen = app.screen
    assert isinstance(screen, RunbookScreen), f"on {type(screen).__name__}, not the navigator"
    return screen


def card_text(app: WarroomApp) -> str:
    """The step card's lines as plain text (head, a check's commands, tail)."""
    return navigator(app).query_one(StepCard).text


def screen_rows(app: WarroomApp) -> list[str]:
    """The terminal's rows as drawn."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def static_text(app: WarroomApp, selector: str) -> str:
    content = navigator(app).query_one(selector, Static).content
    return getattr(content, "plain", str(content))


def note(app: WarroomApp) -> str:
    """The navigator's note line, or "" when it is hidden."""
    widget = navigator(app).query_one("#rb-note", Static)
    return static_text(app, "#rb-note") if widget.has_class("-shown") else ""


def gpu_util_shown(text: str) -> float:
    match = UTIL.search(text)
    assert match is not None, text
    return float(match.group(1))


def worst(app: WarroomApp) -> Symptom:
    snap = app.tracker.current
    assert snap is not None
    slo = app.config.slo
    symptom = worst_symptom(snap.models, snap.aggregate, slo, judge(snap, slo))
    assert symptom is not None
    return symptom


def runbook_entries(path: Path) -> list[dict[str, Any]]:
    """The timeline's runbook entries, in order (GPU events may sit between them)."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [e for e in lines if str(e.get("kind", "")).startswith("runbook.")]


async def press(pilot: Pilot[object], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def pick(pilot: Pilot[object], app: WarroomApp, runbook_id: str) -> None:
    """On the open picker, move the highlight to ``runbook_id`` with the arrows and press
    enter."""
    picker = app.screen
    assert isinstance(picker, RunbookPicker)
    options = picker.query_one(OptionList)
    target = list(app.runbooks.books).index(runbook_id)
    assert options.highlighted is not None
    steps = target - options.highlighted
    assert steps != 0, "already highlighted: pick a different tree"
    await press(pilot, *(["down"] * steps if steps > 0 else ["up"] * -steps))
    assert options.highlighted == target
    await press(pilot, "enter")


# -- 1. opening on the worst symptom ------------------------------------------------------


async def test_t_opens_latency_on_the_worst_model_and_enter_reaches_scale_out(
    make_app: AppFactory,
) -> None:
    app = make_app("saturation")
    async with running(app) as pilot:
        symptom = worst(app)
        assert symptom.kind == "p99"
        table = app.query_one(HealthTable)
        assert row_order(table)[0] == AGGREGATE
        assert row_order(table)[1] == symptom.model  # the table's top model row

        await press(pilot, "t")
        screen = navigator(app)
        assert app.walk is not None
        assert screen.walk is app.walk
        assert app.walk.first.id == "latency"
        assert app.walk.here.id == "gpu-hot"
        assert app.walk.path == []
        assert app.walk_model == symptom.model
        assert screen.model == symptom.model
        head = static_text(app, "#rb-header")
        assert "p99 latency spike" in head
        assert symptom.model in head

        text = card_text(app)
        assert GPU_HOT in text
        assert "Evidence: gpu_util_max > 0.90" in text  # fresh data: no age mark
        assert gpu_util_shown(text) >= 90.0
        assert "Suggested: YES" in text

        await press(pilot, "enter")
        assert navigator(app) is screen
        assert app.walk.here.id == "scale-out"
        assert app.walk.at_leaf
        (taken,) = app.walk.path
        assert (taken.runbook, taken.step, taken.answer, taken.by) == (
            "latency",
            "gpu-hot",
            True,
            "evidence",
        )
        text = card_text(app)
        assert "The GPUs are saturated" in text
        assert "Mitigations:" in text
        assert "Scale the model's servers up" in text
        assert "Turn on overflow routing" in text
        assert "Shed a share of requests" in text
        assert note(app) == ""


async def test_the_tree_cursor_follows_the_step_in_hand(make_app: AppFactory) -> None:
    app = make_app("saturation")
    async with running(app) as pilot:
        await press(pilot, "t")
        tree = navigator(app).query_one(RunbookTree)
        assert tree.cursor_node is not None and tree.cursor_node.data == "gpu-hot"

        await press(pilot, "n")
        assert app.walk is not None and app.walk.here.id == "queue-deep"
        assert tree.cursor_node is not None
        assert tree.cursor_node.data == "queue-deep"


# -- 2. disagreeing, going back, starting over ---------------------------------------------


async def test_n_against_the_evidence_then_back_and_restart(
    make_app: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    app = make_app("saturation", timeline=Timeline(path))
    async with running(app) as pilot:
        await press(pilot, "t")
        assert "Suggested: YES" in card_text(app)

        await press(pilot, "n")
        walk = app.walk
        assert walk is not None
        (taken,) = walk.path
        assert (taken.step, taken.answer, taken.by) == ("gpu-hot", False, "engineer")
        assert taken.reading is not None and taken.reading.suggested is True
        assert walk.here.id == "queue-deep"
        text = card_text(app)
        assert QUEUE_DEEP in text
        assert GPU_HOT not in text
        assert "Evidence: queue_depth >= slo_queue_depth" in text

        await press(pilot, "backspace")
        assert walk.here.id == "gpu-hot"
        assert walk.path == []
        assert GPU_HOT in card_text(app)
        await press(pilot, "backspace")
        assert walk.here.id == "gpu-hot"
        assert "Already at the start" in note(app)

        await press(pilot, "n", "n")
        assert [t.step for t in walk.path] == ["gpu-hot", "queue-deep"]
        assert walk.here.id == "provider-failing"

        await press(pilot, "r")
        assert navigator(app).walk is app.walk
        assert app.walk.here.id == "gpu-hot"
        assert app.walk.path == []
        assert GPU_HOT in card_text(app)
        # `r` restarted the walk, not the app's refresh (its binding on the main screen).
        assert isinstance(app.screen, RunbookScreen)

    kinds = [(e["kind"], e.get("why")) for e in runbook_entries(path)]
    assert kinds == [
        ("runbook.opened", "worst symptom"),
        ("runbook.answer", None),
        ("runbook.back", None),
        ("runbook.answer", None),
        ("runbook.answer", None),
        ("runbook.opened", "restarted"),
    ]


# -- 3. a question no live signal answers ------------------------------------------------


async def test_enter_on_a_question_without_evidence_asks_for_y_or_n(
    make_app: AppFactory,
) -> None:
    app = make_app("saturation")
    async with running(app) as pilot:
        await press(pilot, "t", "n", "n")
        walk = app.walk
        assert walk is not None
        assert walk.here.id == "provider-failing"
        assert "No live signal answers this: y yes, n no." in card_text(app)
        assert note(app) == ""

        await press(pilot, "enter")
        assert walk.here.id == "provider-failing"
        assert len(walk.path) == 2
        assert "press y or n" in note(app)

        await press(pilot, "y")
        assert walk.here.id == "fallback"
        assert walk.path[-1].by == "engineer"
        assert walk.path[-1].reading is None
        assert note(app) == ""  # a step taken clears the note


# -- 4. the incident timeline -------------------------------------------------------------


async def test_open_and_enter_write_opened_answer_reached(
    make_app: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    app = make_app("saturation", timeline=Timeline(path))
    async with running(app) as pilot:
        assert runbook_entries(path) == []
        symptom = worst(app)
        await press(pilot, "t", "enter")
        assert app.walk is not None and app.walk.here.id == "scale-out"

    entries = runbook_entries(path)
    assert [e["kind"] for e in entries] == ["runbook.opened", "runbook.answer", "runbook.reached"]
    opened, answer, reached = entries

    assert opened["runbook"] == "latency"
    assert opened["title"] == "p99 latency spike"
    assert opened["model"] == symptom.model
    assert opened["why"] == "worst symptom"
    assert opened["symptom"]["kind"] == "p99"
    assert opened["symptom"]["model"] == symptom.model

    assert answer["runbook"] == "latency"
    assert answer["step"] == "gpu-hot"
    assert answer["step_kind"] == "question"
    assert answer["answer"] == "yes"
    assert answer["by"] == "evidence"
    assert answer["model"] == symptom.model
    evidence = answer["evidence"]
    assert evidence["expression"] == "gpu_util_max > 0.90"
    assert evidence["values"]["gpu_util_max"] >= 0.9
    assert evidence["suggested"] == "yes"

    assert reached["runbook"] == "latency"
    assert reached["step"] == "scale-out"
    assert reached["model"] == symptom.model
    ids = [a["id"] for a in reached["actions"]]
    assert "scale-up" in ids
    assert ids == ["scale-up", "overflow-routing", "request-shedding"]


# -- 5. closing and resuming --------------------------------------------------------------


async def test_close_and_t_again_resumes_the_same_walk(
    make_app: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    app = make_app("saturation", timeline=Timeline(path))
    async with running(app) as pilot:
        await press(pilot, "t", "n")
        walk = app.walk
        assert walk is not None and walk.here.id == "queue-deep"

        await press(pilot, "escape")
        assert not isinstance(app.screen, RunbookScreen)
        assert len(app.screen_stack) == 1
        assert app.walk is walk  # kept while closed

        await press(pilot, "t")
        assert navigator(app).walk is walk
        assert walk.here.id == "queue-deep"
        assert [t.step for t in walk.path] == ["gpu-hot"]
        assert QUEUE_DEEP in card_text(app)

        # `t` closes as well as escape, and reopens once more on the same place.
        await press(pilot, "t")
        assert len(app.screen_stack) == 1
        await press(pilot, "t")
        assert navigator(app).walk is walk
        assert walk.here.id == "queue-deep"

    kinds = [e["kind"] for e in runbook_entries(path)]
    assert kinds == ["runbook.opened", "runbook.answer"]


# -- 6. a healthy fleet: the picker --------------------------------------------------------


async def test_healthy_fleet_opens_the_picker_and_a_choice_starts_that_tree(
    make_app: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    app = make_app("healthy", timeline=Timeline(path))
    async with running(app) as pilot:
        snap = app.tracker.current
        assert snap is not None
        verdicts = judge(snap, app.config.slo)
        assert worst_symptom(snap.models, snap.aggregate, app.config.slo, verdicts) is None

        await press(pilot, "t")
        assert isinstance(app.screen, RunbookPicker)
        assert isinstance(app.screen_stack[-2], RunbookScreen)
        assert app.walk is not None and app.walk.first.id == "troubleshooting"
        options = app.screen.query_one(OptionList)
        assert options.has_focus
        assert options.highlighted == list(app.runbooks.books).index("troubleshooting")

        await pick(pilot, app, "latency")
        screen = navigator(app)
        assert app.walk is screen.walk
        assert app.walk.first.id == "latency"
        assert app.walk.here.id == "gpu-hot"
        assert app.walk.path == []
        assert GPU_HOT in card_text(app)
        assert "p99 latency spike" in static_text(app, "#rb-header")
        model = app.walk_model
        assert model == app.selected

    entries = runbook_entries(path)
    assert [(e["kind"], e["runbook"], e["why"]) for e in entries] == [
        ("runbook.opened", "troubleshooting", "no symptom at or past a warning line"),
        ("runbook.opened", "latency", "picked"),
    ]
    assert all(e["model"] == model for e in entries)
    assert entries[0]["symptom"] is None


async def test_healthy_fleet_escape_on_the_picker_stays_on_troubleshooting(
    make_app: AppFactory,
) -> None:
    app = make_app("healthy")
    async with running(app) as pilot:
        await press(pilot, "t")
        assert isinstance(app.screen, RunbookPicker)

        await press(pilot, "escape")
        screen = navigator(app)
        walk = app.walk
        assert walk is screen.walk
        assert walk is not None
        book = app.runbooks.books["troubleshooting"]
        assert walk.first is book
        assert walk.here.id == book.start
        assert walk.path == []
        assert book.step(book.start).text in card_text(app)
        assert "Troubleshooting index" in static_text(app, "#rb-header")


async def test_healthy_fleet_reopening_resumes_without_the_picker(
    make_app: AppFactory,
) -> None:
    app = make_app("healthy")
    async with running(app) as pilot:
        await press(pilot, "t", "escape")  # the picker: stay on troubleshooting
        walk = app.walk
        assert walk is not None
        await press(pilot, "y")
        place = walk.here.id
        assert place != walk.first.start

        await press(pilot, "escape")
        assert len(app.screen_stack) == 1
        await press(pilot, "t")
        assert app.walk is walk and walk.here.id == place
        # The walk in progress is resumed: the picker is for a fresh start only.
        assert isinstance(app.screen, RunbookScreen)


# -- 7. the picker over a walk -------------------------------------------------------------


async def test_picking_another_tree_restarts_the_walk_and_is_recorded(
    make_app: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    app = make_app("saturation", timeline=Timeline(path))
    async with running(app) as pilot:
        symptom = worst(app)
        await press(pilot, "t", "n")
        before = app.walk
        assert before is not None and before.path

        await press(pilot, "p")
        assert isinstance(app.screen, RunbookPicker)
        options = app.screen.query_one(OptionList)
        assert options.highlighted == list(app.runbooks.books).index("latency")

        await pick(pilot, app, "troubleshooting")
        screen = navigator(app)
        book = app.runbooks.books["troubleshooting"]
        assert app.walk is screen.walk
        assert app.walk is not before
        assert app.walk.first is book
        assert app.walk.here.id == book.start
        assert app.walk.path == []
        assert book.step(book.start).text in card_text(app)
        assert app.walk_model == symptom.model

        # Escape on the picker changes nothing.
        await press(pilot, "p")
        assert isinstance(app.screen, RunbookPicker)
        await press(pilot, "escape")
        assert navigator(app).walk is app.walk
        assert app.walk.first is book

    entries = runbook_entries(path)
    assert [e["kind"] for e in entries] == ["runbook.opened", "runbook.answer", "runbook.opened"]
    picked = entries[-1]
    assert picked["runbook"] == "troubleshooting"
    assert picked["title"] == book.title
    assert picked["why"] == "picked"
    assert picked["model"] == symptom.model


# -- 8. live evidence -----------------------------------------------------------------------


async def test_the_card_follows_a_refresh(make_app: AppFactory) -> None:
    app = make_app("saturation")
    async with running(app) as pilot:
        await press(pilot, "t")
        screen = navigator(app)
        first = app.tracker.current
        assert screen.facts is not None and screen.facts.snapshot is first

        advance(app, 30)
        app.refresh_data()
        await settle(pilot)
        assert navigator(app) is screen
        assert app.tracker.current is not first
        assert screen.facts is not None
        assert screen.facts.snapshot is app.tracker.current  # the card got the new facts
        text = card_text(app)
        assert GPU_HOT in text
        assert "Evidence: gpu_util_max > 0.90" in text
        assert gpu_util_shown(text) >= 90.0
        assert "old)" not in text
        assert app.walk is not None and app.walk.here.id == "gpu-hot"  # the tree stays


async def test_failed_refresh_marks_the_evidence_with_its_age(make_app: AppFactory) -> None:
    app = make_app("saturation", wrap=FailsAfterFirst)
    async with running(app) as pilot:
        await press(pilot, "t")
        assert "old)" not in card_text(app)
        shown = gpu_util_shown(card_text(app))

        advance(app, 30)
        app.refresh_data()
        await settle(pilot)
        assert app.last_error is not None
        text = card_text(app)
        assert "Evidence (data 30s old): gpu_util_max > 0.90" in text
        assert gpu_util_shown(text) == shown  # the last good values, still shown
        assert "Suggested: YES" in text

        # The age goes on the step in hand, whichever it is.
        await press(pilot, "n")
        assert "Evidence (data 30s old): queue_depth >= slo_queue_depth" in card_text(app)


async def test_a_refresh_while_the_picker_is_open_reaches_the_card(
    make_app: AppFactory,
) -> None:
    app = make_app("saturation", wrap=FailsAfterFirst)
    async with running(app) as pilot:
        await press(pilot, "t", "p")
        assert isinstance(app.screen, RunbookPicker)

        advance(app, 30)
        app.refresh_data()
        await settle(pilot)
        await press(pilot, "escape")
        screen = navigator(app)
        assert screen.facts is not None
        assert screen.facts.snapshot is app.tracker.current
        assert "Evidence (data 30s old)" in card_text(app)


# -- broken runbooks ----------------------------------------------------------------------


async def test_a_broken_runbook_is_said_once_and_listed_in_the_picker(tmp_path: Path) -> None:
    from demo_app import frozen_demo_app

    from tui.config import load_config

    mine = tmp_path / "ours"
    mine.mkdir()
    (mine / "ours.yaml").write_text("id: ours\ntitle: Ours\nsummary: x\nstart: a\nsteps: [\n")
    config = load_config(None, env={}, flags={("runbook_dirs",): [str(mine)]})
    app = frozen_demo_app("saturation", config=config)
    async with running(app) as pilot:
        said = [n.message for n in app._notifications]
        assert len(said) == 1
        assert said[0].startswith("Runbook skipped: ")
        assert "ours.yaml line 6: is not valid YAML" in said[0]
        await pilot.press("t")
        await settle(pilot)
        assert navigator(app).walk.first.id == "latency"  # the others still work
        await pilot.press("p")
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        last = options.get_option_at_index(options.option_count - 1)
        assert last.disabled and "ours.yaml line 6: is not valid YAML" in str(last.prompt)


# -- a check's commands: unwrapped, once, and copied (issue 22, item 15) ------------------

XID_CHECK_KEYS = ("t", "n", "n", "y")
"""gpu-oom's 5xx tree: no CUDA OOM, no OOMKill (answered against the evidence), an XID:
the check with three commands, one a ``kubectl logs`` longer than the card is wide."""


async def at_xid_check(pilot: Pilot[object], app: WarroomApp) -> list[str]:
    """The navigator at errors-5xx's XID check; its commands as they would be run."""
    await press(pilot, *XID_CHECK_KEYS)
    walk = app.walk
    assert walk is not None and walk.here.id == "xid-check"
    pod = next(g.pod for g in app.tracker.current.gpus if g.model == walk_model(app) and g.pod)
    return [
        'DCGM_FI_DEV_XID_ERRORS{namespace="inference"} > 0',
        f"kubectl describe node {node_of(app, pod)}",
        f'kubectl logs -n inference {pod} --tail=200 | grep -i -E "xid|cuda|error"',
    ]


def walk_model(app: WarroomApp) -> str:
    return navigator(app).model


def node_of(app: WarroomApp, pod: str) -> str:
    return next(g.node for g in app.tracker.current.gpus if g.pod == pod)


async def test_a_checks_commands_read_once_and_are_never_wrapped(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        commands = await at_xid_check(pilot, app)
        rows = screen_rows(app)
        assert not [r for r in rows if "kubectl kubectl" in r], "the label is no part of it"
        logs = [r for r in rows if "kubectl logs" in r]
        assert len(logs) == 1 and logs[0].count("kubectl logs") == 1
        # Longer than the card is wide: one line that scrolls, never a second row.
        card = navigator(app).query_one(StepCard)
        assert len(commands[2]) > card.size.width
        assert not [r for r in rows if "--tail=200" in r and "kubectl logs" not in r]
        assert not [r for r in rows if r.strip(" │").startswith(("| grep", '"xid', "error"))]
        # Each command is whole on its line, and the line starts at its beginning.
        lines = card_text(app).splitlines()
        for command in commands:
            assert [line for line in lines if line.endswith(command)], command
        await press(pilot, "right")
        assert navigator(app).query_one("#rb-run").scroll_x > 0


async def test_y_copies_the_marked_command_and_a_number_copies_that_one(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app("gpu-oom")
    copied: list[str] = []
    real = app.copy_to_clipboard

    def spy(text: str) -> None:
        copied.append(text)
        real(text)

    monkeypatch.setattr(app, "copy_to_clipboard", spy)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        commands = await at_xid_check(pilot, app)
        await press(pilot, "y")
        assert copied == [commands[0]]
        assert app.clipboard == commands[0]  # what OSC 52 sent to the terminal
        said = [n.message for n in app._notifications][-1]
        assert said.startswith("Copied command 1 of 3 to the clipboard: ")
        assert app.walk is not None and app.walk.here.id == "xid-check", "y did not answer"
        await press(pilot, "y")  # the next one
        assert copied[-1] == commands[1]
        await press(pilot, "3")
        assert copied[-1] == commands[2]
        assert app.clipboard == commands[2]
        # The key line offers the copy at a check, and yes at a question again.
        assert "Copy" in {d for _, d, _ in navigator(app).query_one(KeyHints).hints[0]}
        await press(pilot, "backspace")
        assert app.walk.here.id == "gpu-xid"
        await press(pilot, "y")
        assert app.walk.here.id == "xid-check", "at a question, y answers yes"


def test_a_command_is_drawn_inert_and_not_copied_when_it_holds_control_characters() -> None:
    from tui.domain.runbook import Check
    from widgets.runbook_view import command_lines, paste_safe

    step = Check.model_validate(
        {"id": "c", "kind": "check", "text": "Look.",
         "run": [{"lang": "kubectl", "text": "kubectl logs {{pod}}"}]}
    )  # fmt: skip
    hostile = "kubectl logs pod\x1b]52;c;ZWNobyBwd25lZA==\x07\nrm -rf ~"
    drawn = command_lines(step, [hostile], 0).plain
    assert "\x1b" not in drawn and "\n" not in drawn
    assert "\\x1b]52" in drawn and "\\x0a" in drawn
    assert not paste_safe(hostile)
    assert paste_safe('kubectl logs -n inference vllm-0 | grep -i "out of memory"')
    assert paste_safe("kubectl logs -n équipe modèle-0")  # letters, not keys


async def test_runbook_tree_lines_cut_at_the_pane_end_in_an_ellipsis() -> None:
    """Issue 22, item 16: tree lines wider than the pane were cut with no mark, so a step
    read as if it said all it says."""
    from demo_app import frozen_demo_app

    from widgets.runbook_view import RunbookTree

    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        tree = app.screen.query_one(RunbookTree)
        width = tree.size.width
        lines = [tree.render_line(y).text for y in range(tree.size.height)]
        cut = [line for line in lines if line.rstrip().endswith("…")]
        assert cut, "no line of the gpu-oom tree is wider than the pane at 200 columns"
        assert all(len(line) == width for line in cut)
        # Lines that fit are left as they are.
        assert any(line.strip() and not line.rstrip().endswith("…") for line in lines)
