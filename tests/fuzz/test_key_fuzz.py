"""Random keys into the cockpit: a thousand short sequences of the keys it binds, pressed
into one running cockpit per scenario. After each sequence the app still runs, no
exception reached Textual, and escaping back to the panes finds the health table with
its rows.

The alphabet is every key bound by the app, its screens and the widgets on them (read
from their BINDINGS, so a new binding joins the fuzz by itself), less the keys that quit,
plus a few unbound keys and characters an engineer types into the forms.

Speed: a fresh cockpit per sequence, and Pilot's `press` (two idle waits per key), would
take many minutes for a thousand sequences. So each scenario runs one cockpit for all its
sequences, and the keys are posted to the app as the terminal driver posts them. Hypothesis
runs synchronously in a worker thread and hands each sequence to the cockpit's event loop,
where the app (and kmock's API server, in the cluster variant) keep running between
sequences.

What the fuzz found is pinned below the alphabet: the cockpit's own crashes (each fixed in
its screen) and three of Textual's command palette under bursts of keys (guarded by
widgets/command_palette.py).
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cockpit_pilot import assert_alive
from demo_app import AT_S, EPOCH, SteppedDrive, frozen_demo_app, settle
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from kubernetes.client import ApiClient
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.keys import key_to_character
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Select

from tui.actions.kube import Mitigator
from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.config import Config, MitigationSettings
from tui.domain.drive_state import DECIDED
from tui.store.timeline import Timeline
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.runbook_view import RunbookTree, StepCard
from widgets.screens.canary_screen import CanaryScreen
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.help_screen import HelpScreen
from widgets.screens.mitigation_menu import MitigationMenu
from widgets.screens.report_form import ReportForm
from widgets.screens.runbook_screen import RunbookPicker, RunbookScreen

# -- the alphabet ------------------------------------------------------------------------

BOUND: tuple[type[DOMNode], ...] = (
    WarroomApp,
    Screen,  # the panes' screen: tab / shift+tab, ctrl+c
    CanaryScreen,
    RunbookScreen,
    RunbookPicker,
    HelpScreen,
    MitigationMenu,
    ConfirmAction,
    ReportForm,
    CommandPalette,  # ctrl+p: the palette with its "Mitigate: …" entries
    HealthTable,
    GpuGrid,
    RunbookTree,
    # The Textual widgets those screens are made of: the menus, the confirmation's
    # typed name, the report form's fields and buttons, the help's scrolling frame.
    OptionList,
    Input,
    Select,
    Button,
    VerticalScroll,
)
QUITS = frozenset({"quit", "app.quit", "request_quit"})
"""Actions that end the cockpit: their keys are left out, wherever else they are bound
(`q` asks first in an incident, then y or enter, both in the alphabet, would quit)."""
TYPED: dict[str, str] = {
    # Bound nowhere: what an engineer types into the root cause, the lessons or the
    # name a destructive mitigation asks for (key name -> the character it carries).
    "x": "x",
    "z": "z",
    "Z": "Z",
    "0": "0",
    "7": "7",
    "minus": "-",
    "full_stop": ".",
    "slash": "/",
    "underscore": "_",
    "é": "é",
}
PASTE = "paste-name"
"""Not a key: a bracketed paste, as when the engineer pastes the name a destructive
confirmation asks for (the name on the screen, else a root cause), so the fuzz can reach
Apply on a rollback as well as on the changes Apply takes at once."""


def bound_keys(classes: Iterable[type[DOMNode]]) -> tuple[set[str], set[str]]:
    """(every key bound by ``classes`` and their bases, the keys bound to quit)."""
    keys: set[str] = {App.COMMAND_PALETTE_BINDING}
    quits: set[str] = set()
    for cls in classes:
        for base in cls.__mro__:
            for binding in Binding.make_bindings(vars(base).get("BINDINGS", [])):
                (quits if binding.action in QUITS else keys).add(binding.key)
    return keys, quits


_KEYS, QUIT_KEYS = bound_keys(BOUND)
ALPHABET: tuple[str, ...] = (*sorted(_KEYS - QUIT_KEYS), *TYPED, PASTE)
"""Sorted, so the seeded draws are the same on every run."""
STEERING: tuple[str, ...] = (
    *("t", "m", "e", "c", "g"),  # open a screen, or swap the panes
    *("y", "n", "a", "p", "P", "A", "backspace", "s", "f", "r"),  # act on it
    *("enter", "escape", "tab", "shift+tab", "space", "down", "up", PASTE),  # choose, leave
)
"""Half the draws are one of these: most of the alphabet edits text or scrolls, so
uniform draws would rarely get past a menu; with these, sequences go deeper (the menu,
its enter, the confirmation's tab and Apply; the runbook's answers; the report's Export).
The help and the palette are left to the uniform draws: they open the slowest screens
and lead nowhere deeper."""
ANY_KEY = st.sampled_from(ALPHABET)
KEYS = st.one_of(ANY_KEY, st.sampled_from(STEERING))

# -- the cockpits --------------------------------------------------------------------------

QUOTAS: dict[str, int] = {"gpu-oom": 420, "bad-canary-p99": 330, "gpu-oom-kube": 250}
"""Sequences per variant: a thousand in all (`test_the_alphabet_and_the_count`)."""
MAX_KEYS = 8
SEQUENCE_TIMEOUT_S = 30.0
"""Far beyond any sequence's real time: past it the cockpit hangs, which is a failure."""
RECENT = 6
"""Sequences named with a failure: the state they left is what the failing one met."""
LEAVING = frozenset({"Quit", "Screenshot"})
"""Palette commands left out: Quit ends the cockpit (as `q` would), and Screenshot saves
to the user's Downloads folder, outside the test's tmp directory."""


@dataclass
class Fuzz:
    """One cockpit under the fuzz, and what it has been through."""

    pilot: Pilot[Any]
    loop: asyncio.AbstractEventLoop
    played: int = 0
    keys: int = 0
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT))
    failure: AssertionError | None = None

    @property
    def app(self) -> WarroomApp:
        app = self.pilot.app
        assert isinstance(app, WarroomApp)
        return app


def key_event(key: str, app: WarroomApp) -> events.Event:
    """The event the terminal driver posts for ``key``."""
    if key == PASTE:
        screen = app.screen
        text = (screen.must_type if isinstance(screen, ConfirmAction) else None) or "OOM x"
        return events.Paste(text)
    return events.Key(key, TYPED.get(key) or key_to_character(key))


async def back_to_the_panes(pilot: Pilot[Any], app: WarroomApp) -> None:
    """Escape until only the panes are left, as test_resize_storm's helper does, but
    without `pilot.press` (100 ms a key): an escape is posted and the stack watched."""
    for _ in range(10):
        depth = len(app.screen_stack)
        if depth == 1 and app.screen.maximized is None:
            return
        app.post_message(events.Key("escape", "\x1b"))
        for _ in range(20):  # a screen closes within a few frames
            await asyncio.sleep(0.005)
            if len(app.screen_stack) < depth or app._exception is not None:
                break
        if app._exception is not None:
            return
    await pilot.pause()
    while len(app.screen_stack) > 1:  # an escape that went to a dropdown or a palette
        app.pop_screen()
        await pilot.pause()


def assert_on_the_panes(app: WarroomApp) -> None:
    assert len(app.screen_stack) == 1, f"still open: {app.screen_stack}"
    table = app.screen.query_one(HealthTable)
    # Σ and the models; a kept `/` filter may match none of them.
    assert table.row_count > 1 or app.name_filter, "the health table lost its rows"
    assert table.display and table.region.area > 0, "the health table is not on screen"


async def play(fuzz: Fuzz, keys: Sequence[str], typed: bool) -> None:
    """One sequence: ``typed`` lets the cockpit take each key before the next (an
    engineer at the keyboard); else they arrive in one burst, as a paste or keys queued
    behind a stalled SSH link do. Then back to the panes, checking on the way."""
    app, pilot = fuzz.app, fuzz.pilot
    for key in keys:
        app.post_message(key_event(key, app))
        if typed:
            await pilot.pause(0)
    await pilot.pause(0)
    assert_alive(app)
    await back_to_the_panes(pilot, app)
    assert_alive(app)
    assert_on_the_panes(app)


def run_the_fuzz(fuzz: Fuzz, variant: str, examples: int) -> None:
    """Hypothesis, synchronously (this runs in a worker thread): each example is one
    sequence, played on the cockpit's own event loop."""

    # Seeded per variant, so each cockpit meets its own sequences, the same on every run;
    # derandomize keeps them fixed should the seed go, and keeps the example database out.
    @seed(zlib.crc32(variant.encode()))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        # Generate only, no shrinking: one cockpit lives through every sequence, so a
        # failing one acts on what the earlier ones left (and may have stopped the app);
        # replaying shorter ones on that cockpit would shrink to noise. The failure names
        # the sequences before it, to replay in a fresh cockpit instead.
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(keys=st.lists(KEYS, min_size=1, max_size=MAX_KEYS), typed=st.booleans())
    def sequence(keys: list[str], typed: bool) -> None:
        if fuzz.failure is not None:
            # Hypothesis runs the failing example once more to report it: same failure.
            raise fuzz.failure
        fuzz.played += 1
        fuzz.keys += len(keys)
        label = f"{'typed' if typed else 'burst'} {keys}"
        future = asyncio.run_coroutine_threadsafe(play(fuzz, keys, typed), fuzz.loop)
        try:
            future.result(timeout=SEQUENCE_TIMEOUT_S)
        except Exception as exc:
            future.cancel()
            before = "\n".join(f"  {s}" for s in fuzz.recent) or "  (none)"
            fuzz.failure = AssertionError(
                f"{variant}: sequence #{fuzz.played} {label} failed: {exc!r}\n"
                f"after these sequences:\n{before}"
            )
            raise fuzz.failure from exc
        fuzz.recent.append(label)

    sequence()


async def fuzz_the_cockpit(pilot: Pilot[Any], variant: str) -> Fuzz:
    """`QUOTAS[variant]` sequences into the running cockpit; how many it really took."""
    fuzz = Fuzz(pilot, asyncio.get_running_loop())
    await back_to_the_panes(pilot, fuzz.app)  # a canary cockpit opens on its screen
    assert_on_the_panes(fuzz.app)
    await asyncio.to_thread(run_the_fuzz, fuzz, variant, QUOTAS[variant])
    # Counted here, not taken on trust: max_examples is a ceiling to Hypothesis.
    assert fuzz.played >= QUOTAS[variant], f"{variant}: only {fuzz.played} sequences ran"
    await pilot.pause()
    assert_alive(fuzz.app)
    return fuzz


# -- wiring: nothing written outside tmp; Textual's palette crashes set aside ---------


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The timeline and the reports under tmp; anything that would fall back to the
    working directory or the XDG state folder lands under tmp too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    state = tmp_path / "state"
    (state / "incidents").mkdir(parents=True)
    return state


def wire(app: WarroomApp, monkeypatch: pytest.MonkeyPatch) -> WarroomApp:
    """The palette's system commands, less those in `LEAVING`."""
    every_command = app.get_system_commands

    def commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
        every = list(every_command(screen))
        assert {c.title for c in every} >= LEAVING, "Textual renamed a palette command"
        return [c for c in every if c.title not in LEAVING]

    monkeypatch.setattr(app, "get_system_commands", commands)
    return app


def cockpit(
    scenario: str,
    state: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    mitigator: Mitigator | None = None,
    drive: SteppedDrive | None = None,
) -> WarroomApp:
    """The frozen demo cockpit, its timeline and reports under ``state``."""
    timeline = drive.timeline if drive and drive.timeline else Timeline(
        state / "incidents" / f"{scenario}.jsonl"
    )  # fmt: skip
    app = frozen_demo_app(
        scenario,
        config=Config(state_dir=state),
        timeline=timeline,
        mitigator=mitigator,
        drive=drive,
    )
    assert app.reports_dir == state / "reports"
    return wire(app, monkeypatch)


# -- the tests -------------------------------------------------------------------------


def test_the_alphabet_and_the_count() -> None:
    assert sum(QUOTAS.values()) >= 1000
    # The quitting keys are known, and only they are left out.
    assert {"q", "ctrl+q"} == QUIT_KEYS
    # ctrl+c does not quit: it says "press ctrl+q to quit", or copies in an input.
    for key in ("ctrl+c", "ctrl+p", "tab", "shift+tab", "escape", "enter", "space", "P", "A",
                "y", "n", "backspace", "e", "f", "g", "m", "t", "c", "r", "s", "p", "a",
                "question_mark", "left_square_bracket", "right_curly_bracket", "up",
                "pagedown", "home", "ctrl+u", "delete"):  # fmt: skip
        assert key in ALPHABET, key
    assert not {"q", "ctrl+q"} & set(ALPHABET)
    assert set(STEERING) <= set(ALPHABET)


# -- what the fuzz found, pinned: each a sequence that stopped the cockpit ---------------


def burst(app: WarroomApp, *keys: str) -> None:
    """Keys arriving together, as over a stalled SSH link: all queued before the first
    is handled."""
    for key in keys:
        app.post_message(key_event(key, app))


async def frames(pilot: Pilot[Any], n: int = 4) -> None:
    for _ in range(n):
        await pilot.pause(0.02)


async def test_a_double_enter_on_the_report_form_writes_once_and_stays_up(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """e, tab, enter enter: the root cause submitted twice closed the form twice, the
    second time closing the panes: ScreenStackError stopped the cockpit."""
    app = cockpit("gpu-oom", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e", "tab")
        assert isinstance(app.screen, ReportForm)
        burst(app, "enter", "enter")
        await frames(pilot)
        await app.workers.wait_for_complete()
        assert_alive(app)
        assert_on_the_panes(app)
        assert len(list((state_dir / "reports").glob("*.md"))) == 1


async def test_a_double_enter_in_the_mitigation_menu_leaves_the_panes_up(
    cluster: Any, api: ApiClient, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """m, enter enter: the second selection closed the menu again, and the panes with
    it: ScreenStackError stopped the cockpit mid-mitigation."""
    mitigator = Mitigator(api, MitigationSettings(), clock=FrozenClock(EPOCH + AT_S),
                          context="fuzz-cluster")  # fmt: skip
    app = cockpit("gpu-oom", state_dir, monkeypatch, mitigator=mitigator)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        assert isinstance(app.screen, MitigationMenu)
        burst(app, "enter", "enter")
        await frames(pilot, 10)
        assert_alive(app)
        # One choice, one confirmation (the second enter may answer it: Cancel holds
        # the focus), and the panes under it.
        assert isinstance(app.screen_stack[0].query_one(HealthTable), HealthTable)
        assert all(not isinstance(s, MitigationMenu) for s in app.screen_stack)
        await back_to_the_panes(pilot, app)
        assert_on_the_panes(app)


async def test_a_double_apply_on_a_confirmation_acts_once(
    cluster: Any, api: ApiClient, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Apply pressed twice in one burst: one change, one answer to the waiting
    mitigation, and the screen beneath the confirmation stays."""
    mitigator = Mitigator(api, MitigationSettings(), clock=FrozenClock(EPOCH + AT_S),
                          context="fuzz-cluster")  # fmt: skip
    app = cockpit("gpu-oom", state_dir, monkeypatch, mitigator=mitigator)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        menu = app.screen.query_one(OptionList)
        menu.highlighted = next(
            i for i in range(menu.option_count)
            if menu.get_option_at_index(i).id == "fallback-on"
        )  # fmt: skip
        await pilot.press("enter")
        await frames(pilot)
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press("tab")  # from Cancel to Apply
        burst(app, "enter", "enter")
        await frames(pilot, 10)
        await app.workers.wait_for_complete()
        assert_alive(app)
        assert_on_the_panes(app)
        timeline = app.timeline
        assert timeline is not None
        kinds = [e["kind"] for e in timeline.entries() if e["kind"].startswith("action.")]
        assert kinds == ["action.requested", "action.succeeded"]


async def test_a_double_enter_in_the_theme_list_keeps_the_panes(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+p, "theme", enter: the palette's Theme entry opens Textual's own palette of
    themes, without the guards; two enters in one burst there dismissed twice, the
    second popping the panes: ScreenStackError stopped the cockpit."""
    app = cockpit("gpu-oom", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"theme")
        await frames(pilot, 10)
        await pilot.press("enter")
        await frames(pilot, 10)
        assert isinstance(app.screen, CommandPalette), app.screen  # the list of themes
        burst(app, "down", "enter", "enter")
        await frames(pilot)
        assert_alive(app)
        assert_on_the_panes(app)


async def test_a_double_enter_in_the_runbook_picker_keeps_the_navigator(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """t, p, enter enter: the second pick closed the navigator beneath the picker."""
    app = cockpit("gpu-oom", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t", "p")
        assert isinstance(app.screen, RunbookPicker)
        burst(app, "enter", "enter")
        await frames(pilot)
        assert_alive(app)
        assert isinstance(app.screen, RunbookScreen)


async def test_t_then_escape_in_a_quiet_fleet_leaves_no_picker_behind(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing breaching, t opens the navigator and its picker together. Once the
    picker waited for the navigator's first frame: t escape in one burst closed the
    navigator first, the picker opened over the panes anyway, and choosing in it painted
    the closed navigator (NoMatches stopped the cockpit); on a slower machine the escape
    met the picker instead. Now the escape always meets the picker, a second the
    navigator, and an enter after them acts on the panes."""
    app = cockpit("healthy", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "t", "escape")
        await frames(pilot)
        assert_alive(app)
        assert [type(s) for s in app.screen_stack[1:]] == [RunbookScreen]
        burst(app, "escape", "enter")
        await frames(pilot)
        assert_alive(app)
        assert_on_the_panes(app)


async def test_t_then_enter_in_a_quiet_fleet_picks_before_the_navigator_paints(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """t enter in one burst picks the highlighted runbook, perhaps before the navigator
    under the picker is mounted: the navigator opens on that runbook."""
    app = cockpit("healthy", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "t", "enter")
        await frames(pilot)
        assert_alive(app)
        assert isinstance(app.screen, RunbookScreen)
        assert app.walk is not None and app.screen.walk.first.id == app.walk.first.id


async def test_a_refresh_landing_as_the_navigator_opens(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """r then t, quickly: the refresh landed between the navigator's push and its mount,
    and painting its card raised NoMatches in the refresh worker."""
    app = cockpit("gpu-oom", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_runbook()
        navigator = app.screen
        assert isinstance(navigator, RunbookScreen) and not navigator.is_mounted
        assert navigator.facts is not None
        # What a refresh does to every navigator on the stack, before this one mounts.
        navigator.update_facts(navigator.facts, navigator.age_s, navigator.symptom)
        await frames(pilot)
        assert_alive(app)
        assert navigator.is_mounted and navigator.query_one(StepCard).region.area > 0


async def test_paging_the_palette_as_it_opens() -> None:
    """ctrl+p then PgDn in one burst: the palette's command list pages before it has
    lines (KeyError in Textual 8.2's own palette)."""
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "ctrl+p", "pagedown")
        await pilot.pause()
        assert_alive(app)


async def test_a_double_enter_in_the_palette() -> None:
    """ctrl+p, then enter enter in one burst: two selections, two dismissals; the second
    popped the panes (ScreenStackError in Textual 8.2's own palette)."""
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        burst(app, "enter", "enter")
        await pilot.pause()
        assert_alive(app)
        assert app.screen_stack[0].query_one(HealthTable).row_count > 1  # the panes stay


# -- the fuzz --------------------------------------------------------------------------


@pytest.mark.fuzz
async def test_random_keys_on_the_gpu_oom_cockpit(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = cockpit("gpu-oom", state_dir, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:  # an SSH session: g swaps the panes
        await settle(pilot)
        await fuzz_the_cockpit(pilot, "gpu-oom")


HOLD_AT_S = 150.0
"""Where the canary drive holds (warm-up over, 5 % a minute in): p, P and A steer a live
drive, not one already decided."""


@pytest.mark.fuzz
async def test_random_keys_on_a_canary_cockpit(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = Timeline(state_dir / "incidents" / "bad-canary-p99.jsonl")
    drive = SteppedDrive(timeline, hold_at_s=HOLD_AT_S)
    app = cockpit("bad-canary-p99", state_dir, monkeypatch, drive=drive)
    async with app.run_test(size=(100, 40)) as pilot:
        for _ in range(500):  # frames until the drive holds mid-stage (or has decided)
            state = drive.driver.state if drive.driver else None
            holding = state is not None and drive.clock is not None and (
                state.phase in DECIDED
                or (state.phase == "ramping" and drive.clock.at + 15 > drive.until)
            )  # fmt: skip
            if holding:
                break
            await pilot.pause(0.01)
        await fuzz_the_cockpit(pilot, "bad-canary-p99")


@pytest.mark.fuzz
async def test_random_keys_on_a_cockpit_with_a_cluster(
    cluster: Any, api: ApiClient, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The menu offers, the confirmations ask and Apply sends, to kmock's emulator."""
    mitigator = Mitigator(api, MitigationSettings(), clock=FrozenClock(EPOCH + AT_S),
                          context="fuzz-cluster")  # fmt: skip
    app = cockpit("gpu-oom", state_dir, monkeypatch, mitigator=mitigator)
    async with app.run_test(size=(160, 45)) as pilot:  # plots and GPU grid side by side
        await settle(pilot)
        await fuzz_the_cockpit(pilot, "gpu-oom-kube")
