"""Walking the runbooks with live evidence: the worst symptom picks the tree, evidence
answers what it can, and ``warroom triage`` reports the path and where it ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui.cli import main
from tui.config import Slo
from tui.domain.assessed import judge, judge_rows
from tui.domain.model import AGGREGATE, GpuEvent, GpuState, KeyRejections, ModelHealth, Snapshot
from tui.domain.signals import SIGNALS, Facts, read
from tui.domain.triage import Symptom, Walk, auto_walk, fill, worst_symptom
from tui.store.runbook_files import load_runbooks

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SLO = Slo()


def triage(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["triage", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def demo(capsys: pytest.CaptureFixture[str], scenario: str, *args: str) -> dict[str, Any]:
    return triage(capsys, "--demo", "--scenario", scenario, "--at", "10m", *args)


# -- against the simulator's scripted incidents


def test_saturation_walks_the_latency_tree_to_scale_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = demo(capsys, "saturation")
    assert out["symptom"]["kind"] == "p99"
    # The three saturated models wait ~2.5 s for a first token (2.5x its SLO, worse than
    # their p99 at 1.5x): the worst TTFT leads, a hair ahead of the others.
    assert out["symptom"]["signal"] == "ttft_p99_s"
    assert out["symptom"]["model"] == out["model"] == "mistral-7b-instruct-v0.3"
    assert out["runbook"]["id"] == "latency"
    first = out["path"][0]
    assert (first["step"], first["answer"], first["by"]) == ("gpu-hot", "yes", "evidence")
    assert first["evidence"]["values"]["gpu_util_max"] > 0.90
    assert out["reached"]["step"] == "scale-out"
    assert {a["id"] for a in out["reached"]["actions"]} >= {"scale-up", "overflow-routing"}
    assert out["stopped_at"] is None


def test_gpu_oom_walks_from_the_5xx_tree_into_the_oom_leaf(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = demo(capsys, "gpu-oom")
    assert out["symptom"]["kind"] == "5xx"
    assert out["runbook"]["id"] == "errors-5xx"
    # The 5xx tree hands over to the GPU OOM tree: the gotcha "OOM shows as 5xx".
    assert [s["kind"] for s in out["path"]].count("link") == 1
    assert {s["runbook"] for s in out["path"]} == {"errors-5xx", "gpu-oom"}
    assert all(s["by"] == "evidence" for s in out["path"] if s["kind"] == "question")
    assert out["reached"]["runbook"] == "gpu-oom"
    assert out["reached"]["step"] == "oom-mitigate"
    assert "batch-size-cap" in {a["id"] for a in out["reached"]["actions"]}


def test_key_429_walks_to_the_single_key_leaf(capsys: pytest.CaptureFixture[str]) -> None:
    out = demo(capsys, "key-429")
    assert out["symptom"]["kind"] == "429"
    assert out["runbook"]["id"] == "rate-limit-429"
    first = out["path"][0]
    assert first["evidence"]["values"]["top_key_429_share"] >= 0.9
    assert out["reached"]["step"] == "single-key"
    assert "block-api-key" in {a["id"] for a in out["reached"]["actions"]}


def test_a_healthy_fleet_opens_no_tree(capsys: pytest.CaptureFixture[str]) -> None:
    out = demo(capsys, "healthy")
    assert out["symptom"] is None
    assert out["runbook"] is None and out["reached"] is None and out["path"] == []


def test_a_picked_tree_stops_at_the_first_question_evidence_cannot_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = demo(capsys, "healthy", "--runbook", "latency", "--model", "llama-3.1-70b-instruct")
    assert out["runbook"]["id"] == "latency"
    # Healthy GPUs (no), a short queue (no), then the provider: no signal answers that.
    assert [(s["step"], s["answer"]) for s in out["path"]] == [
        ("gpu-hot", "no"),
        ("queue-deep", "no"),
    ]
    assert out["reached"] is None
    stop = out["stopped_at"]
    assert stop["step"] == "provider-failing"
    assert stop["reason"] == "no evidence expression: the engineer answers"


def test_triage_text_names_the_path_and_the_leaf(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", "--demo", "--scenario", "saturation", "--at", "10m"]) == 0
    text = capsys.readouterr().out
    assert "Worst symptom: TTFT breach on mistral-7b-instruct-v0.3: time to first token" in text
    assert "latency/gpu-hot: Is GPU utilization above 90 %? -> yes [gpu_util_max 99.0%]" in text
    assert "Reached latency/scale-out" in text
    assert "scale-up: Scale the model's servers up" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--runbook", "nope"], "There is no runbook 'nope'"),
        (["--model", "nope"], "There is no model 'nope'"),
    ],
)
def test_bad_triage_arguments_are_one_sentence(
    capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    assert main(["triage", "--demo", "--scenario", "saturation", *args]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_a_broken_team_runbook_is_reported_and_the_rest_still_walk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "ours.yaml").write_text("id: ours\ntitle: Ours\n")
    config = tmp_path / "config.toml"
    config.write_text(f'runbook_dirs = ["{mine}"]\n')
    out = demo(capsys, "saturation", "--config", str(config))
    assert out["reached"]["step"] == "scale-out"
    assert len(out["runbook_errors"]) == 1
    assert "ours.yaml line 1, summary: Field required" in out["runbook_errors"][0]


# -- the walk itself, on hand-made data


def health(model: str, **kw: float | None) -> ModelHealth:
    return ModelHealth(model=model, **kw)  # type: ignore[arg-type]


def snapshot(models: list[ModelHealth], **kw: Any) -> Snapshot:
    aggregate = kw.pop("aggregate", health(AGGREGATE, rps=100.0, error_5xx_ratio=0.01))
    return Snapshot(taken_at=NOW, source="test", models=tuple(models), aggregate=aggregate, **kw)


def symptom(models: list[ModelHealth], aggregate: ModelHealth) -> Symptom | None:
    """`worst_symptom` over verdicts made once from the same rows, as a refresh makes them."""
    return worst_symptom(models, aggregate, SLO, judge_rows([*models, aggregate], SLO))


def test_worst_symptom_is_the_sickest_models_worst_signal() -> None:
    models = [
        health("a", p99_s=6.0, error_5xx_ratio=0.001, rps=10),  # p99 at 1.2x its SLO
        health("b", p99_s=1.0, error_5xx_ratio=0.05, rps=1),  # 5xx at 5x
    ]
    s = symptom(models, health(AGGREGATE))
    assert s is not None and (s.kind, s.model, s.signal) == ("5xx", "b", "error_5xx_ratio")


def test_a_warning_counts_and_the_aggregate_is_the_last_resort() -> None:
    warn = symptom([health("a", p99_s=4.5)], health(AGGREGATE))
    assert warn is not None and warn.kind == "p99" and warn.level.name == "WARN"
    assert symptom([health("a", p99_s=1.0)], health(AGGREGATE, p99_s=1.0)) is None
    api = symptom([], health(AGGREGATE, rate_429_ratio=0.2))
    assert api is not None and (api.kind, api.model) == ("429", AGGREGATE)


def gpu(node: str, index: int, model: str | None, util: float, **kw: Any) -> GpuState:
    return GpuState(node=node, gpu=index, uuid=f"{node}-{index}", model=model, util_ratio=util,
                    pod=kw.pop("pod", f"{model}-0"), namespace="inference", **kw)  # fmt: skip


def test_signals_read_the_affected_models_gpus_and_events() -> None:
    snap = snapshot(
        [health("a", rps=10.0, error_5xx_ratio=0.05), health("b", rps=90.0)],
        gpus=(
            gpu("n1", 0, "a", 0.5, mem_used_bytes=79.0, mem_total_bytes=80.0, xid=43),
            gpu("n1", 1, "a", 0.97, mem_used_bytes=40.0, mem_total_bytes=80.0, xid=0),
            gpu("n2", 0, "b", 0.99, pod="b-0"),
        ),
        rate_limited_keys=(KeyRejections("key-1", 3.0, 0.75),),
    )
    events = (
        GpuEvent(NOW - timedelta(minutes=5), "oom", "CUDA out of memory", node="n1", gpu=0),
        GpuEvent(NOW - timedelta(minutes=2), "oomkilled", "OOMKilled", pod="a-0"),
        GpuEvent(NOW - timedelta(hours=2), "oom", "too old", node="n1", gpu=1),
        GpuEvent(NOW, "oom", "another model's", node="n2", gpu=0),
    )
    values = read(SIGNALS, Facts(snap, SLO, "a", events, within_s=1800, verdicts=judge(snap, SLO)))
    assert values["gpu_util_max"] == 0.97
    assert values["gpu_util_mean"] == pytest.approx(0.735)
    assert values["gpu_mem_max"] == pytest.approx(79 / 80)
    assert values["gpus"] == 2 and values["gpus_with_xid"] == 1
    assert values["fleet_gpus"] == 3 and values["fleet_gpu_util_max"] == 0.99
    assert (values["cuda_oom_events"], values["oomkilled_events"]) == (1, 1)
    # GPU OOMs are the CUDA ones: an OOMKill is the container's host-memory limit.
    assert values["gpu_oom_events"] == 1
    # 10 rps at 5 % of an API at 100 rps and 1 %: half of the API's errors are this model's.
    assert values["share_of_api_5xx"] == pytest.approx(0.5)
    assert values["top_key_429_share"] == 0.75
    assert values["slo_queue_depth"] == SLO.queue_depth
    assert values["p99_s"] is None and values["ttft_share_of_p99"] is None


def test_a_model_without_gpu_data_leaves_gpu_questions_to_the_engineer() -> None:
    snap = snapshot([health("a", p99_s=9.0, rps=1.0)])
    books = load_runbooks()
    walk = Walk(books, books.books["latency"])
    auto_walk(walk, Facts(snap, SLO, "a", verdicts=judge(snap, SLO)))
    assert walk.path == [] and walk.here.id == "gpu-hot"


def test_back_and_restart_retrace_the_path_across_a_link() -> None:
    books = load_runbooks()
    snap = snapshot([health("a", error_5xx_ratio=0.2, rps=1.0)],
                    gpus=(gpu("n1", 0, "a", 0.5, mem_used_bytes=79.6, mem_total_bytes=80.0),),
                    events=())  # fmt: skip
    events = (GpuEvent(NOW, "oom", "CUDA out of memory", node="n1", gpu=0, model="a"),)
    facts = Facts(snap, SLO, "a", events, verdicts=judge(snap, SLO))
    walk = Walk(books, books.books["errors-5xx"])
    auto_walk(walk, facts)
    assert walk.runbook.id == "gpu-oom" and walk.here.id == "oom-mitigate"
    depth = len(walk.path)
    link_at = next(i for i, t in enumerate(walk.path) if t.kind == "link")
    for _ in range(depth - link_at):
        assert walk.back()
    assert walk.runbook.id == "errors-5xx" and walk.here.kind == "link"
    walk.restart()
    assert walk.path == [] and walk.runbook.id == "errors-5xx"
    assert walk.here.id == walk.first.start
    assert not walk.back()


def test_an_answer_against_the_evidence_is_the_engineers() -> None:
    books = load_runbooks()
    snap = snapshot([health("a", p99_s=9.0)], gpus=(gpu("n1", 0, "a", 0.99),))
    walk = Walk(books, books.books["latency"])
    taken = walk.answer(False, Facts(snap, SLO, "a", verdicts=judge(snap, SLO)))
    assert (taken.answer, taken.by) == (False, "engineer")
    assert taken.reading is not None and taken.reading.suggested is True
    assert walk.here.id == "queue-deep"


def test_commands_are_filled_from_live_data_and_say_what_is_missing() -> None:
    snap = snapshot([health("a")], gpus=(gpu("n1", 0, "a", 0.5, pod="a-7"),),
                    rate_limited_keys=(KeyRejections("key-9", 1.0, 1.0),))  # fmt: skip
    facts = Facts(snap, SLO, "a", verdicts=judge(snap, SLO))
    text = "kubectl logs -n {{namespace}} {{pod}} # {{model}} on {{node}} [{{window}}] {{api_key}}"
    assert fill(text, facts, "5m") == "kubectl logs -n inference a-7 # a on n1 [5m] key-9"
    quiet = snapshot([health("a")])
    bare = Facts(quiet, SLO, "a", verdicts=judge(quiet, SLO))
    assert (
        fill(text, bare, "5m") == "kubectl logs -n <namespace> <pod> # a on <node> [5m] <api_key>"
    )
