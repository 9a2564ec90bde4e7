"""vLLM's and SGLang's families as a Prometheus fed by prometheus-client >= 0.23 stores them.

prometheus-client 0.23–0.26, asked for OpenMetrics (Prometheus 2.42 asks), writes a
sample ``vllm:num_requests_running`` as ``vllm_num_requests_running`` (FIELD-NOTES,
"Colon names get rewritten"); the same holds for ``sglang:``. These emitters write what
``vllm`` and ``sglang`` write (`tui.sim.stacks.vllm`, `tui.sim.stacks.sglang`) with that
spelling, so a test can prove the adapters read both. Serve one spelling of a server at
a time: ``vllm`` and ``vllm-underscore`` together would write each model twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import Metric

from tui.sim.stacks.reading import Reading


def underscored(emit: Callable[[Reading], Iterable[Metric]], prefix: str) -> Callable:
    """``emit`` with every ``<prefix>:`` family and sample name written ``<prefix>_``."""
    colon, under = f"{prefix}:", f"{prefix}_"

    def rename(name: str) -> str:
        return under + name.removeprefix(colon) if name.startswith(colon) else name

    def emit_underscored(r: Reading) -> Iterator[Metric]:
        for family in emit(r):
            if not family.name.startswith(colon):
                yield family
                continue
            renamed = Metric(rename(family.name), family.documentation, family.type, family.unit)
            renamed.samples = [s._replace(name=rename(s.name)) for s in family.samples]
            yield renamed

    return emit_underscored


def vllm(r: Reading) -> Iterator[Metric]:
    from tui.sim.stacks import vllm as colon

    yield from underscored(colon.emit, "vllm")(r)


def sglang(r: Reading) -> Iterator[Metric]:
    from tui.sim.stacks import sglang as colon

    yield from underscored(colon.emit, "sglang")(r)
