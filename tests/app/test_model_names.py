"""Model names in the health table (issue 22, item 16): the name column takes the width
the figures leave, up to the longest name, and a name that must be cut is cut in the
middle, keeping the tail that tells fine-tuned variants apart, no two alike."""

from __future__ import annotations

import pytest
from demo_app import frozen_demo_app, settle
from rich.cells import cell_len

from tui.app import WarroomApp
from tui.domain.names import cut_middle, fit_names
from widgets.health_table import CAUSE_WIDTH, HealthTable

# -- the pure cut ------------------------------------------------------------------------


def test_a_name_that_fits_is_whole() -> None:
    assert cut_middle("llama-3.1-8b-instruct", 21) == "llama-3.1-8b-instruct"
    assert cut_middle("llama-3.1-8b-instruct", 40) == "llama-3.1-8b-instruct"


def test_a_long_name_keeps_its_head_and_its_tail() -> None:
    assert cut_middle("bge-reranker-v2-m3-ft-acme-legal", 26) == "bge-reranker…ft-acme-legal"
    assert cut_middle("deepseek-r1-distill-llama-70b", 20) == "deepseek-…-llama-70b"
    for width in range(1, 30):
        cut = cut_middle("deepseek-r1-distill-llama-70b-ft-acme-corp-1", width)
        assert cell_len(cut) <= width, (width, cut)


def test_wide_characters_are_counted_in_cells() -> None:
    cut = cut_middle("模型模型模型-ft-acme", 9)
    assert cell_len(cut) <= 9 and cut.endswith("acme") and cut.startswith("模型")
    # A mark that sat on a character now cut away is dropped with it.
    assert not cut_middle("abcdefe\u0301fghij", 7).split("…")[1].startswith("\u0301")


def test_cuts_that_clash_keep_more_of_the_tail() -> None:
    names = ["org-model-ft-acme-corp-eu-1", "org-model-ft-beta-corp-eu-1"]
    assert cut_middle(names[0], 12) == cut_middle(names[1], 12) == "org-m…p-eu-1"
    fitted = fit_names(names, 12)
    assert len(set(fitted.values())) == 2
    for name, cut in fitted.items():
        head, tail = cut.split("…")
        assert name.startswith(head) and name.endswith(tail) and cell_len(cut) <= 12
        assert len(tail) > 6  # more of the tail than the even split kept
    # Names that never clashed keep the even split.
    assert fit_names(["a" * 30, "b" * 30], 12) == {
        "a" * 30: cut_middle("a" * 30, 12),
        "b" * 30: cut_middle("b" * 30, 12),
    }


# -- the table ---------------------------------------------------------------------------


def drawn_names(app: WarroomApp) -> dict[str, str]:
    """Each row's name as the table draws it (on screen or not): the model cell's line."""
    table = app.query_one(HealthTable)
    column = [c.key.value for c in table.ordered_columns].index("model")
    width = table.ordered_columns[column].get_render_width(table)
    names = {}
    for row in range(table.row_count):
        model = table.coordinate_to_cell_key((row, 0)).row_key.value
        lines = table._render_cell(row, column, table.rich_style, width)
        names[str(model)] = "".join(segment.text for segment in lines[0]).strip()
    return names


async def test_names_are_whole_where_the_screen_has_room() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        screen = app.export_screenshot()
        table = app.query_one(HealthTable)
        assert table.size.width == 200  # the table is as wide as the screen
        shown = drawn_names(app)
        assert len(shown) == 13
        for model, drawn in shown.items():
            if model != "(all models)":
                assert drawn == model, (model, drawn)
        assert "deepseek-r1-distill-llama-70b" in screen
        assert "deepseek-r1-distill-llama…" not in screen


async def test_at_200_models_and_80_columns_every_cut_name_is_told_apart() -> None:
    app = frozen_demo_app("gpu-oom", models=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling
        shown = drawn_names(app)
        assert len(shown) == 201
        assert len(set(shown.values())) == 201, "two models read alike"
        for model, drawn in shown.items():
            if "…" in drawn:
                head, tail = drawn.split("…")
                assert model.startswith(head) and model.endswith(tail), (model, drawn)
        acme = shown["bge-reranker-v2-m3-ft-acme-corp-1"]
        cyberdyne = shown["bge-reranker-v2-m3-ft-cyberdyne-1"]
        assert acme.startswith("bge-") and acme.endswith("corp-1"), acme
        assert cyberdyne.startswith("bge-") and cyberdyne.endswith("dyne-1"), cyberdyne


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200])
async def test_the_columns_fill_the_width_without_scrolling_sideways(width: int) -> None:
    app = frozen_demo_app("gpu-oom", models=200)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        names = table.ordered_columns[1]
        assert names.key.value == "model"
        # The names get what the figures leave (or all the longest name needs).
        spare = table.scrollable_content_region.width - table.virtual_size.width
        longest = max(len(m) for m in drawn_names(app))
        assert names.width == longest or spare <= table.styles.scrollbar_size_vertical


async def test_what_the_names_leave_goes_to_the_suspected_cause() -> None:
    app = frozen_demo_app("gpu-oom", models=200, gpus=1024)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        (sick,) = app.causes
        keys = [c.key.value for c in table.ordered_columns]
        column = keys.index("cause")
        width = table.ordered_columns[column].get_render_width(table)
        row = table.get_row_index(sick)
        drawn = "".join(s.text for s in table._render_cell(row, column, table.rich_style, width)[0])
        short = app.causes[sick].short
        assert len(short) > CAUSE_WIDTH
        # Far more of it than the column's least width: "GPU OOM gpu-node-034 GPU 0,1,…"
        # was cut with 40 blank columns to its right.
        shown = drawn.strip().rstrip("…")
        assert short.startswith(shown) and len(shown) > CAUSE_WIDTH + 20, drawn
        assert table.virtual_size.width <= table.scrollable_content_region.width
