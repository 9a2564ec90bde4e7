"""Which incident a process writes to: its scope, found or started, listed and closed.

An incident holds only its own events. What it is about is its *scope*: the fleet it
watches (the kube context and the Prometheus it reads) for a real incident, the
scenario for the demo. Each incident file opens with an ``incident.opened`` entry that
names its scope and its clock, and a process resumes only an open incident of its own
scope: two cockpits on one fleet share the incident (two engineers on one page), a
cockpit and a canary drive on another fleet, or on the demo, never do.

The demo's clock is its own (a scenario runs from its start, at ``--speed``), so a demo
run never resumes an earlier one: each run is an incident of its own, stamped by one
clock from its first entry to its last.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tui.domain import json_out
from tui.domain.entries import CLOSED, OPENED
from tui.domain.model import iso_utc
from tui.store.timeline import Timeline


@dataclass(frozen=True, slots=True)
class Scope:
    """What an incident is about, and the clock its entries are stamped with."""

    about: str
    """``context prod-east · Prometheus http://prometheus:9090`` or ``demo gpu-oom``."""
    clock: str
    """``wall``, or ``demo`` (a scenario's own clock, maybe faster than the wall's)."""

    @property
    def resumable(self) -> bool:
        """A demo run is an incident of its own: its clock starts with it."""
        return self.clock == "wall"

    @property
    def tag(self) -> str:
        """Six hex digits of the scope in the file name: incidents of two scopes opened
        in the same second get two files."""
        return hashlib.sha256(f"{self.about}\n{self.clock}".encode()).hexdigest()[:6]


def live_scope(context: str | None, prometheus: str) -> Scope:
    """A real fleet's incident: the cluster context and the Prometheus (``prometheus``
    already redacted for display: it is written in the file)."""
    return Scope(f"context {context or '(none)'} · Prometheus {prometheus}", "wall")


def demo_scope(scenario: str) -> Scope:
    return Scope(f"demo {scenario}", "demo")


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident file as `listed`: what it is about and where it stands."""

    path: Path
    scope: Scope | None
    """None for a file from before scopes were written (never resumed)."""
    opened: str | None
    last: str | None
    entries: int
    closed: bool


def read(path: Path) -> Incident:
    """The incident in ``path``; raises OSError when it cannot be read."""
    timeline = Timeline(path)
    entries = timeline.entries()
    scope = None
    # Looked for among the first entries, not only the first: a process that lost the
    # race for the file may append its own line before the winner's opening one lands.
    opened = next((e for e in entries[:8] if e.get("kind") == OPENED), None)
    if opened is not None:
        about, clock = opened.get("scope"), opened.get("clock")
        if isinstance(about, str) and isinstance(clock, str):
            scope = Scope(about, clock)
    return Incident(
        path=path,
        scope=scope,
        opened=str(entries[0].get("at")) if entries else None,
        last=str(entries[-1].get("at")) if entries else None,
        entries=len(entries),
        closed=any(e.get("kind") == CLOSED for e in entries),
    )


def listed(state_dir: Path) -> list[Incident]:
    """Every incident under ``state_dir`` (the demo's included), newest first; files that
    cannot be read are left out."""
    found: list[Incident] = []
    for folder in (state_dir / "incidents", state_dir / "demo" / "incidents"):
        for path in sorted(folder.glob("*.jsonl"), reverse=True):
            try:
                found.append(read(path))
            except OSError:
                continue
    return sorted(found, key=lambda i: i.path.name, reverse=True)


def find_open(state_dir: Path, scope: Scope) -> Timeline | None:
    """The newest open incident of ``scope`` under ``state_dir``, for reading: nothing
    is created, not even the directory. OSError when the folder cannot be read."""
    folder = _folder(state_dir, scope)
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.jsonl"), reverse=True):
        incident = read(path)
        if incident.scope == scope and not incident.closed:
            return Timeline(path)
    return None


def open_or_start(state_dir: Path, scope: Scope, now: datetime) -> Timeline:
    """The open incident of ``scope`` to write to: resumed (not for the demo), or a new
    one started at ``now`` with its ``incident.opened`` entry already on disk.

    Two processes starting at once settle on one file: the name is created exclusively,
    and the one that loses the race resumes the winner's. Raises OSError when the
    directory cannot be created or written.
    """
    folder = _folder(state_dir, scope)
    folder.mkdir(parents=True, exist_ok=True)
    if scope.resumable:
        found = find_open(state_dir, scope)
        if found is not None:
            return found
    return start(state_dir, scope, now)


def start(state_dir: Path, scope: Scope, now: datetime) -> Timeline:
    """A new incident of ``scope`` opened at ``now``, beside any other."""
    folder = _folder(state_dir, scope)
    folder.mkdir(parents=True, exist_ok=True)
    opened = {"at": iso_utc(now), "kind": OPENED, "scope": scope.about, "clock": scope.clock}
    line = (json_out.dumps(opened, separators=(",", ":")) + "\n").encode()
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        path = folder / f"{now:%Y%m%dT%H%M%SZ}-{scope.tag}{suffix}.jsonl"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if scope.resumable and not read(path).closed:
                return Timeline(path)  # another process opened this incident this second
            continue  # closed this second (`warroom incident new`), or a demo run's
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return Timeline(path)
    raise FileExistsError(f"No free incident name under {folder} for {now:%Y%m%dT%H%M%SZ}.")


def close(timeline: Timeline, now: datetime, by: str) -> bool:
    """Close the incident: False when it was closed already (nothing written)."""
    if any(e.get("kind") == CLOSED for e in timeline.entries()):
        return False
    timeline.append(CLOSED, now, by=by)
    return True


def _folder(state_dir: Path, scope: Scope) -> Path:
    """The demo keeps its incidents apart from real ones."""
    return (state_dir / "demo" if scope.clock == "demo" else state_dir) / "incidents"
