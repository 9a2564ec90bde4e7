"""`?`: every key, and how to read the pane."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# warroom keys

| key | does |
|---|---|
| ↑ ↓ PgUp PgDn Home End | move the selection; the plots follow it |
| s | cycle the sort: severity, p99, 5xx, 429, req/s, name |
| g | to the GPU grid and back (below 160 columns it takes the plots' place) |
| ← → ↑ ↓ (grid) | move over GPUs; the detail pane follows |
| e (grid) | next GPU with an OOM or XID event |
| f (grid) | show only the nodes of the model selected in the table |
| t | the runbook navigator: opens on the tree for the worst symptom |
| y / n (runbook) | answer the question; at a check, y / 1-9 copy a command (OSC 52, over SSH) |
| enter (runbook) | take the suggested answer, or move past a check or note |
| backspace / r / p (runbook) | back one step / start over / pick another runbook |
| escape (runbook) | back to the panes; `t` resumes where you were |
| m | mitigations: each enabled only if RBAC allows it; a plan, a confirmation, then the change |
| a (runbook, at an action step) | the mitigations that step names |
| c | the canary: the drive this cockpit runs, else a watch on the rollout whoever drives it |
| p / P / A (canary) | pause or resume / promote now / abort, drained (P and A confirm first) |
| e | export the incident report: severity and root cause to confirm, then Markdown, JSON, SVG |
| space, [ ], { } (replay) | pause / resume, back or forward a minute, ten minutes |
| ctrl+p | command palette: every key's action by name ("report"…), each "Mitigate: …" |
| / | filter the table by name: enter keeps it, escape clears it |
| r | refresh now |
| ? | this help |
| q | quit; asks first (y / n) while a model breaches, the incident is open or a drive runs |
| ctrl+q | quit at once |

# Reading the pane

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
  the selection); `/` narrows a large fleet by name.
* **STALE** in the top line: the last refresh failed, the numbers are the last good
  ones, and the age counts how old they are.

Press escape or ? to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, mitigations_off: str | None = None) -> None:
        super().__init__()
        self.mitigations_off = mitigations_off
        """Why `m` is dim (no cluster to act on), said first; None when it acts."""

    def compose(self) -> ComposeResult:
        first = ""
        if self.mitigations_off:
            first = (
                f"**`m` is dim here.** {self.mitigations_off} The demo has no cluster of its "
                "own: `scripts/demo-cluster.py` serves one and prints the command that points "
                "`warroom --demo` at it.\n\n"
            )
        with VerticalScroll():
            yield Markdown(first + HELP)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
