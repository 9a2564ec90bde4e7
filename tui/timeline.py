"""The incident timeline on disk: one append-only JSON-lines file per incident.

Each entry is written, flushed and fsynced before `Timeline.append` returns, so a
dropped SSH session or a killed process loses nothing already recorded, and a torn last
line (a crash mid-write) is skipped on reading rather than spoiling the file. Starting
warroom again resumes the newest incident that was not closed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.model import GpuEvent, iso_utc

CLOSED = "incident.closed"


def default_state_dir(env: Mapping[str, str] = os.environ) -> Path:
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "warroom"


class Timeline:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[str] = {e["key"] for e in self.entries() if isinstance(e.get("key"), str)}

    @classmethod
    def resume_or_start(cls, state_dir: Path, now: datetime) -> Timeline:
        """The newest open incident under ``state_dir``, or a new one named for ``now``.

        Raises OSError when the directory cannot be created or read.
        """
        folder = state_dir / "incidents"
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.jsonl"), reverse=True):
            timeline = cls(path)
            if not any(e.get("kind") == CLOSED for e in timeline.entries()):
                return timeline
        return cls(folder / f"{now:%Y%m%dT%H%M%SZ}.jsonl")

    def append(self, kind: str, at: datetime, *, key: str | None = None, **fields: Any) -> bool:
        """Record one entry; False (and nothing written) when ``key`` was recorded before.

        Raises OSError when the file cannot be written: the caller says so on screen.
        """
        if key is not None and key in self._seen:
            return False
        entry = {"at": iso_utc(at), "kind": kind, **fields}
        if key is not None:
            entry["key"] = key
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
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
        return self.append(
            f"gpu.{event.kind}",
            event.at,
            key="gpu:" + "|".join(str(part) for part in event.key),
            **{k: v for k, v in event.as_json().items() if k not in ("time", "kind")},
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._read())

    def _read(self) -> Iterator[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a crash mid-write
            if isinstance(entry, dict):
                yield entry
