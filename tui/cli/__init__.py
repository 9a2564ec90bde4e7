"""The ``warroom`` command: the cockpit by default, plus headless sub-commands.

    warroom [--demo [--scenario NAME] | --prometheus URL]      the cockpit
    warroom snapshot --json [source options]                    one refresh as JSON
    warroom simulate --port P [--scenario NAME] [--stack A,B]   serve the simulator's /metrics
    warroom discover --prometheus URL [--json]                  which stacks, how each is read
    warroom scenarios                                           list the demo scenarios
    warroom triage [--json] [source options]                    walk the worst symptom's runbook
    warroom runbooks check [DIR...] | list | signals            validate and list runbooks

Every user-facing failure is one sentence on stderr: exit 2 for bad configuration or
arguments, 1 for a data source that cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import select
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.clock import Clock, FrozenClock, SimClock, WallClock
from tui.config import Config, load_config
from tui.domain import json_out
from tui.domain.model import GpuEvent, Snapshot
from tui.durations import parse_duration
from tui.errors import ConfigError, WarroomError
from tui.sources.base import HealthSource

if TYPE_CHECKING:
    from tui.actions.canary import CanaryDriver, Route, Warmup
    from tui.actions.kube import Mitigator
    from tui.app import WarroomApp
    from tui.refresh.collect import Collector
    from tui.sim.source import DemoSource
    from tui.store.incident import Scope
    from tui.store.recording import Recording
    from tui.store.runbook_files import Runbooks
    from tui.store.timeline import Timeline

DEFAULT_DEMO_AT = "20m"
"""Where the demo starts: far enough in for the scripted incident to be under way, with
its onset still inside the history plot."""


CANARY_DEMO_SPEED = 10.0
"""At 10x a bad canary is rolled back at 5 % within a minute, with the seed's gates."""


def _duration_arg(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return value


def _percent(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def _source_options() -> argparse.ArgumentParser:
    # SUPPRESS keeps a sub-command's defaults from overwriting options given before it.
    p = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    g = p.add_argument_group("data source")
    g.add_argument("--demo", action="store_true", help="use the built-in simulated fleet")
    g.add_argument("--scenario", help="demo incident to play (see `warroom scenarios`)")
    g.add_argument("--seed", type=int, help="demo random seed (default 7)")
    g.add_argument("--models", type=int, help="demo fleet size in models (default 12)")
    g.add_argument("--gpus", type=int, help="demo fleet size in GPUs (default ~4 per model)")
    g.add_argument("--speed", type=_positive_float, help="demo clock speed-up (default 1)")
    g.add_argument(
        "--at", type=_duration_arg, help=f"start the demo this far in (default {DEFAULT_DEMO_AT})"
    )
    g.add_argument("--prometheus", metavar="URL", help="Prometheus base URL ($PROMETHEUS_URL)")
    c = p.add_argument_group("configuration")
    c.add_argument("--config", type=Path, help="config file (default $XDG_CONFIG_HOME/warroom/…)")
    c.add_argument("--refresh", metavar="SECONDS", help="refresh interval in seconds")
    c.add_argument("--window", help="PromQL rate window, e.g. 5m")
    c.add_argument("--context", help="cluster name shown in the header")
    c.add_argument("--profile", help="metric-name profile: generic, istio, ingress-nginx")
    c.add_argument(
        "--stack", metavar="A,B",
        help="stack adapters to read, e.g. vllm,litellm (default: found in Prometheus)",
    )  # fmt: skip
    c.add_argument(
        "--gpu-source",
        choices=("auto", "dcgm", "nvml", "none"),
        help="where GPU data comes from (default auto: DCGM, else this host's NVML)",
    )
    c.add_argument("--kube-context", help="kubeconfig context for pod evidence and mitigations")
    c.add_argument(
        "--read-only",
        action="store_const",
        const=True,
        help="show mitigations but never send a change to the cluster",
    )
    c.add_argument(
        "--kiosk",
        action="store_const",
        const=True,
        help="for a wall screen: no mitigation keys, nothing sent to the cluster, nothing "
        "written (it reads the open incident)",
    )
    d = p.add_argument_group("display")
    d.add_argument("--theme", help="dark (default), light, or a Textual theme ($WARROOM_THEME)")
    d.add_argument(
        "--ascii",
        action="store_const",
        const=True,
        help="draw with ASCII only, for terminals without UTF-8 ($WARROOM_ASCII)",
    )
    d.add_argument(
        "--wall",
        action="store_const",
        const=True,
        help="big-screen layout: taller plots, the worst models, no key hints",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _source_options()
    parser = argparse.ArgumentParser(
        prog="warroom",
        description="The terminal cockpit for whoever is on call for an LLM inference platform.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    snap = sub.add_parser(
        "snapshot", parents=[common], help="print one refresh (what the panes show) and exit"
    )
    snap.add_argument("--json", action="store_true", help="one JSON object (the stable format)")
    disc = sub.add_parser(
        "discover", parents=[common],
        help="show what Prometheus holds, how warroom reads it, and the pitfalls seen",
    )  # fmt: skip
    disc.add_argument("--json", action="store_true", help="one JSON object (the stable format)")
    sim = sub.add_parser("simulate", help="serve the simulated fleet's /metrics for Prometheus")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, required=True, help="port (0 picks a free one)")
    sim.add_argument("--scenario", default="healthy")
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--models", type=int, default=12)
    sim.add_argument("--gpus", type=int, default=None)
    sim.add_argument("--speed", type=_positive_float, default=1.0)
    sim.add_argument("--at", type=_duration_arg, default=0.0, help="start this far in")
    sim.add_argument(
        "--canary-weight", type=_percent, default=0, metavar="PCT",
        help="percent of traffic on the gateway canary from the start (canary scenarios)",
    )  # fmt: skip
    sim.add_argument(
        "--stack", metavar="A,B",
        help="what the fleet exports, e.g. vllm,litellm,dcgm (default generic,vllm,dcgm); "
        "each also alone at /metrics/<name>",
    )  # fmt: skip
    sim.add_argument(
        "--model-names", type=Path, metavar="FILE",
        help="a JSON list of strings naming the first models in place of the catalogue's "
        "(any label value, e.g. hostile ones for testing the cockpit)",
    )  # fmt: skip
    sub.add_parser("scenarios", help="list the demo scenarios")
    inc = sub.add_parser(
        "incident", parents=[common],
        help="list the incidents, or close or start this fleet's (its context and Prometheus, "
        "or --demo --scenario)",
        description="An incident holds only its own events: the ones of one fleet (context "
        "and Prometheus) or of one demo run. Cockpits and canary drives on the same fleet "
        "share its open incident; `new` closes it and starts the next.",
    )  # fmt: skip
    inc.add_argument("what", choices=("list", "new", "close"))
    tri = sub.add_parser(
        "triage",
        parents=[common],
        help="walk the runbook for the worst symptom as far as live evidence answers",
    )
    tri.add_argument("--json", action="store_true", help="one JSON object")
    tri.add_argument("--runbook", metavar="ID", help="walk this runbook instead")
    tri.add_argument("--model", help="the affected model (default: the worst symptom's)")
    books = sub.add_parser("runbooks", help="check and list the runbooks")
    books_sub = books.add_subparsers(dest="runbooks_command", metavar="ACTION", required=True)
    check = books_sub.add_parser("check", help="validate runbook files (default: the shipped)")
    check.add_argument("dirs", nargs="*", type=Path, metavar="DIR")
    books_sub.add_parser("list", parents=[common], help="list the runbooks that load")
    books_sub.add_parser("signals", help="list the live signals evidence may read")
    play = sub.add_parser("replay", help="play a recorded incident back in the cockpit")
    play.add_argument("recording", type=Path, help="an incident's .recording.jsonl.gz")
    play.add_argument("--speed", type=_positive_float, default=1.0, help="playback speed")
    play.add_argument("--config", type=Path, help="config file (for the SLO lines)")
    rep = sub.add_parser(
        "report", parents=[common], help="write the incident report (Markdown, JSON, SVG)"
    )
    rep.add_argument("--out", type=Path, metavar="DIR", help="where (default: state dir/reports)")
    rep.add_argument("--timeline", type=Path, metavar="FILE",
                     help="the incident timeline to include (default: the open incident; "
                     "none for --demo)")  # fmt: skip
    rep.add_argument("--force", action="store_true", help="replace a report already there")
    rep.add_argument("--severity", choices=("SEV1", "SEV2", "SEV3", "SEV4"),
                     help="override the suggested severity")  # fmt: skip
    rep.add_argument("--root-cause", metavar="TEXT", help="override the suggested root cause")
    rep.add_argument("--summary", metavar="TEXT", help="override the generated summary")
    rep.add_argument("--lessons", metavar="TEXT", help="lessons learned")
    rep.add_argument("--no-screenshot", action="store_true", help="skip the SVG of the screen")
    web = sub.add_parser(
        "serve",
        help="serve the cockpit to a browser (the wall screen): kiosk, big-screen layout",
        description="Serve the cockpit to browsers: each tab runs its own kiosk cockpit. "
        "Cockpit options go after --, e.g. warroom serve --port 8000 -- --prometheus URL",
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--public-url", metavar="URL", help="the URL browsers reach (behind a proxy)")
    web.add_argument("--desk", action="store_true", help="the desk layout, not the wall's")
    web.add_argument(
        "--token", nargs="?", const="", metavar="TOKEN",
        help="ask browsers for a token: TOKEN, or alone for one made up (printed once to "
        "stderr); $WARROOM_SERVE_TOKEN gives one too; made up when --host is not loopback",
    )  # fmt: skip
    web.add_argument("--no-token", action="store_true",
                     help="ask for no token, even off loopback (behind a login proxy)")  # fmt: skip
    web.add_argument("options", nargs=argparse.REMAINDER, metavar="-- OPTIONS",
                     help="the cockpit's options")  # fmt: skip
    canary = sub.add_parser("canary", help="drive a gateway canary (headless)")
    canary_sub = canary.add_subparsers(dest="canary_command", metavar="ACTION", required=True)
    drive = canary_sub.add_parser(
        "drive",
        parents=[common],
        help="ramp the canary through its stages; exit 0 on promotion, non-zero on rollback",
    )
    from tui.cli.drive import add_arguments

    add_arguments(drive)
    return parser


EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a command whose reader went away early."""


def main(argv: Sequence[str] | None = None) -> int:
    """The `warroom` command. Its output piped to a reader that stops early (``| head``)
    ends it quietly with `EXIT_BROKEN_PIPE`, as Python's docs advise (signal module,
    "Note on SIGPIPE"), not with a traceback."""
    try:
        code = _main(argv)
        # Now, not at exit: a closed pipe found while Python flushes on its way out is
        # printed as "Exception ignored" and cannot be caught.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _reader_gone(sys.stdout):
            raise  # some other pipe or socket: not ours to hide
        # Whatever is still buffered goes nowhere, so the flush at exit finds no pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _reader_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed; True too where that
    cannot be asked (no poll), as stdout is what a command writes to."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return True


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        match args.command:
            case "simulate":
                return _simulate(args)
            case "scenarios":
                return _list_scenarios()
            case "incident":
                return _incident(args)
            case "snapshot":
                return _snapshot(args)
            case "discover":
                return _discover(args)
            case "triage":
                return _triage(args)
            case "runbooks":
                return _runbooks_command(args)
            case "canary":
                return _canary_drive(args)
            case "report":
                return _report(args)
            case "replay":
                return _replay(args)
            case "serve":
                return _serve(args)
            case _:
                return _cockpit(args)
    except ConfigError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 2
    except WarroomError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


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
        clock: Clock = SimClock(epoch, at_s=at_s, speed=opt.get("speed", _demo_speed(opt)))
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


def _demo_speed(opt: dict[str, Any]) -> float:
    """The demo clock's default speed: real time, except for a canary scenario, whose
    seed-default holds (90 s warm-up, 300 s a stage) would keep a demo waiting for
    minutes; there it runs `CANARY_DEMO_SPEED` times faster."""
    from tui.sim.scenarios import SCENARIOS

    scenario = SCENARIOS.get(opt.get("scenario", "healthy"))
    return CANARY_DEMO_SPEED if scenario is not None and scenario.canary else 1.0


def build_collector(args: argparse.Namespace, config: Config) -> Collector:
    """The source, plus NVML and pod evidence as the config asks."""
    from tui.refresh.collect import Collector
    from tui.refresh.evidence import build_pod_evidence
    from tui.sim.source import DemoSource

    source, clock = build_source(args, config)
    nvml = None
    if config.gpu_source in ("auto", "nvml"):
        from tui.sources.nvml import NvmlGpus

        nvml = NvmlGpus(clock=clock)
    demo = source if isinstance(source, DemoSource) else None
    pods, note = build_pod_evidence(config, demo)
    return Collector(source, config, clock=clock, nvml=nvml, pods=pods, pods_note=note)


def _canary_parts(
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


def _sleep_for(clock: Clock) -> Callable[[float], Awaitable[None]]:
    """Sleep in the clock's seconds: the demo's run ``speed`` times faster."""
    speed = clock.speed if isinstance(clock, SimClock) else 1.0

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    return sleep


def _canary_drive(args: argparse.Namespace) -> int:
    from tui.cli.drive import drive
    from tui.refresh.evidence import build_mitigator
    from tui.sim.source import DemoSource

    config = load(args)
    source, clock = build_source(args, config)
    demo = source if isinstance(source, DemoSource) else None
    route, warmup = _canary_parts(config, demo, *build_mitigator(config, demo))
    timeline = _timeline(config, demo)
    return asyncio.run(
        drive(args, config, source, clock, route=route, warmup=warmup, sleep=_sleep_for(clock),
              timeline=timeline)
    )  # fmt: skip


def _demo_drive(
    config: Config, demo: DemoSource, timeline: Timeline | None, mitigator: Mitigator | None
) -> CanaryDriver:
    """The drive a demo canary scenario plays in the cockpit: the deploy that scenario is
    about, run as the pipeline would (`warroom canary drive`), keys and view included."""
    from tui.actions.canary import CanaryDriver

    route, warmup = _canary_parts(config, demo, mitigator, None)
    policy = config.canary.policy(config.mitigations.drain_timeout_s)
    driver = CanaryDriver(
        policy, route, demo, clock=demo.clock, sleep=_sleep_for(demo.clock), warmup=warmup,
        timeline=timeline, actor="warroom canary drive (demo)", poll_s=config.canary.poll_s,
        log=lambda _: None,  # the view shows the last line; the timeline keeps what matters
    )  # fmt: skip
    return driver


def build_cockpit(args: argparse.Namespace) -> WarroomApp:
    """The cockpit `warroom` runs, not yet running."""
    config = load(args)
    collector = build_collector(args, config)
    from tui.app import WarroomApp
    from tui.refresh.evidence import build_mitigator
    from tui.sim.source import DemoSource

    source = collector.source
    demo = source if isinstance(source, DemoSource) else None
    context = "simulated" if demo is not None else config.context
    mitigator, why_not = build_mitigator(config, demo)
    if config.kiosk:
        # A kiosk writes nothing: it reads the open incident, starts none, records nothing.
        read = _open_timeline(config, demo)
        driver = None
        if demo is not None and demo.scenario.canary is not None and mitigator is None:
            # The demo's drive is the scenario's story: it moves the simulated fleet in
            # this process alone, so the wall plays it, with no timeline to write to.
            # Over a cluster (scripts/demo-cluster.py) a kiosk moves no route: its canary
            # screen watches whoever drives it, as over a real fleet.
            driver = _demo_drive(config, demo, None, None)
        return WarroomApp(
            collector, config, context=context, report_timeline=read,
            mitigator=mitigator, mitigations_note=why_not, canary=driver,
        )  # fmt: skip
    timeline = _timeline(config, demo)
    driver = None
    if demo is not None and demo.scenario.canary is not None:
        driver = _demo_drive(config, demo, timeline, mitigator)
    from tui.store.recording import Recorder, recording_path

    recorder = Recorder(recording_path(timeline.path), source=source.description)
    return WarroomApp(
        collector,
        config,
        context=context,
        timeline=timeline,
        mitigator=mitigator,
        mitigations_note=why_not,
        canary=driver,
        recorder=recorder,
    )


def _cockpit(args: argparse.Namespace) -> int:
    app = build_cockpit(args)
    app.run()
    # A kiosk wrote neither (it holds no timeline nor recorder): nothing to point at.
    if app.timeline is not None:
        print(f"warroom: incident timeline at {app.timeline.path}", file=sys.stderr)
        if app.recorder is not None and app.recorder.written:
            print(f"warroom: replay with `warroom replay {app.recorder.path}`", file=sys.stderr)
    return app.return_code or 0


def build_replay(
    args: argparse.Namespace, *, monotonic: Callable[[], float] = time.monotonic
) -> tuple[WarroomApp, Recording, Timeline | None]:
    """The cockpit `warroom replay` runs over a recording, not yet running, with the
    recording and the incident's timeline beside it (read, never written).

    The GPUs, their events and the pod evidence are the recorded ones: the collector has
    no NVML reader (this host's GPUs are not the incident's), and ``gpu_source`` is
    ``auto`` whatever the config says, since ``none`` would drop the recorded grid."""
    from tui.app import WarroomApp
    from tui.refresh.collect import Collector
    from tui.sources.replay import ReplayClock, ReplaySource
    from tui.store.recording import read_recording
    from tui.store.timeline import Timeline

    config = load_config(args.config, flags={("gpu_source",): "auto"})
    recording = read_recording(args.recording)
    clock = ReplayClock.over(recording, speed=args.speed, monotonic=monotonic)
    collector = Collector(ReplaySource(recording, clock), config, clock=clock)
    name = args.recording.name.removesuffix(".recording.jsonl.gz")
    beside = args.recording.with_name(f"{name}.jsonl")
    timeline = Timeline(beside) if beside.is_file() else None
    app = WarroomApp(
        collector, config, context="replay", replay=clock, report_timeline=timeline,
    )  # fmt: skip
    return app, recording, timeline


def _replay(args: argparse.Namespace) -> int:
    """The cockpit over a recording: space pauses, [ and ] seek a minute, { and } ten;
    `e` remakes the report from it and its incident's timeline (read, never written)."""
    app, recording, timeline = build_replay(args)
    app.run()
    # Said on screen too; here each sentence outlasts the screen.
    for note in (recording.damage, timeline.damage_note() if timeline else None):
        if note:
            print(f"warroom: {note}", file=sys.stderr)
    return app.return_code or 0


def _serve(args: argparse.Namespace) -> int:
    from tui.cli.serve import serve

    options = list(args.options)
    if options[:1] == ["--"]:
        options = options[1:]
    serve(options, host=args.host, port=args.port, public_url=args.public_url,
          wall=not args.desk, token=args.token, no_token=args.no_token)  # fmt: skip
    return 0


def _scope(config: Config, demo: DemoSource | None) -> Scope:
    """What this process's incident is about (`tui.store.incident`): the demo's scenario, or
    the fleet the context and Prometheus name."""
    from tui.sources.prometheus import display_url
    from tui.store.incident import demo_scope, live_scope

    if demo is not None:
        return demo_scope(demo.scenario.name)
    return live_scope(config.context, display_url(config.prometheus.url or "(none)"))


def _incident(args: argparse.Namespace) -> int:
    """`warroom incident list|new|close`: the incidents on disk, and this scope's."""
    from tui.clock import utc
    from tui.domain.format import printable
    from tui.store import incident
    from tui.store.timeline import default_state_dir

    config = load(args)
    state = config.state_dir or default_state_dir()
    if args.what == "list":
        for found in incident.listed(state):
            status = "closed" if found.closed else "open"
            about = found.scope.about if found.scope else "(no scope: written before scopes)"
            print(f"{status:6}  {found.opened or '-':20}  {found.entries:5} entries  "
                  f"{printable(about)}  {found.path}")  # fmt: skip
        return 0
    if getattr(args, "demo", None):
        from tui.sim.scenarios import scenario as find_scenario

        name = getattr(args, "scenario", None) or "healthy"
        try:
            scope = incident.demo_scope(find_scenario(name).name)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    else:
        if config.prometheus.url is None:
            raise ConfigError(
                "An incident is about one fleet: pass --prometheus URL (and --context) "
                "or --demo --scenario NAME."
            )
        scope = _scope(config, None)
    now = utc(time.time())
    by = f"{getpass.getuser()}@{socket.gethostname()}"
    try:
        current = incident.find_open(state, scope)
        if current is not None:
            incident.close(current, now, by)
            print(f"closed {current.path}")
        elif args.what == "close":
            print(f"warroom: no open incident of {printable(scope.about)}.", file=sys.stderr)
        if args.what == "new":
            print(f"started {incident.start(state, scope, now).path}")
    except OSError as exc:
        raise WarroomError(
            f"The incidents under {state} cannot be written ({exc.strerror or exc})."
        ) from None
    return 0


def _open_timeline(config: Config, demo: DemoSource | None) -> Timeline | None:
    """The open incident of this scope, for reading, or None when there is none: unlike
    `_timeline`, nothing is created, not even the directory."""
    from tui.store.incident import find_open
    from tui.store.timeline import default_state_dir

    try:
        return find_open(config.state_dir or default_state_dir(), _scope(config, demo))
    except OSError:
        return None  # unreadable: the kiosk shows the fleet without the incident's history


def _timeline(config: Config, demo: DemoSource | None) -> Timeline:
    """The incident this process writes to: the open one of its scope, or a new one (a
    demo run always starts its own, stamped by the demo's clock)."""
    from tui.clock import utc
    from tui.store.incident import open_or_start
    from tui.store.timeline import default_state_dir

    state = config.state_dir or default_state_dir()
    now = utc(demo.clock.now() if demo is not None else time.time())
    try:
        return open_or_start(state, _scope(config, demo), now)
    except OSError as exc:
        raise WarroomError(
            f"The incident timeline cannot be kept under {state} ({exc.strerror or exc}); "
            "set state_dir in the config or XDG_STATE_HOME to a writable directory."
        ) from None


def _collect_once(
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


def _report(args: argparse.Namespace) -> int:
    """Open the cockpit headless on the source (health, history, pod evidence), take the
    report it would export with `e` and its screen, and write all three."""
    from tui.app import WarroomApp
    from tui.domain.report import Overrides, Report
    from tui.sim.source import DemoSource
    from tui.store.report_files import write_report
    from tui.store.timeline import Timeline, default_state_dir

    config = load(args)
    collector = build_collector(args, config)
    if args.timeline is not None:
        if not args.timeline.is_file():
            raise ConfigError(f"There is no incident timeline at {args.timeline}.")
        timeline: Timeline | None = Timeline(args.timeline)
    elif isinstance(collector.source, DemoSource):
        timeline = None
    else:
        timeline = _open_timeline(config, None)  # read, never started by a report
    overrides = Overrides(severity=args.severity, root_cause=args.root_cause,
                          summary=args.summary, lessons=args.lessons)  # fmt: skip
    # Read, never written: the headless report records nothing in the incident.
    app = WarroomApp(collector, config, context=config.context, live=False,
                     report_timeline=timeline)  # fmt: skip

    async def take() -> tuple[Report | None, str | None]:
        async with app.run_test(size=(200, 50)) as pilot:
            await app.workers.wait_for_complete()
            for _ in range(3):
                await pilot.pause()
            report = app.incident_report(overrides)
            svg = None if args.no_screenshot else app.export_screenshot(title="warroom report")
            return report, svg

    report, svg = asyncio.run(take())
    if report is None:
        raise WarroomError(app.last_error or "No data to report.")
    damage = timeline.damage_note() if timeline is not None else None
    for note in (app.history_note, app.evidence_note, damage):
        if note:
            print(f"warroom: {note}", file=sys.stderr)
    out = args.out or (config.state_dir or default_state_dir()) / "reports"
    try:
        written = write_report(report, out, svg=svg, overwrite=args.force)
    except FileExistsError as exc:
        raise ConfigError(f"{exc}; pass --force to replace it.") from None
    except OSError as exc:
        raise WarroomError(
            f"The report cannot be written to {out}: {exc.strerror or exc}."
        ) from None
    for path in written.paths:
        print(path)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from tui.cli.snapshot import snapshot_json, snapshot_table
    from tui.domain.cause import suspect

    config = load(args)
    snap, events, note = _collect_once(args, config)
    causes = suspect(
        snap.models, snap.gpus, events, config.slo, now=snap.taken_at, within_s=config.history_s
    )
    if note:
        print(f"warroom: {note}", file=sys.stderr)
    if args.json:
        json_out.dump(
            snapshot_json(snap, config.slo, events=events, causes=causes), sys.stdout, indent=2
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(snapshot_table(snap, config.slo, causes=causes))
    return 0


def _discover(args: argparse.Namespace) -> int:
    from tui.cli.discover import discover_json, discover_text, run_discover

    if vars(args).get("demo"):
        raise ConfigError("warroom discover reads a Prometheus: pass --prometheus URL.")
    discovery = run_discover(load(args))
    if args.json:
        json_out.dump(discover_json(discovery), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(discover_text(discovery))
    return 0


def _triage(args: argparse.Namespace) -> int:
    from tui.cli.snapshot import triage_text
    from tui.domain.model import AGGREGATE
    from tui.domain.signals import Facts
    from tui.domain.triage import Walk, auto_walk, triage_json, worst_symptom

    config = load(args)
    books = _runbooks(config)
    if args.runbook is not None and args.runbook not in books.books:
        known = ", ".join(books.books) or "none loaded"
        raise ConfigError(f"There is no runbook {args.runbook!r}; known: {known}.")
    snap, events, note = _collect_once(args, config)
    if note:
        print(f"warroom: {note}", file=sys.stderr)
    for err in books.errors:
        print(f"warroom: runbook skipped: {err}", file=sys.stderr)
    symptom = worst_symptom(snap.models, snap.aggregate, config.slo)
    model = args.model or (symptom.model if symptom else AGGREGATE)
    if snap.model(model) is None:
        raise ConfigError(f"There is no model {model!r} in {snap.source}.")
    book = books.books.get(args.runbook) if args.runbook else None
    if book is None and symptom is not None:
        book = books.for_symptom(symptom.kind)
    facts = Facts(snap, config.slo, model, tuple(events), config.history_s)
    walk = Walk(books, book) if book is not None else None
    if walk is not None:
        auto_walk(walk, facts)
    result = triage_json(walk, facts, symptom, books)
    if args.json:
        json_out.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(triage_text(result))
    return 0


def _runbooks_command(args: argparse.Namespace) -> int:
    from tui.store.runbook_files import shipped_dir

    if args.runbooks_command == "signals":
        from tui.domain.signals import SIGNALS

        width = max(len(n) for n in SIGNALS)
        for name, sig in SIGNALS.items():
            print(f"{name:<{width}}  {sig.unit:<7}  {sig.says}")
        return 0
    if args.runbooks_command == "list":
        books = _runbooks(load(args))
        for rid, book in books.books.items():
            opens = f" (opens on {', '.join(book.symptoms)})" if book.symptoms else ""
            print(f"{rid:<28}  {book.title}{opens}")
        for err in books.errors:
            print(f"warroom: runbook skipped: {err}", file=sys.stderr)
        return 1 if books.errors else 0
    # check
    from tui.store.runbook_files import load_runbooks

    dirs = args.dirs or [shipped_dir()]
    books = load_runbooks(dirs)
    for err in books.errors:
        print(f"warroom: {err}", file=sys.stderr)
    where = ", ".join(str(d) for d in dirs)
    print(f"{len(books.books)} runbooks valid, {len(books.errors)} broken, in {where}")
    return 1 if books.errors else 0


def _runbooks(config: Config) -> Runbooks:
    from tui.store.runbook_files import configured_runbooks

    return configured_runbooks(config.runbook_dirs)


def _simulate(args: argparse.Namespace) -> int:
    from tui.sim.exporter import serve
    from tui.sim.stacks import parse_stack

    names = _model_names_file(args.model_names) if args.model_names else ()
    try:
        serve(
            names=names,
            stack=parse_stack(args.stack),
            host=args.host,
            port=args.port,
            scenario=args.scenario,
            models=args.models,
            gpus=args.gpus,
            seed=args.seed,
            at_s=args.at,
            speed=args.speed,
            canary_weight=args.canary_weight,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise WarroomError(f"Cannot serve on {args.host}:{args.port}: {exc.strerror}.") from None
    return 0


def _model_names_file(path: Path) -> tuple[str, ...]:
    """``--model-names``: a JSON list of strings (checked further by `build_fleet`)."""
    import json

    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read --model-names {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--model-names {path} is not JSON text ({exc}).") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"--model-names {path} must hold a JSON list of strings.")
    return tuple(names)


def _list_scenarios() -> int:
    from tui.sim.scenarios import SCENARIOS

    width = max(len(n) for n in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        print(f"{name:<{width}}  {scenario.summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
