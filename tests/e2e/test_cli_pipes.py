"""`warroom` writing into a pipe whose reader stopped early (``| head``): a quiet end with
exit status 141 (128 + SIGPIPE, what a shell reports), never a BrokenPipeError traceback.

Each command runs as a real process: the error only shows where Python writes to a closed
pipe, and at exit, where no test inside the process could catch it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import EXIT_BROKEN_PIPE

ROOT = Path(__file__).resolve().parents[2]


def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.parametrize(
    "command",
    [["runbooks", "list"], ["snapshot", "--demo", "--json"]],
    ids=["runbooks-list", "snapshot-json"],
)
def test_a_reader_gone_before_the_first_line_ends_quietly(
    command: list[str], tmp_path: Path
) -> None:
    # The read end is closed before the command writes anything: every write fails.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env(tmp_path),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE, err
    assert err == ""


@pytest.mark.skipif(shutil.which("head") is None, reason="needs head(1)")
def test_snapshot_json_into_head_prints_its_start_and_no_traceback(tmp_path: Path) -> None:
    # Half a megabyte of JSON: more than a pipe holds, so head has gone before it is written.
    writer = subprocess.Popen(
        [sys.executable, "-m", "tui", "snapshot", "--demo", "--json", "--models", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env(tmp_path),
    )
    assert writer.stdout is not None and writer.stderr is not None
    head = subprocess.run(["head", "-c", "100"], stdin=writer.stdout, capture_output=True)
    writer.stdout.close()
    err = writer.stderr.read().decode()
    assert writer.wait(timeout=120) == EXIT_BROKEN_PIPE, err
    assert err == ""
    assert head.stdout.startswith(b"{") and len(head.stdout) == 100


def test_a_full_read_still_exits_zero(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "runbooks", "list"],
        capture_output=True,
        cwd=ROOT,
        env=env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == b""
    assert done.stdout.decode().splitlines()[0].split()[0]
