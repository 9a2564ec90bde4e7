"""Writing the incident timeline from the cockpit: each step appended, a failed write said once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit
    from tui.domain.model import GpuEvent
    from tui.store.timeline import Timeline


class TimelineWriter:
    """Appends to the app's timeline (none on a kiosk: then nothing is written)."""

    def __init__(self, app: Cockpit) -> None:
        self.app = app

    def append_gpu_events(self, events: list[GpuEvent]) -> None:
        """New GPU events go into the incident timeline as they are learned."""
        if events:
            self.write(lambda t: [t.record_gpu_event(e) for e in events])

    def write(self, write: Callable[[Timeline], object]) -> None:
        timeline = self.app.timeline
        if timeline is None:
            return
        try:
            write(timeline)
        except OSError as exc:
            self.failed(exc, "events stay on screen only", timeout=10)

    def failed(self, exc: OSError, consequence: str, timeout: float = 15) -> None:
        """One sentence: the timeline could not be written, and what that meant."""
        where = self.app.timeline.path if self.app.timeline else "the timeline"
        self.app.notify(
            f"The incident timeline {where} cannot be written ({exc.strerror or exc}); "
            f"{consequence}.",
            severity="error",
            timeout=timeout,
        )
