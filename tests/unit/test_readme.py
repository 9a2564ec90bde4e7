"""The README's promise: its first two commands install and run the demo, and install and
run the tests; what it says the first one opens on is what `warroom --demo` opens on."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tui.cli.parser import build_parser
from tui.cli.wiring import build_source, load
from tui.sim.scenarios import ONSET_S

README = Path(__file__).resolve().parents[2] / "README.md"
NUMBERS = {"five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30}


def first_commands() -> tuple[list[str], str]:
    """The first code block's two lines, and the paragraph after it."""
    text = README.read_text()
    block = re.search(r"```sh\n(.*?)\n```\n\n(.*?)\n\n", text, re.S)
    assert block is not None
    return block[1].splitlines(), " ".join(block[2].split())


def minutes(word: str) -> float:
    return float(word) if word.isdigit() else float(NUMBERS[word])


def test_the_first_two_commands_run_the_demo_and_the_tests() -> None:
    (demo, tests), _ = first_commands()
    assert "pip install -e ." in demo and ".venv/bin/warroom --demo" in demo
    assert "install-test-deps.sh" in tests and "pytest" in tests


def test_the_readme_says_where_the_demo_opens_as_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (demo, _), paragraph = first_commands()
    argv = shlex.split(demo.split(".venv/bin/warroom", 1)[1])
    said = re.search(r"(\S+) minutes into", paragraph)
    assert said is not None, paragraph
    args = build_parser().parse_args(argv)
    source, clock = build_source(args, load(args))
    opened_at_s = clock.now() - source.epoch  # type: ignore[attr-defined]
    assert opened_at_s == pytest.approx(minutes(said[1]) * 60, abs=5), said[0]
    # Into the scenario, not into the incident: that began at the scenarios' onset.
    assert f"into the {argv[argv.index('--scenario') + 1]} scenario" in paragraph
    onset = re.search(r"began at minute (\d+)", paragraph)
    assert onset is not None and float(onset[1]) * 60 == ONSET_S
