"""What every stack is held to besides its own figures, in the gpu-oom incident: each GPU
tied to a served model through its pod, and the sick model on top with the cause line
naming its GPUs' XIDs (the acceptance of "real stacks, read right")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promserver import WINDOW, clean_env, run_warroom


def assert_gpus_and_cause(snap: dict[str, Any], sick: str) -> None:
    """``snap`` is a `warroom snapshot --json` of the gpu-oom scenario; ``sick`` the row
    the sick model is shown as (its served name, or its Deployment where the stack names
    models that way)."""
    rows = {m["model"] for m in snap["models"]}
    assert snap["gpus"], snap["gpu_error"]
    for gpu in snap["gpus"]:
        # The GPU's own workload, never the exporter's pod, and a model that has a row.
        assert gpu["pod"] and not gpu["pod"].startswith("dcgm-exporter"), gpu
        assert gpu["model"] in rows, (gpu["model"], sorted(rows))
    assert any(g["model"] == sick for g in snap["gpus"])
    top = snap["models"][0]
    assert top["model"] == sick
    cause = top["suspected_cause"]
    assert cause is not None and cause["kind"] == "gpu_xid", cause
    assert any(e["kind"] == "xid" and e["model"] == sick for e in snap["events"])


def assert_discovered(
    url: str, home: Path, stacks: set[str], no_source: set[str] = frozenset()
) -> None:
    """`warroom discover --json` with no config names exactly ``stacks`` and, as the
    figures nothing feeds, exactly ``no_source`` (`ModelHealth` field names)."""
    done = run_warroom("discover", "--prometheus", url, "--window", WINDOW, "--json",
                       env=clean_env(home))  # fmt: skip
    found = json.loads(done.stdout)
    assert set(found["stacks"]) == stacks, found["stacks"]
    assert set(found["no_source"]) == no_source, found["no_source"]
    assert found["chosen_by"] == "discovered"
