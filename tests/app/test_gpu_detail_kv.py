"""The GPU detail pane shows the KV-cache usage of the GPU's model: vLLM pre-allocates ~90 %
of the framebuffer, so the KV cache, not memory used, says how full a serving GPU is."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult

from tui.domain.model import MIB, GpuState, ModelHealth
from widgets.gpu_detail import GpuDetail, describe, kv_cache_by_model

GPU = GpuState(
    node="gpu-node-006",
    gpu=6,
    uuid="GPU-6",
    model="llama-70b",
    pod="vllm-llama-70b-7f9c4d8b6-x2k9q",
    namespace="inference",
    product="NVIDIA H100 80GB HBM3",
    util_ratio=0.87,
    mem_used_bytes=73_400 * MIB,
    mem_total_bytes=81_559 * MIB,
    temp_c=71.0,
    power_w=612.5,
    xid=0,
)


def who(gpu: GpuState, kv: float | None) -> str:
    return describe(gpu, (), kv).plain.splitlines()[1]


def test_kv_cache_is_shown_beside_the_model() -> None:
    line = who(GPU, 0.734)
    assert line == "model llama-70b  KV cache 73%  pod inference/vllm-llama-70b-7f9c4d8b6-x2k9q"


def test_a_full_kv_cache_is_flagged() -> None:
    text = describe(GPU, (), 0.97)
    assert "KV cache 97% ⚠ full" in text.plain.splitlines()[1]


@pytest.mark.parametrize("kv", [None, math.nan], ids=["unknown", "nan"])
def test_unknown_kv_cache_leaves_the_line_as_it_was(kv: float | None) -> None:
    assert (
        who(GPU, kv)
        == who(GPU, None)
        == ("model llama-70b  pod inference/vllm-llama-70b-7f9c4d8b6-x2k9q")
    )


def test_a_gpu_without_a_model_shows_no_kv_cache() -> None:
    idle = GpuState(node="gpu-node-006", gpu=7, uuid="GPU-7")
    assert "KV" not in who(idle, 0.5)


def test_kv_cache_by_model_keeps_known_figures() -> None:
    models = [
        ModelHealth("llama-70b", kv_cache_ratio=0.73),
        ModelHealth("qwen-7b"),
        ModelHealth("mistral-7b", kv_cache_ratio=math.nan),
    ]
    assert kv_cache_by_model(models) == {"llama-70b": 0.73}


class DetailApp(App[None]):
    def compose(self) -> ComposeResult:
        yield GpuDetail()


async def test_the_pane_follows_the_models_health() -> None:
    app = DetailApp()
    async with app.run_test(size=(120, 8)):
        detail = app.query_one(GpuDetail)
        detail.set_models([ModelHealth("llama-70b", kv_cache_ratio=0.5)])
        detail.show(GPU)
        assert "KV cache 50%" in str(detail.content)
        # A later refresh: the shown GPU's line follows without the cursor moving.
        detail.set_models([ModelHealth("llama-70b", kv_cache_ratio=0.99)])
        assert "KV cache 99% ⚠ full" in str(detail.content)
        detail.set_models([])
        assert "KV" not in str(detail.content)
        detail.show(None)
        detail.set_models([ModelHealth("llama-70b", kv_cache_ratio=0.5)])
        assert "KV" not in str(detail.content)
