"""The incident timeline on disk: one append-only JSON-lines file per incident.

Each entry is written, flushed and fsynced before `Timeline.append` returns, so a
dropped SSH session or a killed process loses nothing already recorded, and a torn last
line (a crash mid-write) is skipped on reading rather than spoiling the file. Starting
warroom again resumes the newest incident that was not closed.

Lines end at ``\n`` and nowhere else: a label holding U+2028 or U+0085 (which
`str.splitlines` takes for line ends) stays one entry, and a line that is not UTF-8 or
not JSON (a write torn inside a character, garbage) is skipped and named in `damaged`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.domain import json_out
from tui.domain.annotations import Annotations, annotate, relevant
from tui.domain.entries import gpu_event_of, same_xid
from tui.domain.model import GpuEvent, iso_utc


def default_state_dir(env: Mapping[str, str] = os.environ) -> Path:
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "warroom"


class Timeline:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.damaged: list[int] = []
        """Line numbers (from 1) of the lines the last reading skipped: torn or not JSON."""
        self._seen: set[str] = set()
        self._xids: dict[tuple[str | None, int | None], GpuEvent] = {}
        """Each GPU's latest recorded XID: a restart reads it again from the gauge's
        history at another time, which is the same XID, not a new one."""
        for entry in self.entries():
            if isinstance(entry.get("key"), str):
                self._seen.add(entry["key"])
            event = gpu_event_of(entry)
            if event is not None and event.kind == "xid":
                self._xids[(event.node, event.gpu)] = event

    def append(self, kind: str, at: datetime, *, key: str | None = None, **fields: Any) -> bool:
        """Record one entry; False (and nothing written) when ``key`` was recorded before.

        Raises OSError when the file cannot be written: the caller says so on screen.
        """
        if key is not None and key in self._seen:
            return False
        entry = {"at": iso_utc(at), "kind": kind, **fields}
        if key is not None:
            entry["key"] = key
        # Inert: a label's C1 control or bidi override stays out of `tail -f`.
        line = json_out.dumps(entry, separators=(",", ":")) + "\n"
        # O_APPEND: two warroom processes on one incident interleave whole lines.
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A crash tore the last line: start on a fresh one so this entry is whole.
                line = "\n" + line
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if key is not None:
            self._seen.add(key)
        return True

    def record_gpu_event(self, event: GpuEvent) -> bool:
        if event.kind == "xid":
            held = self._xids.get((event.node, event.gpu))
            if held is not None and same_xid(held, event):
                return False
        written = self.append(
            f"gpu.{event.kind}",
            event.at,
            key=_gpu_key(event),
            **{k: v for k, v in event.as_json().items() if k not in ("time", "kind")},
        )
        if written and event.kind == "xid":
            self._xids[(event.node, event.gpu)] = event
        return written

    def entries(self) -> list[dict[str, Any]]:
        return list(self._read())

    def damage_note(self) -> str | None:
        """One sentence naming the lines the last reading skipped; None when none was."""
        if not self.damaged:
            return None
        shown = ", ".join(str(n) for n in self.damaged[:5]) + (
            ", …" if len(self.damaged) > 5 else ""
        )
        many = "lines" if len(self.damaged) > 1 else "line"
        return (
            f"The incident timeline {self.path} has {len(self.damaged)} damaged {many} "
            f"(torn or not JSON), skipped: {many} {shown}."
        )

    def _read(self) -> Iterator[dict[str, Any]]:
        damaged: list[int] = []
        self.damaged = damaged
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        # Split on b"\n" only: U+2028, U+0085 and the like are part of a label.
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                damaged.append(number)  # torn by a crash mid-write, or garbage
                continue
            if isinstance(entry, dict):
                yield entry
            else:
                damaged.append(number)


def _gpu_key(event: GpuEvent) -> str:
    return "gpu:" + "|".join(str(part) for part in event.key)


class TimelineAnnotations:
    """The annotations of the timeline the cockpit records into (or reads), kept: the
    file is read again only when it has changed (one ``stat`` a call), and folded again
    on each call, which costs little (the few entries that matter are kept)."""

    def __init__(self) -> None:
        self.current = Annotations()
        self._file: tuple[object, ...] | None = None
        self._entries: tuple[Mapping[str, Any], ...] = ()

    def update(self, timeline: Timeline | None, now: float) -> bool:
        """Read ``timeline`` if it changed and fold it up to ``now``; True when the marks
        or what is in force changed."""
        if timeline is None:
            self._file, self._entries = None, ()
        else:
            try:
                st = timeline.path.stat()
                key: tuple[object, ...] = (timeline.path, st.st_ino, st.st_size, st.st_mtime_ns)
            except OSError:
                key = (timeline.path,)  # nothing recorded yet
            if key != self._file:
                try:
                    self._entries = tuple(e for e in timeline.entries() if relevant(e))
                    self._file = key
                except OSError:
                    pass  # unreadable for now: the last reading stands, the next call retries
        fresh = annotate(self._entries, now)
        if fresh == self.current:
            return False
        self.current = fresh
        return True
