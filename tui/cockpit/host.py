"""What the cockpit's features use of the app: the parts it was built from, and Textual's calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.timer import Timer
    from textual.worker import Worker, WorkerManager

    from tui.actions.canary import CanaryDriver
    from tui.actions.kube import Mitigator
    from tui.clock import Clock
    from tui.config import Config
    from tui.refresh.tracker import HealthTracker
    from tui.sources.base import HealthSource
    from tui.sources.replay import ReplayClock
    from tui.store.recording import Recorder
    from tui.store.timeline import Timeline


class Cockpit(Protocol):
    """The app as a feature sees it. Attributes are read when needed, never kept: a
    replay's seek starts a new tracker, and a failed recording drops its recorder."""

    config: Config
    clock: Clock
    tracker: HealthTracker
    timeline: Timeline | None
    """Where this cockpit writes the incident's steps (None on a kiosk)."""
    report_timeline: Timeline | None
    """The timeline the report and the quit question read."""
    mitigator: Mitigator | None
    mitigations_note: str | None
    drive: CanaryDriver | None
    replay: ReplayClock | None
    recorder: Recorder | None
    """Keeps the incident's snapshots for `warroom replay` (dropped when it cannot)."""
    actor: str
    live: bool
    context: str | None

    @property
    def last_error(self) -> str | None:
        """Why the latest refresh failed, until one succeeds."""
        ...

    @property
    def evidence_note(self) -> str | None:
        """Why pod evidence is partial, when it is."""
        ...

    @property
    def source(self) -> HealthSource: ...

    @property
    def selected(self) -> str:
        """The model under the table's cursor."""
        ...

    @property
    def walk_model(self) -> str:
        """The model the runbook walk is about."""
        ...

    @property
    def screen(self) -> Screen[object]: ...

    @property
    def workers(self) -> WorkerManager: ...

    def refresh_data(self) -> bool:
        """Start a refresh unless one is in flight."""
        ...

    def load_history(self) -> None:
        """Read the history behind the plots again."""
        ...

    def refresh_late_s(self) -> float | None:
        """How long the refresh in flight has been out, once past the refresh interval."""
        ...

    def refresh_bindings(self) -> None: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None: ...

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any: ...

    def push_screen_wait(self, screen: Screen[Any]) -> Awaitable[Any]: ...

    def run_worker(
        self,
        work: Callable[[], Any],
        *,
        group: str = "default",
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Any]: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def set_interval(self, interval: float, callback: Callable[[], object]) -> Timer: ...

    def export_screenshot(self, *, title: str | None = None) -> str: ...

    def exit(self, result: int | None = None) -> None: ...
