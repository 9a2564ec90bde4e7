"""What a command is wired to: the config, the health source, the collector, the pod
evidence reader, the mitigator, the canary's route and the incident's timeline, real or
simulated. The one place that chooses between a cluster and the demo's simulated fleet,
so nothing below the command line imports the simulator."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tui.clock import Clock, FrozenClock, SimClock, WallClock
from tui.config import Config, load_config
from tui.domain.model import GpuEvent, Snapshot
from tui.durations import parse_duration
from tui.errors import ConfigError, WarroomError
from tui.sources.base import HealthSource

if TYPE_CHECKING:
    from tui.actions.canary import Route, Warmup
    from tui.actions.kube import Mitigator
    from tui.domain.runbook import Runbooks
    from tui.refresh.collect import Collector
    from tui.refresh.evidence import PodEvidenceReader
    from tui.sim.source import DemoSource
    from tui.store.incident import Scope
    from tui.store.timeline import Timeline


def kube_available() -> bool:
    """A kubeconfig or in-cluster credentials exist: worth trying the API."""
    from tui.kubeclient import default_kubeconfig

    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) or default_kubeconfig() is not None


def build_pod_evidence(
    config: Config, demo: DemoSource | None
) -> tuple[PodEvidenceReader | None, str | None]:
    """The reader the config asks for, or None with the sentence saying why there is none
    (None and None when Kubernetes is simply not configured)."""
    settings = config.kubernetes
    if demo is not None:
        from tui.sim.evidence import DemoEvidence

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
    from tui.kubeclient import api_client

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


DEFAULT_DEMO_AT = "20m"
"""Where the demo starts: far enough in for the scripted incident to be under way, with
its onset still inside the history plot."""

CANARY_DEMO_SPEED = 10.0
"""At 10x a bad canary is rolled back at 5 % within a minute, with the seed's gates."""


def load(args: argparse.Namespace) -> Config:
    opt = vars(args)
    flags: dict[tuple[str, ...], Any] = {
        ("prometheus", "url"): opt.get("prometheus"),
        ("refresh_s",): opt.get("refresh"),
        ("window",): opt.get("window"),
        ("context",): opt.get("context"),
        ("metrics", "profile"): opt.get("profile"),
        ("metrics", "stacks"): opt.get("stack"),
        ("gpu_source",): opt.get("gpu_source"),
        ("kubernetes", "context"): opt.get("kube_context"),
        ("mitigations", "read_only"): opt.get("read_only"),
        ("kiosk",): opt.get("kiosk"),
        ("display", "theme"): opt.get("theme"),
        ("display", "ascii"): opt.get("ascii"),
        ("display", "wall"): opt.get("wall"),
    }
    return load_config(opt.get("config"), flags=flags)


def build_source(args: argparse.Namespace, config: Config) -> tuple[HealthSource, Clock]:
    """The source the options ask for, and the clock that ages its data."""
    opt = vars(args)
    if opt.get("demo"):
        from tui.sim.source import DemoSource

        if opt.get("stack"):
            # Not ignored in silence: a stack is how a Prometheus is read, and the demo
            # reads the simulated fleet itself.
            raise ConfigError(
                "--stack picks how a Prometheus is read, and the demo reads the simulated "
                "fleet directly; to see a stack's shapes, serve them with `warroom simulate "
                "--stack ...` for a Prometheus and point warroom at that."
            )
        at_s = opt.get("at", parse_duration(DEFAULT_DEMO_AT))
        epoch = float(int(time.time() - at_s))
        clock: Clock = SimClock(epoch, at_s=at_s, speed=opt.get("speed", demo_speed(opt)))
        headless = args.command in ("snapshot", "triage", "report")
        if headless:
            clock = FrozenClock(epoch + at_s)
        try:
            source = DemoSource(
                opt.get("scenario", "healthy"),
                models=opt.get("models", 12),
                gpus=opt.get("gpus"),
                seed=opt.get("seed", 7),
                clock=clock,
                epoch=epoch,
                window_s=config.window_s,
                # A snapshot shows no plot: skip integrating the history it would need.
                history_s=0.0 if args.command in ("snapshot", "triage") else config.history_s,
                evidence_s=config.history_s,
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return source, clock
    demo_only = [
        f"--{k}" for k in ("scenario", "seed", "models", "gpus", "speed", "at") if k in opt
    ]
    if demo_only:
        raise ConfigError(f"{', '.join(demo_only)} only apply with --demo.")
    if config.prometheus.url is None:
        raise ConfigError(
            "No Prometheus URL is set: pass --prometheus URL, set PROMETHEUS_URL, "
            "or try the simulated fleet with --demo."
        )
    from tui.sources.prometheus import PrometheusSource

    return PrometheusSource(config), WallClock()


def demo_speed(opt: dict[str, Any]) -> float:
    """The demo clock's default speed: real time, except for a canary scenario, whose
    seed-default holds (90 s warm-up, 300 s a stage) would keep a demo waiting for
    minutes; there it runs `CANARY_DEMO_SPEED` times faster."""
    from tui.sim.scenarios import SCENARIOS

    scenario = SCENARIOS.get(opt.get("scenario", "healthy"))
    return CANARY_DEMO_SPEED if scenario is not None and scenario.canary else 1.0


def build_collector(args: argparse.Namespace, config: Config) -> Collector:
    """The source, plus NVML and pod evidence as the config asks."""
    from tui.refresh.collect import Collector
    from tui.sim.source import DemoSource

    source, clock = build_source(args, config)
    nvml = None
    if config.gpu_source in ("auto", "nvml"):
        from tui.sources.nvml import NvmlGpus

        nvml = NvmlGpus(clock=clock)
    demo = source if isinstance(source, DemoSource) else None
    pods, note = build_pod_evidence(config, demo)
    return Collector(source, config, clock=clock, nvml=nvml, pods=pods, pods_note=note)


def canary_parts(
    config: Config, demo: DemoSource | None, mitigator: Mitigator | None, why_not: str | None
) -> tuple[Route, Warmup]:
    """Where a drive moves traffic and how it warms the canary: the cluster's HTTPRoute
    when one is configured (the demo's too, with ``scripts/demo-cluster.py``), else the
    simulated route of a demo canary scenario."""
    from tui.actions.warmup import HttpWarmup
    from tui.sim.route import SimulatedRoute, SimulatedWarmup

    c = config.canary
    if mitigator is not None:
        return mitigator, HttpWarmup(c.smoke_url, c.warmup_url, c.warmup_body)
    if demo is None:
        raise ConfigError(f"Cannot drive a canary: {why_not}")
    try:
        route = SimulatedRoute(demo, config.mitigations)
    except ValueError as exc:
        raise ConfigError(f"{exc} Pick a canary scenario (warroom scenarios).") from None
    return route, SimulatedWarmup(demo)


def sleep_for(clock: Clock) -> Callable[[float], Awaitable[None]]:
    """Sleep in the clock's seconds: the demo's run ``speed`` times faster."""
    speed = clock.speed if isinstance(clock, SimClock) else 1.0

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    return sleep


def scope_for(config: Config, demo: DemoSource | None) -> Scope:
    """What this process's incident is about (`tui.store.incident`): the demo's scenario, or
    the fleet the context and Prometheus name."""
    from tui.sources.prometheus import display_url
    from tui.store.incident import demo_scope, live_scope

    if demo is not None:
        return demo_scope(demo.scenario.name)
    return live_scope(config.context, display_url(config.prometheus.url or "(none)"))


def open_timeline(config: Config, demo: DemoSource | None) -> Timeline | None:
    """The open incident of this scope, for reading, or None when there is none: unlike
    `timeline_for`, nothing is created, not even the directory."""
    from tui.store.incident import find_open
    from tui.store.timeline import default_state_dir

    try:
        return find_open(config.state_dir or default_state_dir(), scope_for(config, demo))
    except OSError:
        return None  # unreadable: the kiosk shows the fleet without the incident's history


def timeline_for(config: Config, demo: DemoSource | None) -> Timeline:
    """The incident this process writes to: the open one of its scope, or a new one (a
    demo run always starts its own, stamped by the demo's clock)."""
    from tui.clock import utc
    from tui.store.incident import open_or_start
    from tui.store.timeline import default_state_dir

    state = config.state_dir or default_state_dir()
    now = utc(demo.clock.now() if demo is not None else time.time())
    try:
        return open_or_start(state, scope_for(config, demo), now)
    except OSError as exc:
        raise WarroomError(
            f"The incident timeline cannot be kept under {state} ({exc.strerror or exc}); "
            "set state_dir in the config or XDG_STATE_HOME to a writable directory."
        ) from None


def collect_once(
    args: argparse.Namespace, config: Config
) -> tuple[Snapshot, list[GpuEvent], str | None]:
    """One refresh plus one read of pod evidence: what a headless command reports on."""
    collector = build_collector(args, config)

    async def once() -> tuple[Snapshot, list[GpuEvent], str | None]:
        try:
            snap = await collector.collect()
            events = list(snap.events)
            evidence = await collector.pod_evidence(snap)
            note = collector.pods_note
            if evidence is not None:
                events += evidence.events
                note = evidence.error or note
            return snap, events, note
        finally:
            await collector.aclose()

    return asyncio.run(once())


def runbooks_for(config: Config) -> Runbooks:
    from tui.store.runbook_files import configured_runbooks

    return configured_runbooks(config.runbook_dirs)
