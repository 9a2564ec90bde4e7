"""`e`: the incident report, built from what is on screen and in the timeline, and its export."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tui.clock import utc
from tui.domain.format import printable
from tui.store.timeline import default_state_dir

if TYPE_CHECKING:
    # The report is imported when first asked for: markdown, the report's writers and
    # its redaction rules were a tenth of start-up's imports.
    from tui.cockpit.host import Cockpit
    from tui.cockpit.timeline_writes import TimelineWriter
    from tui.domain.report import Overrides, Report
    from widgets.screens.report_form import ExportChoice


class ReportExport:
    """The report of the incident so far, the form that asks how to write it, the writing."""

    def __init__(self, app: Cockpit, writer: TimelineWriter) -> None:
        self.app = app
        self.writer = writer

    @property
    def reports_dir(self) -> Path:
        """Beside the incidents: ``<state>/reports`` (the demo's apart, like its timeline)."""
        if self.app.report_timeline is not None:
            return self.app.report_timeline.path.parent.parent / "reports"
        return (self.app.config.state_dir or default_state_dir()) / "reports"

    def report(self, overrides: Overrides | None = None) -> Report | None:
        """The report of what is on screen and in the timeline now; None before any data."""
        from tui.domain.report import build_report

        app = self.app
        assessed = app.tracker.assessed
        if assessed is None:
            return None
        try:
            timeline = app.report_timeline
            entries = timeline.entries() if timeline is not None else []
        except OSError:
            entries = []  # said when the timeline is written; the report goes without it
        damage = timeline.damage_note() if timeline is not None else None
        return build_report(
            snapshot=assessed.snapshot,
            points={m: app.tracker.points(m) for m in app.tracker.history},
            events=app.tracker.events.all(),
            causes=assessed.causes,
            verdicts=assessed.verdicts,
            entries=entries,
            slo=app.config.slo,
            now=app.clock.now(),
            overrides=overrides,
            notes=[damage] if damage else [],
        )

    def open(self) -> None:
        """The export form, then the report, its JSON and the screen beside it."""
        from tui.store.report_files import existing, planned_paths
        from widgets.screens.report_form import ReportForm

        report = self.report()
        if report is None:
            self.app.notify("No data yet: the report is written once the first refresh lands.")
            return
        paths = planned_paths(report, self.reports_dir, screenshot=True)
        form = ReportForm(report, paths.paths, existing(paths))
        self.app.push_screen(form, self._chosen)

    def _chosen(self, choice: ExportChoice | None) -> None:
        if choice is None:
            self.app.notify("Report not written.")
            return
        report = self.report(choice.overrides)
        if report is None:
            return
        # The screen as the engineer sees it, the form gone.
        svg = self.app.export_screenshot(title=f"warroom · {printable(report.title)}")
        self.app.run_worker(
            partial(self._write, report, svg, choice.replace),
            thread=True,
            exclusive=True,
            group="report",
        )

    def _write(self, report: Report, svg: str, replace: bool) -> None:
        """In a thread: the files, then (on the event loop) the timeline's entry and a toast."""
        from tui.store.report_files import write_report

        app = self.app
        try:
            written = write_report(report, self.reports_dir, svg=svg, overwrite=replace)
        except FileExistsError as exc:
            app.call_from_thread(app.notify, f"{exc}: not replaced.", severity="warning")
            return
        except OSError as exc:
            app.call_from_thread(
                app.notify,
                f"The report cannot be written to {self.reports_dir} ({exc.strerror or exc}).",
                severity="error",
                timeout=15,
            )
            return
        at = utc(app.clock.now())
        paths = [str(p) for p in written.paths]
        app.call_from_thread(
            self.writer.write,
            lambda t: t.append(
                "report.exported", at, actor=app.actor, paths=paths, severity=report.severity
            ),
        )
        app.call_from_thread(
            app.notify, f"Report written: {written.markdown}", title="Incident report",
            timeout=20,
        )  # fmt: skip
