"""The mitigation tests' cluster and cockpit: the Deployments kmock's emulator starts with,
what it holds after a change and which requests wrote, and a cockpit over the frozen
gpu-oom fleet whose mitigations talk to it.

Imported as ``mitigation_rig``: pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import kmock as km
from cockpit_pilot import press
from demo_app import frozen_demo_app
from kube_emulator import DEPLOYMENTS, SSAR
from kubernetes.client import ApiClient
from textual.pilot import Pilot
from textual.widgets import OptionList

from tui.actions.kube import Mitigator
from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.config import Config, MitigationSettings
from tui.domain.plan import REVISION
from tui.store.timeline import Timeline

NS = "inference"
REPLICASETS = km.resource("apps", "v1", "replicasets")
CLOCK = FrozenClock(1_795_000_600.0)
"""The mitigator's clock: the demo's epoch plus ten minutes, where gpu-oom is sick."""
MODEL = "codellama-34b-instruct"
"""gpu-oom's sick model, and the one the model mitigations act on."""
MODEL_DEPLOYMENT = "vllm-codellama-34b-instruct"


# -- the cluster ---------------------------------------------------------------------------


def deployment(
    name: str,
    *,
    replicas: int = 2,
    env: list[dict[str, str]] | None = None,
    image: str = "vllm/vllm-openai:v0.6.3",
    revision: int = 3,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": image}
    if env is not None:
        container["env"] = env
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "annotations": {REVISION: str(revision)}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container, {"name": "sidecar", "image": "envoy:1"}]},
            },
        },
    }


def replica_set(owner: str, revision: int, image: str) -> dict[str, Any]:
    """The ReplicaSet of ``owner``'s ``revision``: its pod template, as a rollback reads it."""
    template = copy.deepcopy(deployment(owner, image=image)["spec"]["template"])
    template["metadata"]["labels"]["pod-template-hash"] = f"h{revision}"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{owner}-h{revision}",
            "namespace": NS,
            "annotations": {REVISION: str(revision)},
            "ownerReferences": [{"kind": "Deployment", "name": owner, "apiVersion": "apps/v1",
                                 "uid": "u", "controller": True}],
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": owner}},
                 "template": template},
    }  # fmt: skip


def stored(kmock: Any, name: str) -> dict[str, Any]:
    """The Deployment as the emulator holds it now, as plain JSON."""
    return json.loads(json.dumps(kmock.objects[DEPLOYMENTS, NS, name].raw))


def env_of(obj: dict[str, Any], container: int = 0) -> dict[str, str]:
    env = obj["spec"]["template"]["spec"]["containers"][container].get("env") or []
    return {e["name"]: e["value"] for e in env}


def writes(kmock: Any) -> list[km.Request]:
    return [r for r in kmock if r.method.value in ("PATCH", "POST", "PUT", "DELETE")
            and r.resource != SSAR]  # fmt: skip


def mitigator(api: ApiClient, **settings: Any) -> Mitigator:
    """The mitigator over ``api``, ``settings`` as `[mitigations]` would give them."""
    return Mitigator(api, MitigationSettings(**settings), clock=CLOCK)


# -- the cockpit ---------------------------------------------------------------------------


def app_for(
    api: ApiClient, tmp_path: Path, *, config: Config | None = None, **settings: Any
) -> WarroomApp:
    """The frozen gpu-oom cockpit on a production context, its mitigations sent through
    ``api`` and its timeline at ``tmp_path / "t.jsonl"``."""
    mitigator = Mitigator(
        api, MitigationSettings(**settings), clock=FrozenClock(1_795_000_600.0),
        context="prod-us-east",
    )  # fmt: skip
    timeline = Timeline(tmp_path / "t.jsonl")
    return frozen_demo_app("gpu-oom", timeline=timeline, mitigator=mitigator, config=config)


def options(app: WarroomApp) -> list[tuple[str, bool]]:
    """The mitigation menu's lines: (mitigation, disabled)."""
    menu = app.screen.query_one(OptionList)
    return [
        (str(menu.get_option_at_index(i).id), menu.get_option_at_index(i).disabled)
        for i in range(menu.option_count)
    ]


async def choose(pilot: Pilot[object], mitigation: str) -> None:
    """Highlight ``mitigation`` in the open menu and press Enter."""
    menu = pilot.app.screen.query_one(OptionList)
    index = next(
        i for i in range(menu.option_count) if menu.get_option_at_index(i).id == mitigation
    )
    menu.highlighted = index
    await press(pilot, "enter")
