"""Suspected cause: a model's 5xx is up and its own pods or GPUs show OOMs or XIDs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui.clock import utc
from tui.config import Slo
from tui.domain.assessed import judge_rows
from tui.domain.cause import SuspectedCause, suspect
from tui.domain.model import GpuEvent, GpuState, ModelHealth

T0 = 1_790_000_000.0
NOW = utc(T0)
WINDOW_S = 600.0
SLO = Slo()  # 5xx threshold 0.01, warning from 0.008

GPUS = (
    GpuState("gpu-node-006", 6, "GPU-6-6", model="llama-70b", pod="llama-a"),
    GpuState("gpu-node-006", 7, "GPU-6-7", model="llama-70b", pod="llama-b"),
    GpuState("gpu-node-009", 0, "GPU-9-0", model="qwen-7b", pod="qwen-a"),
    GpuState("gpu-node-009", 1, "GPU-9-1"),
)


def oom(seconds_ago: float, **where: object) -> GpuEvent:
    return GpuEvent(
        at=NOW - timedelta(seconds=seconds_ago),
        kind="oom",
        detail="torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        **where,  # type: ignore[arg-type]
    )


def xid(seconds_ago: float, code_detail: str, **where: object) -> GpuEvent:
    return GpuEvent(
        at=NOW - timedelta(seconds=seconds_ago),
        kind="xid",
        detail=code_detail,
        **where,  # type: ignore[arg-type]
    )


def oomkilled(seconds_ago: float, **where: object) -> GpuEvent:
    return GpuEvent(
        at=NOW - timedelta(seconds=seconds_ago),
        kind="oomkilled",
        detail="container vllm OOMKilled (exit 137)",
        **where,  # type: ignore[arg-type]
    )


def health(name: str, ratio: float | None) -> ModelHealth:
    return ModelHealth(name, error_5xx_ratio=ratio)


def run(
    events: list[GpuEvent],
    *models: ModelHealth,
    gpus: tuple[GpuState, ...] = GPUS,
    within_s: float = WINDOW_S,
) -> dict[str, SuspectedCause]:
    models = models or (health("llama-70b", 0.008), health("qwen-7b", 0.0))
    return suspect(
        models, gpus, events, SLO, now=NOW, within_s=within_s, verdicts=judge_rows(models, SLO)
    )


def test_cuda_oom_on_the_models_pods_at_the_warning_line_is_a_gpu_oom_cause() -> None:
    events = [
        oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        oom(30, node="gpu-node-006", gpu=7, pod="llama-b", model="llama-70b"),
    ]
    causes = run(events)
    assert list(causes) == ["llama-70b"]
    cause = causes["llama-70b"]
    assert cause.model == "llama-70b"
    assert cause.kind == "gpu_oom"
    assert cause.headline == "5xx likely downstream of GPU OOM on gpu-node-006 GPU 6, 7"
    assert cause.summary == (
        "5xx likely downstream of GPU OOM on gpu-node-006 GPU 6, 7 (2 CUDA OOM in the last 10m)"
    )
    assert cause.short == "GPU OOM gpu-node-006 GPU 6,7"
    assert cause.gpus == (("gpu-node-006", 6), ("gpu-node-006", 7))
    assert cause.pods == ("llama-a", "llama-b")
    assert cause.counts == {"oom": 2}


def test_breach_counts_as_well_as_warning() -> None:
    events = [oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b")]
    assert run(events, health("llama-70b", 0.2))["llama-70b"].kind == "gpu_oom"


@pytest.mark.parametrize("ratio", [0.0, 0.0079, None])
def test_model_whose_5xx_is_fine_gets_no_cause_even_with_events(ratio: float | None) -> None:
    events = [
        oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        xid(30, "XID 43 (GPU stopped processing)", node="gpu-node-006", gpu=7),
    ]
    assert run(events, health("llama-70b", ratio)) == {}


def test_event_matched_by_model_name_alone() -> None:
    # A log line from a pod the GPU source does not know, naming the model.
    events = [oom(60, pod="llama-z", model="llama-70b")]
    cause = run(events)["llama-70b"]
    assert cause.summary == (
        "5xx likely downstream of GPU OOM on its pods (1 CUDA OOM in the last 10m)"
    )
    assert cause.gpus == ()
    assert cause.pods == ("llama-z",)


def test_event_matched_by_pod_alone() -> None:
    events = [oom(60, pod="llama-b")]
    cause = run(events)["llama-70b"]
    assert cause.kind == "gpu_oom"
    assert cause.pods == ("llama-b",)
    assert cause.counts == {"oom": 1}


def test_event_matched_by_node_and_gpu_of_the_models_gpus() -> None:
    events = [xid(60, "XID 79 (GPU has fallen off the bus)", node="gpu-node-006", gpu=7)]
    cause = run(events)["llama-70b"]
    assert cause.gpus == (("gpu-node-006", 7),)
    assert cause.pods == ()


def test_same_node_other_gpu_is_not_the_models() -> None:
    # gpu-node-006 holds llama-70b on GPUs 6 and 7 only.
    events = [xid(60, "XID 79 (GPU has fallen off the bus)", node="gpu-node-006", gpu=3)]
    assert run(events) == {}


def test_events_older_than_the_window_are_ignored() -> None:
    events = [
        oom(WINDOW_S + 1, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        xid(WINDOW_S + 0.001, "XID 43 (GPU stopped processing)", node="gpu-node-006", gpu=7),
    ]
    assert run(events) == {}


def test_event_stamped_just_past_now_is_still_evidence() -> None:
    # A range query's end is rounded to the millisecond, so an event may sit past ``now``.
    events = [oom(-0.001, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b")]
    assert run(events)["llama-70b"].counts == {"oom": 1}


def test_window_edges_are_inside() -> None:
    events = [
        oom(WINDOW_S, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        oom(0, node="gpu-node-006", gpu=7, pod="llama-b", model="llama-70b"),
    ]
    assert run(events)["llama-70b"].counts == {"oom": 2}


def test_events_on_another_models_gpus_are_ignored() -> None:
    events = [
        oom(60, node="gpu-node-009", gpu=0, pod="qwen-a", model="qwen-7b"),
        xid(50, "XID 43 (GPU stopped processing)", node="gpu-node-009", gpu=0),
        oom(40, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
    ]
    causes = run(events, health("llama-70b", 0.01), health("qwen-7b", 0.0))
    assert list(causes) == ["llama-70b"]
    assert causes["llama-70b"].gpus == (("gpu-node-006", 6),)
    assert causes["llama-70b"].counts == {"oom": 1}


def test_each_sick_model_gets_its_own_cause() -> None:
    events = [
        oom(60, node="gpu-node-009", gpu=0, pod="qwen-a", model="qwen-7b"),
        oom(40, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
    ]
    causes = run(events, health("llama-70b", 0.02), health("qwen-7b", 0.02))
    assert {m: c.gpus for m, c in causes.items()} == {
        "llama-70b": (("gpu-node-006", 6),),
        "qwen-7b": (("gpu-node-009", 0),),
    }


def test_xid_only_is_a_gpu_xid_cause_named_by_the_latest_xid() -> None:
    events = [
        xid(30, "XID 31 (GPU memory page fault)", node="gpu-node-006", gpu=7, pod="llama-b"),
        xid(100, "XID 43 (GPU stopped processing)", node="gpu-node-006", gpu=6, pod="llama-a"),
    ]
    cause = run(events)["llama-70b"]
    assert cause.kind == "gpu_xid"
    assert cause.summary == (
        "5xx likely downstream of XID 31 (GPU memory page fault) on gpu-node-006 GPU 6, 7 "
        "(2 XID in the last 10m)"
    )
    assert cause.short == "XID 31 gpu-node-006 GPU 6,7"
    assert cause.gpus == (("gpu-node-006", 7), ("gpu-node-006", 6))
    assert cause.counts == {"xid": 2}


def test_oom_wins_over_xid_and_the_tally_counts_both() -> None:
    events = [
        xid(90, "XID 43 (GPU stopped processing)", node="gpu-node-006", gpu=7),
        oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
    ]
    cause = run(events)["llama-70b"]
    assert cause.kind == "gpu_oom"
    # The place is where the OOMs were, the tally counts everything behind it.
    assert cause.summary == (
        "5xx likely downstream of GPU OOM on gpu-node-006 GPU 6 (1 CUDA OOM, 1 XID in the last 10m)"
    )
    assert cause.gpus == (("gpu-node-006", 6),)
    assert cause.counts == {"oom": 1, "xid": 1}


def test_oomkilled_alone_is_a_host_oom_named_by_its_node() -> None:
    """OOMKilled (exit 137) is the container's host-memory limit, not the GPU's memory."""
    events = [oomkilled(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b")]
    cause = run(events)["llama-70b"]
    assert cause.kind == "host_oom"
    assert cause.summary == (
        "5xx likely downstream of host OOM (container memory limit) on gpu-node-006 "
        "(1 OOMKilled in the last 10m)"
    )
    assert cause.short == "host OOM gpu-node-006"
    assert cause.gpus == ()
    assert cause.pods == ("llama-a",)


def test_host_oom_wins_over_xid_and_the_tally_counts_both() -> None:
    events = [
        xid(90, "XID 43 (GPU stopped processing)", node="gpu-node-006", gpu=7),
        oomkilled(60, node="gpu-node-006", pod="llama-a", model="llama-70b"),
    ]
    cause = run(events)["llama-70b"]
    assert cause.kind == "host_oom"
    assert cause.summary.endswith("(1 OOMKilled, 1 XID in the last 10m)")


def test_an_oomkill_on_another_node_is_not_named_as_a_gpu_oom() -> None:
    events = [
        oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        oomkilled(30, node="gpu-node-011", pod="llama-c", model="llama-70b"),
    ]
    cause = run(events)["llama-70b"]
    assert cause.kind == "gpu_oom"
    # The place is where the GPUs ran out; the tally still counts the OOMKill.
    assert cause.summary == (
        "5xx likely downstream of GPU OOM on gpu-node-006 GPU 6 "
        "(1 CUDA OOM, 1 OOMKilled in the last 10m)"
    )
    assert cause.short == "GPU OOM gpu-node-006 GPU 6"
    assert cause.pods == ("llama-a", "llama-c")


def test_a_cuda_oom_from_an_unplaced_pod_names_its_node() -> None:
    events = [oom(60, node="gpu-node-011", pod="llama-a", model="llama-70b")]
    cause = run(events)["llama-70b"]
    assert cause.summary == (
        "5xx likely downstream of GPU OOM on gpu-node-011 (1 CUDA OOM in the last 10m)"
    )
    assert cause.short == "GPU OOM gpu-node-011"


def test_short_does_not_name_a_node_twice() -> None:
    events = [
        oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        oom(30, node="gpu-node-006", pod="llama-a", model="llama-70b"),
    ]
    assert run(events)["llama-70b"].short == "GPU OOM gpu-node-006 GPU 6"


def fleet(nodes: int) -> tuple[tuple[GpuState, ...], list[GpuEvent]]:
    gpus = tuple(
        GpuState(f"gpu-node-{i:03d}", 0, f"GPU-{i}", model="llama-70b", pod=f"llama-{i}")
        for i in range(1, nodes + 1)
    )
    events = [oom(100 - i, node=g.node, gpu=0, pod=g.pod) for i, g in enumerate(gpus)]
    return gpus, events


def test_more_than_three_nodes_are_counted_not_named() -> None:
    gpus, events = fleet(5)
    cause = run(events, health("llama-70b", 0.05), gpus=gpus)["llama-70b"]
    assert cause.summary == (
        "5xx likely downstream of GPU OOM on gpu-node-001 GPU 0; gpu-node-002 GPU 0; "
        "gpu-node-003 GPU 0; 2 more nodes (5 CUDA OOM in the last 10m)"
    )
    assert cause.short == (
        "GPU OOM gpu-node-001 GPU 0; gpu-node-002 GPU 0; gpu-node-003 GPU 0; 2 more nodes"
    )
    # The structured fields still carry every GPU.
    assert len(cause.gpus) == 5


def test_three_nodes_are_all_named() -> None:
    gpus, events = fleet(3)
    cause = run(events, health("llama-70b", 0.05), gpus=gpus)["llama-70b"]
    assert "more nodes" not in cause.summary
    assert cause.short == "GPU OOM gpu-node-001 GPU 0; gpu-node-002 GPU 0; gpu-node-003 GPU 0"


def test_one_node_over_the_limit_is_one_more_node() -> None:
    gpus, events = fleet(4)
    cause = run(events, health("llama-70b", 0.05), gpus=gpus)["llama-70b"]
    assert cause.short == (
        "GPU OOM gpu-node-001 GPU 0; gpu-node-002 GPU 0; gpu-node-003 GPU 0; 1 more node"
    )


def test_short_window_is_written_in_seconds() -> None:
    events = [oom(10, node="gpu-node-006", gpu=6, pod="llama-a")]
    cause = run(events, within_s=30)["llama-70b"]
    assert cause.summary.endswith("(1 CUDA OOM in the last 30s)")


def test_as_json() -> None:
    events = [
        oom(60, node="gpu-node-006", gpu=6, pod="llama-a", model="llama-70b"),
        xid(30, "XID 31 (GPU memory page fault)", node="gpu-node-006", gpu=7, pod="llama-b"),
    ]
    cause = run(events)["llama-70b"]
    assert cause.as_json() == {
        "kind": "gpu_oom",
        "summary": (
            "5xx likely downstream of GPU OOM on gpu-node-006 GPU 6 "
            "(1 CUDA OOM, 1 XID in the last 10m)"
        ),
        "gpus": [{"node": "gpu-node-006", "gpu": 6}],
        "pods": ["llama-a", "llama-b"],
        "events": {"oom": 1, "xid": 1},
    }


def test_causes_come_sickest_model_first() -> None:
    """The cause line shows the first one: it must be the model the table puts on top."""
    events = [
        oom(60, pod="llama-a", model="llama-70b"),
        oom(60, pod="qwen-a", model="qwen-7b"),
    ]
    mild, sick = health("llama-70b", 0.009), health("qwen-7b", 0.2)
    assert list(run(events, mild, sick)) == ["qwen-7b", "llama-70b"]
    assert list(run(events, sick, mild)) == ["qwen-7b", "llama-70b"]
