"""The plots' marks and the line of what is in force, from the incident timeline (issue 22,
item 24): on hand-written entries of the shape the actions write, and on the entries the
real code writes (a mitigation carried out against kmock's emulator, a canary drive)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient
from mitigation_rig import MODEL, NS

from tui.actions.execute import carry_out
from tui.actions.kube import Mitigator
from tui.clock import FrozenClock, utc
from tui.config import MitigationSettings
from tui.domain.annotations import Annotations, Mark, annotate, plot_marks
from tui.domain.model import AGGREGATE, iso_utc
from tui.store.timeline import Timeline, TimelineAnnotations
from widgets.in_force_line import in_force_text

T0 = 1_795_000_000.0  # 2026-11-18 11:06:40Z
GATEWAY = f"Deployment {NS}/llm-gateway"


def at(offset_s: float) -> str:
    return iso_utc(utc(T0 + offset_s))


def succeeded(
    offset_s: float,
    mitigation: str,
    *changes: tuple[str, str, str],
    model: str | None = None,
    obj: str = GATEWAY,
    title: str = "",
) -> dict[str, Any]:
    """An ``action.succeeded`` entry as `carry_out` writes it: (field, old, new) changes."""
    return {
        "at": at(offset_s), "kind": "action.succeeded", "actor": "sre@bastion",
        "model": model, "context": "kmock", "mitigation": mitigation, "title": title or mitigation,
        "destructive": False,
        "changes": [{"object": obj, "field": f, "old": o, "new": n} for f, o, n in changes],
    }  # fmt: skip


FALLBACK = "env FALLBACK_ENABLED (container main)"
BATCH = "env MAX_BATCH_SIZE (container main)"


def test_fallback_and_a_batch_cap_are_in_force_since_they_were_set() -> None:
    entries = [
        {"at": at(0), "kind": "runbook.opened", "model": "llama-70b"},
        succeeded(
            120,
            "batch-size-cap",
            (BATCH, "(unset)", "16"),
            model="llama-70b",
            obj=f"Deployment {NS}/vllm-llama-70b",
        ),
        {"at": at(150), "kind": "action.requested", "mitigation": "fallback-on"},
        succeeded(300, "fallback-on", (FALLBACK, "(unset)", "true"), model="llama-70b"),
    ]
    got = annotate(entries)
    assert got.line == ["fallback on since 11:11Z", "batch cap 16 on llama-70b since 11:08Z"]
    assert got.marks == (
        Mark(T0 + 120, "batch cap 16 on llama-70b", "M", "llama-70b"),
        # The gateway's switch: the whole fleet's, whichever model was selected.
        Mark(T0 + 300, "fallback on", "M", None),
    )


def test_a_switch_set_back_is_no_longer_in_force_but_stays_marked() -> None:
    entries = [
        succeeded(0, "fallback-on", (FALLBACK, "(unset)", "true")),
        succeeded(
            60,
            "deploy-freeze",
            ("annotation warroom.io/deploy-freeze", "(unset)", "true"),
            ("annotation warroom.io/deploy-freeze", "(unset)", "true"),
        ),
        succeeded(600, "fallback-off", (FALLBACK, "true", "false")),
    ]
    got = annotate(entries)
    assert got.line == ["deploy freeze since 11:07Z"]
    assert [(m.label, m.kind) for m in got.marks] == [
        ("fallback on", "M"), ("deploy freeze", "M"), ("fallback off", "M"),
    ]  # fmt: skip
    unfreeze = ("annotation warroom.io/deploy-freeze", "true", "(unset)")
    entries.append(succeeded(700, "deploy-unfreeze", unfreeze))
    assert annotate(entries).in_force == ()


def test_replicas_hold_their_latest_count_until_back_where_they_were() -> None:
    def scale(offset_s: float, old: int, new: int) -> dict[str, Any]:
        way = "scale-up" if new > old else "scale-down"
        return succeeded(offset_s, way, ("replicas", str(old), str(new)), model="llama-70b")

    entries = [scale(0, 4, 5), scale(180, 5, 6)]
    assert annotate(entries).line == ["llama-70b at 6 replicas since 11:09Z"]
    entries.append(scale(360, 6, 4))  # the count it had before the incident
    assert annotate(entries).in_force == ()


def test_shedding_overflow_and_entries_with_no_changes_read_in_words() -> None:
    entries = [
        succeeded(0, "request-shedding", ("env SHED_RATE (container main)", "(unset)", "0.1")),
        succeeded(
            60, "overflow-routing", ("env OVERFLOW_THRESHOLD (container main)", "(unset)", "0.7")
        ),
        {"at": at(120), "kind": "action.succeeded", "mitigation": "fallback-on"},
    ]
    assert annotate(entries).line == [
        "fallback on since 11:08Z",
        "overflow routing at 0.7 since 11:07Z",
        "shedding 10 % since 11:06Z",
    ]


def test_canary_steps_and_rollbacks_are_marked_not_in_force() -> None:
    entries = [
        {"at": at(0), "kind": "canary.started", "policy": {}},
        {"at": at(90), "kind": "canary.stage", "stage_pct": 5, "stage": 0},
        {"at": at(200), "kind": "canary.verdict", "decision": "rollback"},
        succeeded(230, "drained-rollback", ("replicas", "1", "0"), model="llama-70b"),
        {"at": at(231), "kind": "canary.rolled-back", "stage_pct": 5},
        succeeded(
            400,
            "rollout-undo",
            ("pod template (revision)", "3 (a)", "2 (b)"),
            model="llama-70b",
            title="Roll back to the previous revision",
        ),
        succeeded(500, "rollout-restart", model="llama-70b", title="Restart the model's servers"),
        {"at": at(600), "kind": "canary.promoted", "stage_pct": 100},
    ]
    got = annotate(entries)
    assert [(m.label, m.kind, m.model) for m in got.marks] == [
        ("canary started", "C", None),
        ("canary 5 %", "C", None),
        ("drained-rollback", "R", None),
        ("canary rolled back", "R", None),
        ("Roll back to the previous revision on llama-70b", "R", "llama-70b"),
        ("Restart the model's servers on llama-70b", "M", "llama-70b"),
        ("canary promoted", "C", None),
    ]
    assert got.in_force == ()


def test_only_what_happened_by_now_counts_in_a_replay() -> None:
    entries = [
        succeeded(0, "fallback-on", (FALLBACK, "(unset)", "true")),
        succeeded(600, "fallback-off", (FALLBACK, "true", "false")),
    ]
    assert annotate(entries, now=T0 + 300).line == ["fallback on since 11:06Z"]
    assert annotate(entries, now=T0 + 900).line == []


def test_damaged_and_hostile_entries_neither_crash_nor_reach_the_terminal() -> None:
    entries: list[dict[str, Any]] = [
        {"kind": "action.succeeded", "mitigation": "fallback-on"},  # no time
        {"at": "yesterday", "kind": "action.succeeded", "mitigation": "fallback-on"},
        {"at": 5, "kind": "canary.stage"},
        {
            "at": at(0),
            "kind": "action.succeeded",
            "mitigation": "batch-size-cap",
            "model": "evil\x1b]0;pwned\x07[/]",
            "changes": "not a list",
        },
        {"at": at(10), "kind": "action.succeeded", "mitigation": 7, "changes": [None, 3]},
        {"at": at(20), "kind": "canary.stage", "stage_pct": True},
    ]
    got = annotate(entries)
    text = " ".join(got.line + [m.label for m in got.marks])
    assert "\x1b" not in text and "\x07" not in text
    assert got.line == ["batch cap on evil\\x1b]0;pwned\\x07[/] since 11:06Z"]


def test_a_model_is_marked_with_the_fleet_and_its_own_the_aggregate_with_all() -> None:
    got = Annotations(
        marks=(Mark(1.0, "fallback on", "M"), Mark(2.0, "batch cap 16 on a", "M", "a"),
               Mark(3.0, "b at 6 replicas", "M", "b")),
    )  # fmt: skip
    assert [m.at for m in got.marks_for("a")] == [1.0, 2.0]
    assert [m.at for m in got.marks_for(AGGREGATE)] == [1.0, 2.0, 3.0]


def test_plot_marks_keep_the_window_and_draw_the_strongest_tag_last() -> None:
    marks = [
        Mark(900.0, "old", "M"),  # before the window
        Mark(2500.0, "rollback", "R"),
        Mark(2500.0, "fallback on", "M"),
        Mark(2620.0, "canary 5 %", "C"),
        Mark(2900.0, "later", "M"),  # a replay's future
    ]
    assert plot_marks(marks, 2800.0, 1800.0) == ((-3.0, "C"), (-5.0, "M"), (-5.0, "R"))


def test_the_timeline_is_read_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    follow = TimelineAnnotations()
    assert follow.update(timeline, T0) is False  # no file yet: nothing
    timeline.append("action.succeeded", utc(T0), mitigation="fallback-on",
                    changes=[{"object": GATEWAY, "field": FALLBACK, "old": "(unset)",
                              "new": "true"}])  # fmt: skip
    assert follow.update(timeline, T0 + 1) is True
    assert follow.current.line == ["fallback on since 11:06Z"]
    reads = []
    monkeypatch.setattr(timeline, "entries", lambda: reads.append(1) or [])
    assert follow.update(timeline, T0 + 2) is False
    assert reads == []
    timeline.append("gpu.oom", utc(T0 + 3), detail="x")  # grows the file, moves nothing
    monkeypatch.undo()
    assert follow.update(timeline, T0 + 4) is False
    assert follow.current.line == ["fallback on since 11:06Z"]


# -- entries the real code writes ------------------------------------------------------


async def test_mitigations_carried_out_against_the_emulator_fold_into_what_is_in_force(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    clock = FrozenClock(T0)
    mitigator = Mitigator(api, MitigationSettings(), clock=clock)
    timeline = Timeline(tmp_path / "t.jsonl")

    async def run(mitigation: str, model: str | None, after_s: float) -> None:
        clock.at = T0 + after_s
        plan = await mitigator.plan(mitigation, model)
        outcome = await carry_out(mitigator, plan, timeline, clock=clock, actor="sre@bastion",
                                  model=model)  # fmt: skip
        assert outcome.result == "succeeded", outcome.message

    await run("batch-size-cap", MODEL, 0)
    await run("fallback-on", MODEL, 180)
    await run("scale-up", MODEL, 240)  # 2 replicas, up by the default step of 2
    got = annotate(timeline.entries())
    assert got.line == [
        f"{MODEL} at 4 replicas since 11:10Z",
        "fallback on since 11:09Z",
        f"batch cap 16 on {MODEL} since 11:06Z",
    ]
    assert [(m.at - T0, m.kind, m.model) for m in got.marks] == [
        (0, "M", MODEL), (180, "M", None), (240, "M", MODEL),
    ]  # fmt: skip

    await run("fallback-off", None, 300)
    await run("scale-down", MODEL, 360)
    assert annotate(timeline.entries()).line == [f"batch cap 16 on {MODEL} since 11:06Z"]


def test_the_line_keeps_whole_entries_and_counts_the_rest() -> None:
    items = ["fallback on since 11:11Z", "batch cap 16 on llama-70b since 11:08Z", "shedding 10 %"]
    full = "in force: " + " · ".join(items)
    assert in_force_text(items, 200).plain == full
    assert in_force_text(items, len(full)).plain == full
    two = "in force: fallback on since 11:11Z · batch cap 16 on llama-70b since 11:08Z · +1 more"
    assert in_force_text(items, len(two)).plain == two
    assert (
        in_force_text(items, len(two) - 1).plain == "in force: fallback on since 11:11Z · +2 more"
    )
    narrow = in_force_text(items, 60).plain
    assert narrow == "in force: fallback on since 11:11Z · +2 more", narrow
    assert in_force_text([], 80).plain == ""
