"""From a served model to its Deployment without assuming names: the model's pods (as
Prometheus names them) -> each pod's controller ReplicaSet -> that one's controller
Deployment, read through the official client from kmock's emulator; the name template
as an override when set and as the fallback, with the sentence saying which.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock as km
import pytest
from cockpit_pilot import done, press
from demo_app import settle
from kube_emulator import SSAR, status
from kubernetes.client import ApiClient
from mitigation_rig import (
    CLOCK,
    DEPLOYMENTS,
    NS,
    REPLICASETS,
    app_for,
    choose,
    deployment,
    mitigator,
    stored,
    writes,
)
from textual.widgets import Button, Static

from tui.actions.execute import carry_out
from tui.actions.kube import ActionError
from tui.clock import FrozenClock
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.sim.fleet import NAMESPACE, build_fleet
from tui.sim.pods import deployment_name, pod_manifest, replica_set_manifest
from tui.sim.scenarios import scenario
from tui.sources.dcgm import pods_by_model
from tui.store.recording import _model_pods, snapshot_to_json
from widgets.screens.confirm_action import ConfirmAction

PODS = km.resource("", "v1", "pods")
CLOCK_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
SERVING = "llama8b-serving"
"""The Deployment that really serves MODEL: nothing like the model's name."""
RS = f"{SERVING}-5d4f8b9c7"
POD_NAMES = (f"{RS}-2xk9p", f"{RS}-8qz4r")
PODS_OF_MODEL = tuple(f"{NS}/{p}" for p in POD_NAMES)
TEMPLATE_NAME = "vllm-meta-llama-llama-3-1-8b-instruct"
"""What the default template makes of MODEL."""


def owner(kind: str, name: str, api_version: str = "apps/v1") -> dict[str, Any]:
    """An OwnerReference as a controller sets it (``controller: true``)."""
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": f"uid-{name}",
            "controller": True, "blockOwnerDeletion": True}  # fmt: skip


def pod(name: str, *owners: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "labels": {"app": "vllm"}}
    if owners:
        meta["ownerReferences"] = list(owners)
    container = {"name": "vllm", "image": "vllm/vllm-openai:v0.6.3"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [container]}}  # fmt: skip


def replica_set(name: str, *owners: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS}
    if owners:
        meta["ownerReferences"] = list(owners)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "vllm"}}}}  # fmt: skip


def serve_model(kmock: Any, deployment_name: str, rs_name: str, pods: tuple[str, ...]) -> None:
    """A Deployment, its ReplicaSet and pods, each naming its owner."""
    kmock.objects[DEPLOYMENTS, NS, deployment_name] = deployment(deployment_name)
    kmock.objects[REPLICASETS, NS, rs_name] = replica_set(
        rs_name, owner("Deployment", deployment_name)
    )
    for name in pods:
        kmock.objects[PODS, NS, name] = pod(name, owner("ReplicaSet", rs_name))


@pytest.fixture
def cluster(kmock: Any) -> Any:
    """MODEL served by `SERVING`; a Deployment under the template's name too, as an old
    leftover would be, so that acting on the wrong one shows."""
    serve_model(kmock, SERVING, RS, POD_NAMES)
    kmock.objects[DEPLOYMENTS, NS, TEMPLATE_NAME] = deployment(TEMPLATE_NAME)
    return kmock


def reads(kmock: Any, resource: km.Resource) -> list[str]:
    return [r.name for r in kmock if r.method.value == "GET" and r.resource == resource]


def replicas(kmock: Any, name: str) -> int:
    return int(stored(kmock, name)["spec"]["replicas"])


# -- found through the owners ------------------------------------------------------------


async def test_scale_up_patches_the_deployment_the_pods_owners_name(
    cluster: Any, api: ApiClient
) -> None:
    m = mitigator(api)
    plan = await m.plan("scale-up", MODEL, PODS_OF_MODEL)
    assert plan.lines() == [f"Deployment {NS}/{SERVING}: replicas: 2 -> 4"]
    assert plan.notes == (
        f"Deployment found through pod {NS}/{POD_NAMES[0]}'s owner, ReplicaSet {RS}.",
    )
    outcome = await carry_out(m, plan, None, clock=CLOCK, actor="sre", model=MODEL)
    assert outcome.result == "succeeded", outcome.message
    assert replicas(cluster, SERVING) == 4
    assert replicas(cluster, TEMPLATE_NAME) == 2, "the template's namesake is left alone"
    # Bounded: one pod and one ReplicaSet read, the pod's siblings not at all.
    assert reads(cluster, PODS) == [POD_NAMES[0]]
    assert reads(cluster, REPLICASETS) == [RS]


async def test_the_answer_is_kept_for_the_session(cluster: Any, api: ApiClient) -> None:
    m = mitigator(api)
    await m.plan("scale-up", MODEL, PODS_OF_MODEL)
    again = await m.plan("rollout-restart", MODEL, PODS_OF_MODEL)
    assert again.edits[0].target.name == SERVING
    assert len(reads(cluster, PODS)) == 1 and len(reads(cluster, REPLICASETS)) == 1


async def test_a_deployment_gone_since_is_looked_for_again(cluster: Any, api: ApiClient) -> None:
    m = mitigator(api)
    await m.plan("scale-up", MODEL, PODS_OF_MODEL)
    # The model moved to a new Deployment (and new pods) meanwhile; the old one is gone.
    del cluster.objects[DEPLOYMENTS, NS, SERVING]
    new_pods = ("llama8b-v2-7c9d-abcde",)
    serve_model(cluster, "llama8b-v2", "llama8b-v2-7c9d", new_pods)
    plan = await m.plan("scale-up", MODEL, tuple(f"{NS}/{p}" for p in new_pods))
    assert plan.edits[0].target.name == "llama8b-v2"
    assert "pod inference/llama8b-v2-7c9d-abcde's owner" in plan.notes[0]


async def test_a_pod_gone_since_the_scrape_hands_over_to_the_next(
    cluster: Any, api: ApiClient
) -> None:
    missing = tuple(f"{NS}/{RS}-0gone{c}" for c in "ab")  # sorted before the real ones
    plan = await mitigator(api).plan("scale-up", MODEL, (*PODS_OF_MODEL, *missing))
    assert plan.edits[0].target.name == SERVING
    assert reads(cluster, PODS) == [f"{RS}-0gonea", f"{RS}-0goneb", POD_NAMES[0]]


async def test_no_more_than_three_pods_are_read(cluster: Any, api: ApiClient) -> None:
    missing = tuple(f"{NS}/{RS}-gone{i}" for i in range(6))
    plan = await mitigator(api).plan("scale-up", MODEL, missing)
    assert len(reads(cluster, PODS)) == 3
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes[0].startswith(
        "Deployment named by the template 'vllm-{model}', as none of the pods Prometheus "
        f"named for {MODEL} exists now ("
    )


# -- the template: as an override, and as the fallback ------------------------------------


async def test_a_template_set_in_the_config_wins(cluster: Any, api: ApiClient) -> None:
    m = mitigator(api, model_deployment="vllm-{model}")
    plan = await m.plan("scale-up", MODEL, PODS_OF_MODEL)
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes == (
        "Deployment named by the template 'vllm-{model}' set in mitigations.model_deployment.",
    )
    assert reads(cluster, PODS) == [], "no pod is read when the config names the Deployment"


async def test_a_403_on_pods_falls_back_to_the_template_and_says_so(
    cluster: Any, api: ApiClient
) -> None:
    message = 'pods "x" is forbidden: User "sre" cannot get resource "pods"'
    cluster["get", PODS].override << 403 << status(403, "Forbidden", message)
    m = mitigator(api)
    plan = await m.plan("scale-up", MODEL, PODS_OF_MODEL)
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes == (
        "Deployment named by the template 'vllm-{model}', as RBAC forbids reading pod "
        f"{NS}/{POD_NAMES[0]} (403).",
    )
    assert reads(cluster, PODS) == [POD_NAMES[0]], "a 403 is not tried on every pod"
    outcome = await carry_out(m, plan, None, clock=CLOCK, actor="sre", model=MODEL)
    assert outcome.result == "succeeded" and replicas(cluster, TEMPLATE_NAME) == 4


async def test_a_403_on_replicasets_falls_back(cluster: Any, api: ApiClient) -> None:
    cluster["get", REPLICASETS].override << 403 << status(403, "Forbidden", "no")
    plan = await mitigator(api).plan("scale-up", MODEL, PODS_OF_MODEL)
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes[0].endswith(f"as RBAC forbids reading ReplicaSet {NS}/{RS} (403).")


async def test_a_bare_pod_falls_back(cluster: Any, api: ApiClient) -> None:
    cluster.objects[PODS, NS, "bare-llama"] = pod("bare-llama")
    plan = await mitigator(api).plan("scale-up", MODEL, (f"{NS}/bare-llama",))
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes == (
        "Deployment named by the template 'vllm-{model}', as pod "
        f"{NS}/bare-llama has no owner (a bare pod).",
    )


async def test_a_statefulset_pod_falls_back(cluster: Any, api: ApiClient) -> None:
    cluster.objects[PODS, NS, "llama-0"] = pod("llama-0", owner("StatefulSet", "llama"))
    plan = await mitigator(api).plan("scale-up", MODEL, (f"{NS}/llama-0",))
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes[0].endswith(
        f"as pod {NS}/llama-0 is owned by StatefulSet llama, not by a Deployment's ReplicaSet."
    )


async def test_a_replicaset_of_no_deployment_falls_back(cluster: Any, api: ApiClient) -> None:
    rollout = owner("Rollout", "llama", "argoproj.io/v1alpha1")
    cluster.objects[REPLICASETS, NS, RS] = replica_set(RS, rollout)
    plan = await mitigator(api).plan("scale-up", MODEL, PODS_OF_MODEL)
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes[0].endswith(
        f"as ReplicaSet {NS}/{RS} is owned by Rollout llama, not by a Deployment."
    )


async def test_a_slow_pod_read_falls_back(cluster: Any, api: ApiClient) -> None:
    # The timeout is long enough for the reads after the pod's (the Deployment the
    # name template gives) on a loaded machine; the slow pod read outlasts it.
    timeout_s = 2.0

    async def slow(_: km.Request) -> dict[str, Any]:
        await asyncio.sleep(10 * timeout_s)
        return {}

    cluster["get", PODS].override << slow
    plan = await mitigator(api, timeout_s=timeout_s).plan("scale-up", MODEL, PODS_OF_MODEL)
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes[0].endswith(
        f"as pod {NS}/{POD_NAMES[0]} could not be read: the API did not answer."
    )


async def test_no_known_pod_falls_back(cluster: Any, api: ApiClient) -> None:
    plan = await mitigator(api).plan("scale-up", MODEL)
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert plan.notes == (
        f"Deployment named by the template 'vllm-{{model}}', as no pod of {MODEL} is known "
        "from its model-server series in Prometheus.",
    )
    assert reads(cluster, PODS) == []


async def test_pods_in_another_namespace_are_not_followed(cluster: Any, api: ApiClient) -> None:
    plan = await mitigator(api).plan("scale-up", MODEL, (f"research/{POD_NAMES[0]}",))
    assert plan.edits[0].target.name == TEMPLATE_NAME
    assert f"the pods of {MODEL} are in namespace research, not {NS}" in plan.notes[0]
    assert reads(cluster, PODS) == []


async def test_a_fallback_name_that_does_not_exist_says_why_it_was_tried(
    cluster: Any, api: ApiClient
) -> None:
    del cluster.objects[DEPLOYMENTS, NS, TEMPLATE_NAME]
    cluster.objects[PODS, NS, "bare-llama"] = pod("bare-llama")
    with pytest.raises(ActionError) as caught:
        await mitigator(api).plan("scale-up", MODEL, (f"{NS}/bare-llama",))
    text = str(caught.value)
    assert text.startswith(f"Not found while reading Deployment {NS}/{TEMPLATE_NAME} (404)")
    assert text.endswith(f"as pod {NS}/bare-llama has no owner (a bare pod).")


# -- RBAC: asked about the Deployment found ----------------------------------------------


async def test_rbac_is_asked_about_the_deployment_found(cluster: Any, api: ApiClient) -> None:
    asked: list[dict[str, Any]] = []

    def review(request: km.Request) -> dict[str, Any]:
        attrs = request.data["spec"]["resourceAttributes"]
        asked.append(attrs)
        allowed = attrs.get("name") != SERVING
        return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "status": {"allowed": allowed, "reason": "" if allowed else "no rule"}}  # fmt: skip

    cluster["post", SSAR] << review
    with pytest.raises(ActionError) as caught:
        await mitigator(api).plan("scale-up", MODEL, PODS_OF_MODEL)
    assert str(caught.value) == f"RBAC does not allow patch on Deployment {NS}/{SERVING} (no rule)."
    assert asked == [{"verb": "patch", "group": "apps", "resource": "deployments",
                      "namespace": NS, "name": SERVING}]  # fmt: skip
    assert writes(cluster) == []


# -- where the pods come from --------------------------------------------------------------


def test_pods_by_model_turns_the_pod_map_round() -> None:
    pod_models = {"inference/b": "m1", "inference/a": "m1", "research/c": "m2"}
    assert pods_by_model(pod_models) == {"m1": ("inference/a", "inference/b"),
                                         "m2": ("research/c",)}  # fmt: skip


def test_the_demo_snapshot_names_each_models_pods() -> None:
    from tui.sim.source import DemoSource

    source = DemoSource("healthy", models=3, clock=FrozenClock(1_795_000_600.0),
                        epoch=1_795_000_000.0)  # fmt: skip
    snap = source.refresh_now()
    assert snap.model_pods == {
        m.name: tuple(f"{NAMESPACE}/{p}" for p in m.pods) for m in source.fleet.models
    }


def test_model_pods_are_recorded_and_read_back() -> None:
    snap = Snapshot(CLOCK_AT, "s", (), ModelHealth(AGGREGATE), model_pods={MODEL: PODS_OF_MODEL})
    written = json.loads(json.dumps(snapshot_to_json(snap)["model_pods"]))
    assert written == {MODEL: list(PODS_OF_MODEL)}
    assert _model_pods({"model_pods": written}) == {MODEL: PODS_OF_MODEL}
    assert _model_pods({}) == {}, "a recording made before pods were kept"
    with pytest.raises(ValueError, match="model_pods"):
        _model_pods({"model_pods": {MODEL: "inference/a"}})


def test_the_simulated_pods_lead_to_their_deployment() -> None:
    """The demo cluster's objects (`scripts/demo-cluster.py`) chain as a real one's."""
    fleet = build_fleet(3)
    model = fleet.models[0]
    rs = replica_set_manifest(fleet, model)
    manifest = pod_manifest(fleet, scenario("healthy"), model.pods[0], 0.0, 1_795_000_000.0)
    (pod_owner,) = manifest["metadata"]["ownerReferences"]
    (rs_owner,) = rs["metadata"]["ownerReferences"]
    assert (pod_owner["kind"], pod_owner["name"], pod_owner["uid"]) == (
        "ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"])  # fmt: skip
    assert (rs_owner["kind"], rs_owner["name"], rs_owner["controller"]) == (
        "Deployment", deployment_name(model), True)  # fmt: skip
    selector = rs["spec"]["selector"]["matchLabels"]
    assert selector.items() <= manifest["metadata"]["labels"].items()


# -- the cockpit: the demo's pods, a Deployment named unlike the model ----------------------


async def test_the_cockpit_scales_the_deployment_behind_the_selected_models_pods(
    kmock: Any, api: ApiClient, tmp_path: Path
) -> None:
    """gpu-oom opens on its sick model; the cluster serves it from a Deployment its name
    does not give. Scale-up shows, and patches, that one."""
    from mitigation_rig import MODEL as SICK

    kmock["post", SSAR] << {"apiVersion": "authorization.k8s.io/v1",
                            "status": {"allowed": True}}  # fmt: skip
    fleet = build_fleet()
    sick = fleet.model(SICK)
    rs = replica_set_manifest(fleet, sick)
    rs["metadata"]["ownerReferences"][0]["name"] = "codellama-serving"
    kmock.objects[DEPLOYMENTS, NS, "codellama-serving"] = deployment("codellama-serving")
    kmock.objects[DEPLOYMENTS, NS, "llm-gateway"] = deployment("llm-gateway", env=[])
    kmock.objects[REPLICASETS, NS, rs["metadata"]["name"]] = rs
    for name in sick.pods:
        kmock.objects[PODS, NS, name] = pod_manifest(
            fleet, scenario("gpu-oom"), name, 600.0, 1_795_000_000.0
        )
    app = app_for(api, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.selected == SICK
        await press(pilot, "m")
        await choose(pilot, "scale-up")
        assert isinstance(app.screen, ConfirmAction)
        changes = str(app.screen.query_one("#ca-changes", Static).content)
        assert f"Deployment {NS}/codellama-serving" in changes
        assert f"Deployment found through pod {NS}/{sorted(sick.pods)[0]}'s owner" in changes
        app.screen.query_one("#ca-apply", Button).press()
        await done(pilot)
    assert replicas(kmock, "codellama-serving") == 4
