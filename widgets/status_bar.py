"""The line at the top: where the data comes from, which cluster, and how old it is.

When a refresh fails the line says so in one sentence and counts the age of what is
still on screen, so nobody acts on numbers they think are live. A refresh still in
flight past its interval (a slow source) is said too, with how long it has been out.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from tui.durations import human_age
from tui.format import printable
from tui.model import Snapshot


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
        breaching: int = 0,
        sort: str = "severity",
        late_s: float | None = None,
    ) -> None:
        """Redraw only when the words change: the age ticks once a second, not per frame.

        ``late_s``: how long the refresh in flight has been out, when that is longer than
        the refresh interval (None otherwise)."""
        sep = (" │ ", "dim")
        # At 80 columns every cell counts: the product name goes before any figure does.
        brand = ("warroom", "bold") if self.size.width >= 100 else ""
        line = Text.assemble(brand, sep if brand else "", (self.source, "bold"))
        if snapshot is not None and snapshot.stack:
            # Which exporters the figures come from: found in Prometheus or pinned in config.
            line.append(f" ({' · '.join(snapshot.stack)})")
        line.append_text(Text.assemble(sep, self.context))
        if self.speed != 1:
            # Beside the context, where replay puts its own: 17:12:04Z at 17:04:40 wall
            # time must not read as a clock gone wrong.
            line.append(f" ▶ {self.speed:g}x", style="bold")
        if self.cluster:
            line.append_text(Text.assemble(sep, "⚙ ", self.cluster))
            if self.production:
                line.append(" PRODUCTION", style="bold reverse red")
        if snapshot is None:
            line.append("  waiting for first data…" if error is None else "  no data yet")
            if late_s is not None:
                line.append_text(_late(late_s, sep))
        else:
            read_at = snapshot.stale_since or snapshot.taken_at
            age = human_age(now - read_at.timestamp())
            line.append_text(Text.assemble(sep, f"{snapshot.taken_at:%H:%M:%S}Z "))
            if snapshot.stale:
                line.append(f"⚠ STALE {age}", style="bold")
            else:
                line.append(f"{age} old")
            if late_s is not None:
                line.append_text(_late(late_s, sep))
            line.append_text(Text.assemble(sep, f"{breaching}/{len(snapshot.models)} breaching"))
            if sort != "severity":
                line.append_text(Text.assemble(sep, f"sort {sort}"))
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


def _late(seconds: float, sep: tuple[str, str]) -> Text:
    """The data is late: the refresh in flight has been out longer than its interval."""
    return Text.assemble(sep, ("⚠ refresh slow", "bold"), f": {human_age(seconds)} in flight")


def _shape(text: Text) -> tuple[tuple[int, ...], ...]:
    """Cell widths of each line's words: all that decides where rich wraps them."""
    return tuple(
        tuple(cell_len(word) for word in line.split(" ")) for line in text.plain.split("\n")
    )
