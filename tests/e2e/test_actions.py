"""Mitigations through the official Kubernetes client against kmock's emulator: the
objects that result, the dry run before every write, idempotence, RBAC, failures, and
the incident timeline around each action.

kmock stores objects and applies JSON Patch, but (FIELD-NOTES) does not emulate dry runs,
RBAC or conflicts: the dry run is answered here without storing (as a server does), and
SelfSubjectAccessReview, 403, 409 and timeouts are scripted with kmock's DSL.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock as km
import pytest
from kube_emulator import SSAR, answer_access_reviews, status
from kubernetes.client import ApiClient
from mitigation_rig import (
    CLOCK,
    DEPLOYMENTS,
    MODEL,
    MODEL_DEPLOYMENT,
    NS,
    REPLICASETS,
    deployment,
    env_of,
    mitigator,
    replica_set,
    stored,
    writes,
)

from tui.actions.execute import carry_out
from tui.actions.kube import ActionError, Mitigator
from tui.actions.lock import LEASE_NAME, ActionLock
from tui.domain.plan import FREEZE_ANNOTATION, RESTARTED_AT
from tui.store.timeline import Timeline


@pytest.fixture
def cluster(kmock: Any) -> Any:
    kmock.objects[DEPLOYMENTS, NS, "llm-gateway"] = deployment(
        "llm-gateway", env=[{"name": "LOG_LEVEL", "value": "info"}]
    )
    kmock.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT] = deployment(MODEL_DEPLOYMENT)
    kmock.objects[REPLICASETS, NS, f"{MODEL_DEPLOYMENT}-h2"] = replica_set(
        MODEL_DEPLOYMENT, 2, "vllm/vllm-openai:v0.6.2"
    )
    kmock.objects[REPLICASETS, NS, f"{MODEL_DEPLOYMENT}-h3"] = replica_set(
        MODEL_DEPLOYMENT, 3, "vllm/vllm-openai:v0.6.3"
    )

    return kmock


async def run(m: Mitigator, mitigation: str, timeline: Timeline | None = None,
              model: str | None = MODEL) -> Any:  # fmt: skip
    plan = await m.plan(mitigation, model)
    return plan, await carry_out(m, plan, timeline, clock=CLOCK, actor="sre@bastion", model=model)


# -- each action's resulting objects -----------------------------------------------------


async def test_fallback_on_sets_the_gateway_env_and_keeps_the_rest(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    plan, outcome = await run(mitigator(api), "fallback-on", timeline)
    assert outcome.result == "succeeded", outcome.message

    assert plan.lines() == [
        f"Deployment {NS}/llm-gateway: env FALLBACK_ENABLED (container main): (unset) -> true"
    ]
    assert outcome.result == "succeeded"
    gateway = stored(cluster, "llm-gateway")
    assert env_of(gateway) == {"LOG_LEVEL": "info", "FALLBACK_ENABLED": "true"}
    # JSON Patch touched one list entry: the image and the sidecar are as they were.
    containers = gateway["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["vllm/vllm-openai:v0.6.3", "envoy:1"]
    # The dry run went first, then the real patch with its test guards.
    patches = [r for r in cluster if r.method.value == "PATCH"]
    assert [r.params.get("dryRun") for r in patches] == ["All", None]
    assert patches[1].headers["Content-Type"] == "application/json-patch+json"
    ops = patches[1].data
    assert [op["op"] for op in ops] == ["test", "test", "add"]

    entries = [(e["kind"], e.get("mitigation")) for e in timeline.entries()]
    assert entries == [("action.requested", "fallback-on"), ("action.succeeded", "fallback-on")]
    requested = timeline.entries()[0]
    assert requested["actor"] == "sre@bastion"
    field = "env FALLBACK_ENABLED (container main)"
    assert requested["changes"] == [
        {"object": f"Deployment {NS}/llm-gateway", "field": field, "old": "(unset)", "new": "true"}
    ]


async def test_fallback_twice_is_a_noop_that_says_so(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    m = mitigator(api)
    await run(m, "fallback-on", timeline)
    before = len(writes(cluster))
    plan, outcome = await run(m, "fallback-on", timeline)

    assert plan.noop and outcome.result == "noop"
    assert outcome.message == "Turn on the fallback provider: already in place, nothing to change."
    assert len(writes(cluster)) == before, "a no-op sends nothing"
    assert timeline.entries()[-1]["kind"] == "action.noop"


async def test_fallback_off_replaces_the_value_it_read(cluster: Any, api: ApiClient) -> None:
    m = mitigator(api)
    await run(m, "fallback-on")
    plan, outcome = await run(m, "fallback-off")
    assert plan.lines()[0].endswith("env FALLBACK_ENABLED (container main): true -> false")
    assert outcome.result == "succeeded"
    assert env_of(stored(cluster, "llm-gateway"))["FALLBACK_ENABLED"] == "false"


@pytest.mark.parametrize(
    ("mitigation", "deployment_name", "name", "value"),
    [
        ("overflow-routing", "llm-gateway", "OVERFLOW_THRESHOLD", "0.7"),
        ("request-shedding", "llm-gateway", "SHED_RATE", "0.1"),
        ("batch-size-cap", MODEL_DEPLOYMENT, "MAX_BATCH_SIZE", "16"),
    ],
)
async def test_env_mitigations_land_on_the_right_deployment(
    cluster: Any, api: ApiClient, mitigation: str, deployment_name: str, name: str, value: str
) -> None:
    _, outcome = await run(mitigator(api), mitigation)
    assert outcome.result == "succeeded"
    assert env_of(stored(cluster, deployment_name))[name] == value
    other = "llm-gateway" if deployment_name == MODEL_DEPLOYMENT else MODEL_DEPLOYMENT
    assert name not in env_of(stored(cluster, other))


async def test_scale_up_and_down_by_the_step(cluster: Any, api: ApiClient) -> None:
    m = mitigator(api, scale_step=2)
    plan, outcome = await run(m, "scale-up")
    assert plan.lines() == [f"Deployment {NS}/{MODEL_DEPLOYMENT}: replicas: 2 -> 4"]
    assert not plan.destructive and outcome.result == "succeeded"
    assert stored(cluster, MODEL_DEPLOYMENT)["spec"]["replicas"] == 4
    await run(m, "scale-down")
    plan, _ = await run(m, "scale-down")
    assert plan.destructive, "scaling to zero asks for a typed confirmation"
    assert stored(cluster, MODEL_DEPLOYMENT)["spec"]["replicas"] == 0


async def test_rollout_restart_stamps_the_pod_template(cluster: Any, api: ApiClient) -> None:
    _, outcome = await run(mitigator(api), "rollout-restart")
    assert outcome.result == "succeeded"
    template = stored(cluster, MODEL_DEPLOYMENT)["spec"]["template"]
    assert template["metadata"]["annotations"] == {RESTARTED_AT: "2026-11-18T11:16:40Z"}


async def test_rollout_undo_restores_the_previous_revisions_template(
    cluster: Any, api: ApiClient
) -> None:
    plan, outcome = await run(mitigator(api), "rollout-undo")
    assert plan.destructive
    assert plan.lines() == [
        f"Deployment {NS}/{MODEL_DEPLOYMENT}: pod template (revision): "
        "3 (vllm/vllm-openai:v0.6.3, envoy:1) -> 2 (vllm/vllm-openai:v0.6.2, envoy:1)"
    ]
    assert outcome.result == "succeeded"
    template = stored(cluster, MODEL_DEPLOYMENT)["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "vllm/vllm-openai:v0.6.2"
    assert "pod-template-hash" not in template["metadata"]["labels"]


async def test_freeze_annotates_every_deployment_and_unfreeze_removes_it(
    cluster: Any, api: ApiClient
) -> None:
    m = mitigator(api)
    plan, outcome = await run(m, "deploy-freeze", model=None)
    assert outcome.result == "succeeded" and len(plan.pending) == 2
    for name in ("llm-gateway", MODEL_DEPLOYMENT):
        assert stored(cluster, name)["metadata"]["annotations"][FREEZE_ANNOTATION] == "true"
    _, again = await run(m, "deploy-freeze", model=None)
    assert again.result == "noop"
    await run(m, "deploy-unfreeze", model=None)
    for name in ("llm-gateway", MODEL_DEPLOYMENT):
        assert FREEZE_ANNOTATION not in stored(cluster, name)["metadata"]["annotations"]


# -- refusals and failures -----------------------------------------------------------------


async def test_read_only_sends_no_write_at_all(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    m = mitigator(api, read_only=True)
    timeline = Timeline(tmp_path / "t.jsonl")
    _, outcome = await run(m, "fallback-on", timeline)
    assert outcome.result == "failed"
    assert outcome.message == "warroom runs read-only: no change is sent to the cluster."
    assert writes(cluster) == []
    assert all(v == "warroom runs read-only." for v in (await m.permissions()).values())
    assert [r for r in cluster if r.resource == SSAR] == [], "not even a permission check"
    assert env_of(stored(cluster, "llm-gateway")) == {"LOG_LEVEL": "info"}


async def test_a_403_on_the_write_is_one_sentence_and_recorded(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    message = 'deployments.apps "llm-gateway" is forbidden: User "sre" cannot patch resource'
    cluster["patch", DEPLOYMENTS].override << 403 << status(403, "Forbidden", message)
    timeline = Timeline(tmp_path / "t.jsonl")
    _, outcome = await run(mitigator(api), "fallback-on", timeline)
    assert outcome.result == "failed"
    # RBAC refuses the dry run already, as a real API server does.
    assert outcome.message.startswith(
        f"Kubernetes RBAC forbids patching Deployment {NS}/llm-gateway (dry run) (403)"
    )
    kinds = [e["kind"] for e in timeline.entries()]
    assert kinds == ["action.requested", "action.failed"]
    assert timeline.entries()[-1]["error"] == outcome.message
    assert "FALLBACK_ENABLED" not in env_of(stored(cluster, "llm-gateway"))


async def test_a_conflict_asks_again(cluster: Any, api: ApiClient, tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    (
        cluster["patch", DEPLOYMENTS].override
        << 409
        << status(409, "Conflict", "the object has been modified")
    )
    _, outcome = await run(mitigator(api), "scale-up", timeline)
    assert outcome.result == "conflict"
    assert "The object changed since warroom read it (409)" in outcome.message
    assert timeline.entries()[-1]["conflict"] is True


async def test_a_missing_deployment_is_named(cluster: Any, api: ApiClient) -> None:
    with pytest.raises(ActionError, match=rf"Not found while reading Deployment {NS}/vllm-nope"):
        await mitigator(api).plan("scale-up", "nope")


async def test_a_slow_api_times_out_with_a_sentence(cluster: Any, api: ApiClient) -> None:
    async def slow(_: km.Request) -> dict[str, Any]:
        await asyncio.sleep(2)
        return {}

    cluster["get", DEPLOYMENTS].override << slow
    with pytest.raises(ActionError, match=r"did not answer within 0.2 s while reading"):
        await mitigator(api, timeout_s=0.2).plan("fallback-on")


async def test_rbac_is_checked_with_self_subject_access_reviews(
    cluster: Any, api: ApiClient
) -> None:
    answer_access_reviews(cluster, {("list", "replicasets")})
    allowed = await mitigator(api).permissions()
    assert allowed["fallback-on"] is None and allowed["deploy-freeze"] is None
    assert allowed["rollout-undo"] == (
        f"RBAC does not allow list on replicasets in {NS} (no rule)."
    )


async def test_a_lock_that_could_not_be_released_disables_every_mitigation(
    cluster: Any, api: ApiClient
) -> None:
    answer_access_reviews(cluster, {("delete", "leases")})
    allowed = await mitigator(api).permissions()
    assert set(allowed.values()) == {f"RBAC does not allow delete on leases in {NS} (no rule)."}


async def test_an_unwritable_timeline_stops_the_action_before_any_call(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    timeline = Timeline(tmp_path / "incidents" / "t.jsonl")
    # The parent is a regular file: open() fails with NotADirectoryError, even as root.
    (tmp_path / "incidents").write_text("not a directory\n", encoding="utf-8")
    m = mitigator(api)
    plan = await m.plan("fallback-on")
    with pytest.raises(OSError):
        await carry_out(m, plan, timeline, clock=CLOCK, actor="sre")
    assert writes(cluster) == [], "an unrecorded change must not happen"


async def test_a_change_made_meanwhile_is_a_conflict_and_the_new_plan_shows_it(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    m = mitigator(api)
    plan = await m.plan("scale-up", MODEL)
    # Someone else scales the model between the confirmation and the write.
    cluster.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT] = {
        **stored(cluster, MODEL_DEPLOYMENT),
        "spec": {**stored(cluster, MODEL_DEPLOYMENT)["spec"], "replicas": 5},
    }
    outcome = await carry_out(m, plan, timeline, clock=CLOCK, actor="sre")
    assert outcome.result == "conflict"
    assert "changed since warroom read it (422)" in outcome.message
    assert stored(cluster, MODEL_DEPLOYMENT)["spec"]["replicas"] == 5, "their change stands"
    again = await m.plan("scale-up", MODEL)
    assert again.lines() == [f"Deployment {NS}/{MODEL_DEPLOYMENT}: replicas: 5 -> 7"]


KILLED_MID_ACTION = """
import asyncio, sys
from kubernetes.client import ApiClient, Configuration
from tui.actions.kube import Mitigator
from tui.actions.execute import carry_out
from tui.clock import WallClock
from tui.config import MitigationSettings
from tui.store.timeline import Timeline

async def main() -> None:
    api = ApiClient(Configuration(host=sys.argv[1]))
    m = Mitigator(api, MitigationSettings(timeout_s=60))
    plan = await m.plan("fallback-on")
    await carry_out(m, plan, Timeline(__import__("pathlib").Path(sys.argv[2])),
                    clock=WallClock(), actor="sre")

asyncio.run(main())
"""


async def test_killed_during_an_action_the_timeline_keeps_its_request(
    cluster: Any, tmp_path: Path
) -> None:
    """SIGKILL while the write is in flight: the timeline stays readable, holds the
    ``requested`` entry (written and fsynced before the first call), and loses nothing."""
    path = tmp_path / "t.jsonl"
    Timeline(path).append("gpu.oom", datetime.now(UTC), detail="before the action")
    arrived = asyncio.Event()

    async def hang(_: km.Request) -> Any:
        arrived.set()
        await asyncio.sleep(30)
        return None

    cluster["patch", DEPLOYMENTS].override << hang
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_MID_ACTION, str(cluster.url), str(path),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await asyncio.wait_for(arrived.wait(), timeout=30)
    except TimeoutError:
        if proc.returncode is None:
            proc.kill()
        assert proc.stderr is not None
        raise AssertionError((await proc.stderr.read()).decode()) from None
    proc.send_signal(signal.SIGKILL)
    await proc.wait()

    entries = Timeline(path).entries()
    assert [e["kind"] for e in entries] == ["gpu.oom", "action.requested"]
    assert entries[1]["mitigation"] == "fallback-on"
    assert path.read_text().endswith("\n"), "every line whole"


# -- the action lock ---------------------------------------------------------------------

LEASES = km.resource("coordination.k8s.io", "v1", "leases")


def lease(holder: str, mitigation: str, renewed: str, seconds: int = 300) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LEASE_NAME, "namespace": NS,
                     "annotations": {"warroom.io/mitigation": mitigation}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": seconds,
                 "acquireTime": renewed, "renewTime": renewed},
    }  # fmt: skip


async def test_the_lock_is_held_during_the_action_and_released_after(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    m = mitigator(api)
    plan = await m.plan("fallback-on")
    lock = ActionLock(m, clock=CLOCK)
    outcome = await carry_out(m, plan, None, clock=CLOCK, actor="sre", lock=lock)
    assert outcome.result == "succeeded"
    created = [r for r in cluster if r.resource == LEASES and r.method.value == "POST"]
    assert created[0].data["spec"]["holderIdentity"] == "sre"
    assert created[0].data["metadata"]["annotations"]["warroom.io/mitigation"] == "fallback-on"
    assert cluster.objects[LEASES, NS, LEASE_NAME].deleted, "released"


async def test_a_second_operator_is_refused_with_who_holds_the_lock(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    # Another warroom took the lock ten seconds ago for a rollback.
    cluster.objects[LEASES, NS, LEASE_NAME] = lease("alice@wallscreen", "rollout-undo",
                                                    "2026-11-18T11:16:30.000000Z")  # fmt: skip
    timeline = Timeline(tmp_path / "t.jsonl")
    m = mitigator(api)
    plan = await m.plan("fallback-on")
    outcome = await carry_out(m, plan, timeline, clock=CLOCK, actor="bob@bastion",
                              lock=ActionLock(m, clock=CLOCK))  # fmt: skip
    assert outcome.result == "locked"
    assert outcome.message == (
        f"alice@wallscreen is carrying out rollout-undo in namespace {NS} (since 11:16:30Z); "
        "wait for it to finish."
    )
    assert [e["kind"] for e in timeline.entries()] == ["action.refused"]
    assert "FALLBACK_ENABLED" not in env_of(stored(cluster, "llm-gateway"))
    assert not cluster.objects[LEASES, NS, LEASE_NAME].deleted, "not ours to release"


async def test_an_expired_lock_of_a_crashed_warroom_is_taken_over(
    cluster: Any, api: ApiClient
) -> None:
    cluster.objects[LEASES, NS, LEASE_NAME] = lease("crashed@bastion", "scale-up",
                                                    "2026-11-18T11:00:00.000000Z")  # fmt: skip
    m = mitigator(api)
    plan = await m.plan("fallback-on")
    outcome = await carry_out(m, plan, None, clock=CLOCK, actor="sre",
                              lock=ActionLock(m, clock=CLOCK))  # fmt: skip
    assert outcome.result == "succeeded"
    patches = [r for r in cluster if r.resource == LEASES and r.method.value == "PATCH"]
    assert patches[0].data[0] == {"op": "test", "path": "/spec/holderIdentity",
                                  "value": "crashed@bastion"}  # fmt: skip


async def test_rejected_credentials_are_one_sentence(cluster: Any, api: ApiClient) -> None:
    cluster["get", DEPLOYMENTS].override << 401 << status(401, "Unauthorized", "Unauthorized")
    with pytest.raises(ActionError) as info:
        await mitigator(api).plan("fallback-on")
    assert str(info.value).endswith(
        "rejected the credentials (401) while reading Deployment inference/llm-gateway; "
        "refresh the kubeconfig's token."
    )
    assert info.value.status == 401


def test_the_mitigations_marked_automated_are_the_ones_the_mitigator_carries_out() -> None:
    """The palette offers the catalogue's automated mitigations (a widget may not import
    the mitigator); the mitigator must carry out exactly those."""
    from tui.actions.kube import SUPPORTED
    from tui.domain.mitigations import MITIGATIONS

    assert {mid for mid, m in MITIGATIONS.items() if m.automated} == set(SUPPORTED)
