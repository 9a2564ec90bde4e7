"""The incident recording on disk: the snapshots the cockpit showed, for replay and reports.

One file per incident, beside its timeline: gzip-compressed JSON lines, one gzip member
per write (a file of concatenated members reads back as one stream), so recording only
ever appends. The first line is a header naming the format; every later line is one
snapshot. A crash mid-write leaves a torn last member, which reading skips and the next
recorder cuts off before it appends. Damage (bytes that do not decompress, lines that are
no snapshot) is skipped: reading resumes at the next whole member and says what it
skipped, and a recorder that finds it at the end keeps it and appends after it.

The size is bounded whatever the refresh interval: a snapshot is written at most every
``every_s`` seconds of its own time (more often only for new GPU events and errors, which
the report needs), the interval doubles each time the file fills half of the room left,
and recording stops before the file would pass ``max_bytes``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from tui.domain import json_out
from tui.domain.model import (
    GpuEvent,
    GpuProcess,
    GpuState,
    KeyRejections,
    ModelHealth,
    Snapshot,
    iso_utc,
)
from tui.errors import WarroomError

FORMAT = 1
"""The recording format this warroom writes and the newest it reads."""
SUFFIX = ".recording.jsonl.gz"
"""Not ``*.jsonl``: the timeline looks for incidents by that suffix."""
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 16 * 1024
"""Compressed bytes fed to the decompressor at a time: a member is a few KiB, and what a
member leaves unread is copied, so feeding the whole rest of the file would be quadratic."""

R = TypeVar("R")


class RecordingError(WarroomError):
    """A recording cannot be read; the sentence names the file and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Recording:
    source: str
    """The description of the source the cockpit was watching."""
    started: datetime
    """When the first snapshot was taken (the simulated time for the demo)."""
    snapshots: tuple[Snapshot, ...]
    """Oldest first; never empty."""
    damage: str | None = None
    """One sentence on the damaged parts reading skipped; None when it skipped nothing."""


def recording_path(timeline_path: Path) -> Path:
    """The recording that lives beside an incident's timeline file."""
    return timeline_path.with_name(timeline_path.stem + SUFFIX)


# -- snapshots as JSON


def snapshot_to_json(s: Snapshot) -> dict[str, object]:
    """Every field of ``s``, floats exact (``as_json`` rounds them for display), times as
    ISO UTC strings. A NaN or infinite figure becomes None: JSON has neither."""
    return {
        "taken_at": iso_utc(s.taken_at),
        "source": s.source,
        "models": [_health_json(m) for m in s.models],
        "aggregate": _health_json(s.aggregate),
        "rate_limited_keys": [_flat_json(k) for k in s.rate_limited_keys],
        "error": s.error,
        "stale_since": None if s.stale_since is None else iso_utc(s.stale_since),
        "queries": s.queries,
        "gpus": [_gpu_json(g) for g in s.gpus],
        # GpuEvent.as_json holds every field unrounded (``at`` as ``time``).
        "events": [e.as_json() for e in s.events],
        "gpu_error": s.gpu_error,
        "extras": dict(s.extras),
        "model_pods": {model: list(pods) for model, pods in s.model_pods.items()},
        "stack": list(s.stack),
        "unsourced": sorted(s.unsourced),
    }


def snapshot_from_json(d: Mapping[str, Any]) -> Snapshot:
    """The snapshot `snapshot_to_json` wrote. Raises ValueError naming the first part that
    is missing or of the wrong type; keys this version does not know are ignored."""
    try:
        return _record(
            Snapshot,
            d,
            taken_at=_time(d["taken_at"]),
            stale_since=None if d.get("stale_since") is None else _time(d["stale_since"]),
            models=tuple(_health(m) for m in _list(d, "models")),
            aggregate=_health(d["aggregate"]),
            rate_limited_keys=tuple(
                _record(KeyRejections, k) for k in _list(d, "rate_limited_keys")
            ),
            gpus=tuple(_gpu(g) for g in _list(d, "gpus")),
            events=tuple(_event(e) for e in _list(d, "events")),
            extras=_extras(d),
            model_pods=_model_pods(d),
            # Absent in recordings made before stacks were read: no stack, nothing unsourced.
            stack=tuple(_names(d, "stack")),
            unsourced=frozenset(_names(d, "unsourced")),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a snapshot ({type(exc).__name__}: {exc})") from exc


def _flat_json(record: Any) -> dict[str, object]:
    """A record of plain fields, each as it is (no rounding)."""
    return {f.name: _json_number(getattr(record, f.name)) for f in fields(record)}


def _health_json(m: ModelHealth) -> dict[str, object]:
    return {**_flat_json(m), "beyond": sorted(m.beyond)}


def _health(d: object) -> ModelHealth:
    beyond = frozenset(_names(d, "beyond")) if isinstance(d, Mapping) else frozenset()
    return _record(ModelHealth, d, beyond=beyond)


def _names(d: object, key: str) -> list[str]:
    """A list of strings under ``key`` (empty when absent); ValueError for anything else."""
    names = _list(d, key)
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"{key} is not a list of names")
    return names


def _gpu_json(g: GpuState) -> dict[str, object]:
    return {**_flat_json(g), "processes": [_flat_json(p) for p in g.processes]}


def _json_number(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _gpu(d: object) -> GpuState:
    processes = _list(d, "processes") if isinstance(d, Mapping) else []
    return _record(GpuState, d, processes=tuple(_record(GpuProcess, p) for p in processes))


def _event(d: object) -> GpuEvent:
    if not isinstance(d, Mapping):
        raise ValueError("a GPU event is not a JSON object")
    return _record(GpuEvent, d, at=_time(d["time"]))


def _record(cls: type[R], d: object, **nested: object) -> R:
    """``cls`` from a JSON object, each plain field checked against its type (a damaged or
    hand-edited file must fail here, not later in a widget); ``nested`` are the fields
    already built. A field the object lacks takes its default."""
    if not isinstance(d, Mapping):
        raise ValueError(f"a {cls.__name__} is not a JSON object")
    values: dict[str, object] = {}
    for name, hint in _hints(cls).items():
        if name in nested or name not in d:
            continue
        if not _fits(d[name], hint):
            raise ValueError(f"{cls.__name__}.{name} is {d[name]!r}")
        values[name] = d[name]
    return cls(**values, **nested)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _fits(value: object, hint: Any) -> bool:
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for option in options:
        if option is NoneType and value is None:
            return True
        if option is float and type(value) in (int, float):
            return True  # JSON writes a whole float as one, e.g. bytes
        if option in (str, int, bool) and type(value) is option:
            return True
    return False


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"a time is {value!r}")
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"the time {value!r} has no time zone")
    return at


def _list(d: object, key: str) -> list[Any]:
    value = d.get(key, []) if isinstance(d, Mapping) else None
    if not isinstance(value, list):
        raise ValueError(f"{key} is not a list")
    return value


def _model_pods(d: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    pods = d.get("model_pods", {})  # absent in recordings made before it was kept
    if not isinstance(pods, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names)
        for names in pods.values()
    ):
        raise ValueError("model_pods is not a JSON object of lists of pod names")
    return {str(model): tuple(names) for model, names in pods.items()}


def _extras(d: Mapping[str, Any]) -> dict[str, object]:
    extras = d.get("extras", {})
    if not isinstance(extras, dict):
        raise ValueError("extras is not a JSON object")
    return extras


# -- writing


class Recorder:
    """Appends the snapshots worth keeping to ``path``. Synchronous: the app calls it off
    its event loop. `record` raises OSError when the file cannot be written."""

    def __init__(
        self,
        path: Path,
        *,
        source: str,
        max_bytes: int = 50 * 1024**2,
        every_s: float = 10.0,
    ) -> None:
        self.path = path
        self.source = source
        self.max_bytes = max_bytes
        self.base_every_s = every_s
        self.every_s = every_s
        """The interval now: ``base_every_s`` doubled once per half of the room filled."""
        self.full = False
        """Set once, when a snapshot did not fit: nothing more is recorded."""
        self.size = 0
        """The file's size after the last write (or as found, before the first)."""
        self.written = 0
        """Snapshots this recorder wrote."""
        self.damage: str | None = None
        """Set once, on opening a file whose tail does not decompress: one sentence saying
        so. The damage is kept and the new snapshots go after it; reading skips it."""
        self._opened = False
        self._last_at: datetime | None = None
        self._last_errors: tuple[str | None, str | None] = (None, None)

    def record(self, snapshot: Snapshot) -> bool:
        """Write ``snapshot`` if it is due or brings news; True when it was written, False
        when skipped or when it did not fit (then `full` is set). Raises OSError."""
        if self.full or not self._wanted(snapshot):
            return False
        prefix = b"" if self._opened else self._open(snapshot)
        # default=str: an extra that JSON cannot hold is kept as its text rather than
        # costing the whole snapshot.
        line = json_out.dumps(snapshot_to_json(snapshot), separators=(",", ":"), default=str)
        if not self._append(prefix + _member(line)):
            return False
        self._opened = True
        self._last_at = snapshot.taken_at
        self._last_errors = (snapshot.error, snapshot.gpu_error)
        self.written += 1
        return True

    def _wanted(self, snapshot: Snapshot) -> bool:
        """Cheap, for the many refreshes that are skipped: new GPU events and a change of
        error (it began, changed or cleared) are what a report is made of; anything else
        waits for ``every_s``. A clock that went back (a restarted demo) counts as due."""
        if snapshot.events or (snapshot.error, snapshot.gpu_error) != self._last_errors:
            return True
        if self._last_at is None:
            return True
        return abs((snapshot.taken_at - self._last_at).total_seconds()) >= self.every_s

    def _open(self, first: Snapshot) -> bytes:
        """Before the first write: cut off a torn tail an earlier crash left, so the new
        members do not land behind it, or set `damage` when the tail does not decompress;
        a file with no whole member gets its header now."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        end, damaged = _tail(data)
        if damaged:
            # Kept as found: the new members go after the damage, where reading finds them.
            self.damage = (
                f"The recording {self.path} is damaged from byte {end} on "
                f"({len(data) - end} bytes do not decompress): recording goes on after them."
            )
        elif end < len(data):
            os.truncate(self.path, end)
            data = data[:end]
        self.size = len(data)
        self._pace()
        if end:
            return b""
        header = {"format": FORMAT, "source": self.source, "started": iso_utc(first.taken_at)}
        return _member(json_out.dumps(header, separators=(",", ":")))

    def _append(self, data: bytes) -> bool:
        """Append ``data`` whole, or not at all; False (and `full` set) when it would take
        the file past ``max_bytes``."""
        # O_APPEND: two warroom processes on one incident interleave whole members.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size + len(data) > self.max_bytes:
                self.full = True
                return False
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                # A full disk writes part of a member: cut it off, or every member
                # written after it would be unreadable.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)
        self.size = size + len(data)
        self._pace()
        return True

    def _pace(self) -> None:
        """Double ``every_s`` at half of ``max_bytes``, again at three quarters, and so on:
        a long incident thins out instead of stopping early."""
        level = 0
        while level < 64 and self.size >= self.max_bytes * (1 - 0.5 ** (level + 1)):
            level += 1
        self.every_s = self.base_every_s * 2**level


def _member(line: str) -> bytes:
    # mtime 0: the same snapshot compresses to the same bytes.
    return gzip.compress((line + "\n").encode(), mtime=0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _tail(data: bytes) -> tuple[int, bool]:
    """Where the last whole member of ``data`` ends, and whether what follows it is damage
    (bytes that do not decompress) rather than a torn member or zeros (a crash mid-write,
    a file system's repair after one), which hold nothing to keep."""
    end = max((end for _, end, _ in _members(data)), default=0)
    rest = memoryview(data)[end:]
    damaged = rest.tobytes().strip(b"\0") != b"" and _member_at(rest, 0) != "torn"
    return end, damaged


# -- reading


GZIP_HEADER = GZIP_MAGIC + b"\x08"
"""How every member this warroom writes begins (8: deflate): where reading resumes after
damage."""


def _member_at(view: memoryview, pos: int) -> tuple[int, bytes] | str:
    """The member at ``pos``: where it ends and its content; "torn" when the data runs out
    before its end, "damaged" when it does not decompress."""
    unzip = zlib.decompressobj(wbits=31)  # 31: gzip framing
    parts: list[bytes] = []
    at = pos
    try:
        while not unzip.eof and at < len(view):
            chunk = view[at : at + _CHUNK]
            parts.append(unzip.decompress(chunk))
            at += len(chunk)
    except zlib.error:
        return "damaged"
    if not unzip.eof:
        return "torn"
    return at - len(unzip.unused_data), b"".join(parts)


def _members(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Where each whole gzip member starts and ends, and its content. Bytes that are no
    whole member (a member cut short or damaged, garbage between members) are skipped up
    to the next member that decompresses: the caller sees a gap between one member's end
    and the next one's start. Zeros or a torn member at the end end the file."""
    view = memoryview(data)
    pos = 0
    while pos < len(data):
        member = _member_at(view, pos)
        if isinstance(member, str):
            if data.count(b"\0", pos) == len(data) - pos:
                return
            pos = data.find(GZIP_HEADER, pos + 1)
            if pos < 0:
                return
            continue
        end, content = member
        yield pos, end, content
        pos = end


def read_recording(path: Path) -> Recording:
    """The recording at ``path``, snapshots oldest first. A torn last line (a crash
    mid-write) is skipped without a word; damage (bytes that do not decompress, lines that
    are no snapshot, a header lost to either) is skipped too, reading on after it, and
    `Recording.damage` says how much. Without its header the recording plays what follows
    it, the source named as its snapshots name it. Raises `RecordingError` with one
    sentence naming the file when nothing can be played."""
    data = _read(path)
    gaps: list[tuple[int, int]] = []
    header: dict[str, Any] | None = None
    header_lost = False
    snapshots: list[Snapshot] = []
    bad_lines: list[int] = []
    number = 0
    for number, line in _lines(data, gaps):
        if number == 1:
            header = _header(path, line)
            if header is not None:
                continue
        if header is None:
            header_lost = True  # its first member does not decompress, or its line is no header
        try:
            snapshots.append(snapshot_from_json(json.loads(line)))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if number > 1:
                bad_lines.append(number)  # the first line is named as the lost header
    if header is None and not snapshots:
        if data and not data.startswith(GZIP_MAGIC):
            raise RecordingError(f"{path} is not a warroom recording: it is not gzip-compressed.")
        if number == 0:
            raise RecordingError(f"{path} is empty: it holds no warroom recording.")
        raise RecordingError(
            f"{path} is not a warroom recording: its first line is not a recording header."
        )
    if bad_lines and bad_lines[-1] == number:
        bad_lines.pop()  # the last line may be torn by a crash mid-write: nothing lost
    if not snapshots:
        raise RecordingError(f"{path} holds no snapshots yet.")
    snapshots.sort(key=lambda s: s.taken_at)
    if header is None:
        # The header held the source and the start; each snapshot holds them too.
        header = {"source": snapshots[0].source, "started": iso_utc(snapshots[0].taken_at)}
    return Recording(
        header["source"],
        _time(header["started"]),
        tuple(snapshots),
        damage=_damage(path, gaps, bad_lines, header_lost=header_lost),
    )


def _damage(
    path: Path, gaps: list[tuple[int, int]], bad_lines: list[int], *, header_lost: bool = False
) -> str | None:
    """One sentence on what reading skipped, or None when it skipped nothing."""
    parts = ["its header is lost"] if header_lost else []
    if gaps:
        size = sum(length for _, length in gaps)
        where = "" if len(gaps) == 1 else f" in {len(gaps)} places"
        parts.append(f"{size} bytes from byte {gaps[0][0]}{where} do not decompress")
    if bad_lines:
        lines = "line" if len(bad_lines) == 1 else f"{len(bad_lines)} lines from line"
        verb = "is" if len(bad_lines) == 1 else "are"
        parts.append(f"{lines} {bad_lines[0]} {verb} not a snapshot")
    if not parts:
        return None
    source = " and takes the source from its snapshots" if header_lost else ""
    return (
        f"The recording {path} is damaged: {', '.join(parts[:-1])}"
        f"{' and ' if len(parts) > 1 else ''}{parts[-1]}; replay skips them{source}."
    )


def _read(path: Path) -> bytes:
    """The file's bytes. Raises `RecordingError` when it cannot be read, or when it holds
    no gzip member at all; one whose first bytes are damaged is read on after them."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        why = (exc.strerror or str(exc)).lower()
        raise RecordingError(f"Cannot read the recording {path}: {why}.") from exc
    if data and not data.startswith(GZIP_MAGIC) and GZIP_HEADER not in data:
        raise RecordingError(f"{path} is not a warroom recording: it is not gzip-compressed.")
    return data


def _lines(data: bytes, gaps: list[tuple[int, int]]) -> Iterator[tuple[int, bytes]]:
    """Numbered lines (from 1) of the decompressed file; a last line without its newline
    comes last as it is. Each stretch of bytes skipped before a whole member is appended
    to ``gaps`` as its offset and length, and the line it cut short is dropped."""
    pending = b""
    number = 0
    last_end = 0
    for start, end, content in _members(data):
        if start > last_end:
            gaps.append((last_end, start - last_end))
            pending = b""
        last_end = end
        *whole, pending = (pending + content).split(b"\n")
        for line in whole:
            number += 1
            yield number, line
    if pending:
        yield number + 1, pending


def _header(path: Path, line: bytes) -> dict[str, Any] | None:
    """The first line as a header; None when it is none (damaged, or no recording's).
    Raises `RecordingError` for a header of a format newer than this warroom reads."""
    try:
        header = json.loads(line)
        version = header["format"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise TypeError(version)
        if version > FORMAT:
            raise RecordingError(
                f"{path} was recorded in format {version}, newer than this warroom reads "
                f"(format {FORMAT}): replay it with a newer warroom."
            )
        if version < 1 or not isinstance(header["source"], str):
            raise ValueError(version)
        _time(header["started"])
    except (ValueError, TypeError, KeyError):
        return None
    return header
