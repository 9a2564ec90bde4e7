"""`warroom discover`: what a Prometheus holds and how warroom will read it.

Two requests whatever the size of the fleet: the cockpit's own discovery probe
(`tui.sources.stacks.discover.probe_query` answered by `present`, so the stacks named here are
the ones the cockpit picks), then one checks query (`checks_parts`) for the spelling of
the names, each histogram's top bucket and the scrape pitfalls. Both go through
`PrometheusSource`, so a Prometheus that is down, refuses the credentials or answers
garbage reads as the same one sentence the cockpit shows.

Everything that came from Prometheus (label values, metric names, error text) passes
`printable` before it is kept: a hostile label value never reaches the terminal raw.
The JSON keys are a contract: later versions add keys, never rename them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.config import Config
from tui.domain import json_out
from tui.durations import parse_duration
from tui.errors import ConfigError

if TYPE_CHECKING:
    pass

import json
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx

from tui.cli.wiring import load
from tui.domain.format import printable
from tui.durations import promql_duration
from tui.errors import SourceError
from tui.sources.prometheus import PrometheusSource
from tui.sources.queries import build_queries
from tui.sources.stacks import DEFAULT as DEFAULT_STACKS
from tui.sources.stacks import adapter_names, configured
from tui.sources.stacks import build as build_stacks
from tui.sources.stacks.base import Buckets, Query, Stack
from tui.sources.stacks.compose import pod_map
from tui.sources.stacks.discover import (
    FIGURES,
    HISTOGRAMS,
    Feed,
    by_check,
    checks_parts,
    checks_query,
    either_spelling,
    feeds,
    present,
    probe_counts,
    probe_query,
    scan_query,
)
from tui.sources.stacks.fold import unsourced

ChosenBy = Literal["discovered", "config", "fallback"]
"""How the stacks in use were chosen: found by the probe, named in the config (or by a
``[metrics]`` section that names a gateway), or the default because nothing was found."""

ISTIO = "istio"
"""The Istio adapter's name: the double-count advice points at it when it is known."""


@dataclass(frozen=True, slots=True)
class Pitfall:
    kind: str
    """Stable identifier: ``dcgm_honor_labels``, ``istio_double_count``,
    ``coarse_histogram``, ``no_gpus``, ``underscore_names``, ``pinned_absent``,
    ``no_stack``, ``checks_failed``."""
    level: Literal["warning", "info"]
    sentence: str
    """One sentence: what is seen and what to do."""


@dataclass(frozen=True, slots=True)
class Found:
    """A registry adapter the probe found series of."""

    name: str
    title: str
    layer: str
    series: int
    names: tuple[str, ...]
    """The tell-tale metric names as Prometheus stored them (empty: not read)."""


@dataclass(frozen=True)
class Discovery:
    prometheus: str
    requests: int
    found: tuple[Found, ...]
    not_found: tuple[str, ...]
    stacks: tuple[Stack, ...]
    """In use: what the cockpit reads with this config and this Prometheus."""
    chosen_by: ChosenBy
    feeds: Mapping[str, Sequence[Feed]]
    no_source: tuple[str, ...]
    """`ModelHealth` fields no stack in use feeds, in pane order."""
    gpus: int | None
    """dcgm-exporter GPUs counted; None when the checks were not read."""
    pitfalls: tuple[Pitfall, ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stacks)


# -- reading ---------------------------------------------------------------------------


def run_discover(config: Config, *, transport: httpx.AsyncBaseTransport | None = None) -> Discovery:
    """`discover` to completion; raises `SourceError`/`ConfigError` as one sentence."""

    return asyncio.run(discover(config, transport=transport))


async def discover(
    config: Config,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    at: float | None = None,
) -> Discovery:
    source = PrometheusSource(config, transport=transport)
    try:
        return await _discover(source, config, time.time() if at is None else at)
    except SourceError as exc:
        # The sentence may quote the server (its error text): never raw to a terminal.
        raise SourceError(printable(str(exc))) from None
    finally:
        await source.aclose()


async def _discover(source: PrometheusSource, config: Config, at: float) -> Discovery:
    profile = config.metrics
    candidates = build_stacks(adapter_names(), profile)
    probe = await source.instant("discovery", probe_query(candidates), at)
    found = present(candidates, probe)
    counts = probe_counts(probe)
    chosen_by: ChosenBy
    named = configured(profile)
    if named is not None:
        used, chosen_by = named, "config"
    elif found:
        used, chosen_by = found, "discovered"
    else:
        used, chosen_by = build_stacks(DEFAULT_STACKS, profile), "fallback"
    try:
        health = build_queries(profile, config.window, used).health
    except ValueError as exc:
        raise ConfigError(f"The metric profile cannot be used: {exc}.") from None
    no_source = unsourced(used, health)
    fed = feeds(used, scan_query(profile))

    window = promql_duration(parse_duration(config.window))
    q = Query(window=window, pods=pod_map(used), matchers=dict(profile.matchers))
    named = [s for s in candidates if s in found or s.name in {u.name for u in used}]
    parts = checks_parts(named, used, profile, q)
    pitfalls: list[Pitfall] = []
    checks: dict[str, list[tuple[Mapping[str, str], float | None]]] | None
    try:
        samples = await source.instant("checks", checks_query(parts), at)
    except SourceError as exc:
        checks = None
        pitfalls.append(Pitfall(
            "checks_failed", "warning",
            f"The pitfall checks were not read ({printable(str(exc)).rstrip('.')}); "
            "the stacks and figures above stand, run discover again to see the checks.",
        ))  # fmt: skip
    else:
        checks = by_check(samples)

    stored = _stored_names(checks or {})
    found_rows = tuple(
        Found(s.name, s.title, s.layer, counts.get(s.name, 0), stored.get(s.name, ()))
        for s in found
    )
    gpus = None
    if checks is not None:
        gpus = sum(round(v) for _, v in checks.get("gpus", []) if v)
    discovery = Discovery(
        prometheus=source.description.removeprefix("prometheus "),
        requests=2,
        found=found_rows,
        not_found=tuple(s.name for s in candidates if s not in found),
        stacks=tuple(used),
        chosen_by=chosen_by,
        feeds=fed,
        no_source=tuple(f for fig in FIGURES for f in fig.fields if f in no_source),
        gpus=gpus,
    )
    pitfalls = _chosen_pitfalls(discovery, candidates) + pitfalls
    if checks is not None:
        pitfalls += _check_pitfalls(discovery, checks, config, candidates)
    return replace(discovery, pitfalls=tuple(pitfalls))


def _stored_names(
    checks: Mapping[str, list[tuple[Mapping[str, str], float | None]]],
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for part, samples in checks.items():
        kind, _, stack = part.partition("/")
        if kind == "names":
            out[stack] = tuple(sorted({printable(labels.get("__name__", "")) for labels, _ in
                                       samples} - {""}))  # fmt: skip
    return out


# -- pitfalls --------------------------------------------------------------------------


def _secs(seconds: float) -> str:
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"


def _listing(values: Sequence[str], most: int = 3) -> str:
    shown = ", ".join(values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def _chosen_pitfalls(d: Discovery, candidates: Sequence[Stack]) -> list[Pitfall]:
    out: list[Pitfall] = []
    if d.chosen_by == "fallback":
        out.append(Pitfall(
            "no_stack", "warning",
            f"Prometheus holds no series of a stack warroom knows "
            f"({', '.join(s.name for s in candidates)}): the cockpit reads the default "
            f"{' + '.join(DEFAULT_STACKS)} meanwhile and looks again every minute; check "
            "that the model servers and gateways are scraped, or name them in "
            "[metrics] stacks.",
        ))  # fmt: skip
    if d.chosen_by == "config":
        seen = {f.name for f in d.found}
        absent = [s.name for s in d.stacks if s.name not in seen]
        if absent:
            out.append(Pitfall(
                "pinned_absent", "warning",
                f"The config names {', '.join(absent)} but Prometheus holds none of "
                f"{'its' if len(absent) == 1 else 'their'} series, so what "
                f"{'it feeds' if len(absent) == 1 else 'they feed'} reads no data; check "
                "the scrape, or drop it from [metrics] stacks (or --stack, WARROOM_STACK).",
            ))  # fmt: skip
    return out


def _check_pitfalls(
    d: Discovery,
    checks: Mapping[str, list[tuple[Mapping[str, str], float | None]]],
    config: Config,
    candidates: Sequence[Stack],
) -> list[Pitfall]:
    out: list[Pitfall] = []
    util = config.metrics.dcgm.util

    jobs = sorted({printable(labels.get("job", "")) or "(no job)"
                   for labels, v in checks.get("dcgm_exported", []) if v})  # fmt: skip
    if jobs:
        out.append(Pitfall(
            "dcgm_honor_labels", "info",
            f"dcgm-exporter is scraped with honorLabels: false (job {_listing(jobs)}), the "
            "Helm chart's default: each GPU's workload is in exported_pod/"
            "exported_namespace and pod names the exporter. warroom reads the exported "
            "labels, so every GPU is still tied to its model; dashboards and alerts that "
            "read pod see the exporter (honorLabels: true on its ServiceMonitor, Helm "
            "value serviceMonitor.honorLabels=true, gives them the workload's).",
        ))  # fmt: skip

    hops = sorted({
        printable("/".join(x for x in (labels.get("destination_workload_namespace", ""),
                                       labels.get("destination_workload", "")) if x))
        for labels, _ in checks.get("istio_hops", [])
    } - {""})  # fmt: skip
    if hops:
        seen = (
            f'Istio reports each request at two hops (reporter="destination" at '
            f"{_listing(hops)} and again at the workloads "
            f"{'it forwards' if len(hops) == 1 else 'they forward'} to)"
        )
        if ISTIO in d.names:
            out.append(Pitfall(
                "istio_double_count", "info",
                f"{seen}: warroom's {ISTIO} stack counts each request once (model rows from "
                "the model hop, the whole API from the gateway hop), but a dashboard or "
                "alert that sums istio_requests_total over both hops counts it twice; "
                "filter those on destination_workload.",
            ))  # fmt: skip
        else:
            remedy = (f"add {ISTIO} to [metrics] stacks (its adapter counts one hop), or "
                      if ISTIO in {s.name for s in candidates} else "")  # fmt: skip
            out.append(Pitfall(
                "istio_double_count", "warning",
                f"{seen}, so a sum over both hops counts every request twice; {remedy}count "
                "one hop only (filter on destination_workload), never both.",
            ))  # fmt: skip

    out += _coarse(d, checks, config)

    if d.gpus == 0 and config.gpu_source != "none":
        then = {
            "auto": "the GPU grid falls back to this host's NVML",
            "dcgm": "the GPU grid stays empty",
            "nvml": "the GPU grid reads this host's NVML",
        }[config.gpu_source]
        out.append(Pitfall(
            "no_gpus", "warning" if config.gpu_source != "nvml" else "info",
            f"Prometheus holds no {util} series, so {then}; scrape dcgm-exporter (its "
            'ServiceMonitor), or set gpu_source = "none" where there are no GPUs to watch.',
        ))  # fmt: skip

    for found in d.found:
        stack = next((s for s in candidates if s.name == found.name), None)
        for prefix in either_spelling(stack) if stack is not None else ():
            under = [n for n in found.names if n.startswith(f"{prefix}_")]
            if under:
                out.append(Pitfall(
                    "underscore_names", "info",
                    f"{found.title}'s metrics are stored as {_listing(under)} "
                    f"(underscores: prometheus-client 0.23 or later over OpenMetrics), not "
                    f"{prefix}:…; warroom reads both spellings, but dashboards and alerts "
                    f"written for {prefix}: names read nothing here.",
                ))  # fmt: skip
    return out


def _coarse(
    d: Discovery,
    checks: Mapping[str, list[tuple[Mapping[str, str], float | None]]],
    config: Config,
) -> list[Pitfall]:
    """A histogram whose top finite bucket lies below the SLO it is judged against."""
    slo = {"latency": ("p99", config.slo.p99_s), "ttft": ("TTFT p99", config.slo.ttft_p99_s)}
    scan = scan_query(config.metrics)
    out: list[Pitfall] = []
    for stack in d.stacks:
        for figure in HISTOGRAMS:
            samples = checks.get(f"buckets/{stack.name}/{figure}")
            buckets = getattr(stack, figure)(scan)
            if not samples or not isinstance(buckets, Buckets):
                continue
            tops: dict[str, float] = {}
            for labels, _ in samples:
                try:
                    le = float(labels.get("le", ""))
                except ValueError:
                    continue
                if math.isfinite(le):
                    name = printable(labels.get("__name__", ""))
                    tops[name] = max(tops.get(name, -math.inf), le * buckets.unit_s)
            what, bound = slo[figure]
            feed = next((f for f in d.feeds.get(figure, ()) if f.stack == stack.name), None)
            if feed is None:
                continue  # not read for this figure (a gateway speaks for latency)
            for name, top in sorted(tops.items()):
                if top >= bound:
                    continue
                family = name or ", ".join(feed.families) or figure
                only = (" (it feeds latency only for models no gateway stack reports)"
                        if feed.role == "fallback" else "")  # fmt: skip
                out.append(Pitfall(
                    "coarse_histogram", "warning",
                    f"{stack.title}'s {family} tops out at {_secs(top)} (its highest "
                    f"finite bucket), below the {_secs(bound)} {what} SLO{only}: a "
                    f"{what} past {_secs(top)} reads only as >{_secs(top)}, so a breach "
                    f"cannot be seen; give that histogram buckets up to at least "
                    f"{_secs(bound)}, or let a stack with finer buckets feed the figure.",
                ))  # fmt: skip
    return out


# -- output ----------------------------------------------------------------------------


def pin(d: Discovery) -> dict[str, str]:
    names = d.names
    return {
        "toml": f"[metrics]\nstacks = [{', '.join(json.dumps(n) for n in names)}]\n",
        "flag": f"--stack {','.join(names)}",
        "env": f"WARROOM_STACK={','.join(names)}",
    }


def discover_json(d: Discovery) -> dict[str, Any]:
    """The stable machine format (keys are a contract)."""
    return {
        "prometheus": d.prometheus,
        "requests": d.requests,
        "found": [
            {
                "stack": f.name,
                "title": f.title,
                "layer": f.layer,
                "series": f.series,
                "names": list(f.names),
            }
            for f in d.found
        ],
        "not_found": list(d.not_found),
        "stacks": list(d.names),
        "titles": [s.title for s in d.stacks],
        "chosen_by": d.chosen_by,
        "figures": [
            {
                "figure": fig.key,
                "label": fig.label,
                "fields": list(fig.fields),
                "sources": [
                    {
                        "stack": f.stack,
                        "title": f.title,
                        "layer": f.layer,
                        "role": f.role,
                        "families": list(f.families),
                    }
                    for f in d.feeds.get(fig.key, ())
                ],
            }
            for fig in FIGURES
        ],
        "no_source": list(d.no_source),
        "gpus": d.gpus,
        "pitfalls": [
            {"kind": p.kind, "level": p.level, "sentence": p.sentence} for p in d.pitfalls
        ],
        "pin": pin(d),
    }


_CHOSEN = {
    "discovered": "found in Prometheus: the cockpit picks the same",
    "config": "named in the config: the cockpit reads these whatever Prometheus holds",
    "fallback": "nothing known found: the cockpit reads the default and looks again",
}
WIDTH = 100


def discover_text(d: Discovery) -> str:
    lines = [f"Prometheus {d.prometheus} ({d.requests} requests)", "", "Stacks found"]
    if d.found:
        name_w = max(len(f.name) for f in d.found)
        title_w = max(len(f.title) for f in d.found)
        for f in d.found:
            names = f"  {', '.join(f.names)}" if f.names else ""
            lines.append(f"  {f.name:<{name_w}}  {f.title:<{title_w}}  {f.layer:<7}  "
                         f"{f.series:>6} series{names}")  # fmt: skip
    else:
        lines.append("  none")
    if d.not_found:
        lines.append(f"  not found: {', '.join(d.not_found)}")
    if d.gpus is not None:
        lines.append(f"  GPUs (dcgm-exporter): {d.gpus}")
    lines += ["", f"Reading: {' · '.join(s.title for s in d.stacks)} "
              f"({', '.join(d.names)}; {_CHOSEN[d.chosen_by]})", "", "Figures"]  # fmt: skip
    label_w = max(len(fig.label) for fig in FIGURES)
    for fig in FIGURES:
        sources = d.feeds.get(fig.key, ())
        if not sources:
            lines.append(f"  {fig.label:<{label_w}}  no source")
            continue
        for i, f in enumerate(sources):
            head = fig.label if i == 0 else ""
            role = " (fallback: models no gateway reports)" if f.role == "fallback" else ""
            lines.append(f"  {head:<{label_w}}  {f.stack}{role}: {', '.join(f.families)}")
    if d.no_source:
        labels = [fig.label for fig in FIGURES if set(fig.fields) & set(d.no_source)]
        lines.append(f"  No source for {', '.join(labels)}: the panes show it as no source, "
                     "never 0 %.")  # fmt: skip
    else:
        lines.append("  Every figure has a source.")
    lines += ["", "Pitfalls"]
    if not d.pitfalls:
        lines.append("  none seen")
    for p in d.pitfalls:
        mark = "!" if p.level == "warning" else "i"
        lines += textwrap.wrap(p.sentence, WIDTH, initial_indent=f"  {mark} ",
                               subsequent_indent="    ")  # fmt: skip
    snippet = pin(d)
    lines += ["", "Pin this choice in the config file:", ""]
    lines += [f"  {line}" for line in snippet["toml"].splitlines()]
    lines += ["", f"or pass {snippet['flag']}, or set {snippet['env']}."]
    return "\n".join(lines) + "\n"


def command(args: argparse.Namespace) -> int:

    if vars(args).get("demo"):
        raise ConfigError("warroom discover reads a Prometheus: pass --prometheus URL.")
    discovery = run_discover(load(args))
    if args.json:
        json_out.dump(discover_json(discovery), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(discover_text(discovery))
    return 0
