"""dcgm-exporter series as the Prometheus source reads them, turned into GPUs and XID changes."""

from __future__ import annotations

import math

import pytest

from tui.clock import utc
from tui.config import MetricProfile
from tui.domain.model import MIB, GpuState
from tui.domain.xid import XidChange
from tui.sources.dcgm import gpu_key, gpus_from_series, pod_models, xid_changes
from tui.sources.promql import GPU_FIELD_LABEL

PROFILE = MetricProfile()
T0 = 1_790_000_000.0


def dcgm_labels(field: str, **extra: str) -> dict[str, str]:
    """Labels as dcgm-exporter writes them (released versions: ``Hostname``)."""
    labels = {
        "gpu": "6",
        "UUID": "GPU-5f1e3c7a-0000-0000-0000-000000000006",
        "device": "nvidia6",
        "modelName": "NVIDIA H100 80GB HBM3",
        "Hostname": "gpu-node-006",
        "pod": "llama-70b-7f9c-x2",
        "namespace": "inference",
        "container": "vllm",
        GPU_FIELD_LABEL: field,
    }
    labels.update(extra)
    return {k: v for k, v in labels.items() if v != "<drop>"}


FULL = {"util": 87.0, "fb_used": 70_000.0, "fb_free": 11_000.0, "temp": 71.0, "power": 612.5}
MODELS = {"inference/llama-70b-7f9c-x2": "llama-70b"}


def one_gpu(
    values: dict[str, float | None], **extra: str
) -> list[tuple[dict[str, str], float | None]]:
    return [(dcgm_labels(field, **extra), value) for field, value in values.items()]


def only(gpus: list[GpuState]) -> GpuState:
    assert len(gpus) == 1
    return gpus[0]


def test_fields_are_converted_to_ratios_bytes_and_numbers() -> None:
    gpu = only(gpus_from_series(one_gpu({**FULL, "xid": 43.0}), MODELS, PROFILE))
    assert gpu == GpuState(
        node="gpu-node-006",
        gpu=6,
        uuid="GPU-5f1e3c7a-0000-0000-0000-000000000006",
        model="llama-70b",
        pod="llama-70b-7f9c-x2",
        namespace="inference",
        product="NVIDIA H100 80GB HBM3",
        util_ratio=0.87,
        mem_used_bytes=70_000 * MIB,
        mem_total_bytes=81_000 * MIB,
        temp_c=71.0,
        power_w=612.5,
        xid=43,
    )
    assert isinstance(gpu.xid, int)
    assert gpu.mem_ratio == pytest.approx(70_000 / 81_000)


def test_util_is_clamped_to_one() -> None:
    gpu = only(gpus_from_series(one_gpu({"util": 100.4}), {}, PROFILE))
    assert gpu.util_ratio == 1.0


def test_lowercase_hostname_label_is_read() -> None:
    samples = one_gpu(FULL, Hostname="<drop>", hostname="gpu-node-011")
    assert only(gpus_from_series(samples, MODELS, PROFILE)).node == "gpu-node-011"


def test_instance_is_the_node_when_no_hostname_label() -> None:
    samples = one_gpu(FULL, Hostname="<drop>", instance="10.0.3.17:9400")
    assert only(gpus_from_series(samples, MODELS, PROFILE)).node == "10.0.3.17:9400"


def test_empty_hostname_falls_through_to_the_other_spelling() -> None:
    samples = one_gpu(FULL, Hostname="", hostname="gpu-node-012", instance="10.0.3.18:9400")
    assert only(gpus_from_series(samples, MODELS, PROFILE)).node == "gpu-node-012"


def test_idle_gpu_has_no_pod_namespace_or_model() -> None:
    samples = one_gpu(FULL, pod="", namespace="", container="")
    gpu = only(gpus_from_series(samples, MODELS, PROFILE))
    assert (gpu.pod, gpu.namespace, gpu.model) == (None, None, None)
    assert gpu.util_ratio == 0.87


def test_series_without_a_gpu_label_is_skipped() -> None:
    samples = [*one_gpu(FULL), *one_gpu(FULL, gpu="<drop>", UUID="GPU-other")]
    assert [g.uuid for g in gpus_from_series(samples, MODELS, PROFILE)] == [
        "GPU-5f1e3c7a-0000-0000-0000-000000000006"
    ]
    assert gpu_key(dcgm_labels("util", gpu="<drop>"), PROFILE) is None
    assert gpu_key(dcgm_labels("util", gpu="x"), PROFILE) is None


def test_series_with_no_node_at_all_is_skipped() -> None:
    assert gpu_key(dcgm_labels("util", Hostname="<drop>"), PROFILE) is None


def test_series_without_the_field_tag_is_skipped() -> None:
    samples = [(dcgm_labels("util", **{GPU_FIELD_LABEL: "<drop>"}), 50.0)]
    assert gpus_from_series(samples, MODELS, PROFILE) == []


def test_missing_uuid_falls_back_to_node_and_index() -> None:
    samples = one_gpu(FULL, UUID="<drop>")
    assert only(gpus_from_series(samples, MODELS, PROFILE)).uuid == "gpu-node-006/6"


def test_gpus_on_several_nodes_are_kept_apart() -> None:
    samples = [
        *one_gpu({"util": 10.0}),
        *one_gpu({"util": 20.0}, gpu="7", UUID="GPU-7"),
        *one_gpu({"util": 30.0}, Hostname="gpu-node-009", UUID="GPU-9-6"),
    ]
    got = {(g.node, g.gpu): g.util_ratio for g in gpus_from_series(samples, MODELS, PROFILE)}
    assert got == {("gpu-node-006", 6): 0.1, ("gpu-node-006", 7): 0.2, ("gpu-node-009", 6): 0.3}


def test_missing_gauges_stay_none_not_zero() -> None:
    gpu = only(gpus_from_series(one_gpu({"util": 5.0, "fb_used": 1000.0}), MODELS, PROFILE))
    assert gpu.util_ratio == 0.05
    assert gpu.mem_used_bytes == 1000 * MIB
    # Without fb_free the card's size is unknown.
    assert gpu.mem_total_bytes is None
    assert gpu.mem_ratio is None
    assert (gpu.temp_c, gpu.power_w, gpu.xid) == (None, None, None)


@pytest.mark.parametrize("missing", [None, math.nan], ids=["none", "nan"])
def test_values_without_a_number_stay_none_not_zero(missing: float | None) -> None:
    values: dict[str, float | None] = {k: missing for k in (*FULL, "xid")}
    gpu = only(gpus_from_series(one_gpu(values), MODELS, PROFILE))
    assert gpu.util_ratio is None
    assert gpu.mem_used_bytes is None
    assert gpu.mem_total_bytes is None
    assert gpu.temp_c is None
    assert gpu.power_w is None
    assert gpu.xid is None


def test_model_comes_from_the_pod_map_by_namespace_and_pod() -> None:
    # The same pod name in another namespace serves another model.
    models = {"inference/llama-70b-7f9c-x2": "llama-70b", "staging/llama-70b-7f9c-x2": "qwen-7b"}
    samples = [*one_gpu(FULL), *one_gpu(FULL, namespace="staging", UUID="GPU-s", gpu="1")]
    got = {g.namespace: g.model for g in gpus_from_series(samples, models, PROFILE)}
    assert got == {"inference": "llama-70b", "staging": "qwen-7b"}


def test_pod_no_model_server_knows_has_no_model() -> None:
    gpu = only(gpus_from_series(one_gpu(FULL, pod="trainer-0"), MODELS, PROFILE))
    assert (gpu.pod, gpu.model) == ("trainer-0", None)


def test_pod_models_maps_namespace_and_pod_to_the_served_model() -> None:
    samples = [
        ({"namespace": "inference", "pod": "llama-70b-7f9c-x2", "model_name": "llama-70b"}, 1.0),
        ({"namespace": "inference", "pod": "qwen-7b-55d-a1", "model_name": "qwen-7b"}, 1.0),
        ({"pod": "bare-pod", "model_name": "mistral-7b"}, 1.0),
        ({"namespace": "inference", "pod": "", "model_name": "orphan"}, 1.0),
        ({"namespace": "inference", "pod": "no-model"}, 1.0),
    ]
    assert pod_models(samples, PROFILE) == {
        "inference/llama-70b-7f9c-x2": "llama-70b",
        "inference/qwen-7b-55d-a1": "qwen-7b",
        "/bare-pod": "mistral-7b",
    }


def test_pod_models_honours_profile_label_names() -> None:
    profile = MetricProfile(pod_label="kubernetes_pod_name", server_model_label="served_model")
    samples = [({"namespace": "ns", "kubernetes_pod_name": "p", "served_model": "m"}, 1.0)]
    assert pod_models(samples, profile) == {"ns/p": "m"}


# xid_changes: the range answer of ``max by (...) (DCGM_FI_DEV_XID_ERRORS) != 0``.
STEP = 10.0
START = T0 - 1800


Points = list[tuple[float, float | None]]
Series = tuple[dict[str, str], Points]


def xid_series(points: Points, **extra: str) -> Series:
    """A history series: dcgm labels without the field tag (the query adds none)."""
    labels = dcgm_labels("<drop>", **extra)
    assert GPU_FIELD_LABEL not in labels
    return labels, points


def run(*series: Series) -> tuple[list[XidChange], dict[str, int]]:
    return xid_changes(list(series), MODELS, PROFILE, start=START, step=STEP)


def steps(first: float, last: float, value: float) -> Points:
    """Points every STEP from ``first`` to ``last`` inclusive."""
    n = round((last - first) / STEP)
    return [(first + i * STEP, value) for i in range(n + 1)]


UUID6 = "GPU-5f1e3c7a-0000-0000-0000-000000000006"


def test_code_set_at_range_start_is_already_not_a_change() -> None:
    changes, already = run(xid_series(steps(START, T0, 43.0)))
    assert changes == []
    assert already == {UUID6: 43}


def test_code_appearing_mid_range_is_a_change_at_its_first_point() -> None:
    changes, already = run(xid_series(steps(START + 600, T0, 31.0)))
    assert already == {}
    assert [(c.gpu.uuid, c.code, c.at) for c in changes] == [(UUID6, 31, utc(START + 600))]
    gpu = changes[0].gpu
    assert (gpu.node, gpu.gpu, gpu.pod, gpu.namespace, gpu.model, gpu.product) == (
        "gpu-node-006",
        6,
        "llama-70b-7f9c-x2",
        "inference",
        "llama-70b",
        "NVIDIA H100 80GB HBM3",
    )
    assert changes[0].at.utcoffset() is not None
    assert changes[0].at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_a_gap_means_the_code_went_to_zero_and_back() -> None:
    points = [*steps(START, START + 100, 31.0), *steps(START + 500, T0, 31.0)]
    changes, already = run(xid_series(points))
    assert already == {UUID6: 31}
    assert [(c.code, c.at) for c in changes] == [(31, utc(START + 500))]


def test_code_set_at_start_then_changed_mid_range() -> None:
    points = [*steps(START, START + 300, 31.0), *steps(START + 310, T0, 43.0)]
    changes, already = run(xid_series(points))
    assert already == {UUID6: 31}
    assert [(c.code, c.at) for c in changes] == [(43, utc(START + 310))]


def test_two_codes_in_a_row_are_two_changes_with_their_times() -> None:
    points = [*steps(START + 200, START + 400, 31.0), *steps(START + 410, T0, 43.0)]
    changes, already = run(xid_series(points))
    assert already == {}
    assert [(c.code, c.at) for c in changes] == [
        (31, utc(START + 200)),
        (43, utc(START + 410)),
    ]


def test_one_missed_sample_is_not_a_gap() -> None:
    # Points 1.5 steps apart or closer are continuous; a single skipped step is 2 steps.
    points = [(START + 100, 31.0), (START + 115, 31.0), (START + 130, 31.0)]
    changes, _ = run(xid_series(points))
    assert [(c.code, c.at) for c in changes] == [(31, utc(START + 100))]


def test_none_points_are_skipped() -> None:
    points: list[tuple[float, float | None]] = [(START, None), (START + 100, 79.0)]
    changes, already = run(xid_series(points))
    assert already == {}
    assert [(c.code, c.at) for c in changes] == [(79, utc(START + 100))]


def test_changes_are_kept_per_gpu() -> None:
    changes, already = run(
        xid_series(steps(START, T0, 43.0)),
        xid_series(steps(START + 900, T0, 79.0), gpu="7", UUID="GPU-7", pod="", namespace=""),
        xid_series([(START + 50, 13.0)], gpu="<drop>"),
    )
    assert already == {UUID6: 43}
    assert [(c.gpu.uuid, c.gpu.gpu, c.gpu.model, c.code) for c in changes] == [
        ("GPU-7", 7, None, 79)
    ]


def where(field: str) -> dict[str, str]:
    """A gauge's labels as the GPU query returns them: node and index only."""
    return {"Hostname": "gpu-node-006", "gpu": "6", GPU_FIELD_LABEL: field}


def test_who_a_gpu_is_comes_from_its_identity_series() -> None:
    """The query sends who each GPU is once (UUID, model, pod) and its gauges by node and
    index: the GPU built from both is the one full labels on every gauge would make."""
    lean = [(dcgm_labels("identity"), 1.0)] + [(where(f), v) for f, v in FULL.items()]
    assert gpus_from_series(lean, MODELS, PROFILE) == gpus_from_series(
        one_gpu(FULL), MODELS, PROFILE
    )
    # Identity last, or missing: the gauges are still the GPU's, named as well as they can.
    late = [(where(f), v) for f, v in FULL.items()] + [(dcgm_labels("identity"), 1.0)]
    assert only(gpus_from_series(late, MODELS, PROFILE)).model == "llama-70b"
    bare = only(gpus_from_series([(where("util"), 50.0)], MODELS, PROFILE))
    assert (bare.uuid, bare.pod, bare.util_ratio) == ("gpu-node-006/6", None, 0.5)


def test_a_pod_label_changing_mid_scrape_is_one_gpu_named_by_its_pod() -> None:
    """Two identities for one GPU (the pod label moved between gauges): one GPU, not two,
    named by the identity that has a pod."""
    samples = [
        (dcgm_labels("identity", pod="<drop>", namespace="<drop>"), 1.0),
        (dcgm_labels("identity"), 1.0),
        (where("util"), 87.0),
    ]
    gpu = only(gpus_from_series(samples, MODELS, PROFILE))
    assert (gpu.pod, gpu.model, gpu.util_ratio) == ("llama-70b-7f9c-x2", "llama-70b", 0.87)


# -- dcgm-exporter's Helm chart: ServiceMonitor ``honorLabels: false`` -------------------
# Prometheus keeps the exporter's own pod in ``pod``/``namespace`` (target labels) and the
# GPU's workload as ``exported_pod``/``exported_namespace``/``exported_container``.
EXPORTER = {"pod": "dcgm-exporter-xyz", "namespace": "gpu-operator", "container": "exporter"}
RENAMED = {
    **EXPORTER,
    "exported_pod": "llama-70b-7f9c-x2",
    "exported_namespace": "inference",
    "exported_container": "vllm",
}


def test_exported_pod_wins_over_the_exporters_own_pod() -> None:
    gpu = only(gpus_from_series(one_gpu(FULL, **RENAMED), MODELS, PROFILE))
    assert (gpu.pod, gpu.namespace, gpu.model) == ("llama-70b-7f9c-x2", "inference", "llama-70b")


def test_exported_labels_win_in_the_lean_identity_series_too() -> None:
    lean = [(dcgm_labels("identity", **RENAMED), 1.0)] + [(where(f), v) for f, v in FULL.items()]
    gpu = only(gpus_from_series(lean, MODELS, PROFILE))
    assert (gpu.pod, gpu.namespace, gpu.model, gpu.util_ratio) == (
        "llama-70b-7f9c-x2",
        "inference",
        "llama-70b",
        0.87,
    )


def test_empty_exported_labels_fall_back_to_the_plain_ones() -> None:
    samples = one_gpu(FULL, exported_pod="", exported_namespace="")
    gpu = only(gpus_from_series(samples, MODELS, PROFILE))
    assert (gpu.pod, gpu.namespace, gpu.model) == ("llama-70b-7f9c-x2", "inference", "llama-70b")


def test_exported_labels_follow_the_profiles_label_names() -> None:
    profile = MetricProfile(pod_label="kubernetes_pod_name", namespace_label="kubernetes_ns")
    samples = one_gpu(
        FULL,
        pod="<drop>",
        namespace="<drop>",
        kubernetes_pod_name="dcgm-exporter-xyz",
        kubernetes_ns="gpu-operator",
        exported_kubernetes_pod_name="llama-70b-7f9c-x2",
        exported_kubernetes_ns="inference",
    )
    gpu = only(gpus_from_series(samples, MODELS, profile))
    assert (gpu.pod, gpu.namespace, gpu.model) == ("llama-70b-7f9c-x2", "inference", "llama-70b")


def test_an_idle_gpu_beside_renamed_ones_is_not_the_exporters() -> None:
    """An unallocated GPU has no workload labels, so nothing is renamed and ``pod`` is the
    exporter's own: known as such because the same exporter's other GPUs were renamed."""
    samples = [
        *one_gpu(FULL, **RENAMED),
        *one_gpu({"util": 0.0}, gpu="7", UUID="GPU-7", **EXPORTER),
        # Another exporter, scraped with honorLabels: true: its pod is the workload.
        *one_gpu({"util": 5.0}, gpu="1", UUID="GPU-other", Hostname="gpu-node-009",
                 pod="trainer-0", namespace="research"),
    ]  # fmt: skip
    got = {
        g.uuid: (g.pod, g.namespace, g.model) for g in gpus_from_series(samples, MODELS, PROFILE)
    }
    assert got == {
        UUID6: ("llama-70b-7f9c-x2", "inference", "llama-70b"),
        "GPU-7": (None, None, None),
        "GPU-other": ("trainer-0", "research", None),
    }


def test_the_identity_naming_the_workload_wins_over_the_exporters() -> None:
    """The GPU was handed to a workload between two gauges' samples: one identity names
    only the exporter, the other the workload. The workload's wins, whichever comes first."""
    for order in (1, -1):
        identities = [(dcgm_labels("identity", **EXPORTER), 1.0),
                      (dcgm_labels("identity", **RENAMED), 1.0)][::order]  # fmt: skip
        gpu = only(gpus_from_series([*identities, (where("util"), 87.0)], MODELS, PROFILE))
        assert (gpu.pod, gpu.model) == ("llama-70b-7f9c-x2", "llama-70b")


def test_gpu_key_prefers_exported_labels() -> None:
    key = gpu_key(dcgm_labels("util", **RENAMED), PROFILE)
    assert key is not None
    assert (key.pod, key.namespace) == ("llama-70b-7f9c-x2", "inference")


def test_newer_hostname_label_with_renamed_workload() -> None:
    """dcgm-exporter from main (``hostname``, #655) under the Helm chart's ServiceMonitor."""
    samples = one_gpu(FULL, Hostname="<drop>", hostname="gpu-node-011", **RENAMED)
    gpu = only(gpus_from_series(samples, MODELS, PROFILE))
    assert (gpu.node, gpu.pod, gpu.model) == ("gpu-node-011", "llama-70b-7f9c-x2", "llama-70b")
    key = gpu_key(dcgm_labels("<drop>", Hostname="<drop>", hostname="gpu-node-011"), PROFILE)
    assert key is not None and key.node == "gpu-node-011"


def test_xid_history_attributes_the_code_to_the_workload_not_the_exporter() -> None:
    changes, already = run(
        xid_series(steps(START + 600, T0, 31.0), **RENAMED),
        xid_series(steps(START + 900, T0, 79.0), gpu="7", UUID="GPU-7", **EXPORTER),
    )
    assert already == {}
    got = [(c.gpu.uuid, c.gpu.pod, c.gpu.namespace, c.gpu.model, c.code) for c in changes]
    assert got == [
        (UUID6, "llama-70b-7f9c-x2", "inference", "llama-70b", 31),
        ("GPU-7", None, None, None, 79),
    ]


# -- framebuffer: used + free + reserved is the card --------------------------------------


def test_reserved_framebuffer_counts_in_the_total() -> None:
    # An H100 80GB as ``nvidia-smi -q`` shows it: 81559 MiB = 336 reserved + used + free.
    values = {"fb_used": 74_624.0, "fb_free": 6_599.0, "fb_reserved": 336.0}
    gpu = only(gpus_from_series(one_gpu(values), MODELS, PROFILE))
    assert gpu.mem_total_bytes == 81_559 * MIB
    assert gpu.mem_used_bytes == 74_624 * MIB


@pytest.mark.parametrize("reserved", [None, math.nan], ids=["none", "nan"])
def test_without_a_reserved_figure_used_and_free_are_the_card(reserved: float | None) -> None:
    values = {"fb_used": 70_000.0, "fb_free": 11_000.0, "fb_reserved": reserved}
    gpu = only(gpus_from_series(one_gpu(values), MODELS, PROFILE))
    assert gpu.mem_total_bytes == 81_000 * MIB


def test_reserved_alone_gives_no_total() -> None:
    gpu = only(gpus_from_series(one_gpu({"fb_used": 70_000.0, "fb_reserved": 336.0}), {}, PROFILE))
    assert gpu.mem_total_bytes is None


def test_pod_models_reads_the_pod_maps_model_label() -> None:
    """`tui.sources.stacks.compose.pod_map` answers ``namespace``, ``pod``, ``warroom_model``."""
    samples = [
        ({"namespace": "inference", "pod": "llama-70b-7f9c-x2", "warroom_model": "llama-70b"}, 1),
        ({"namespace": "inference", "pod": "q-1", "model_name": "q", "warroom_model": "qwen"}, 1),
    ]
    assert pod_models(samples, PROFILE) == {
        "inference/llama-70b-7f9c-x2": "llama-70b",
        "inference/q-1": "qwen",
    }
