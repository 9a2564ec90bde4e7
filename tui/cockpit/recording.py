"""The incident's snapshots kept for `warroom replay`, written off the event loop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit
    from tui.domain.model import Snapshot


class RecordingKeeper:
    """Writes into the app's recorder; a recorder that cannot be written is dropped, once said."""

    def __init__(self, app: Cockpit) -> None:
        self.app = app

    async def keep(self, snapshot: Snapshot) -> None:
        """Into the recording, off the event loop (a write is an fsync)."""
        app = self.app
        recorder = app.recorder
        if recorder is None or recorder.full:
            return
        try:
            await asyncio.to_thread(recorder.record, snapshot)
        except OSError as exc:
            app.recorder = None
            app.notify(f"Recording stopped: {recorder.path} cannot be written "
                       f"({exc.strerror or exc}).", severity="warning", timeout=10)  # fmt: skip
            return
        if recorder.written == 1 and recorder.damage:
            # Once: the file this incident records into was damaged (a crash, a full disk);
            # recording goes on after the damage.
            app.notify(recorder.damage, severity="warning", timeout=10)
        if recorder.full:
            app.notify(f"Recording full at {recorder.path}: later snapshots are not kept.",
                       severity="warning", timeout=10)  # fmt: skip
