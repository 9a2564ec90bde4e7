"""Shared fixtures: a deterministic cockpit over the simulated fleet (see `demo_app`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from demo_app import frozen_demo_app

from tui.app import WarroomApp


@pytest.fixture
def make_app() -> Callable[..., WarroomApp]:
    """Factory: ``make_app("gpu-oom", at_s=600.0, wrap=None)`` -> a frozen `WarroomApp`."""
    return frozen_demo_app
