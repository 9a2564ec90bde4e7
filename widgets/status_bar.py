"""The line at the top: where the data comes from, which cluster, and how old it is.

When a refresh fails the line says so in one sentence and counts the age of what is
still on screen, so nobody acts on numbers they think are live. A refresh still in
flight past its interval (a slow source) is said too, with how long it has been out.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from tui.domain.assessed import Assessed
from tui.domain.format import printable
from tui.domain.model import Snapshot
from tui.durations import human_age


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; padding: 0 1; background: $panel; }
    StatusBar.-stale { background: $warning-muted; }
    StatusBar.-error { background: $error-muted; }
    """

    def __init__(
        self,
        source: str,
        context: str | None,
        *,
        cluster: str | None = None,
        production: bool = False,
        speed: float = 1.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.context = context or "–"
        self.cluster = cluster
        """Where mitigations would act (kube context and namespace), when they can."""
        self.production = production
        self.speed = speed
        """How much faster than the wall the clock runs (a demo at ``--speed 60``): the
        times and ages on the line are the clock's, so it says so as replay does."""
        self._text: Text | None = None

    def show(
        self,
        snapshot: Snapshot | None,
        now: float,
        *,
        error: str | None = None,
        assessed: Assessed | None = None,
        sort: str = "severity",
        late_s: float | None = None,
        incident_since: float | None = None,
    ) -> None:
        """Redraw only when the words change: the age ticks once a second, not per frame.

        ``late_s``: how long the refresh in flight has been out, when that is longer than
        the refresh interval (None otherwise). ``incident_since``: when the open incident
        began (its clock's seconds), shown with how long it has run. ``assessed``: the
        snapshot judged once by its refresh: how many of its models breach, every model
        counted whatever the table's name filter shows."""
        sep = (" │ ", "dim")
        # Each part with its rank: on a narrow screen the lowest go first, so the line
        # keeps to one row (a wrapped top line pushes every pane down a row).
        parts: list[tuple[int, Text]] = []
        parts.append((1, Text.assemble(("warroom", "bold"), sep)))
        parts.append((9, Text(self.source, style="bold")))
        if snapshot is not None and snapshot.stack:
            # Which exporters the figures come from: found in Prometheus or pinned in config.
            parts.append((2, Text(f" ({' · '.join(snapshot.stack)})")))
        parts.append((6, Text.assemble(sep, self.context)))
        if self.speed != 1:
            # Beside the context, where replay puts its own: 17:12:04Z at 17:04:40 wall
            # time must not read as a clock gone wrong.
            parts.append((8, Text(f" ▶ {self.speed:g}x", style="bold")))
        if self.cluster:
            cluster = Text.assemble(sep, "⚙ ", self.cluster)
            if self.production:
                cluster.append(" PRODUCTION", style="bold reverse red")
            parts.append((7 if self.production else 4, cluster))
        if snapshot is None:
            parts.append(
                (9, Text("  waiting for first data…" if error is None else "  no data yet"))
            )
            if late_s is not None:
                parts.append((9, _late(late_s, sep)))
        else:
            read_at = snapshot.stale_since or snapshot.taken_at
            age = human_age(now - read_at.timestamp())
            fresh = Text.assemble(sep, f"{snapshot.taken_at:%H:%M:%S}Z ")
            if snapshot.stale:
                fresh.append(f"⚠ STALE {age}", style="bold")
            else:
                fresh.append(f"{age} old")
            parts.append((9, fresh))
            if late_s is not None:
                parts.append((9, _late(late_s, sep)))
            breaching = assessed.breaching if assessed is not None else 0
            parts.append((8, Text.assemble(sep, f"{breaching}/{len(snapshot.models)} breaching")))
            if sort != "severity":
                parts.append((3, Text.assemble(sep, f"sort {sort}")))
        if incident_since is not None:
            began = datetime.fromtimestamp(incident_since, UTC)
            ran = human_age(max(0.0, now - incident_since))
            parts.append((5, Text.assemble(sep, f"incident {began:%H:%M}Z, {ran}")))
        line = _fit(parts, self.size.width - 2)  # the line's padding takes a cell each side
        reason = error or (snapshot.error if snapshot else None)
        if reason:
            line.append("\n⚠ ", style="bold")
            line.append(printable(reason))  # may quote a server: outside text
        self.set_class(bool(snapshot and snapshot.stale) or late_s is not None, "-stale")
        self.set_class(bool(reason) and not (snapshot and snapshot.stale), "-error")
        if line != self._text:
            # Its height follows its words: lay the screen out again only when they could
            # wrap differently. The age ticking every second (3s old, 4s old) does not.
            self.update(line, layout=self._text is None or _shape(line) != _shape(self._text))
            self._text = line


def _fit(parts: list[tuple[int, Text]], width: int) -> Text:
    """The parts that fit ``width`` cells, in their order, dropping the lowest-ranked
    first; before the first layout (no width yet) all of them."""
    kept = list(parts)
    while width > 0 and sum(t.cell_len for _, t in kept) > width:
        lowest = min((rank for rank, _ in kept), default=9)
        if lowest >= 9:
            break  # what is left is what the line is for: it may wrap
        drop = next(i for i, (rank, _) in enumerate(kept) if rank == lowest)
        del kept[drop]
    return Text("").join(t for _, t in kept)


def _late(seconds: float, sep: tuple[str, str]) -> Text:
    """The data is late: the refresh in flight has been out longer than its interval."""
    return Text.assemble(sep, ("⚠ refresh slow", "bold"), f": {human_age(seconds)} in flight")


def _shape(text: Text) -> tuple[tuple[int, ...], ...]:
    """Cell widths of each line's words: all that decides where rich wraps them."""
    return tuple(
        tuple(cell_len(word) for word in line.split(" ")) for line in text.plain.split("\n")
    )
