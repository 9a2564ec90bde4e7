"""The model table widget on its own, fed one snapshot of the frozen simulated fleet."""

from __future__ import annotations

from demo_app import AT_S, EPOCH
from textual.app import App, ComposeResult

from tui.clock import FrozenClock
from tui.config import load_config
from tui.model import Snapshot
from tui.sources.demo import DemoSource
from widgets.health_table import HealthTable


def gpu_oom_snapshot() -> tuple[Snapshot, str]:
    clock = FrozenClock(EPOCH + AT_S)
    source = DemoSource("gpu-oom", clock=clock, epoch=EPOCH, history_s=0.0)
    sick = source.scenario.expected(source.fleet).model
    assert sick is not None
    return source.refresh_now(), sick


class TableOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield HealthTable(load_config(None, env={}).slo)


async def test_rows_read_in_full_from_the_first_paint() -> None:
    """Rows painted before the table goes idle show whole figures. Textual 8.2's DataTable
    measures auto-width columns only on idle and kept earlier lines at the header's width
    ("20." for "20.1%✖"); the table's columns have fixed widths so no paint can be early."""
    snapshot, sick = gpu_oom_snapshot()
    app = TableOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(HealthTable)
        table.show(snapshot)
        row = [
            table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)
        ].index(sick)
        # y 0 is the header, so the sick model's row is drawn at y = row + 1; no pause
        # between adding the rows and painting them.
        first = table.render_line(row + 1).text
        assert sick in first
        assert "20.1%✖" in first
        assert "2.50s" in first
        await pilot.pause()
        assert table.render_line(row + 1).text == first
        assert "p99" in table.render_line(0).text
