"""Screen snapshots of the cockpit over the frozen simulated fleet, at the smallest
terminal it supports (80x24, an SSH session) and a large war-room one (200x50).

The clock is frozen and the timers are off, so every figure, timestamp and age is the
same on every run. Regenerate after an intended change with
``pytest tests/app/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import pytest
from demo_app import SteppedDrive, frozen_demo_app, settle
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui.domain.canary import CanaryPolicy, Gate, Reading, Side, Verdict
from tui.domain.drive_state import DriveState
from tui.domain.plan import Change, Edit, Plan, Target
from widgets.canary_view import CanaryView
from widgets.screens.confirm_action import ConfirmAction

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 50), id="200x50")]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scenario", ["healthy", "gpu-oom"])
def test_cockpit(snap_compare, scenario: str, size: tuple[int, int]) -> None:
    async def wait(pilot: Pilot[object]) -> None:
        await settle(pilot)

    assert snap_compare(frozen_demo_app(scenario), terminal_size=size, run_before=wait)


@pytest.mark.parametrize(
    ("size", "keys"),
    [
        # At 80 columns the grid takes the plots' place: `g` brings it up.
        pytest.param((80, 24), ("g",), id="80x24"),
        pytest.param((200, 50), (), id="200x50"),
    ],
)
def test_gpu_grid_at_fleet_scale(
    snap_compare, size: tuple[int, int], keys: tuple[str, ...]
) -> None:
    """1024 GPUs on 128 nodes behind 200 models, one of them out of GPU memory."""

    async def wait(pilot: Pilot[object]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    app = frozen_demo_app("gpu-oom", models=200, gpus=1024)
    assert snap_compare(app, terminal_size=size, run_before=wait)


@pytest.mark.parametrize("size", SIZES)
def test_runbook_navigator(snap_compare, size: tuple[int, int]) -> None:
    """`t` on a saturated fleet: the p99 tree on the worst model, at its first question."""

    async def wait(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(frozen_demo_app("saturation"), terminal_size=size, run_before=wait)


def test_runbook_navigator_after_enter(snap_compare) -> None:
    """`t` then enter: the suggested answer accepted, the scale-out leaf's mitigations."""

    async def wait(pilot: Pilot[object]) -> None:
        await settle(pilot)
        for key in ("t", "enter"):
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(frozen_demo_app("saturation"), terminal_size=(80, 24), run_before=wait)


class _Confirming(App[None]):
    """Only the confirmation, over an empty screen: its plan is pure data."""

    def __init__(self, plan: Plan, production: bool) -> None:
        super().__init__()
        self.plan, self.production = plan, production

    def on_mount(self) -> None:
        where = "prod-us-east · namespace inference"
        self.push_screen(ConfirmAction(self.plan, where=where, production=self.production))


_FALLBACK = Plan(
    "fallback-on",
    "Turn on the fallback provider",
    (
        Edit(
            Target("Deployment", "inference", "llm-gateway"),
            (Change("env FALLBACK_ENABLED (container gateway)", "false", "true"),),
            (),
        ),
    ),
)
_UNDO = Plan(
    "rollout-undo",
    "Roll back to the previous revision",
    (
        Edit(
            Target("Deployment", "inference", "vllm-codellama-34b-instruct"),
            (
                Change(
                    "pod template (revision)",
                    "3 (vllm/vllm-openai:v0.6.3)",
                    "2 (vllm/vllm-openai:v0.6.2)",
                ),
            ),
            (),
        ),
    ),
    destructive=True,
)


@pytest.mark.parametrize(
    ("plan", "production", "size"),
    [
        pytest.param(_FALLBACK, False, (80, 24), id="fallback-80x24"),
        pytest.param(_UNDO, True, (120, 40), id="rollback-production-120x40"),
    ],
)
def test_mitigation_confirmation(
    snap_compare, plan: Plan, production: bool, size: tuple[int, int]
) -> None:
    """The exact change, old -> new, Cancel focused; production framed in red, and a
    rollback waiting for its Deployment's name to be typed, the focus in that field."""
    assert snap_compare(_Confirming(plan, production), terminal_size=size)


class _Canary(App[None]):
    """Only the canary view, over a drive state built by hand: it is pure data."""

    def __init__(self, state: DriveState, now: float) -> None:
        super().__init__()
        self.state, self.now = state, now

    def compose(self) -> ComposeResult:
        yield CanaryView()

    def on_mount(self) -> None:
        self.query_one(CanaryView).show(self.state, CanaryPolicy(), self.now)


_ROLLBACK = Verdict(
    "rollback",
    "p99 regressed at 5 %: canary 3.71 s > gate 2.78 s (baseline 2.32 s × 1.2) over 1314 requests.",
    5,
    metric="p99",
    value=3.71,
    threshold=2.784,
    samples=1314,
    gates=(
        Gate("error_rate", 1 / 1314, 22 / 24868, 22 / 24868 * 1.5),
        Gate("p99", 3.71, 2.32, 2.784),
    ),
)
_ROLLED_BACK = DriveState(
    phase="rolled-back",
    stage=0,
    stage_pct=5,
    stage_started=1_795_000_600.0,
    elapsed_s=305.0,
    reading=Reading(Side(1314, 1, 3.71, "2024-07-23"), Side(24868, 22, 2.32, "2024-07-23")),
    verdict=_ROLLBACK,
    history=((1_795_000_905.0, _ROLLBACK),),
    message="rolled back: Roll back the canary, drained: done; in-flight requests drained "
    "to 0 in 2 s.",
)
_WAIT = Verdict(
    "wait",
    "Holding 25 % for the hold time: 120 of 300 s, 523 of 500 requests.",
    25,
    metric="hold",
    value=120.0,
    threshold=300.0,
    samples=523,
    gates=(
        Gate("error_rate", 0 / 523, 9 / 9850, 9 / 9850 * 1.5),
        Gate("p99", 2.41, 2.30, 2.76),
    ),
)
_ADVANCE = Verdict(
    "advance",
    "Advance from 5 %: error rate 0.07 % ≤ gate 0.13 % and p99 2.35 s ≤ gate 2.78 s over "
    "1502 requests.",
    5,
    samples=1502,
    gates=(
        Gate("error_rate", 1 / 1502, 22 / 24868, 22 / 24868 * 1.5),
        Gate("p99", 2.35, 2.32, 2.784),
    ),
)
_RAMPING = DriveState(
    phase="ramping",
    stage=1,
    stage_pct=25,
    stage_started=1_795_000_905.0,
    elapsed_s=120.0,
    reading=Reading(Side(523, 0, 2.41, "2024-07-23"), Side(9850, 9, 2.30, "2024-07-23")),
    verdict=_WAIT,
    history=((1_795_000_905.0, _ADVANCE),),
    message=_WAIT.reason,
)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("state", "now"),
    [
        pytest.param(_ROLLED_BACK, 1_795_000_910.0, id="rolled-back"),
        pytest.param(_RAMPING, 1_795_001_025.0, id="ramping"),
    ],
)
def test_canary_view(snap_compare, state: DriveState, now: float, size: tuple[int, int]) -> None:
    """A p99 regression rolled back at 5 % (error rate passing, p99 failing), and a ramp
    holding 25 % two minutes in after advancing from 5 %."""
    assert snap_compare(_Canary(state, now), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_cockpit_bad_canary(snap_compare, size: tuple[int, int]) -> None:
    """``warroom --demo --scenario bad-canary-p99`` once its drive has ended: the ramp
    stopped at 5 % on p99, the drained rollback done, as the cockpit opens on it."""
    drive = SteppedDrive()

    async def wait(pilot: Pilot[object]) -> None:
        for _ in range(500):
            if drive.driver is not None and drive.driver.state.phase == "rolled-back":
                break
            await pilot.pause(0.01)
        await settle(pilot)

    app = frozen_demo_app("bad-canary-p99", drive=drive)
    assert snap_compare(app, terminal_size=size, run_before=wait)


@pytest.mark.parametrize("size", SIZES)
def test_report_form(snap_compare, size: tuple[int, int]) -> None:
    """`e` on gpu-oom: the suggested severity and root cause, where the files will go,
    Cancel and Export, all inside an 80x24 session."""
    from tui.config import load_config

    config = load_config(None, env={}, flags={("state_dir",): "/srv/warroom"})

    async def wait(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(frozen_demo_app("gpu-oom", config=config), terminal_size=size,
                        run_before=wait)  # fmt: skip
