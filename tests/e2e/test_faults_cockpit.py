"""The fault matrix at the cockpit: the whole `WarroomApp` under Pilot, one fault at a time.

For every fault the cockpit stays up, says ONE sentence where it says such things (a
toast, the mitigation menu, the status line, the GPU grid), leaves nothing half-done on
disk, and marks data it can no longer read as stale, with its age.

The whole matrix, and where each case is asserted ("here": this file):

A. Kubernetes, through a mitigation pressed in the cockpit against kmock's emulator
   401, 403, 404, 409 (asks again), timeout on the write;    here:
   the API server gone after the confirmation;                 test_a_kubernetes_fault_
   401 and 404 on the read; 401 and refused on the RBAC       in_a_mitigation
   review; 403 on releasing the action lock
   the API server's reason holding brackets, in a toast        here:
                                                               test_a_reason_from_the_api_
                                                               server_is_drawn_literally
   RBAC denying the write: disabled, with why                  test_app_mitigations.py
   read-only, kiosk, no cluster configured                     test_app_mitigations.py
   a lock held by another operator                             test_actions.py (alone)
   an unwritable timeline                                      test_actions.py (alone);
                                                               test_app_gpus.py (GPU events)
B. NVML
   absent (no libnvidia-ml on this host)                       test_app_gpus.py, test_nvml_
                                                               gpu_source_without_nvml_...
   failing mid-run: GPU lost, driver and library mismatch,     here: test_nvml_failing_
   every GPU erroring                                          mid_run_keeps_the_grid_stale
   one GPU lost, the others read                               test_nvml.py (alone)
   the DCGM part failing alone                                 test_app_gpus.py, test_gpu_
                                                               part_failing_keeps_...
C. Files
   a bad config file to `warroom --demo`: broken TOML, a       here: test_a_bad_config_
   wrong type, an unknown key                                  file_is_one_line_on_stderr
   a bad value to `warroom snapshot`                           test_config.py
   a runbooks folder: broken YAML and a schema error beside    here: test_broken_runbooks_
   a valid tree                                                are_named_and_the_rest_work
   broken YAML alone, listed in the picker                     test_app_runbook.py
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import kmock as km
import pynvml
import pytest
from cockpit_pilot import advance, cell_style, done, idle, press
from demo_app import frozen_demo_app, settle
from fake_nvml import FakeNvml, three_gpus
from kube_emulator import SSAR, answer_access_reviews, status
from kubernetes.client import ApiClient, Configuration
from mitigation_rig import DEPLOYMENTS, NS, app_for, deployment, env_of, options, stored, writes
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, OptionList

# Toasts are not exported from textual.widgets; this is the widget that draws a notify().
from textual.widgets._toast import Toast

from tui.app import WarroomApp
from tui.config import load_config
from tui.store.runbook_files import shipped_dir
from tui.store.timeline import Timeline
from widgets.gpu_detail import GpuDetail
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.mitigation_menu import MitigationMenu
from widgets.screens.runbook_screen import RunbookScreen
from widgets.status_bar import StatusBar

SIZE = (120, 40)
LEASES = km.resource("coordination.k8s.io", "v1", "leases")
TIMEOUT_S = 3.0
"""The mitigations' API timeout where a timeout is the fault: short, so the slow answer
costs the test little, and long enough for the reads before it (the access reviews at
start, the plan's read, the action lock) on a loaded machine."""
ROOMY_S = 30.0
"""The mitigations' API timeout everywhere else: no busy machine reaches it."""
WAIT_S = 30.0
"""How long a wait on the cockpit polls before the test fails: generous, for a loaded
2-core machine; a passing test waits only as long as the cockpit takes."""
GATEWAY = f"Deployment {NS}/llm-gateway"


# -- what every fault must leave behind ------------------------------------------------------


def one_sentence(text: str) -> str:
    """``text``, after checking it reads as one sentence on a screen: one line, no
    traceback, a capital first, a full stop or question mark last, no second sentence."""
    assert "\n" not in text, text
    assert "Traceback" not in text, text
    assert text[:1].isupper(), text
    assert text.endswith((".", "?")), text
    assert not re.search(r"[.?!] +[A-Z]", text), f"more than one sentence: {text}"
    return text


def drawn(app: WarroomApp, note: Notification) -> str:
    """What the toast for ``note`` shows: its text after Textual read it as markup, which
    is where a word in brackets can disappear."""
    toasts = [t for t in app.screen.query(Toast) if t._notification is note]
    assert toasts, f"no toast on screen for {note.message!r}"
    return toasts[0].render().plain


def said(app: WarroomApp) -> list[tuple[str, str]]:
    """(message, severity) of every notification so far, each checked to be one sentence
    and to be drawn in its toast word for word."""
    notes = list(app._notifications)
    for note in notes:
        assert drawn(app, note) == one_sentence(note.message)
    return [(n.message, n.severity) for n in notes]


def action_kinds(path: Path) -> list[str]:
    """The mitigation entries of the incident timeline, after checking that every line of
    the file is whole."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "a line left half-written"
    return [e["kind"] for e in Timeline(path).entries() if e["kind"].startswith("action.")]


def closed_port() -> int:
    """A local port nothing listens on: bound, then let go."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- A. Kubernetes ---------------------------------------------------------------------------


async def slow(_: km.Request) -> dict[str, Any]:
    """An API server that answers well after the mitigations' timeout."""
    await asyncio.sleep(TIMEOUT_S * 10)
    return {}


def scripted(
    verb: str, resource: km.Resource, code: int, reason: str, message: str
) -> Callable[[Any], None]:
    """Arrange: the emulator answers every ``verb`` on ``resource`` with ``code``."""

    def arrange(cluster: Any) -> None:
        cluster[verb, resource].override << code << status(code, reason, message)

    return arrange


FORBIDDEN = (
    'deployments.apps "llm-gateway" is forbidden: User "sre" cannot patch resource '
    '"deployments" in API group "apps" in the namespace "inference"'
)
MODIFIED = (
    'Operation cannot be fulfilled on deployments.apps "llm-gateway": the object has been '
    "modified; please apply your changes to the latest version and try again"
)
UNAUTHORIZED = "Unauthorized"
DONE = (
    f"Turn on the fallback provider: done ({GATEWAY}: env FALLBACK_ENABLED (container main): "
    "(unset) -> true)"
)


@dataclass(frozen=True)
class KubeFault:
    """One fault of the Kubernetes API, met while carrying out "Turn on the fallback
    provider" from the cockpit."""

    name: str
    arrange: Callable[[Any], object] | None
    """Scripts the emulator before the cockpit starts."""
    said: list[tuple[str, str]]
    """The notifications, ``{host}`` standing for the API server's URL."""
    timeline: list[str]
    """The mitigation entries the incident timeline ends up with."""
    menu_says: str | None = None
    """The menu refuses the mitigation with this reason (nothing is offered)."""
    confirms: bool = True
    """The confirmation comes up: planning read what it needed."""
    gone: bool = False
    """The API server stops once the confirmation is up."""
    refused: bool = False
    """The cockpit points at a port nothing listens on."""
    changed: bool = False
    """The change reached the Deployment."""
    asks_again: bool = False
    """After Apply, a new confirmation with the object read again (a conflict)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """`[mitigations]` settings other than the defaults (the API timeout: `ROOMY_S`)."""


KUBE_FAULTS = [
    KubeFault(
        "401 on the write",
        scripted("patch", DEPLOYMENTS, 401, "Unauthorized", UNAUTHORIZED),
        said=[(f"The Kubernetes API at {{host}} rejected the credentials (401) while patching "
               f"{GATEWAY} (dry run); refresh the kubeconfig's token.", "error")],
        timeline=["action.requested", "action.failed"],
    ),
    KubeFault(
        "403 on the write",
        scripted("patch", DEPLOYMENTS, 403, "Forbidden", FORBIDDEN),
        said=[(f"Kubernetes RBAC forbids patching {GATEWAY} (dry run) (403) ({FORBIDDEN}).",
               "error")],
        timeline=["action.requested", "action.failed"],
    ),
    KubeFault(
        "404 on the write",
        scripted("patch", DEPLOYMENTS, 404, "NotFound", 'deployments.apps "llm-gateway" not found'),
        # The server's own 404 text is not pasted: what was asked for names it all.
        said=[(f"Not found while patching {GATEWAY} (dry run) (404); check the namespace "
               "and names under mitigations in the config.", "error")],
        timeline=["action.requested", "action.failed"],
    ),
    # A conflict reads the object again and asks again; this engineer then cancels.
    KubeFault(
        "409 on the write",
        scripted("patch", DEPLOYMENTS, 409, "Conflict", MODIFIED),
        asks_again=True,
        said=[(f"The object changed since warroom read it (409) while patching {GATEWAY} "
               f"(dry run) ({MODIFIED}); read it again and confirm the new change.", "warning"),
              ("Turn on the fallback provider: cancelled, nothing changed.", "information")],
        timeline=["action.requested", "action.failed", "action.cancelled"],
    ),
    KubeFault(
        "timeout on the write",
        lambda cluster: cluster["patch", DEPLOYMENTS].override << slow,
        settings={"timeout_s": TIMEOUT_S},
        said=[(f"The Kubernetes API at {{host}} did not answer within {TIMEOUT_S:g} s while "
               f"patching {GATEWAY} (dry run); nothing is known to have changed.", "error")],
        timeline=["action.requested", "action.failed"],
    ),
    # Nothing is requested when the action lock cannot even be taken: the timeline says
    # the attempt failed, and no request waits for an outcome.
    KubeFault(
        "API server gone after the confirmation",
        None,
        gone=True,
        said=[("The Kubernetes API at {host} could not be reached while taking the action "
               "lock (connection refused); check that the cluster is up.", "error")],
        timeline=["action.failed"],
    ),
    KubeFault(
        "401 on the read",
        scripted("get", DEPLOYMENTS, 401, "Unauthorized", UNAUTHORIZED),
        confirms=False,
        said=[(f"The Kubernetes API at {{host}} rejected the credentials (401) while reading "
               f"{GATEWAY}; refresh the kubeconfig's token.", "error")],
        timeline=[],
    ),
    # The config names a gateway Deployment that does not exist. (The Status body is the
    # API server's: kmock's own 404 text is advice to whoever writes the test.)
    KubeFault(
        "404 on the read",
        scripted("get", DEPLOYMENTS, 404, "NotFound", 'deployments.apps "llm-gatway" not found'),
        settings={"gateway_deployment": "llm-gatway"},
        confirms=False,
        said=[(f"Not found while reading Deployment {NS}/llm-gatway (404); check the "
               "namespace and names under mitigations in the config.", "error")],
        timeline=[],
    ),
    KubeFault(
        "401 on the RBAC review",
        scripted("post", SSAR, 401, "Unauthorized", UNAUTHORIZED),
        menu_says="The permission check failed: The Kubernetes API at {host} rejected the "
        "credentials (401) while checking permission to patch deployments; refresh the "
        "kubeconfig's token.",
        said=[],
        timeline=[],
    ),
    KubeFault(
        "API server refusing connections from the start",
        None,
        refused=True,
        menu_says="The permission check failed: The Kubernetes API at {host} could not be "
        "reached while checking permission to patch deployments (connection refused); check "
        "that the cluster is up.",
        said=[],
        timeline=[],
    ),
    # RBAC that lets warroom create its lock but not delete it: the change was made, and
    # must not be reported as failed.
    KubeFault(
        "403 on releasing the action lock",
        scripted("delete", LEASES, 403, "Forbidden", "cannot delete leases"),
        said=[(f"{DONE}; the action lock could not be released (Kubernetes RBAC forbids "
               "releasing the action lock (403) (cannot delete leases)), so other mitigations "
               f"in {NS} wait up to 5 min.", "information")],
        timeline=["action.requested", "action.succeeded", "action.step"],
        changed=True,
    ),
]  # fmt: skip


@pytest.fixture
def cluster(kmock: Any) -> Any:
    """The gateway's Deployment; every access review answered "allowed"."""
    kmock.objects[DEPLOYMENTS, NS, "llm-gateway"] = deployment("llm-gateway", env=[])
    answer_access_reviews(kmock, set())
    return kmock


@asynccontextmanager
async def api_for(fault: KubeFault, cluster: Any) -> AsyncIterator[tuple[ApiClient, Any]]:
    """The client the cockpit's mitigations use, and the server it talks to (None when
    nothing listens there). A fault that stops the server gets a server of its own on
    the same emulator, so stopping it leaves the fixture's intact."""
    server: km.Server | None = None
    if fault.refused:
        host = f"http://127.0.0.1:{closed_port()}"
    elif fault.gone:
        server = await km.Server(cluster).__aenter__()
        host = str(server.url)
    else:
        host = str(cluster.url)
    client = ApiClient(Configuration(host=host))
    try:
        yield client, server
    finally:
        client.close()
        if server is not None and server in cluster.servers:
            await server.__aexit__(None, None, None)


async def next_step(pilot: Pilot[object], leaving: Screen[Any] | None = None) -> None:
    """Wait until the mitigation ended, or a confirmation other than ``leaving`` is up
    (planning done, or a conflict asking again). Not `wait_for_complete`: a worker
    waiting on a confirmation would never end."""
    app = pilot.app
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        await pilot.pause(0.02)
        if not app.is_running or app._exception is not None:
            return  # the cockpit ended: what the caller asserts next says so
        if app.screen is leaving or isinstance(app.screen, MitigationMenu):
            continue
        if isinstance(app.screen, ConfirmAction):
            # Ready once mounted: it gives Cancel the focus then.
            if app.focused is not None and app.focused.id == "ca-cancel":
                return
            continue
        if all(w.is_finished for w in app.workers if w.group == "mitigation"):
            return await idle(pilot)
    workers = [(w.group, w.state.name) for w in app.workers]
    raise AssertionError(
        f"the mitigation neither ended nor asked for a confirmation: on "
        f"{type(app.screen).__name__}, workers {workers}"
    )


async def open_menu(pilot: Pilot[object]) -> OptionList:
    """`m`, then wait until the menu holds the focus: a key pressed before lands elsewhere."""
    app = pilot.app
    await press(pilot, "m")
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        if isinstance(app.screen, MitigationMenu) and app.focused is not None:
            break
        await pilot.pause(0.02)
    menu = app.screen.query_one(OptionList)
    assert app.focused is menu
    return menu


async def choose(pilot: Pilot[object], menu: OptionList, mitigation: str) -> None:
    ids = [menu.get_option_at_index(i).id for i in range(menu.option_count)]
    menu.highlighted = ids.index(mitigation)
    await press(pilot, "enter")
    await next_step(pilot)


@pytest.mark.parametrize("fault", KUBE_FAULTS, ids=[f.name for f in KUBE_FAULTS])
async def test_a_kubernetes_fault_in_a_mitigation(
    fault: KubeFault, cluster: Any, tmp_path: Path
) -> None:
    if fault.arrange is not None:
        fault.arrange(cluster)
    async with api_for(fault, cluster) as (api, server):
        app = app_for(api, tmp_path, **{"timeout_s": ROOMY_S, **fault.settings})
        host = app.mitigator.host if app.mitigator else ""
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            menu = await open_menu(pilot)
            if fault.menu_says is not None:
                # Nothing is offered, and each line says why in one sentence.
                assert all(disabled for _, disabled in options(app))
                prompt = menu.get_option_at_index(0).prompt
                why = str(prompt).split("\n    ✖ ", 1)[1]
                assert one_sentence(why) == fault.menu_says.format(host=host)
            else:
                await choose(pilot, menu, "fallback-on")
                assert isinstance(app.screen, ConfirmAction) is fault.confirms
                if fault.confirms:
                    if server is not None:
                        await server.__aexit__(None, None, None)
                    confirmation = app.screen
                    confirmation.query_one("#ca-apply", Button).press()
                    await next_step(pilot, confirmation)
                    again = isinstance(app.screen, ConfirmAction)
                    assert again is fault.asks_again
                    if again:
                        assert app.screen is not confirmation
                        app.screen.query_one("#ca-cancel", Button).press()
                await done(pilot)
            expected = [(message.format(host=host), level) for message, level in fault.said]
            assert said(app) == expected
            assert app.is_running and app._exception is None
        assert app._exception is None
    assert action_kinds(tmp_path / "t.jsonl") == fault.timeline
    if fault.menu_says is not None:
        assert writes(cluster) == [], "nothing is sent from a menu that offers nothing"
    assert ("FALLBACK_ENABLED" in env_of(stored(cluster, "llm-gateway"))) is fault.changed


# Textual reads a toast's message as markup: a reason the API server wrote is not
# markup. Gatekeeper prefixes its denials with the constraint's name in brackets (the
# name vanishes), and a closing tag such as "[/spec/replicas]" raises MarkupError while
# the toast is drawn, which ends the cockpit. The fix belongs where the app calls notify()
# with outside text: `markup=False`.
BRACKETED = {
    "a word in brackets": 'admission webhook "validation.gatekeeper.sh" denied the request: '
    "[require-owner-label] you must provide labels: {owner}",
    "a closing tag": 'admission webhook "policy.example.com" denied the request: '
    "[/spec/replicas] may not change during a freeze",
}


@pytest.mark.parametrize("reason", list(BRACKETED.values()), ids=list(BRACKETED))
async def test_a_reason_from_the_api_server_is_drawn_literally(
    reason: str, cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    scripted("patch", DEPLOYMENTS, 403, "Forbidden", reason)(cluster)
    app = app_for(api, tmp_path, timeout_s=ROOMY_S)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await choose(pilot, await open_menu(pilot), "fallback-on")
        confirmation = app.screen
        assert isinstance(confirmation, ConfirmAction)
        confirmation.query_one("#ca-apply", Button).press()
        await next_step(pilot, confirmation)
        assert said(app) == [
            (f"Kubernetes RBAC forbids patching {GATEWAY} (dry run) (403) ({reason}).", "error")
        ]
        assert app.is_running


# -- B. NVML failing mid-run -----------------------------------------------------------------


def nvml_count_fails(error: pynvml.NVMLError) -> Callable[[pytest.MonkeyPatch], None]:
    def arrange(monkeypatch: pytest.MonkeyPatch) -> None:
        def count() -> int:
            raise error

        monkeypatch.setattr(pynvml, "nvmlDeviceGetCount", count)

    return arrange


def nvml_every_gpu_fails(error: pynvml.NVMLError) -> Callable[[pytest.MonkeyPatch], None]:
    def arrange(monkeypatch: pytest.MonkeyPatch) -> None:
        def handle(index: int) -> object:
            raise error

        monkeypatch.setattr(pynvml, "nvmlDeviceGetHandleByIndex", handle)

    return arrange


CHECK_SMI = "check that `nvidia-smi` works on this host"
NVML_FAULTS = {
    "GPU lost": (
        nvml_count_fails(pynvml.NVMLError_GpuIsLost()),
        f"NVML could not list this host's GPUs (GPU is lost); {CHECK_SMI}",
    ),
    # The driver upgraded under a running cockpit: NVML's own text ends with a period.
    "driver and library mismatch": (
        nvml_count_fails(pynvml.NVMLError_LibRmVersionMismatch()),
        f"NVML could not list this host's GPUs (RM has detected an NVML/RM version "
        f"mismatch); {CHECK_SMI}",
    ),
    "every GPU erroring": (
        nvml_every_gpu_fails(pynvml.NVMLError_Unknown()),
        f"NVML could not read any of this host's 3 GPUs (Unknown Error); {CHECK_SMI}",
    ),
}


def status_lines(app: WarroomApp) -> tuple[str, str]:
    """The top line's figures, and its one sentence on what is wrong ("" when none)."""
    text = str(app.query_one(StatusBar).render())
    figures, _, reason = text.partition("\n⚠ ")
    return figures, reason


@pytest.mark.parametrize(("arrange", "sentence"), list(NVML_FAULTS.values()), ids=list(NVML_FAULTS))
async def test_nvml_failing_mid_run_keeps_the_grid_stale(
    arrange: Callable[[pytest.MonkeyPatch], None],
    sentence: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NVML reads this host's GPUs, then starts failing: the grid keeps the last figures,
    marked stale; the top line says why and how old they are; the panes stay fresh."""
    FakeNvml(*three_gpus()).install(monkeypatch)
    config = load_config(None, env={}, flags={("gpu_source",): "nvml"})
    app = frozen_demo_app("gpu-oom", config=config, nvml=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = app.tracker.current
        assert before is not None and before.gpu_error is None
        assert len(before.gpus) == 3 and not any(g.stale for g in before.gpus)

        arrange(monkeypatch)
        advance(app, 30)
        await pilot.press("r")
        await settle(pilot)

        after = app.tracker.current
        assert after is not None
        assert after.gpu_error == f"{sentence}."
        # The last figures, each marked stale.
        assert [replace(g, stale=False) for g in after.gpus] == list(before.gpus)
        assert all(g.stale for g in after.gpus)
        figures, reason = status_lines(app)
        assert one_sentence(reason) == f"{sentence}; the GPU grid shows data 30s old."

        # The panes are fresh: only the grid is old.
        assert app.last_error is None and after.stale_since is None
        assert not any(m.stale for m in after.models)
        assert "STALE" not in figures and "0s old" in figures
        assert app.query_one(HealthTable).row_count == 13

        await press(pilot, "g")  # the grid in place of the plots, its cursor on a GPU
        grid = app.query_one(GpuGrid)
        assert grid.render_line(0).text.startswith("3 GPUs · 1 node")
        cursor = grid.selected
        assert cursor is not None and cursor.stale
        # Dimmed, every cell but the cursor's (drawn reversed, whatever its data).
        assert all(cell_style(grid, g).dim for g in after.gpus if g.gpu != cursor.gpu)
        assert "(stale)" in str(app.query_one(GpuDetail).render())
        assert said(app) == []
        assert app.is_running and app._exception is None


# -- C. a bad config file, bad runbooks ------------------------------------------------------

BAD_CONFIGS = {
    "broken TOML": ("refresh_s = \n", "is not valid TOML: "),
    "a wrong type": (
        '[mitigations]\nscale_step = "two"\n',
        ": key mitigations.scale_step is invalid: input should be a valid integer",
    ),
    "an unknown key": (
        '[mitigations]\nnamespce = "inference"\n',
        ": key mitigations.namespce is invalid: no such setting.",
    ),
}


@pytest.mark.parametrize(("text", "says"), list(BAD_CONFIGS.values()), ids=list(BAD_CONFIGS))
def test_a_bad_config_file_is_one_line_on_stderr(tmp_path: Path, text: str, says: str) -> None:
    """`warroom --demo --config bad.toml`: exit 2, one line naming the file, nothing else.
    Run as the engineer runs it: the installed command, in a process of its own."""
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    # The developer's own settings stay out; were the file accepted, the cockpit would
    # keep its timeline under tmp_path, and the timeout ends it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARROOM_", "PROMETHEUS_"))}
    env |= {"XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)}
    command = Path(sys.executable).with_name("warroom")
    run = subprocess.run(
        [str(command), "--demo", "--config", str(bad)],
        capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    line = run.stderr.removesuffix("\n")
    assert line.startswith(f"warroom: Config file {bad}"), line
    assert says in line
    one_sentence(line.removeprefix("warroom: "))


TEAM_LATENCY = """\
id: latency
title: Our p99 tree
symptoms: [p99]
summary: The team's own first look at a slow tail.
start: hot
steps:
  - id: hot
    kind: question
    text: Are the GPUs hot?
    evidence: gpu_util_max > 0.90
    yes: scale
    no: ask
  - id: scale
    kind: action
    text: Add capacity.
    actions: [scale-up]
  - id: ask
    kind: note
    text: Ask the serving team.
"""
BROKEN_YAML = "id: broken\ntitle: Broken\nsummary: x\nstart: a\nsteps: [\n"
SCHEMA_ERROR = TEAM_LATENCY.replace("id: latency", "id: schema").replace(
    "    yes: scale", "    yes: nowhere"
)


async def test_broken_runbooks_are_named_and_the_rest_work(tmp_path: Path) -> None:
    """A team folder with broken YAML and a schema error beside a valid tree: each broken
    file is named in one sentence; the valid tree replaces the shipped p99 tree, opens on
    the p99 breach and walks, and the other shipped trees still load."""
    team = tmp_path / "runbooks"
    team.mkdir()
    (team / "latency.yaml").write_text(TEAM_LATENCY, encoding="utf-8")
    (team / "broken.yaml").write_text(BROKEN_YAML, encoding="utf-8")
    (team / "schema.yaml").write_text(SCHEMA_ERROR, encoding="utf-8")
    config = load_config(None, env={}, flags={("runbook_dirs",): [str(team)]})
    timeline = tmp_path / "t.jsonl"
    app = frozen_demo_app("saturation", config=config, timeline=Timeline(timeline))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        notes = said(app)
        assert [level for _, level in notes] == ["error", "error"]
        broken, schema = sorted(message for message, _ in notes)
        assert broken.startswith(f"Runbook skipped: {team / 'broken.yaml'} line 6: is not valid ")
        assert schema == (
            f"Runbook skipped: {team / 'schema.yaml'} line 11, steps[0].yes: there is no step "
            "'nowhere'."
        )
        assert app.runbooks.books["latency"].title == "Our p99 tree"
        assert app.runbooks.files["errors-5xx"].parent == shipped_dir()
        assert {"broken", "schema"}.isdisjoint(app.runbooks.books)

        # The saturated fleet breaches p99: `t` opens the team's tree, and it walks.
        await press(pilot, "t")
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        assert screen.walk.runbook.id == "latency" and screen.walk.here.id == "hot"
        await press(pilot, "n")
        assert screen.walk.here.id == "ask"
        assert app.is_running and app._exception is None
    kinds = [e["kind"] for e in Timeline(timeline).entries() if e["kind"].startswith("runbook.")]
    assert kinds == ["runbook.opened", "runbook.answer", "runbook.reached"]
