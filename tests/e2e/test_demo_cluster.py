"""`scripts/demo-cluster.py`, the Kubernetes API for trying mitigations on the demo: a
rollback finds a previous revision there, and a 404 from an API server reaches the toast
as one sentence of warroom's, never the server's own text (kmock's advice to its user,
``kmock.resources[...] = {}``, was pasted into it)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kube_emulator import status
from kubernetes.client import ApiClient

from tui.actions.kube import ActionError, Mitigator
from tui.config import MitigationSettings
from tui.domain.plan import REVISION
from tui.sim.fleet import NAMESPACE, build_fleet

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo-cluster.py"
NOW = 1_795_000_000.0


def demo_cluster() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_cluster", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one_sentence(text: str) -> bool:
    """Ends with a full stop and has no other sentence end inside it."""
    return text.endswith(".") and not re.search(r"[.!?]\s", text) and "\n" not in text


async def test_a_rollback_against_the_demo_cluster_finds_the_previous_replica_set(
    kmock: Any, api: ApiClient
) -> None:
    script = demo_cluster()
    fleet = build_fleet()
    script.seed(kmock, fleet, NOW)
    model = fleet.models[0]
    pods = [f"{NAMESPACE}/{pod}" for pod in model.pods]
    mitigator = Mitigator(api, MitigationSettings())
    plan = await mitigator.plan("rollout-undo", model.name, pods)
    (edit,) = plan.edits
    (change,) = edit.changes
    assert (change.old, change.new) == (
        f"2 ({script.IMAGE})",
        f"1 ({script.PREVIOUS_IMAGE})",
    )
    await mitigator.dry_run(plan)
    await mitigator.apply(plan)
    stored = kmock.objects[script.DEPLOYMENTS, NAMESPACE, edit.target.name].raw
    (container,) = stored["spec"]["template"]["spec"]["containers"]
    assert container["image"] == script.PREVIOUS_IMAGE
    assert "pod-template-hash" not in stored["spec"]["template"]["metadata"]["labels"]
    # The Deployment still selects the pods the rolled-back template makes.
    selector = stored["spec"]["selector"]["matchLabels"]
    assert selector.items() <= stored["spec"]["template"]["metadata"]["labels"].items()
    assert stored["metadata"]["annotations"][REVISION] == "2"


def test_every_model_has_two_revisions_owned_by_its_deployment() -> None:
    script = demo_cluster()
    fleet = build_fleet()
    for model in fleet.models:
        objects = script.model_objects(fleet, model)
        (deployment,) = [o for r, o in objects if r == script.DEPLOYMENTS]
        sets = [o for r, o in objects if r == script.REPLICASETS]
        revisions = sorted(rs["metadata"]["annotations"][REVISION] for rs in sets)
        assert revisions == ["1", "2"]
        for rs in sets:
            (owner,) = rs["metadata"]["ownerReferences"]
            assert owner["name"] == deployment["metadata"]["name"]
        # Revision 2's ReplicaSet is the one the pods name as their owner.
        current = next(rs for rs in sets if rs["metadata"]["annotations"][REVISION] == "2")
        assert model.pods[0].startswith(current["metadata"]["name"] + "-")


async def test_a_404_while_listing_is_one_sentence_without_the_servers_text(
    kmock: Any, api: ApiClient
) -> None:
    # No ReplicaSet at all: kmock answers a list of them 404 with advice to its own user.
    script = demo_cluster()
    fleet = build_fleet()
    script.seed(kmock, fleet, NOW)
    for each in fleet.models:
        for resource, obj in script.model_objects(fleet, each):
            if resource == script.REPLICASETS:
                del kmock.objects[resource, NAMESPACE, obj["metadata"]["name"]]
    model = fleet.models[0]
    mitigator = Mitigator(api, MitigationSettings())
    with pytest.raises(ActionError) as caught:
        await mitigator.plan("rollout-undo", model.name, [f"{NAMESPACE}/{model.pods[0]}"])
    text = str(caught.value)
    assert text.startswith(f"The Kubernetes API at {mitigator.host} has no ReplicaSets in ")
    assert "(404)" in text and one_sentence(text), text
    assert "kmock" not in text and "declare" not in text.lower()


async def test_a_404_while_reading_drops_the_servers_body(kmock: Any, api: ApiClient) -> None:
    body = status(404, "NotFound", 'deployments.apps "llm-gateway" not found. Details: {"x": 1}')
    kmock["get", demo_cluster().DEPLOYMENTS] << 404 << body
    mitigator = Mitigator(api, MitigationSettings())
    with pytest.raises(ActionError) as caught:
        await mitigator.plan("fallback-on")
    text = str(caught.value)
    assert text.startswith(f"Not found while reading Deployment {NAMESPACE}/llm-gateway (404)")
    assert one_sentence(text), text
    assert "deployments.apps" not in text and "Details" not in text
