"""Stack adapters: one module per real exporter, one protocol (`tui.sources.stacks.base.Stack`).

`_adapters` lists them in the order discovery tries them and the top line names them.
A refresh asks every adapter in use for its figures inside one PromQL query
(`tui.sources.stacks.compose`) and folds the answers the same way whatever the stack
(`tui.sources.stacks.fold`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tui.config import STACK_NAMES, MetricProfile
from tui.sources.stacks.base import Stack


def _adapters() -> dict[str, Callable[[MetricProfile], Stack]]:
    """Every adapter by the name ``[metrics] stacks`` takes: gateways first, then the
    model servers, the order the top line names them in. Imported when first asked for:
    a launch that pins its stacks reads no other adapter's module."""
    from tui.sources.stacks.envoy_gateway import EnvoyGateway
    from tui.sources.stacks.generic import Generic
    from tui.sources.stacks.inference_extension import InferenceExtension
    from tui.sources.stacks.ingress_nginx import IngressNginx
    from tui.sources.stacks.istio import Istio
    from tui.sources.stacks.litellm import Litellm
    from tui.sources.stacks.sglang import Sglang
    from tui.sources.stacks.tgi import Tgi
    from tui.sources.stacks.vllm import Vllm
    from tui.sources.stacks.vllm_http import VllmHttp

    def plain(cls: Callable[[], Stack]) -> Callable[[MetricProfile], Stack]:
        return lambda _profile: cls()

    return {
        # gateways: what callers see
        "generic": Generic,
        "litellm": plain(Litellm),
        "inference_extension": plain(InferenceExtension),
        "istio": plain(Istio),
        "envoy_gateway": plain(EnvoyGateway),
        "ingress_nginx": plain(IngressNginx),
        # model servers
        "vllm": Vllm,
        "vllm_http": plain(VllmHttp),
        "sglang": plain(Sglang),
        "tgi": plain(Tgi),
    }


def adapter_names() -> tuple[str, ...]:
    """The names ``[metrics] stacks`` takes, as the config checks them."""
    return STACK_NAMES


def build(names: Iterable[str], profile: MetricProfile) -> list[Stack]:
    """The adapters named, in registry order; ValueError names an unknown one."""
    known = _adapters()
    wanted = list(dict.fromkeys(names))
    wrong = [n for n in wanted if n not in known]
    if wrong:
        raise ValueError(
            f"{', '.join(map(repr, wrong))} is not a stack warroom reads; one of {', '.join(known)}"
        )
    return [factory(profile) for name, factory in known.items() if name in wanted]


def configured(profile: MetricProfile) -> list[Stack] | None:
    """The stacks the config names (``[metrics] stacks``, else the ones its ``profile``
    reads); None when they are to be found in Prometheus (`MetricProfile.discovered`)."""
    if profile.discovered:
        return None
    return build(profile.stacks or PROFILE_STACKS[profile.profile], profile)


DEFAULT = ("generic", "vllm")
"""What a config that names metrics (``[metrics]``) but no stacks reads: today's shape."""
PROFILE_STACKS: dict[str, tuple[str, ...]] = {
    "generic": DEFAULT,
    "istio": ("istio", "vllm"),
    "ingress-nginx": ("ingress_nginx", "vllm"),
}
"""The older ``profile`` setting, read by the adapter that knows that stack: the generic
gateway with Istio's names would count every request twice (both hops report it)."""
