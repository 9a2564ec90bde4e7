"""Hostile label values through a real Prometheus (issue 21's acceptance fuzz).

`warroom simulate --model-names` serves the gpu-oom incident with its twelve models
renamed to label values drawn from a seeded generator: C0, C1 and DEL controls with
terminal escape sequences (OSC 0 title, OSC 52 clipboard, CSI 2J), Rich/Textual markup,
Markdown and HTML, bidi overrides, zero-width and line-separator characters, wide CJK and
emoji, PromQL and JSON quoting, a name of controls alone, a secret-shaped token and a
10 kB name. Debian's Prometheus scrapes them (it keeps every one of them as written: see
`tui.sim.exporter.make_server`), and the cockpit reads them the way `warroom
--prometheus` does. One rig for the whole file, one cockpit session, then:

- the cockpit runs, shows every model with its figures, and no control, format or
  separator character of a label reaches any screen drawn on the way (main screen, GPU
  grid with its model filter, runbook navigator, export form, help), while keys are
  pressed on it;
- the incident report's Markdown parses (markdown-it, CommonMark with tables) to the
  same structure as the same incident with the catalogue's clean names, and the files
  the app exports (Markdown, JSON, SVG) hold no control character;
- the incident timeline the walk, the GPU events and the export were written into reads
  back every entry, with the names as written.

Each test names the defect it was written against: it failed until that was fixed.
"""

from __future__ import annotations

import asyncio
import difflib
import html
import json
import random
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from demo_app import settle
from markdown_it import MarkdownIt
from promserver import (
    AT,
    SPEED,
    PromServer,
    scraping_simulator,
    wait_for_every_model,
    wait_for_scrapes,
)
from textual.pilot import Pilot
from textual.widgets import Button

from tui.app import WarroomApp
from tui.clock import FrozenClock, utc
from tui.config import load_config
from tui.domain.format import printable
from tui.domain.model import AGGREGATE, GpuEvent
from tui.domain.redact import redact
from tui.domain.report import Report, build_report
from tui.domain.report_text import report_markdown
from tui.refresh.collect import Collector
from tui.sim.fleet import build_fleet
from tui.sim.scenarios import GpuOom
from tui.sources.prometheus import PrometheusSource
from tui.store.timeline import Timeline
from widgets.health_table import HealthTable

pytestmark = [pytest.mark.prometheus, pytest.mark.fuzz]

SEED = 21
"""Issue 21: the draw is the same on every run, so a failure is replayed exactly."""
MODELS = 12
SIZE = (160, 48)
WINDOW = "1m"

# -- the names --------------------------------------------------------------------------------

TERMINAL = (
    "\x1b]0;pwned\x07", "\x1b]52;c;cHduZWQ=\x07", "\x1b[2J", "\x1b[31m", "\x1b[?1049h",
    "\x1bP+q544e\x1b\\", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\x9b2J", "\x9d0;t\x9c",
)  # fmt: skip
"""Escape sequences: a window title, a clipboard write, a screen clear, a colour, the
alternate screen, a DCS query, a hyperlink, and CSI/OSC as C1 bytes."""
CONTROLS = tuple(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
MARKUP = (
    "[/]", "[@click=app.quit]", "[b]", "[/b]", "[link=http://x]x[/link]", "[$accent]",
    "[red on blue]", "\\[", "[", "]", "[i]",
)  # fmt: skip
MARKDOWN = (
    "```", "~~~", "# heading", "[link](http://x)", "![i](http://x/i.png)",
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "|", "||", "*", "**", "_",
    "__", "> q", "- ", "+ ", "1. ", "2) ", "---", "===", "&amp;", "&#27;", "<http://x>",
    "`", "\\", "~~s~~", "<!-- c -->", "    ", "\\*", "[x]: http://x",
)  # fmt: skip
BIDI = ("\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
        "\u200f", "\u061c")  # fmt: skip
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad")
SEPARATORS = ("\u2028", "\u2029", "\u0085", "\n", "\r\n", "\v", "\f")
WIDE = ("模型", "推理服务", "🚀", "👨\u200d👩\u200d👧", "ｗｉｄｅ", "e\u0301", "กิ", "Ω", "\ue000",
        "\U0010fffd")  # fmt: skip
QUOTING = ('"', "'", "{", "}", "=~", '\\"', "\\n", '"}', ",", "$1", "%s", "{{x}}")
"""PromQL, JSON and format-string quoting: the exposition escapes three of them, the
cockpit's queries and files must cope with all."""
KINDS = (TERMINAL, CONTROLS, MARKUP, MARKDOWN, BIDI, ZERO_WIDTH, SEPARATORS, WIDE, QUOTING)

SECRET = "ghp_" + "A1b2C3d4E5" * 4 + "(http://evil.example/x)"
"""A GitHub token's shape followed by a link target: the report's redactor replaces the
token with ``[redacted github-token …]``, and those brackets must not become a link."""


def draw_names(seed: int) -> tuple[str, ...]:
    """Twelve label values: random mixtures, each with a marker of its own (``fz07``) in a
    random place, and four set pieces at fixed places: the gpu-oom scenario's sick model
    gets every terminal attack and markup at once, one name is controls alone, one holds
    `SECRET`, one is 10 kB."""
    rng = random.Random(seed)
    names: list[str] = []
    for i in range(MODELS):
        parts = [rng.choice(rng.choice(KINDS)) for _ in range(rng.randint(4, 10))]
        parts.insert(rng.randint(0, len(parts)), f"fz{i:02d}")
        names.append("".join(parts))
    sick = GpuOom().sick(build_fleet(MODELS)).name
    at = [m.name for m in build_fleet(MODELS).models].index(sick)
    names[at] = (
        f"evil-fz{at:02d}\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07[@click=app.quit]"
        "crash[/]me[b]\u202eoof\u200b# no\n```\n| x |\u2028<img src=x onerror=alert(1)>"
    )
    bare = (at + 1) % MODELS
    names[bare] = "\x1b[2J\u202e\u200b\x00\x7f\x85\u2028"
    secret = (at + 2) % MODELS
    names[secret] = f"fz{secret:02d} {SECRET}"
    big = 0  # the busiest model
    filler = "".join(rng.choice(rng.choice(KINDS)) for _ in range(4000))
    names[big] = (f"fz{big:02d}" + filler)[:10_240]
    return tuple(names)


NAMES = draw_names(SEED)
FLEET = build_fleet(MODELS, names=NAMES)
CLEAN = build_fleet(MODELS)
"""The same fleet under the catalogue's names: the figures the scenario scripts follow
each model's place, not its name."""
TO_CLEAN = {h.name: c.name for h, c in zip(FLEET.models, CLEAN.models, strict=True)}
SICK = GpuOom().sick(FLEET).name
SECRET_NAME = next(n for n in NAMES if SECRET in n)
FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Unicode categories no screen may draw as themselves (`tui.domain.format.printable`)."""


def test_the_draw_is_a_fair_fuzz() -> None:
    """What the rig relies on: twelve distinct names, none inside another (the clean
    report renames by substring), each a valid label value, every kind drawn."""
    assert len(set(NAMES)) == MODELS
    assert not any(a != b and a in b for a in NAMES for b in NAMES)
    assert all(n.encode("utf-8") for n in NAMES)
    assert max(map(len, NAMES)) == 10_240
    text = "".join(NAMES)
    for kind in KINDS:
        assert any(piece in text for piece in kind), kind[:3]
    # Pod and Deployment names built from them stay valid DNS labels (RFC 1123).
    for model in FLEET.models:
        for pod in model.pods:
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", pod), pod
    assert len({p.rsplit("-", 2)[0] for m in FLEET.models for p in m.pods}) == MODELS


@pytest.mark.parametrize(
    ("models", "names", "says"),
    [
        (1, ["a", "b"], "There are 2 model names for 1 models"),
        (2, [""], "Model name 1 is ''"),
        (2, ["\ud800"], "lone surrogate"),
        (2, ["a", "a"], "repeat a name"),
        (3, ["llama-3.1-8b-instruct", "llama-3-1-8b-instruct"], "same Deployment name"),
    ],
)
def test_the_simulator_takes_only_names_a_label_can_hold(
    models: int, names: list[str], says: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        build_fleet(models, names=names)


def test_simulate_says_in_one_line_what_is_wrong_with_the_names_file(tmp_path: Path) -> None:
    for text, says in [
        ('"one"', "must hold a JSON list of strings"),
        ("[1]", "must hold a JSON list of strings"),
        ("[", "is not JSON text"),
        ('["a", "a"]', "repeat a name"),
    ]:
        path = tmp_path / "names.json"
        path.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "tui", "simulate", "--port", "0", "--model-names", str(path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("warroom: ") and done.stderr.count("\n") == 1, done.stderr
        assert says in done.stderr


# -- the rig ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromServer]:
    work = tmp_path_factory.mktemp("fuzz")
    names = work / "names.json"
    names.write_text(json.dumps(NAMES), encoding="utf-8")
    args = ("--scenario", "gpu-oom", "--at", AT, "--speed", str(SPEED), "--model-names", str(names))
    with scraping_simulator(work, *args) as server:
        wait_for_scrapes(server, 5, WINDOW)
        # Every model has whole requests behind its figures, so every row has figures.
        wait_for_every_model(server, WINDOW)
        yield server


def test_prometheus_stores_every_name_as_written(prometheus: PromServer) -> None:
    """The exposition escapes what the text format asks (backslash, quote, newline) and
    Prometheus keeps the rest byte for byte, in the gateway's and vLLM's labels alike."""
    for expr, label in [
        ("count by (model) (http_requests_total)", "model"),
        ('count by (model_name) ({__name__=~"vllm[:_]num_requests_running"})', "model_name"),
    ]:
        stored = [s["metric"].get(label) for s in prometheus.vector(expr)]
        assert sorted(stored) == sorted(NAMES), expr


class CountingTimeline(Timeline):
    """The incident timeline, keeping what each append wrote (kind and fields)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.written: list[dict[str, Any]] = []

    def append(self, kind: str, at: datetime, *, key: str | None = None, **fields: Any) -> bool:
        done = super().append(kind, at, key=key, **fields)
        if done:
            self.written.append({"kind": kind, **fields, **({"key": key} if key else {})})
        return done


@dataclass
class Session:
    """What one cockpit session over the rig left behind."""

    shots: list[tuple[str, str]] = field(default_factory=list)
    """(after which keys, the screen as SVG)."""
    stopped: list[str] = field(default_factory=list)
    """Steps after which the app was no longer running."""
    shown: list[str] = field(default_factory=list)
    """The health table's model cells, as drawn."""
    titles: list[str] = field(default_factory=list)
    error: str | None = None
    report: Report | None = None
    rebuilt: Callable[[Mapping[str, str]], Report] | None = None
    """The report again from the same inputs, every name renamed through the mapping."""
    timeline: CountingTimeline | None = None
    figures: dict[str, float | None] = field(default_factory=dict)
    """Each model's 5xx ratio in the last snapshot (None: no figure)."""
    reports: Path | None = None
    """Where the app exported the report."""


def build_app(url: str, home: Path, timeline: Timeline) -> WarroomApp:
    """The cockpit as `warroom --prometheus URL` builds it, without this machine's config,
    GPUs or cluster, on a frozen clock, timers off."""
    flags = {
        ("prometheus", "url"): url,
        ("window",): WINDOW,
        ("history",): "5m",
        ("gpu_source",): "dcgm",
    }
    config = load_config(None, env={"XDG_CONFIG_HOME": str(home)}, flags=flags)
    clock = FrozenClock(float(int(time.time())))
    source = PrometheusSource(config, clock=clock)
    return WarroomApp(
        Collector(source, config, clock=clock), config, context="fuzz", live=False,
        timeline=timeline, actor="sre@bastion",
    )  # fmt: skip


def hostile_events(at: float) -> list[GpuEvent]:
    """GPU events naming each hostile model, its node, pod and log line: what pod evidence
    and dcgm-exporter labels would carry, recorded before the cockpit starts."""
    out = []
    for i, name in enumerate(NAMES):
        kind = ("oom", "oomkilled", "xid")[i % 3]
        detail = f"XID 43 ({name})" if kind == "xid" else f"CUDA out of memory: {name}"
        where = {"node": f"node-{name}", "gpu": i % 8, "pod": f"pod-{name}", "namespace": name}
        out.append(GpuEvent(utc(at - 120 + i), kind, detail, model=name, **where))
    return out


class Stopped(Exception):
    """The cockpit was no longer running after a step."""


Step = Callable[..., Awaitable[None]]


async def walk(app: WarroomApp, pilot: Pilot[Any], step: Step, session: Session) -> None:
    """Keys over every screen that draws a model's name."""
    await step("start")
    table = app.query_one(HealthTable)
    session.shown = [table.get_cell(key.value, "model").plain for key in table.rows]
    await step("down, enter", "down", "down", "down", "enter")
    await step("sort", "s", "s")
    await step("GPU grid", "g", "down", "right", "f")
    await step("GPU grid closed", "g")
    # The runbook for the worst symptom (the sick model), answered as the evidence
    # suggests, one step back, then closed: each step goes into the timeline.
    await step("runbook", "t")
    await step("runbook walked", "enter", "enter", "y", "backspace", "n")
    await step("runbook closed", "escape")
    await step("report form", "e")
    await step("report form closed", "escape")
    # Exported as the engineer would: the form's Export button, the files written by
    # the app's own worker.
    await step("report form again", "e")
    app.screen.query_one("#rf-export", Button).press()
    await settle(pilot)
    await step("exported")
    await step("mitigations", "m")
    await step("help", "question_mark")
    await step("help closed", "escape")
    # A second refresh as the timer would make it: the same names, read again.
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    clock.at += 15
    app.refresh_data()
    await settle(pilot)
    await step("refreshed")


async def run_session(url: str, home: Path) -> Session:
    # Under <home>/incidents, like the real ones: the app exports to <home>/reports.
    (home / "incidents").mkdir()
    session = Session(timeline=CountingTimeline(home / "incidents" / "fuzz.jsonl"))
    timeline = session.timeline
    assert timeline is not None
    app = build_app(url, home, timeline)
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    for event in hostile_events(clock.at):
        timeline.record_gpu_event(event)

    async with app.run_test(size=SIZE) as pilot:

        async def step(label: str, *keys: str) -> None:
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            if not app.is_running:
                session.stopped.append(label)
                raise Stopped(label)
            session.shots.append((label, app.export_screenshot()))
            session.titles += [str(app.title), str(app.sub_title), str(app.screen.title)]

        await settle(pilot)
        try:
            await walk(app, pilot, step, session)
        except Stopped:
            return session
        session.error = app.last_error
        session.reports = app.reports_dir

        # The report as `e` builds it (`WarroomApp.incident_report`), and the recipe to
        # build it again from the same inputs with the names changed.
        session.report = app.incident_report()
        snap = app.tracker.current
        assert snap is not None
        session.figures = {m.model: m.error_5xx_ratio for m in snap.models}
        inputs: dict[str, Any] = {
            "snapshot": snap,
            "points": {m: app.tracker.points(m) for m in app.tracker.history},
            "events": app.tracker.events.all(),
            "causes": dict(app.causes),
            "entries": timeline.entries(),
            "slo": app.config.slo,
            "now": app.clock.now(),
        }

        def rebuilt(names: Mapping[str, str]) -> Report:
            return build_report(**renamed(inputs, names))

        session.rebuilt = rebuilt
    return session


@pytest.fixture(scope="module")
def session(prometheus: PromServer, tmp_path_factory: pytest.TempPathFactory) -> Session:
    home = tmp_path_factory.mktemp("cockpit")
    return asyncio.run(run_session(prometheus.url, home))


# -- renaming an incident ---------------------------------------------------------------------


def renamed(obj: Any, names: Mapping[str, str]) -> Any:
    """``obj`` (dataclasses, mappings, sequences, strings) with every name in ``names``
    replaced: a string equal to one, or holding one, raw or as the screen writes it."""
    if isinstance(obj, str):
        if obj in names:
            return names[obj]
        new = obj
        for old in sorted(names, key=len, reverse=True):
            new = new.replace(old, names[old]).replace(printable(old), names[old])
        return obj if new == obj else new
    if is_dataclass(obj) and not isinstance(obj, type):
        return replace(obj, **{f.name: renamed(getattr(obj, f.name), names)
                               for f in fields(obj) if f.init})  # fmt: skip
    if isinstance(obj, dict):
        return {renamed(k, names): renamed(v, names) for k, v in obj.items()}
    if isinstance(obj, list):
        return [renamed(v, names) for v in obj]
    if isinstance(obj, tuple):
        items = [renamed(v, names) for v in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    return obj


def markdown_of(report: Report) -> str:
    """The Markdown file as `tui.store.report_files.write_report` writes it (redacted)."""
    return redact(report_markdown(report, clean=redact))


PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def structure(markdown: str) -> list[str]:
    """The document's shape: every block token (type, tag, depth) and, for inline
    content, its token types (runs of text as one): headings, lists, table rows and
    cells, code, links, emphasis, HTML. Words do not count."""
    out: list[str] = []
    for token in PARSER.parse(markdown):
        if token.type != "inline":
            out.append(f"{'  ' * token.level}{token.type} {token.tag}")
            continue
        kinds: list[str] = []
        for child in token.children or []:
            if not (child.type == "text" and kinds[-1:] == ["text"]):
                kinds.append(child.type)
        out.append(f"{'  ' * token.level}inline {' '.join(kinds)}")
    return out


def assert_same_structure(hostile: str, clean: str, what: str) -> None:
    got, want = structure(hostile), structure(clean)
    if got != want:
        diff = "\n".join(difflib.unified_diff(want, got, "clean names", what, lineterm="", n=2))
        raise AssertionError(f"The report's Markdown changes shape with {what}:\n{diff}")


# -- what is checked --------------------------------------------------------------------------


def forbidden(text: str, allowed: str = "\n", categories: frozenset[str] = FORBIDDEN) -> list[str]:
    """The characters of ``text`` in ``categories`` (``allowed`` aside), as U+XXXX."""
    return sorted({f"U+{ord(c):04X}" for c in text
                   if c not in allowed and unicodedata.category(c) in categories})  # fmt: skip


def drawn_with(svg: str, categories: frozenset[str] = FORBIDDEN) -> list[str]:
    """The runs of screen text in a Rich SVG holding such a character, as ASCII."""
    runs = (html.unescape(m) for m in re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    return [ascii(r[:90]) for r in runs if forbidden(r, "\n", categories)]


NEWLINE = "A label value holding a newline"


def test_every_model_reaches_the_cockpit_with_its_figures(session: Session) -> None:
    """The model-label regexes were ``(.+)`` (`tui.sources.stacks.base.relabel`) and
    ``.+`` (`tui.sources.stacks.generic`, `tui.sources.stacks.litellm`): anchored RE2,
    where ``.`` stops at a newline, so a model whose label held one lost its figures or
    vanished. They match with ``(?s)`` now."""
    with_newline = [ascii(n[:30]) for n in NAMES if "\n" in n]
    missing = [ascii(n[:30]) for n in NAMES if n not in session.figures]
    assert missing == [], f"{NEWLINE} is dropped: missing {missing} (newline in {with_newline})"
    assert len(session.shown) == MODELS + 1, session.shown
    for name in NAMES:
        start = printable(name)[:12]
        assert sum(cell.startswith(start) for cell in session.shown) == 1, (start, session.shown)
    blank = [ascii(n[:30]) for n, v in session.figures.items() if v is None]
    assert blank == [], f"{NEWLINE} has no 5xx figure: {blank}"
    # The scenario's sick model, at its scripted 20 % whatever its name, drawn inert.
    assert session.figures[SICK] == pytest.approx(0.20, abs=0.05)
    assert "\\x1b]0;pwned" in session.shots[0][1]


def test_the_cockpit_keeps_running_and_draws_brackets_as_text(session: Session) -> None:
    assert session.stopped == [], f"the cockpit stopped after: {session.stopped}"
    assert session.error is None, session.error
    steps = [label for label, _ in session.shots]
    assert {"GPU grid", "runbook walked", "report form", "exported", "help"} <= set(steps)
    # Brackets are text, not markup: the names are drawn with them.
    assert any("[@click=app.quit]" in cell for cell in session.shown), session.shown
    assert any("[/]" in cell for cell in session.shown), session.shown


def test_no_control_character_of_a_label_reaches_a_screen(session: Session) -> None:
    """Found here: the GPU grid's filter line (`f`) drew the model name as it came
    (`widgets.gpu_grid`), and the export form's root-cause field held the suggested root
    cause, which names the model raw (`tui.domain.report.suggest_root_cause`)."""
    found = {label: drawn_with(svg) or forbidden(svg) for label, svg in session.shots
             if forbidden(svg)}  # fmt: skip
    assert found == {}, "drawn as themselves:\n" + "\n".join(
        f"after {label!r}: {runs[:3]}" for label, runs in found.items()
    )
    for title in session.titles:
        assert forbidden(title, allowed="") == [], ascii(title)


def test_the_timeline_reads_back_every_entry(session: Session) -> None:
    timeline = session.timeline
    assert timeline is not None and timeline.written
    kinds = {e["kind"] for e in timeline.written}
    assert {"gpu.oom", "gpu.oomkilled", "gpu.xid", "runbook.opened", "report.exported"} <= kinds
    assert any(k in kinds for k in ("runbook.answer", "runbook.step")), kinds
    # A reader of its own, as a restarted warroom reads the file.
    again = Timeline(timeline.path)
    read = again.entries()
    assert again.damaged == []
    assert len(read) == len(timeline.written)
    for wrote, got in zip(timeline.written, read, strict=True):
        expected = json.loads(json.dumps(wrote))  # tuples as lists
        assert {k: got.get(k) for k in expected} == expected
    assert set(NAMES) <= {e.get("model") for e in read}
    walked = {e.get("model") for e in read if e["kind"].startswith("runbook.")}
    assert walked and walked <= set(NAMES), [ascii(m) for m in walked]


def test_the_report_parses_as_with_clean_names(session: Session) -> None:
    """Every name but the secret-shaped one (its own test, below) renamed back to the
    catalogue's: the Markdown has the same shape either way."""
    assert session.report is not None and session.rebuilt is not None
    # The recipe builds exactly the report `e` exports.
    assert session.rebuilt({}) == session.report
    clean = markdown_of(session.rebuilt(TO_CLEAN))
    hostile = markdown_of(session.rebuilt({SECRET_NAME: TO_CLEAN[SECRET_NAME]}))
    assert not any(name in clean or printable(name) in clean for name in NAMES)
    assert "pwned" in hostile and "fz03" in hostile
    assert_same_structure(hostile, clean, "hostile names")


def test_a_secret_shaped_name_is_redacted_without_making_a_link(session: Session) -> None:
    """A label value holding a token's shape followed by ``(http://...)`` is redacted to
    ``[redacted github-token …]`` before Markdown escaping; `tui.domain.report_text.md_text`
    kept the marker's brackets and left the ``(`` after them alone, so the report gained
    a live link to the name's URL. A ``(`` after ``]`` is escaped now."""
    assert session.report is not None and session.rebuilt is not None
    clean = markdown_of(session.rebuilt(TO_CLEAN))
    hostile = markdown_of(session.report)
    assert "[redacted github-token" in hostile
    assert_same_structure(hostile, clean, f"the name {SECRET_NAME!r}")


def exported(session: Session, suffix: str) -> str:
    assert session.reports is not None
    files = sorted(session.reports.glob(f"incident-*{suffix}"))
    assert len(files) == 1, files
    return files[0].read_text(encoding="utf-8")


def test_the_exported_files_hold_no_control_character(session: Session) -> None:
    """The SVG screenshot's title is the report's title, which names the model raw
    (`tui.domain.report._title`); `WarroomApp._export_chosen` wrote it as it came, so ESC and BEL
    landed in the file, which XML forbids and no viewer opens. It is drawn inert now."""
    assert session.report is not None
    # A sick model lost to the newline defect would leave a title naming no model, and
    # this test nothing to find (test_every_model_reaches_the_cockpit_with_its_figures).
    assert session.report.title.startswith("evil-fz"), "the report is not about the sick model"
    data = json.loads(exported(session, ".json"))
    # Redacted like the Markdown (the secret-shaped name), and otherwise as written.
    assert {m["model"] for m in data["models"]} <= {*map(redact, NAMES), AGGREGATE}
    markdown = exported(session, ".md")
    assert forbidden(markdown, categories=frozenset({"Cc"})) == []
    svg = exported(session, ".svg")
    assert forbidden(svg, categories=frozenset({"Cc"})) == [], "the SVG holds controls"


def test_the_markdown_holds_no_bidi_zero_width_or_separator_character(
    session: Session,
) -> None:
    """`tui.domain.report_text.visible` showed C0, C1 and DEL but kept format (bidi overrides,
    zero-width), separator (U+2028/9) and private-use characters, which
    `tui.domain.format.printable` says reach no file as themselves: a name's U+202E in the
    timeline's GPU rows or the title reordered the text pasted into the incident
    channel."""
    markdown = exported(session, ".md")
    assert forbidden(markdown) == []
