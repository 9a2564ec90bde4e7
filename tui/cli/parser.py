"""The `warroom` command line: every subcommand's arguments, in one parser."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.wiring import DEFAULT_DEMO_AT
from tui.durations import parse_duration

if TYPE_CHECKING:
    pass


def duration_arg(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return value


def percent(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def source_options() -> argparse.ArgumentParser:
    # SUPPRESS keeps a sub-command's defaults from overwriting options given before it.
    p = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    g = p.add_argument_group("data source")
    g.add_argument("--demo", action="store_true", help="use the built-in simulated fleet")
    g.add_argument("--scenario", help="demo incident to play (see `warroom scenarios`)")
    g.add_argument("--seed", type=int, help="demo random seed (default 7)")
    g.add_argument("--models", type=int, help="demo fleet size in models (default 12)")
    g.add_argument("--gpus", type=int, help="demo fleet size in GPUs (default ~4 per model)")
    g.add_argument("--speed", type=positive_float, help="demo clock speed-up (default 1)")
    g.add_argument(
        "--at", type=duration_arg, help=f"start the demo this far in (default {DEFAULT_DEMO_AT})"
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
    common = source_options()
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
    sim.add_argument("--speed", type=positive_float, default=1.0)
    sim.add_argument("--at", type=duration_arg, default=0.0, help="start this far in")
    sim.add_argument(
        "--canary-weight", type=percent, default=0, metavar="PCT",
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
    play.add_argument("--speed", type=positive_float, default=1.0, help="playback speed")
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
