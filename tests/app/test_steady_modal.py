"""A screen that dismisses answers once: the guard every warroom screen takes from
`widgets.screens.steady`, against keys that arrive in one burst."""

from __future__ import annotations

from textual.app import App
from textual.screen import ModalScreen

from widgets.screens.steady import SteadyModal


class Asks(SteadyModal[int]):
    pass


class Plain(ModalScreen[int]):
    pass


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[int | None] = []


async def test_a_second_dismiss_in_the_same_burst_closes_nothing_more() -> None:
    app = Host()
    async with app.run_test() as pilot:
        app.push_screen(Plain())  # the screen beneath, which must survive
        app.push_screen(Asks(), app.answers.append)
        await pilot.pause()
        asking = app.screen
        asking.dismiss(1)
        asking.dismiss(2)  # the second enter of the burst
        await pilot.pause()
        assert app.answers == [1]
        assert isinstance(app.screen, Plain)
        assert len(app.screen_stack) == 2


async def test_without_the_guard_the_screen_beneath_goes_too() -> None:
    """What the guard is for: Textual's own modal, dismissed twice in one burst, takes the
    screen beneath it along (the panes, in the cockpit)."""
    app = Host()
    async with app.run_test() as pilot:
        app.push_screen(Plain())
        app.push_screen(Plain(), app.answers.append)
        await pilot.pause()
        top = app.screen
        top.dismiss(1)
        top.dismiss(2)
        await pilot.pause()
        assert app.answers == [1]
        assert len(app.screen_stack) == 1, "the screen beneath was popped too"
