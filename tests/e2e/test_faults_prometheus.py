"""The cockpit against a real Prometheus that goes wrong while it watches.

`warroom simulate` serves the fleet (gpu-oom scenario), Debian's Prometheus scrapes it,
and the cockpit reads it through `FaultyProxy`, which the tests switch at run time: the
connection refused, answers held past the timeout, HTTP 500, JSON cut in half, one query
failing while the rest answer, series vanishing, NaN and ±Inf values.

Every test starts from one healthy refresh and drives further refreshes the way the
refresh timer does (`WarroomApp.refresh_data`; timers are off). The clock is frozen and
moved by hand, so the ages on screen are exact. It runs at most 40 s ahead of real time,
well inside the one-minute rate window, so every rate still has scraped samples.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cockpit_pilot import assert_alive
from demo_app import settle
from faulty_proxy import FaultyProxy
from promserver import PromServer, scraping_simulator, wait_for_every_model, wait_for_scrapes
from textual.pilot import Pilot

from tui.app import WarroomApp
from tui.clock import FrozenClock, utc
from tui.config import load_config
from tui.domain.format import AGGREGATE_LABEL, NO_DATA
from tui.domain.model import AGGREGATE
from tui.refresh.collect import Collector
from tui.sources.prometheus import GPU_QUERIES, PrometheusSource
from tui.sources.stacks.base import MODEL
from widgets.gpu_detail import GpuDetail
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.status_bar import StatusBar

pytestmark = pytest.mark.prometheus

SIZE = (120, 40)
WINDOW = "1m"
TIMEOUT_S = 2.0
"""The cockpit's Prometheus timeout where the timeout is the fault (the latency case):
well short of the proxy's hold, and long enough for the healthy refresh before it on a
loaded machine."""
ROOMY_S = 30.0
"""The cockpit's Prometheus timeout everywhere else: no busy machine reaches it."""
HOLD_S = 5.0
"""How long the latency fault holds each answer that must arrive within the timeout."""
HELD_PAST_S = 10.0
"""How long it holds each answer that the cockpit's timeout must give up on (a switch of
the proxy's mode lets the held ones go)."""
FIRST_S, LATER_S, BACK_S = 20, 15, 5
"""Clock steps before the failing refresh, the one after it, and the recovery."""
FIGURES = ("p50", "p95", "p99", "ttft", "rps", "5xx", "429", "queue", "kv")
"""The health table's figure columns at 120 columns (wide enough for p50 and p95)."""
STACKS = ("generic", "vllm")
"""What the simulator's ``/metrics`` holds (its default stacks, DCGM aside): what
discovery finds, and what a test pins when it is about the health query alone."""
GARBAGE = re.compile(r"\b(nan|[+-]?inf(inity)?)\b", re.IGNORECASE)
"""How Python or Prometheus would print a non-finite figure."""


# -- the rig: one Prometheus and one proxy for the whole file --------------------------------


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromServer]:
    args = ("--scenario", "gpu-oom", "--at", "10m", "--speed", "10")
    with scraping_simulator(tmp_path_factory.mktemp("faults"), *args) as server:
        # The healthy reading the tests start from shows a figure in every cell.
        wait_for_scrapes(server, 5, WINDOW)
        wait_for_every_model(server, WINDOW)
        yield server


@pytest.fixture(scope="module")
def shared_proxy(prometheus: PromServer) -> Iterator[FaultyProxy]:
    with FaultyProxy(prometheus.url) as proxy:
        yield proxy


@pytest.fixture
def proxy(shared_proxy: FaultyProxy) -> Iterator[FaultyProxy]:
    """The shared proxy, passing requests through and with an empty log."""
    shared_proxy.pass_through()
    shared_proxy.forget()
    yield shared_proxy
    shared_proxy.pass_through()


@dataclass
class Cockpit:
    app: WarroomApp
    pilot: Pilot[int]
    clock: FrozenClock
    source: PrometheusSource

    async def refresh(self, after_s: float) -> float:
        """Move the clock ``after_s`` on and refresh as the timer would; returns how long
        the refresh took in real seconds."""
        self.clock.at += after_s
        started = time.monotonic()
        self.app.refresh_data()
        await settle(self.pilot)
        return time.monotonic() - started


def build_app(
    url: str,
    tmp_path: Path,
    *,
    timeout_s: float = ROOMY_S,
    stacks: tuple[str, ...] | None = None,
) -> WarroomApp:
    """The cockpit as the CLI builds it for ``--prometheus URL``, without this machine's
    config file, GPUs or cluster, on a frozen clock and with timers off. ``stacks``:
    ``--stack``; None: found by the first refresh's discovery probe."""
    flags: dict[tuple[str, ...], object] = {
        ("prometheus", "url"): url,
        ("prometheus", "timeout_s"): timeout_s,
        ("window",): WINDOW,
        ("history",): "5m",
        ("gpu_source",): "dcgm",
    }
    if stacks is not None:
        flags[("metrics", "stacks")] = stacks
    config = load_config(None, env={"XDG_CONFIG_HOME": str(tmp_path)}, flags=flags)
    # Whole seconds: the screen shows ages in whole seconds, and a fraction lost in the
    # datetime round trip would show 19s for 20.
    clock = FrozenClock(float(int(time.time())))
    source = PrometheusSource(config, clock=clock)
    return WarroomApp(Collector(source, config, clock=clock), config, context="faults", live=False)


def parts(app: WarroomApp) -> tuple[FrozenClock, PrometheusSource]:
    clock, source = app.clock, app.source
    assert isinstance(clock, FrozenClock) and isinstance(source, PrometheusSource)
    return clock, source


# -- reading the screen ----------------------------------------------------------------------


def rows(app: WarroomApp) -> dict[str, dict[str, str]]:
    """Every row of the health table as shown: model -> column key -> text."""
    table = app.query_one(HealthTable)
    keys = [str(c.key.value) for c in table.ordered_columns]
    return {
        str(row.value): dict(zip(keys, (str(c) for c in table.get_row(row)), strict=True))
        for row in table.rows
    }


def status_lines(app: WarroomApp) -> list[str]:
    return str(app.query_one(StatusBar).render()).split("\n")


def reason(app: WarroomApp) -> str:
    """The sentence under the status line's first line (after its ⚠ mark)."""
    lines = status_lines(app)
    assert len(lines) == 2, lines
    assert lines[1].startswith("⚠ "), lines
    return lines[1].removeprefix("⚠ ")


def assert_one_sentence(sentence: str, url: str | None) -> None:
    assert "\n" not in sentence and "\r" not in sentence, sentence
    assert sentence[0].isupper(), sentence
    assert sentence.endswith((".", "?")), sentence
    assert url is None or url in sentence, sentence


def label(model: str) -> str:
    return AGGREGATE_LABEL if model == AGGREGATE else model


def assert_fresh(app: WarroomApp, *, note: bool = False) -> dict[str, dict[str, str]]:
    """Nothing stale, nothing failed, read at the clock's instant; returns the rows.
    ``note``: a sentence about the figures may stand under the status line."""
    clock, _ = parts(app)
    assert app.last_error is None
    snapshot = app.tracker.current
    assert snapshot is not None and not snapshot.stale
    assert not any(g.stale for g in snapshot.gpus)
    line, *rest = status_lines(app)
    assert len(rest) == int(note), rest
    assert f"{utc(clock.at):%H:%M:%S}Z 0s old" in line, line
    assert "STALE" not in line, line
    shown = rows(app)
    assert len(shown) == 13  # the whole API and the simulator's 12 models
    for model, row in shown.items():
        assert row["model"] == label(model), row
    return shown


def assert_healthy(app: WarroomApp) -> dict[str, dict[str, str]]:
    """Fresh, with a figure in every cell and every GPU read, from the gateway and vLLM
    (named, or found by discovery)."""
    shown = assert_fresh(app)
    for row in shown.values():
        assert all(row[key] != NO_DATA for key in FIGURES), row
    snapshot = app.tracker.current
    assert snapshot is not None and len(snapshot.gpus) == 48
    assert parts(app)[1].stacks == STACKS
    assert snapshot.stack == ("gateway", "vLLM") and snapshot.unsourced == frozenset()
    return shown


def assert_stale_copy(app: WarroomApp, healthy: Mapping[str, Mapping[str, str]]) -> None:
    """Every row of the healthy refresh still shown, marked stale, figures unchanged."""
    shown = rows(app)
    assert set(shown) == set(healthy)
    for model, row in shown.items():
        assert row["model"] == f"{label(model)} (stale)"
        assert {k: row[k] for k in FIGURES} == {k: healthy[model][k] for k in FIGURES}


# -- a refresh that fails as a whole ------------------------------------------------------------

Queries = Mapping[str, str]


@dataclass(frozen=True)
class Case:
    apply: Callable[[FaultyProxy, Queries], None]
    words: str
    """What the sentence must say, ``{url}`` standing for the proxy's URL."""


def only_health(proxy: FaultyProxy, queries: Queries) -> None:
    proxy.fail(503, "Service Unavailable", only=lambda q: q == queries["health"])


WHOLE_FAILURES: dict[str, Case] = {
    "refused": Case(
        lambda proxy, _: proxy.refuse(),
        "Prometheus at {url} refused the connection; is it running",
    ),
    "latency": Case(
        lambda proxy, _: proxy.delay(HELD_PAST_S),
        f"Prometheus at {{url}} did not answer the health query within {TIMEOUT_S:g}s",
    ),
    "http-500": Case(
        lambda proxy, _: proxy.fail(500, "Internal Server Error"),
        "Prometheus at {url} answered HTTP 500 to the health query",
    ),
    "malformed-json": Case(
        lambda proxy, _: proxy.truncate_json(),
        "Prometheus at {url} answered the health query with JSON that does not parse",
    ),
    # The health query failing fails the whole refresh even with the GPU queries
    # answered: the figures of one instant are shown together or not at all.
    "partial-health-503": Case(
        only_health, "Prometheus at {url} answered HTTP 503 to the health query"
    ),
}


@pytest.mark.parametrize("case", list(WHOLE_FAILURES))
async def test_a_failed_refresh_keeps_the_last_data_on_screen_marked_stale(
    case: str, proxy: FaultyProxy, tmp_path: Path
) -> None:
    fault = WHOLE_FAILURES[case]
    # Stacks named: no discovery probe, every refresh's first query is the health one.
    timeout_s = TIMEOUT_S if case == "latency" else ROOMY_S
    app = build_app(proxy.url, tmp_path, timeout_s=timeout_s, stacks=STACKS)
    clock, source = parts(app)
    async with app.run_test(size=SIZE) as pilot:
        cockpit = Cockpit(app, pilot, clock, source)
        await settle(pilot)
        healthy = assert_healthy(app)
        before = app.tracker.current
        assert before is not None

        fault.apply(proxy, source.queries)
        proxy.forget()
        took = await cockpit.refresh(FIRST_S)
        assert_alive(app)
        if case == "refused":
            assert not proxy.seen(), "a request got through a closed port"
        else:
            assert proxy.faulted(), "the fault never met a request"
        sentence = reason(app)
        assert_one_sentence(sentence, proxy.url)
        assert fault.words.format(url=proxy.url) in sentence
        assert app.last_error == sentence
        assert f"{before.taken_at:%H:%M:%S}Z ⚠ STALE {FIRST_S}s" in status_lines(app)[0]
        assert_stale_copy(app, healthy)
        after = app.tracker.current
        assert after is not None
        assert [replace(g, stale=False) for g in after.gpus] == list(before.gpus)
        assert all(g.stale for g in after.gpus)
        if case == "latency":
            # The cockpit's timeout paced the refresh, not the proxy's hold.
            assert took < HELD_PAST_S - 1
        if case == "partial-health-503":
            # Only the health query failed: the GPU queries were answered, and still
            # nothing of this refresh is shown.
            faulted = {e.query for e in proxy.faulted()}
            assert faulted == {source.queries["health"]}
            answered = {e.query for e in proxy.seen() if e.status == 200}
            assert answered >= set(source.queries.values()) - faulted

        # Still failing later: the same sentence, the age counted from the healthy read.
        await cockpit.refresh(LATER_S)
        assert_alive(app)
        assert reason(app) == sentence
        assert f"⚠ STALE {FIRST_S + LATER_S}s" in status_lines(app)[0]
        assert_stale_copy(app, healthy)

        proxy.pass_through()
        await cockpit.refresh(BACK_S)
        assert_alive(app)
        assert_healthy(app)


async def test_a_slow_answer_within_the_timeout_is_slow_but_fresh(
    proxy: FaultyProxy, tmp_path: Path
) -> None:
    app = build_app(proxy.url, tmp_path, timeout_s=2 * HOLD_S)
    clock, source = parts(app)
    async with app.run_test(size=SIZE) as pilot:
        cockpit = Cockpit(app, pilot, clock, source)
        await settle(pilot)
        assert_healthy(app)

        proxy.delay(HOLD_S)
        proxy.forget()
        took = await cockpit.refresh(FIRST_S)
        assert_alive(app)
        assert HOLD_S <= took < 2 * HOLD_S
        assert_healthy(app)  # read at the new instant: 0s old, nothing stale
        held = proxy.faulted()
        assert len(held) == len(source.queries)
        assert {e.status for e in held} == {200}


# -- a refresh that fails in part -----------------------------------------------------------


async def test_gpu_queries_failing_cost_only_the_gpu_grid(
    proxy: FaultyProxy, tmp_path: Path
) -> None:
    app = build_app(proxy.url, tmp_path)
    clock, source = parts(app)
    async with app.run_test(size=SIZE) as pilot:
        cockpit = Cockpit(app, pilot, clock, source)
        await settle(pilot)
        assert_healthy(app)
        before = app.tracker.current
        assert before is not None

        gpu_queries = {source.queries[name] for name in GPU_QUERIES}
        proxy.fail(503, "Service Unavailable", only=lambda q: q in gpu_queries)
        await cockpit.refresh(FIRST_S)
        assert_alive(app)
        assert {e.query for e in proxy.faulted()} == gpu_queries

        # The health table is this refresh's, fresh; the grid keeps the last GPUs, stale.
        after = app.tracker.current
        assert after is not None and not after.stale
        assert app.last_error is None
        assert all(row["model"] == label(m) for m, row in rows(app).items())
        assert [replace(g, stale=False) for g in after.gpus] == list(before.gpus)
        assert all(g.stale for g in after.gpus)
        first, _ = status_lines(app)
        assert f"{utc(clock.at):%H:%M:%S}Z 0s old" in first and "STALE" not in first
        sentence = reason(app)
        assert_one_sentence(sentence, proxy.url)
        assert sentence.startswith(
            f"GPU data not read: Prometheus at {proxy.url} answered HTTP 503 to the gpus query"
        )
        assert sentence.endswith(f"; the GPU grid shows data {FIRST_S}s old.")
        # On screen: the grid (shown in place of the plots at this width) marks it.
        await pilot.press("g")
        await settle(pilot)
        assert app.query_one(GpuGrid).selected is not None
        assert "(stale)" in str(app.query_one(GpuDetail).render())

        await cockpit.refresh(LATER_S)
        assert reason(app).endswith(f"the GPU grid shows data {FIRST_S + LATER_S}s old.")

        proxy.pass_through()
        await cockpit.refresh(BACK_S)
        assert_alive(app)
        assert_healthy(app)
        assert "(stale)" not in str(app.query_one(GpuDetail).render())


async def test_models_whose_series_vanish_stay_on_screen_stale(
    proxy: FaultyProxy, tmp_path: Path
) -> None:
    """A valid answer with half the models missing: the missing ones keep their last
    figures, marked stale, rather than silently leaving the table."""
    app = build_app(proxy.url, tmp_path)
    clock, source = parts(app)
    async with app.run_test(size=SIZE) as pilot:
        cockpit = Cockpit(app, pilot, clock, source)
        await settle(pilot)
        healthy = assert_healthy(app)
        models = sorted(m for m in healthy if m != AGGREGATE)
        gone = set(models[len(models) // 2 :])
        assert len(gone) == 6

        def vanished(labels: Mapping[str, str]) -> bool:
            # Every per-model series of every stack, and the pod map, carry warroom_model.
            return labels.get(MODEL) in gone

        proxy.drop_series(vanished)
        await cockpit.refresh(FIRST_S)
        assert_alive(app)
        assert app.last_error is None  # the refresh itself succeeded
        shown = rows(app)
        assert set(shown) == set(healthy)
        for model in gone:
            assert shown[model]["model"] == f"{model} (stale)"
            assert {k: shown[model][k] for k in FIGURES} == {k: healthy[model][k] for k in FIGURES}
        for model in set(models) - gone:
            assert shown[model]["model"] == model
        assert shown[AGGREGATE]["model"] == AGGREGATE_LABEL
        # The top line marks the screen stale since the vanished models were last read.
        assert f"⚠ STALE {FIRST_S}s" in status_lines(app)[0]
        # and says why in one sentence, naming the models whose series are gone.
        sentence = reason(app)
        assert_one_sentence(sentence, None)
        assert sentence.startswith("No series for 6 models since ")
        assert sorted(gone)[0] in sentence and "check their scrape targets" in sentence

        await cockpit.refresh(LATER_S)
        assert f"⚠ STALE {FIRST_S + LATER_S}s" in status_lines(app)[0]
        assert {m for m, row in rows(app).items() if row["model"].endswith("(stale)")} == gone

        proxy.pass_through()
        await cockpit.refresh(BACK_S)
        assert_alive(app)
        assert_healthy(app)


# -- values that are not numbers ----------------------------------------------------------------

RATES = ("rps", "5xx", "429")
"""The columns computed from the request rates (every stack's ``<stack>/requests`` and
``<stack>/requests_all`` parts of the health query)."""


def request_rate_part(labels: Mapping[str, str]) -> bool:
    stack, _, figure = labels.get("warroom_query", "").partition("/")
    return stack in STACKS and figure in ("requests", "requests_all")


@pytest.mark.parametrize("where", ["every-query", "request-rates"])
async def test_nan_and_inf_show_as_no_data(where: str, proxy: FaultyProxy, tmp_path: Path) -> None:
    """Prometheus writes NaN for 0/0 and ±Inf at the edges of a histogram: they are no
    figure to act on, so each reads as no data (–), never as "nan", "inf" or zero."""
    app = build_app(proxy.url, tmp_path)
    clock, source = parts(app)
    async with app.run_test(size=SIZE) as pilot:
        cockpit = Cockpit(app, pilot, clock, source)
        await settle(pilot)
        assert_healthy(app)

        if where == "every-query":
            proxy.non_finite()
        else:
            health = source.queries["health"]
            proxy.non_finite(only=lambda q: q == health, where=request_rate_part)
        await cockpit.refresh(FIRST_S)
        assert_alive(app)
        assert proxy.faulted()
        # A valid answer: nothing failed, nothing stale; with no figure anywhere, the
        # status line says that "0 breaching" is no reading of health.
        shown = assert_fresh(app, note=where == "every-query")
        blank = FIGURES if where == "every-query" else RATES
        for row in shown.values():
            assert {k: row[k] for k in blank} == dict.fromkeys(blank, NO_DATA), row
            # Every model serves traffic: the quantiles still come from their buckets.
            if where == "request-rates":
                assert row["p99"] != NO_DATA, row
        if where == "every-query":
            assert {row["state"] for row in shown.values()} == {"?"}
            assert "0/12 breaching" in status_lines(app)[0]
            assert reason(app).startswith("No model has a usable figure (12 read")

        await pilot.press("g")  # the grid, in place of the plots at this width
        await settle(pilot)
        grid = app.query_one(GpuGrid)
        screen = [
            *status_lines(app),
            *(text for row in shown.values() for text in row.values()),
            *(grid.render_line(y).text for y in range(grid.size.height)),
            str(app.query_one(GpuDetail).render()),
        ]
        for text in screen:
            assert not GARBAGE.search(text), text

        proxy.pass_through()
        await cockpit.refresh(BACK_S)
        assert_alive(app)
        assert_healthy(app)
