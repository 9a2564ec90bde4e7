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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.domain import json_out
from tui.domain.model import GpuEvent, iso_utc

OPENED = "incident.opened"
"""The first entry of an incident: its scope and its clock (`tui.store.incident`)."""
CLOSED = "incident.closed"


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


def gpu_event_of(entry: Mapping[str, Any]) -> GpuEvent | None:
    """The GPU event a ``gpu.*`` entry recorded; None for any other entry or a damaged one."""
    kind = entry.get("kind")
    at = entry.get("at")
    if not isinstance(kind, str) or not kind.startswith("gpu.") or not isinstance(at, str):
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    gpu = entry.get("gpu")
    return GpuEvent(
        at=when.astimezone(UTC),
        kind=kind[4:],
        detail=str(entry.get("detail", "")),
        node=_str_or_none(entry.get("node")),
        gpu=gpu if isinstance(gpu, int) and not isinstance(gpu, bool) else None,
        pod=_str_or_none(entry.get("pod")),
        model=_str_or_none(entry.get("model")),
        namespace=_str_or_none(entry.get("namespace")),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


XID_SAME_WITHIN_S = 300.0
"""A GPU's XID code read again this close to its recorded first sighting is that sighting
(history steps, refresh intervals and scrape lag), not a new XID."""


def same_xid(held: GpuEvent, event: GpuEvent) -> bool:
    """``event`` is ``held`` learned again: same GPU, same code, first seen at about the
    same time (a restart reads it from the gauge's history on another step grid)."""
    return (
        _code(held.detail) == _code(event.detail)
        and abs((event.at - held.at).total_seconds()) <= XID_SAME_WITHIN_S
    )


def _code(detail: str) -> str:
    return detail.split(" (", 1)[0].split(",", 1)[0]


def _gpu_key(event: GpuEvent) -> str:
    return "gpu:" + "|".join(str(part) for part in event.key)
