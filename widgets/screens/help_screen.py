"""`?`: every key, and how to read the pane."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from widgets.keymap import bindings, current_keymap, help_table, say
from widgets.screens.steady import SteadyModal

READING = """\
* **One row per model**, the whole API (**Σ all models**) pinned on top. A sick
  low-volume model can hide in the aggregate: always read the split.
* **Severity** is the worst of each figure ÷ its SLO: p99, 5xx ratio, 429 ratio, TTFT
  p99, queue depth and KV-cache usage. Rows sort worst first; ties go to the busier
  model. The Σ row's queue and KV cache are not judged (they are per-model lines).
* **✖** at or over the threshold, **▲** within 80 % of it, **✓** fine, **?** no data.
  **>1s**: the quantile lies past the histogram's top bucket (1 s); it breaches when that
  bound is at or past the SLO. **n/s**: no stack in use exports that figure; never 0 %.
* Latency is always a percentile from the histogram, never a mean.
* **GPU grid**: one cell per GPU, grouped by node. Glyph height is memory used (**█**
  in red at 95 % or more), colour is utilization, **X** a new XID, **!** an OOM (a CUDA
  OOM in the model server's log, or a container OOMKilled).
* **◆ under the table**: the 5xx of that model is likely downstream of its GPUs'
  OOMs (CUDA out of memory), a host OOM (a container OOMKilled, exit 137: its memory
  limit, not the GPU's) or XIDs, with where and how many. A GPU OOM reaches the gateway
  as a plain 5xx.
* **Runbook**: each question shows the live signal that answers it, its value now and
  the suggested answer; you confirm with a key. Every answer, with the evidence at that
  moment, goes into the incident timeline. Questions no signal answers are yours.
* **Mitigations** show exactly what they change (object, field, old -> new) with
  Cancel focused; a rollback or a scale to zero needs the object's name typed. Apply
  sends a server-side dry run, then the change; the incident timeline records the
  request before and the result after. Pressing one whose change is already in place
  says so and sends nothing. `--read-only` sends nothing at all.
* **N more ↓** under the table: that many rows below the view (the table scrolls with
  the selection); `{cockpit.filter}` narrows a large fleet by name.
* **STALE** in the top line: the last refresh failed, the numbers are the last good
  ones, and the age counts how old they are.
"""
"""How to read the pane, below the key table: ``{scope.name}`` is that binding's key."""


def help_markdown(keymap: Mapping[str, str] | None = None, *, ascii: bool = False) -> str:
    """The help: every key (the registry's table), then how to read the pane."""
    return (
        f"# warroom keys\n\n{help_table(keymap, ascii=ascii)}\n# Reading the pane\n\n"
        f"{say(READING, keymap, ascii=ascii)}\n"
        f"Press {say('{help.close}', keymap, ascii=ascii)} to close.\n"
    )


class HelpScreen(SteadyModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("help")
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, mitigations_off: str | None = None, *, ascii: bool = False) -> None:
        super().__init__()
        self.mitigations_off = mitigations_off
        """Why `m` is dim (no cluster to act on), said first; None when it acts."""
        self.ascii = ascii
        """``--ascii``: the arrows named in ASCII at their own width."""

    def compose(self) -> ComposeResult:
        # The keys as the config's [keys] table binds them, in the table and the prose.
        keymap = current_keymap(self)
        first = ""
        if self.mitigations_off:
            first = (
                f"**`{say('{cockpit.mitigate}', keymap)}` is dim here.** {self.mitigations_off} "
                "The demo has no cluster of its own: `scripts/demo-cluster.py` serves one and "
                "prints the command that points `warroom --demo` at it.\n\n"
            )
        with VerticalScroll():
            yield Markdown(first + help_markdown(keymap, ascii=self.ascii))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
