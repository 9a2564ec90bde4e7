"""A host OOM is its own cause: a container OOMKilled (exit 137, Kubernetes'
``lastState.terminated.reason: OOMKilled``) passed its memory limit, host memory, not
the GPU's. The cause line, the 5xx tree and the GPU OOM tree all say so; CUDA OOM log
lines are still a GPU OOM (issue 22, item 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tui.config import Slo
from tui.domain.assessed import judge, judge_rows
from tui.domain.cause import suspect
from tui.domain.model import AGGREGATE, GpuEvent, GpuState, ModelHealth, Snapshot
from tui.domain.runbook import Question
from tui.domain.signals import Facts
from tui.domain.triage import reading
from tui.sources.kube import PodTarget, events_from_log, events_from_pod
from tui.store.runbook_files import load_runbooks, shipped_dir

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SLO = Slo()
MODEL = "llama-70b"
POD = "vllm-llama-70b-7d9f-abcde"
NODE = "gpu-node-006"
TARGET = PodTarget("inference", POD, MODEL, ((NODE, 6),))
GPUS = (GpuState(NODE, 6, "GPU-6-6", model=MODEL, pod=POD, namespace="inference"),)
BOOKS = load_runbooks([shipped_dir()]).books


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def oomkilled_pod(at: datetime) -> dict[str, Any]:
    """A pod whose model-server container the kernel killed for memory, as the API says."""
    return {
        "metadata": {"name": POD, "namespace": "inference"},
        "spec": {"nodeName": NODE},
        "status": {
            "containerStatuses": [
                {
                    "name": "vllm",
                    "restartCount": 1,
                    "state": {"running": {"startedAt": stamp(at + timedelta(seconds=5))}},
                    "lastState": {
                        "terminated": {
                            "reason": "OOMKilled",
                            "exitCode": 137,
                            "finishedAt": stamp(at),
                        }
                    },
                }
            ]
        },
    }


def cuda_oom_log(at: datetime) -> str:
    return (
        f"{stamp(at)} torch.OutOfMemoryError: CUDA out of memory. Tried to allocate "
        "2.00 GiB. GPU 0 has a total capacity of 79.14 GiB of which 1.06 GiB is free.\n"
    )


def host_oom_events() -> list[GpuEvent]:
    events = events_from_pod(oomkilled_pod(NOW - timedelta(minutes=2)), TARGET)
    assert [e.kind for e in events] == ["oomkilled"]
    return events


def cuda_oom_events() -> list[GpuEvent]:
    events = events_from_log(cuda_oom_log(NOW - timedelta(minutes=1)), TARGET)
    assert [e.kind for e in events] == ["oom"]
    return events


def facts(events: list[GpuEvent], *, mem_full: bool = False) -> Facts:
    gpus = GPUS
    if mem_full:
        # vLLM preallocates: a full framebuffer alone is no OOM.
        gpus = (GpuState(NODE, 6, "GPU-6-6", model=MODEL, pod=POD, namespace="inference",
                         mem_used_bytes=79.0, mem_total_bytes=80.0),)  # fmt: skip
    snap = Snapshot(
        taken_at=NOW,
        source="test",
        models=(ModelHealth(MODEL, rps=10.0, error_5xx_ratio=0.05),),
        aggregate=ModelHealth(AGGREGATE, rps=10.0, error_5xx_ratio=0.05),
        gpus=gpus,
    )
    return Facts(snap, SLO, MODEL, tuple(events), within_s=1800, verdicts=judge(snap, SLO))


def suggested(runbook: str, step: str, f: Facts) -> bool | None:
    question = BOOKS[runbook].step(step)
    assert isinstance(question, Question)
    now = reading(question, f)
    assert now is not None, f"{runbook}/{step} has no evidence"
    return now.suggested


def cause_of(events: list[GpuEvent]):  # type: ignore[no-untyped-def]
    models = [ModelHealth(MODEL, rps=10.0, error_5xx_ratio=0.05)]
    causes = suspect(
        models, GPUS, events, SLO, now=NOW, within_s=600, verdicts=judge_rows(models, SLO)
    )
    return causes[MODEL]


def test_an_oomkilled_pod_reads_as_a_host_oom_not_a_gpu_oom() -> None:
    cause = cause_of(host_oom_events())
    assert cause.kind == "host_oom"
    assert "GPU OOM" not in cause.summary and "GPU OOM" not in cause.short
    assert cause.headline == (
        f"5xx likely downstream of host OOM (container memory limit) on {NODE}"
    )
    assert cause.short == f"host OOM {NODE}"
    assert cause.summary.endswith("(1 OOMKilled in the last 10m)")
    # Not a GPU fault: no GPU is named, the pod is.
    assert cause.gpus == ()
    assert cause.pods == (POD,)
    assert cause.as_json()["kind"] == "host_oom"


def test_cuda_oom_log_lines_still_give_a_gpu_oom() -> None:
    cause = cause_of(cuda_oom_events())
    assert cause.kind == "gpu_oom"
    assert cause.headline == f"5xx likely downstream of GPU OOM on {NODE} GPU 6"


def test_cuda_ooms_beside_an_oomkill_are_a_gpu_oom_named_where_the_gpus_ran_out() -> None:
    cause = cause_of([*host_oom_events(), *cuda_oom_events()])
    assert cause.kind == "gpu_oom"
    assert cause.summary == (
        f"5xx likely downstream of GPU OOM on {NODE} GPU 6 "
        "(1 CUDA OOM, 1 OOMKilled in the last 10m)"
    )


def test_the_5xx_tree_does_not_say_gpu_oom_on_an_oomkill_alone() -> None:
    f = facts(host_oom_events())
    assert suggested("errors-5xx", "gpu-oom", f) is False
    assert suggested("errors-5xx", "host-oom", f) is True
    leaf = BOOKS["errors-5xx"].step(BOOKS["errors-5xx"].step("host-oom").yes)  # type: ignore[union-attr]
    assert "raise-memory-limit" in getattr(leaf, "actions", [])


def test_the_gpu_oom_tree_sends_an_oomkill_to_the_host_memory_leaf() -> None:
    # GPU memory full (preallocated) and the container OOMKilled: not GPU memory pressure.
    f = facts(host_oom_events(), mem_full=True)
    assert suggested("gpu-oom", "mem-full", f) is True
    assert suggested("gpu-oom", "oom-logged", f) is False
    assert suggested("tg-backend-oom-at-start", "oom-seen", f) is False
    # ...and both trees lead it to the container's memory limit.
    book = BOOKS["gpu-oom"]
    after = book.step("oom-logged").no  # type: ignore[union-attr]
    assert suggested("gpu-oom", after, f) is True
    assert book.step(book.step(after).yes).id == "host-memory"  # type: ignore[union-attr]
    book = BOOKS["tg-backend-oom-at-start"]
    after = book.step("oom-seen").no  # type: ignore[union-attr]
    assert suggested("tg-backend-oom-at-start", after, f) is True
    leaf = book.step(book.step(after).yes)  # type: ignore[union-attr]
    assert "raise-memory-limit" in getattr(leaf, "actions", [])


@pytest.mark.parametrize(
    ("runbook", "step"),
    [("errors-5xx", "gpu-oom"), ("gpu-oom", "oom-logged"), ("tg-backend-oom-at-start", "oom-seen")],
)
def test_cuda_ooms_still_answer_the_gpu_oom_questions_yes(runbook: str, step: str) -> None:
    f = facts(cuda_oom_events(), mem_full=True)
    assert suggested(runbook, step, f) is True


def test_every_shipped_oom_question_counts_what_it_asks_about() -> None:
    """A question counts OOMKills exactly when its words ask about them: one that asks
    about CUDA OOMs alone never reads a host OOM as yes."""
    for book in BOOKS.values():
        for step in book.steps:
            if not isinstance(step, Question) or step.expr is None:
                continue
            counts = "oomkilled_events" in step.expr.names
            assert counts == ("OOMKilled" in step.text), f"{book.id}/{step.id}: {step.text}"


def test_a_host_oom_is_the_reports_suggested_root_cause() -> None:
    """The report agrees with the cause line: OOMKilled alone is the container's memory
    limit, with follow-ups about that limit, not about GPU memory."""
    from tui.domain.cause import SuspectedCause
    from tui.domain.report import suggest_root_cause

    cause = SuspectedCause(
        model=MODEL, kind="host_oom", summary=f"host OOM (container memory limit) on {NODE}",
        headline=f"5xx likely downstream of host OOM on {NODE}", short=f"host OOM {NODE}",
        gpus=(), pods=(POD,), counts={"oomkilled": 1},
    )  # fmt: skip
    snap = Snapshot(taken_at=NOW, source="t", models=(), aggregate=ModelHealth(AGGREGATE))
    text, items = suggest_root_cause(snap, {MODEL: cause}, [], None, SLO)
    assert text.startswith(f"Container memory limit (OOMKilled, exit 137) behind 5xx on {MODEL}")
    assert any(f"memory limit of {MODEL}" in i.action for i in items)
    assert not any("GPU" in i.action for i in items)
