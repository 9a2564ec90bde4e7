"""Which pods to read for OOM evidence, and how the reading is wired to the config.

Reading pod logs is the expensive part of GPU evidence, so it is bounded three ways:
only pods behind models whose 5xx rose, sickest model first; at most
``kubernetes.max_log_pods`` per reading (the reader enforces it); and at most one
reading every ``kubernetes.interval_s``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from tui.config import Config, Slo
from tui.domain.model import Snapshot
from tui.domain.severity import error_rose
from tui.errors import ConfigError

if TYPE_CHECKING:
    from tui.actions.kube import Mitigator
    from tui.sim.source import DemoSource
    from tui.sources.kube import PodEvidence, PodTarget


class PodEvidenceReader(Protocol):
    async def read(self, targets: Sequence[PodTarget], since: datetime) -> PodEvidence: ...

    async def aclose(self) -> None: ...


def pod_targets(snapshot: Snapshot, slo: Slo) -> list[PodTarget]:
    """Pods behind every model whose 5xx is at or past the warning line, sickest first;
    each with its GPUs in CUDA device order (index order on the node)."""
    from tui.sources.kube import targets_for

    rose = sorted(
        (m for m in snapshot.models if error_rose(m, slo)),
        key=lambda m: (-(m.error_5xx_ratio or 0.0), m.model),
    )
    return targets_for(snapshot.gpus, [m.model for m in rose])


def kube_available() -> bool:
    """A kubeconfig or in-cluster credentials exist: worth trying the API."""
    from tui.sources.kube import default_kubeconfig

    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) or default_kubeconfig() is not None


def build_pod_evidence(
    config: Config, demo: DemoSource | None
) -> tuple[PodEvidenceReader | None, str | None]:
    """The reader the config asks for, or None with the sentence saying why there is none
    (None and None when Kubernetes is simply not configured)."""
    settings = config.kubernetes
    if demo is not None:
        from tui.sources.kube import DemoEvidence

        reader = DemoEvidence(
            demo.fleet,
            demo.scenario,
            demo.epoch,
            demo.clock,
            tail_lines=settings.log_tail_lines,
            max_pods=settings.max_log_pods,
        )
        return reader, None
    if settings.enabled is False:
        return None, None
    if settings.enabled is None and settings.kubeconfig is None and not kube_available():
        return None, None
    from tui.sources.kube import KubeEvidence

    try:
        reader = KubeEvidence.from_config(
            settings.kubeconfig,
            settings.context,
            tail_lines=settings.log_tail_lines,
            max_pods=settings.max_log_pods,
            request_timeout_s=settings.timeout_s,
        )
    except ConfigError as exc:
        return None, f"Pod evidence is off: {exc}"
    return reader, None


def build_mitigator(config: Config, demo: DemoSource | None) -> tuple[Mitigator | None, str | None]:
    """The Kubernetes client for mitigations, or None with the sentence saying why not.

    The demo has no cluster of its own: it reaches one only when the config names one
    (``kubernetes.enabled = true``, a kubeconfig or a context), e.g. the emulator of
    ``scripts/demo-cluster.py``.
    """
    settings = config.kubernetes
    named = settings.enabled is True or settings.kubeconfig is not None or settings.context
    why_not = (
        "No Kubernetes API is configured for mitigations; give a kubeconfig or context "
        "([kubernetes] in the config, or --kube-context)."
    )
    if settings.enabled is False or (demo is not None and not named):
        return None, why_not
    if not named and not kube_available():
        return None, why_not
    from tui.actions.kube import Mitigator
    from tui.sources.kube import api_client

    try:
        api = api_client(settings.kubeconfig, settings.context)
    except ConfigError as exc:
        return None, f"Mitigations are off: {exc}"
    from kubernetes import config as kube_config

    context = settings.context
    if context is None:
        try:
            _, current = kube_config.list_kube_config_contexts(
                config_file=str(settings.kubeconfig) if settings.kubeconfig else None
            )
            context = current.get("name")
        except Exception:  # in-cluster or an odd file: the server URL says where instead
            context = None
    settings_ = config.mitigations
    if config.kiosk:
        settings_ = settings_.model_copy(update={"read_only": True})
    mitigator = Mitigator(api, settings_, context=context)
    if demo is not None:
        # The simulated fleet follows what the demo cluster now holds: a route weight
        # moves its traffic, a scaled canary starts or stops its pods.
        mitigator.on_applied = lambda obj: demo.follow(obj, settings_)
    return mitigator, None
