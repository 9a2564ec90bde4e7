"""XID codes: a change of the last-XID gauge is an event, the value itself is not."""

from __future__ import annotations

from dataclasses import replace

from tui.clock import utc
from tui.domain.model import GpuEvent, GpuState
from tui.domain.xid import MEANINGS, XidChange, XidWatch, describe

T0 = 1_790_000_000.0

GPU = GpuState(
    node="gpu-node-006",
    gpu=6,
    uuid="GPU-aaaa",
    model="llama-70b",
    pod="llama-70b-7f9c-x2",
    namespace="inference",
    xid=0,
)
OTHER = GpuState(node="gpu-node-009", gpu=1, uuid="GPU-bbbb", xid=0)


def reading(gpu: GpuState, xid: int | None) -> GpuState:
    return replace(gpu, xid=xid)


def test_describe_known_code_names_its_meaning() -> None:
    assert describe(43) == "XID 43 (GPU stopped processing)"
    assert describe(31) == "XID 31 (GPU memory page fault)"
    assert describe(79) == "XID 79 (GPU has fallen off the bus)"


def test_describe_unknown_code_is_just_the_number() -> None:
    assert 999 not in MEANINGS
    assert describe(999) == "XID 999"


def test_change_from_zero_is_one_event_at_the_reading_time_with_the_gpu_identity() -> None:
    watch = XidWatch()
    assert watch.observe([GPU], utc(T0)) == []
    events = watch.observe([reading(GPU, 31)], utc(T0 + 10))
    assert events == [
        GpuEvent(
            at=utc(T0 + 10),
            kind="xid",
            detail="XID 31 (GPU memory page fault)",
            node="gpu-node-006",
            gpu=6,
            pod="llama-70b-7f9c-x2",
            model="llama-70b",
            namespace="inference",
        )
    ]


def test_same_code_read_again_is_no_event() -> None:
    watch = XidWatch()
    watch.observe([GPU], utc(T0))
    assert len(watch.observe([reading(GPU, 31)], utc(T0 + 10))) == 1
    assert watch.observe([reading(GPU, 31)], utc(T0 + 20)) == []
    assert watch.observe([reading(GPU, 31)], utc(T0 + 30)) == []


def test_a_different_code_is_a_new_event() -> None:
    watch = XidWatch()
    watch.observe([GPU], utc(T0))
    watch.observe([reading(GPU, 31)], utc(T0 + 10))
    events = watch.observe([reading(GPU, 43)], utc(T0 + 20))
    assert [(e.at, e.detail) for e in events] == [(utc(T0 + 20), "XID 43 (GPU stopped processing)")]


def test_back_to_zero_is_no_event_and_the_code_again_after_it_is() -> None:
    watch = XidWatch()
    watch.observe([GPU], utc(T0))
    watch.observe([reading(GPU, 31)], utc(T0 + 10))
    assert watch.observe([reading(GPU, 0)], utc(T0 + 20)) == []
    events = watch.observe([reading(GPU, 31)], utc(T0 + 30))
    assert [(e.at, e.detail) for e in events] == [(utc(T0 + 30), "XID 31 (GPU memory page fault)")]


def test_unknown_xid_is_ignored_and_does_not_forget_the_code() -> None:
    watch = XidWatch()
    watch.observe([GPU], utc(T0))
    watch.observe([reading(GPU, 31)], utc(T0 + 10))
    assert watch.observe([reading(GPU, None)], utc(T0 + 20)) == []
    # The code held before the gap in data is still the one compared against.
    assert watch.observe([reading(GPU, 31)], utc(T0 + 30)) == []


def test_none_on_first_reading_is_no_event() -> None:
    watch = XidWatch()
    assert watch.observe([reading(GPU, None)], utc(T0)) == []
    # Nothing was recorded for the GPU, but the first reading has passed: a code now is new.
    events = watch.observe([reading(GPU, 31)], utc(T0 + 10))
    assert [e.detail for e in events] == ["XID 31 (GPU memory page fault)"]


def test_first_reading_without_prime_says_the_code_was_already_set() -> None:
    watch = XidWatch()
    events = watch.observe([reading(GPU, 43), OTHER], utc(T0))
    assert [(e.at, e.node, e.gpu, e.detail) for e in events] == [
        (
            utc(T0),
            "gpu-node-006",
            6,
            "XID 43 (GPU stopped processing), already set when first read",
        )
    ]
    assert watch.primed is True
    assert watch.observe([reading(GPU, 43), OTHER], utc(T0 + 10)) == []


def test_gpu_appearing_after_the_first_reading_gives_a_plain_event() -> None:
    watch = XidWatch()
    watch.observe([GPU], utc(T0))
    events = watch.observe([GPU, reading(OTHER, 79)], utc(T0 + 10))
    assert [(e.node, e.detail) for e in events] == [
        ("gpu-node-009", "XID 79 (GPU has fallen off the bus)")
    ]


def test_prime_turns_history_changes_into_events_with_their_own_times() -> None:
    watch = XidWatch()
    changes = [
        XidChange(reading(GPU, None), 43, utc(T0 - 60)),
        XidChange(reading(GPU, None), 31, utc(T0 - 300)),
    ]
    events = watch.prime(changes, {"GPU-bbbb": 79})
    # Oldest first whatever order they came in.
    assert [(e.at, e.detail, e.pod, e.model) for e in events] == [
        (utc(T0 - 300), "XID 31 (GPU memory page fault)", "llama-70b-7f9c-x2", "llama-70b"),
        (utc(T0 - 60), "XID 43 (GPU stopped processing)", "llama-70b-7f9c-x2", "llama-70b"),
    ]
    assert watch.primed is True
    # The latest primed code and the codes set before the window are no event now.
    assert watch.observe([reading(GPU, 43), reading(OTHER, 79)], utc(T0)) == []
    # A change after that is.
    events = watch.observe([reading(GPU, 43), reading(OTHER, 48)], utc(T0 + 10))
    assert [(e.node, e.detail) for e in events] == [
        ("gpu-node-009", "XID 48 (double-bit ECC error)")
    ]


def test_after_prime_a_code_on_a_gpu_with_no_history_is_a_plain_event() -> None:
    watch = XidWatch()
    assert watch.prime([], {}) == []
    events = watch.observe([reading(GPU, 31), OTHER], utc(T0))
    assert [(e.at, e.node, e.detail) for e in events] == [
        (utc(T0), "gpu-node-006", "XID 31 (GPU memory page fault)")
    ]


def test_after_prime_a_gpu_whose_code_differs_from_already_is_an_event() -> None:
    watch = XidWatch()
    watch.prime([], {"GPU-aaaa": 31})
    events = watch.observe([reading(GPU, 43)], utc(T0))
    assert [e.detail for e in events] == ["XID 43 (GPU stopped processing)"]
