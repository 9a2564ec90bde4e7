"""What each simulated component exports, one module per real stack.

The simulator is our assumption about the world, so each module writes the metric
families, labels and awkward spellings of one upstream project, read from that
project's own source and cited beside each family. A stack emitter gets one `Reading`
of the fleet (every counter, gauge and GPU at one simulated instant) and yields
prometheus-client metric families; `warroom simulate --stack a,b` serves the chosen
emitters, each also alone at ``/metrics/<name>`` so a Prometheus can scrape them as
separate jobs with their own target labels (dcgm-exporter under ``honorLabels: false``).
"""

from __future__ import annotations

from tui.sim.stacks.reading import Emitter, Reading

__all__ = ["DEFAULT_STACK", "Emitter", "Reading", "emitters", "parse_stack"]


def emitters() -> dict[str, Emitter]:
    """Every simulated stack by the name ``--stack`` takes, imported when asked for.
    Several model servers chosen split the fleet (`tui.sim.stacks.serving`)."""
    from tui.sim.stacks import (
        dcgm,
        envoy_gateway,
        gateway,
        inference_extension,
        ingress_nginx,
        istio,
        litellm,
        sglang,
        tgi,
        underscore,
        vllm,
        vllm_http,
    )

    return {
        # gateways
        "generic": gateway.emit,
        "litellm": litellm.emit,
        "inference_extension": inference_extension.emit,
        "istio": istio.emit,
        "envoy_gateway": envoy_gateway.emit,
        "ingress_nginx": ingress_nginx.emit,
        # model servers
        "vllm": vllm.emit,
        "vllm-underscore": underscore.vllm,
        "vllm_http": vllm_http.emit,
        "sglang": sglang.emit,
        "sglang-underscore": underscore.sglang,
        "tgi": tgi.emit,
        # GPUs: dcgm-exporter as released (``Hostname``) and from main (``hostname``)
        "dcgm": dcgm.emit,
        "dcgm-main": dcgm.emit_main,
    }


DEFAULT_STACK = ("generic", "vllm", "dcgm")
"""What ``warroom simulate`` serves with no ``--stack``: the generic gateway, vLLM's
engine metrics and dcgm-exporter."""


def parse_stack(text: str | None) -> tuple[str, ...]:
    """``"vllm,litellm"`` -> the emitter names, in order; ValueError names a wrong one."""
    if not text:
        return DEFAULT_STACK
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    known = emitters()
    wrong = [n for n in names if n not in known]
    if wrong or not names:
        raise ValueError(
            f"--stack {text!r} names no simulated stack {', '.join(wrong)}; "
            f"choose from {', '.join(known)}."
        )
    return names
