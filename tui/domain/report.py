"""The incident report: what warroom saw, in the shape of a postmortem (seed template:
summary, severity, duration, detection, impact, timeline, root cause, action items).

Pure: it is built from what the cockpit already holds — the per-model history behind
the plots, the snapshot on screen, the GPU events, the suspected causes and the
incident timeline on disk — and rendered to Markdown and JSON. Severity and root cause
are suggested from the evidence; the engineer may override them (`Overrides`) before
export. Redaction is applied where the files are written (`tui.store.report_files`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeGuard

from tui.clock import utc
from tui.config import Slo
from tui.domain.assessed import judge
from tui.domain.cause import SuspectedCause
from tui.domain.entries import OPENED
from tui.domain.format import NO_DATA, fmt_latency, fmt_ratio, model_label
from tui.domain.model import AGGREGATE, GpuEvent, HistoryPoint, Snapshot
from tui.domain.severity import HISTORY_SIGNALS, JUDGED_SIGNALS, Judged, Level, threshold

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
SEVERITIES: dict[Severity, tuple[str, str, str]] = {
    "SEV1": ("User-facing outage, compliance risk, data leak", "5 min",
             "Page on-call + incident commander"),
    "SEV2": ("Major degradation in key flows", "15 min", "Page on-call"),
    "SEV3": ("Limited impact or internal-only issue", "1 hour", "Slack alert"),
    "SEV4": ("Cosmetic or low-priority regression", "Next business day", "Ticket"),
}  # fmt: skip
"""Criteria, response time and notification, from the AI SRE incident-response seed."""

OUTAGE_5XX = 0.25
"""The whole API failing this share of requests is an outage, not a degradation."""
OUTAGE_P99_FACTOR = 3.0
"""Nor is a whole-API p99 at three times its SLO: requests time out at the client."""

NAMES = {"p99_s": "p99", "error_5xx_ratio": "5xx", "rate_429_ratio": "429"}
"""The signals a history holds (`tui.domain.severity.HISTORY_SIGNALS`), by the names the
report's text uses. TTFT, queue and KV cache have no history here: they count through
the model's verdict now (`ModelNumbers.breached`)."""


@dataclass(frozen=True, slots=True)
class Crossing:
    """A model's signal going over its SLO line, or back under it."""

    at: float
    model: str
    metric: str
    """``p99``, ``5xx`` or ``429``."""
    value: float
    line: float
    crossed: bool
    """True: over the line; False: back under it."""

    @property
    def text(self) -> str:
        verb = "crossed" if self.crossed else "back under"
        return (
            f"{model_label(self.model)}: {self.metric} {verb} its SLO "
            f"({_fmt(self.metric, self.value)} against {_fmt(self.metric, self.line)})"
        )


@dataclass(frozen=True, slots=True)
class ModelNumbers:
    """A model at its worst over the incident, and now."""

    model: str
    worst_at: float | None
    """When the model was furthest over one of its SLO lines (`worst` may come from
    other moments: each signal peaks when it peaks)."""
    worst: dict[str, float | None]
    """Each history signal (`tui.domain.severity.HISTORY_SIGNALS`) at its highest over the
    history and the snapshot now: never below its value now."""
    now: dict[str, float | None]
    rps_now: float | None
    breached: bool


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report's timeline."""

    at: float
    kind: str
    """``threshold``, ``gpu``, ``runbook``, ``action``, ``canary`` or ``note``."""
    text: str


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the decision path, with the evidence it was answered on."""

    at: float
    runbook: str
    text: str
    answer: str | None
    by: str | None
    evidence: str | None


@dataclass(frozen=True, slots=True)
class ActionItem:
    action: str
    owner: str = "TBD"
    due: str = "TBD"
    status: str = "Open"


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the engineer changed in the export form; None keeps the suggestion."""

    severity: Severity | None = None
    root_cause: str | None = None
    summary: str | None = None
    lessons: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    source: str
    exported_at: float
    start: float | None
    end: float | None
    """None: still going when exported."""
    severity: Severity
    severity_why: str
    severity_suggested: Severity
    summary: str
    detection: str
    impact: list[str]
    models: list[ModelNumbers]
    gpu_evidence: list[str]
    path: list[Step]
    timeline: list[Row]
    root_cause: str
    root_cause_suggested: str
    resolution: list[str]
    action_items: list[ActionItem]
    lessons: str
    slo: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        if self.start is None:
            return None
        return (self.end if self.end is not None else self.exported_at) - self.start


# -- evidence from the history


def crossings(points: Mapping[str, Sequence[HistoryPoint]], slo: Slo) -> list[Crossing]:
    """Every time a model's p99, 5xx or 429 went over its SLO line or back under it,
    oldest first. A history that starts over the line counts as crossing at its start."""
    out: list[Crossing] = []
    for model, series in points.items():
        for signal in HISTORY_SIGNALS:
            line = threshold(slo, signal)
            over = False
            for point in series:
                value = getattr(point, signal)
                if value is None:
                    continue
                now_over = value >= line
                if now_over != over:
                    out.append(Crossing(point.at, model, NAMES[signal], value, line, now_over))
                    over = now_over
    return sorted(out, key=lambda c: (c.at, c.model != AGGREGATE, c.model, c.metric))


def _signals(of: object) -> dict[str, float | None]:
    """The severity signals of a history point or a model's health, by name."""
    return {signal: getattr(of, signal) for signal in HISTORY_SIGNALS}


def _known(value: float | None) -> TypeGuard[float]:
    return value is not None and not math.isnan(value)  # NaN is no figure


def _highest(values: Iterable[float | None]) -> float | None:
    return max(filter(_known, values), default=None)


def _over(values: Mapping[str, float | None], slo: Slo) -> float:
    """How far over its worst SLO line a set of signals is (1.0: at the line)."""
    ratios = [v / threshold(slo, s) for s, v in values.items() if v is not None]
    return max(ratios, default=0.0)


def model_numbers(
    points: Mapping[str, Sequence[HistoryPoint]], snapshot: Snapshot, slo: Slo, verdicts: Judged
) -> list[ModelNumbers]:
    """Each model at its worst and now; the whole API first, then worst first."""
    out: list[ModelNumbers] = []
    for health in (snapshot.aggregate, *snapshot.models):
        # The figures now are the latest point: the history's last one may be older.
        now_point = HistoryPoint(snapshot.taken_at.timestamp(), **_signals(health))
        series = [*points.get(health.model, ()), now_point]
        known = [p for p in series if any(_known(v) for v in _signals(p).values())]
        worst = max(known, key=lambda p: _over(_signals(p), slo), default=None)
        values = {s: _highest(getattr(p, s) for p in series) for s in HISTORY_SIGNALS}
        out.append(
            ModelNumbers(
                model=health.model,
                worst_at=worst.at if worst else None,
                worst=values,
                # Now, every judged figure: TTFT, queue and KV cache have no history here
                # but count in the verdict and are in the table.
                now={signal: getattr(health, signal) for signal in JUDGED_SIGNALS},
                rps_now=health.rps,
                breached=(worst is not None and _over(values, slo) >= 1.0)
                or verdicts.of(health, slo).level == Level.BREACH,
            )
        )
    head, rest = out[0], out[1:]
    rest.sort(key=lambda m: (-_over(m.worst, slo), m.model))
    return [head, *rest]


# -- suggestions


def suggest_severity(models: Sequence[ModelNumbers], slo: Slo) -> tuple[Severity, str]:
    """SEV1-4 by the seed's criteria, from how much of the API the incident reached."""
    whole = next((m for m in models if m.model == AGGREGATE), None)
    others = [m for m in models if m.model != AGGREGATE]
    breached = [m for m in others if m.breached]
    if whole is not None and whole.worst_at is not None:
        err, p99 = whole.worst["error_5xx_ratio"] or 0.0, whole.worst["p99_s"] or 0.0
        if err >= OUTAGE_5XX or p99 >= OUTAGE_P99_FACTOR * slo.p99_s:
            return "SEV1", (
                f"user-facing outage: the whole API reached {fmt_ratio(err)} 5xx and p99 "
                f"{fmt_latency(p99)}"
            )
        if whole.breached:
            return "SEV2", (
                f"major degradation: the whole API breached its SLO "
                f"({_worst_signal(whole, slo)}), {len(breached)} of {len(others)} models"
            )
    if others and len(breached) * 2 >= len(others):
        return "SEV2", f"major degradation: {len(breached)} of {len(others)} models breached"
    if breached:
        names = ", ".join(m.model for m in breached[:3])
        aggregate = (
            f"; the whole API stayed within SLO ({_worst_signal(whole, slo)} at worst)"
            if whole is not None and whole.worst_at is not None
            else ""
        )
        return (
            "SEV3",
            f"limited impact: {len(breached)} of {len(others)} models ({names}){aggregate}",
        )
    return "SEV4", "no model breached an SLO line; warnings only"


def _worst_signal(m: ModelNumbers, slo: Slo) -> str:
    signal = max(HISTORY_SIGNALS, key=lambda s: (m.worst[s] or 0.0) / threshold(slo, s))
    return f"{NAMES[signal]} {_fmt(NAMES[signal], m.worst[signal])}"


def _first_cause(causes: Mapping[str, SuspectedCause], kind: str) -> SuspectedCause | None:
    return next((c for c in causes.values() if c.kind == kind), None)


def suggest_root_cause(
    snapshot: Snapshot,
    causes: Mapping[str, SuspectedCause],
    models: Sequence[ModelNumbers],
    reached: str | None,
    slo: Slo,
) -> tuple[str, list[ActionItem]]:
    """The cause the evidence points at, and the follow-ups that go with it."""
    if c := _first_cause(causes, "gpu_oom"):
        return (
            f"GPU out of memory surfacing as 5xx on {c.model}: {c.summary}",
            [
                ActionItem(f"Cap batch size / max-num-seqs for {c.model} to fit its GPUs' memory"),
                ActionItem("Alert on CUDA OOM log lines and OOMKilled, not only on 5xx"),
                ActionItem(f"Review GPU memory headroom on {', '.join(_nodes(c))}"),
            ],
        )
    if c := _first_cause(causes, "host_oom"):
        return (
            f"Container memory limit (OOMKilled, exit 137) behind 5xx on {c.model}: {c.summary}",
            [
                ActionItem(f"Raise the container memory limit of {c.model} (or its swap space)"),
                ActionItem("Alert on OOMKilled restarts, not only on 5xx"),
            ],
        )
    keys = snapshot.rate_limited_keys
    whole = next((m for m in models if m.model == AGGREGATE), None)
    surge = whole is not None and (whole.worst["rate_429_ratio"] or 0.0) >= slo.rate_429_ratio
    if surge and keys and keys[0].share >= 0.5:
        k = keys[0]
        return (
            f"Single-tenant surge: API key {k.api_key} drew {k.share:.0%} of the 429s "
            f"({k.rate:.1f}/s)",
            [
                ActionItem(f"Agree a quota with the owner of {k.api_key}"),
                ActionItem("Per-key rate limits and a per-tenant 429 alert"),
            ],
        )
    if c := _first_cause(causes, "gpu_xid"):
        return f"GPU fault behind {c.model}: {c.summary}", [
            ActionItem(f"Drain and inspect {', '.join(_nodes(c))}")
        ]
    if reached:
        return f"As the runbook concluded: {reached}", [ActionItem("Confirm the cause")]
    return "Not determined from the evidence warroom saw.", [ActionItem("Find the root cause")]


def _nodes(cause: SuspectedCause) -> list[str]:
    return list(dict.fromkeys(node for node, _ in cause.gpus))


# -- the timeline on disk


def decision_path(entries: Sequence[Mapping[str, Any]]) -> list[Step]:
    """The runbook steps taken, in order, with the evidence each answer stood on; a step
    retraced (``runbook.back``) is dropped, as the engineer no longer stands by it."""
    steps: list[Step] = []
    for e in entries:
        kind = e.get("kind")
        if kind == "runbook.back" and steps:
            steps.pop()
            continue
        if kind not in ("runbook.answer", "runbook.step", "runbook.reached"):
            continue
        evidence = e.get("evidence")
        said = None
        if isinstance(evidence, dict) and evidence.get("expression"):
            values = ", ".join(
                f"{k} = {_num(v)}" for k, v in (evidence.get("values") or {}).items()
            )
            said = f"{evidence['expression']} ({values})" if values else str(evidence["expression"])
        text = str(e.get("title") or e.get("text") or e.get("step") or "")
        if kind == "runbook.reached":
            text = f"Reached: {text}"
        steps.append(Step(_at(e), str(e.get("runbook", "")), text, e.get("answer"),
                          e.get("by"), said))  # fmt: skip
    return steps


def timeline_rows(
    entries: Sequence[Mapping[str, Any]],
    found: Sequence[Crossing],
    groups: Sequence[EventGroup],
    notes: Sequence[tuple[float, str]] = (),
) -> list[Row]:
    """Threshold crossings, GPU events (`group_events`), runbook steps, mitigations,
    canary decisions and ``notes`` (time, sentence) on the record itself, by time."""
    rows = [Row(c.at, "threshold", c.text) for c in found if c.model != AGGREGATE or c.crossed]
    rows += [Row(at, "note", text) for at, text in notes]
    rows += [Row(g.first.at.timestamp(), "gpu", g.text) for g in groups]
    for e in entries:
        kind = str(e.get("kind", ""))
        at = _at(e)
        if kind == "runbook.opened":
            rows.append(Row(at, "runbook", f"Runbook opened: {e.get('title')} on "
                                           f"{model_label(str(e.get('model')))}"))  # fmt: skip
        elif kind == "runbook.answer":
            rows.append(Row(at, "runbook", f"{e.get('text')} — {e.get('answer')}"))
        elif kind == "runbook.reached":
            rows.append(Row(at, "runbook", f"Runbook reached: {e.get('title') or e.get('text')}"))
        elif kind.startswith("action."):
            rows.append(Row(at, "action", _action_text(kind, e)))
        elif kind in ("canary.verdict", "canary.promoted", "canary.rolled-back", "canary.failed"):
            rows.append(Row(at, "canary", str(e.get("reason") or e.get("message"))))
    order = {"threshold": 0, "gpu": 1, "runbook": 2, "action": 3, "canary": 4, "note": 5}
    return sorted(rows, key=lambda r: (r.at, order[r.kind]))


def all_events(entries: Sequence[Mapping[str, Any]], events: Sequence[GpuEvent]) -> list[GpuEvent]:
    """The GPU events the tracker holds and those the timeline recorded (a resumed
    incident's earlier ones), each once, oldest first."""
    out = {e.key: e for e in events}
    for entry in entries:
        kind = str(entry.get("kind", ""))
        if not kind.startswith("gpu."):
            continue
        ev = GpuEvent(
            at=utc(_at(entry)), kind=kind[4:], detail=str(entry.get("detail", "")),
            node=entry.get("node"), gpu=entry.get("gpu"), pod=entry.get("pod"),
            model=entry.get("model"), namespace=entry.get("namespace"),
        )  # fmt: skip
        out.setdefault(ev.key, ev)
    return sorted(out.values(), key=lambda e: e.at)


@dataclass(frozen=True, slots=True)
class EventGroup:
    """Repeats of one kind of event on one GPU (or pod): a report line, not twelve."""

    first: GpuEvent
    count: int
    last_at: float

    @property
    def text(self) -> str:
        e = self.first
        line = _gpu_text(e.kind, e.node, e.gpu, e.pod, e.detail)
        if self.count > 1:
            line += f" (×{self.count}, the last at {hms(self.last_at)})"
        return line


def group_events(events: Sequence[GpuEvent]) -> list[EventGroup]:
    groups: dict[tuple[object, ...], EventGroup] = {}
    for e in events:
        key = (e.kind, e.node, e.gpu, e.pod)
        held = groups.get(key)
        if held is None:
            groups[key] = EventGroup(e, 1, e.at.timestamp())
        else:
            groups[key] = replace(held, count=held.count + 1, last_at=e.at.timestamp())
    return sorted(groups.values(), key=lambda g: g.first.at)


def _action_text(kind: str, e: Mapping[str, Any]) -> str:
    title = e.get("title") or e.get("mitigation") or "mitigation"
    where = f" on {e['model']}" if e.get("model") else ""
    by = f" by {e['actor']}" if e.get("actor") else ""
    match kind:
        case "action.requested":
            return f"{title}{where}: requested{by}"
        case "action.succeeded":
            return f"{title}{where}: done"
        case "action.failed":
            return f"{title}{where}: failed: {e.get('error') or e.get('message')}"
        case "action.cancelled":
            return f"{title}{where}: cancelled, nothing changed"
        case "action.step":
            return f"{e.get('mitigation')}: {e.get('step')}"
    return f"{title}: {kind.removeprefix('action.')}"


def _gpu_text(kind: str, node: object, gpu: object, pod: object, detail: object) -> str:
    where = " ".join(str(p) for p in (node, f"GPU {gpu}" if gpu is not None else None) if p)
    who = f" ({pod})" if pod else ""
    return f"{kind}: {where}{who}: {detail}"


# -- putting it together


def build_report(
    *,
    snapshot: Snapshot,
    points: Mapping[str, Sequence[HistoryPoint]],
    events: Sequence[GpuEvent],
    causes: Mapping[str, SuspectedCause],
    entries: Sequence[Mapping[str, Any]],
    slo: Slo,
    now: float,
    overrides: Overrides | None = None,
    notes: Sequence[str] = (),
    verdicts: Judged | None = None,
) -> Report:
    """``notes``: sentences on the record behind the report (damaged timeline lines it
    skipped), each a row of its timeline at ``now``, so the reader knows what is missing.
    ``verdicts``: the snapshot's, made once by its refresh (`Assessed.verdicts`); made
    here when absent (a report remade from a recording's inputs)."""
    found = crossings(points, slo)
    if verdicts is None:
        verdicts = judge(snapshot, slo)
    numbers = model_numbers(points, snapshot, slo, verdicts)
    severity, why = suggest_severity(numbers, slo)
    path = decision_path(entries)
    reached = next((s.text.removeprefix("Reached: ") for s in reversed(path)
                    if s.text.startswith("Reached: ")), None)  # fmt: skip
    cause, items = suggest_root_cause(snapshot, causes, numbers, reached, slo)
    start, end = incident_span(found, entries)
    groups = group_events(all_events(entries, events))
    done = mitigations(entries)
    report = Report(
        title=_title(numbers, causes, snapshot, slo),
        source=snapshot.source,
        exported_at=now,
        start=start,
        end=end,
        severity=severity,
        severity_why=why,
        severity_suggested=severity,
        summary="",
        detection=_detection(found, entries),
        impact=_impact(numbers, snapshot, start, end if end is not None else now, slo),
        models=numbers,
        gpu_evidence=[c.summary for c in causes.values()] + [g.text for g in groups],
        path=path,
        timeline=timeline_rows(entries, found, groups, [(now, note) for note in notes]),
        root_cause=cause,
        root_cause_suggested=cause,
        resolution=_resolution(done, numbers, slo),
        action_items=items,
        lessons="",
        slo={signal: threshold(slo, signal) for signal in HISTORY_SIGNALS},
    )
    report = replace(report, summary=_summary(report, done))
    if overrides is not None:
        report = apply(report, overrides)
    return report


def apply(report: Report, o: Overrides) -> Report:
    """The engineer's edits over the suggestions; the suggestions stay on record."""
    return replace(
        report,
        severity=o.severity or report.severity,
        severity_why=report.severity_why if o.severity in (None, report.severity_suggested)
        else f"set by the engineer (suggested {report.severity_suggested}: "
        f"{report.severity_why})",
        root_cause=o.root_cause or report.root_cause,
        summary=o.summary or report.summary,
        lessons=o.lessons or report.lessons,
    )  # fmt: skip


def incident_span(
    found: Sequence[Crossing], entries: Sequence[Mapping[str, Any]]
) -> tuple[float | None, float | None]:
    """Start: the first crossing (or the first timeline entry, if earlier: not its
    opening, which every cockpit writes, trouble or not). End: the last recovery, once
    nothing is over a line any more; None while something still is. The top line's
    incident clock reckons the start the same way (`WarroomApp`)."""
    starts = [c.at for c in found if c.crossed]
    starts += [_at(e) for e in entries if e.get("kind") != OPENED][:1]
    start = min(starts, default=None)
    over: set[tuple[str, str]] = set()
    for c in found:
        if c.crossed:
            over.add((c.model, c.metric))
        else:
            over.discard((c.model, c.metric))
    if over or not found:
        return start, None
    return start, max(c.at for c in found if not c.crossed)


def _title(numbers: Sequence[ModelNumbers], causes: Mapping[str, SuspectedCause],
           snapshot: Snapshot, slo: Slo) -> str:  # fmt: skip
    breached = [m for m in numbers if m.breached and m.model != AGGREGATE]
    if not breached:
        return f"No SLO breach ({snapshot.source})"
    first = breached[0]
    cause = causes.get(first.model)
    what = cause.headline if cause else f"{_worst_signal(first, slo)} over its SLO"
    more = f" and {len(breached) - 1} more" if len(breached) > 1 else ""
    return f"{first.model}{more}: {what}"


def _detection(found: Sequence[Crossing], entries: Sequence[Mapping[str, Any]]) -> str:
    first = next((c for c in found if c.crossed), None)
    opened = next((e for e in entries if e.get("kind") == "runbook.opened"), None)
    parts = []
    if first is not None:
        parts.append(f"warroom: {first.text} at {hms(first.at)} UTC")
    if opened is not None:
        parts.append(f"responder opened the runbook at {hms(_at(opened))} UTC")
    return "; ".join(parts) if parts else "No threshold crossing in the window warroom holds."


def _impact(
    numbers: Sequence[ModelNumbers],
    snapshot: Snapshot,
    start: float | None,
    end: float,
    slo: Slo,
) -> list[str]:
    breached = [m for m in numbers if m.breached and m.model != AGGREGATE]
    out = [
        f"Models: {len(breached)} of {len(numbers) - 1} breached"
        + (f" ({', '.join(m.model for m in breached)})" if breached else "")
    ]
    if start is not None:
        failed = rejected = 0.0
        span = max(0.0, end - start)
        for m in breached:
            rps = m.rps_now or 0.0
            failed += rps * (m.worst["error_5xx_ratio"] or 0.0) * span
            rejected += rps * (m.worst["rate_429_ratio"] or 0.0) * span
        if failed or rejected:
            out.append(
                f"Requests: up to ≈{failed:,.0f} answered 5xx and ≈{rejected:,.0f} answered 429 "
                "(their rate now × their worst ratio × the duration: an upper bound)"
            )
    keys = snapshot.rate_limited_keys
    # Tenants only where 429s were part of it: an OOM incident's routine 429s are noise.
    rejected_over = any((m.worst["rate_429_ratio"] or 0.0) >= slo.rate_429_ratio for m in numbers)
    if keys and rejected_over:
        top = ", ".join(f"{k.api_key} {k.share:.0%}" for k in keys[:3])
        out.append(f"Tenants: 429s by API key now: {top}")
    return out


def mitigations(entries: Sequence[Mapping[str, Any]]) -> list[tuple[float, str]]:
    """(when, what) for each mitigation carried out, from the timeline."""
    return [
        (_at(e), str(e.get("title")) + (f" on {e['model']}" if e.get("model") else ""))
        for e in entries
        if e.get("kind") == "action.succeeded"
    ]


def _resolution(
    done: Sequence[tuple[float, str]], numbers: Sequence[ModelNumbers], slo: Slo
) -> list[str]:
    out = [f"{hms(at)} UTC {what}" for at, what in done]
    still = [m.model for m in numbers if m.model != AGGREGATE and _over(m.now, slo) >= 1.0]
    out.append(
        f"Still over a line at export: {', '.join(still)}" if still
        else "Every model within SLO at export."
    )  # fmt: skip
    return out


def _summary(r: Report, done: Sequence[tuple[float, str]]) -> str:
    when = f"from {hms(r.start)} UTC" if r.start is not None else "in the window warroom holds"
    until = "and still going at export" if r.end is None else f"until {hms(r.end)} UTC"
    acted = f" Mitigations: {'; '.join(what for _, what in done)}." if done else ""
    return f"{r.title}, {when} {until}. {r.severity}: {r.severity_why}.{acted}"


# -- formatting helpers


def _fmt(metric: str, value: float | None) -> str:
    return fmt_latency(value) if metric == "p99" else fmt_ratio(value)


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _at(entry: Mapping[str, Any]) -> float:
    return datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00")).timestamp()


def hms(ts: float | None) -> str:
    """A report's time of day, UTC; the no-data mark for none."""
    return NO_DATA if ts is None else f"{utc(ts):%H:%M:%S}"
