"""A Kubernetes API for trying mitigations on the demo: kmock's emulator (a real HTTP
server, the test extra) holding the simulated fleet's Deployments — `llm-gateway` and a
`vllm-<model>` per model, the canary `llm-gateway-canary` and the HTTPRoute `llm-gateway`
splitting traffic between them, in namespace `inference` — and answering access reviews
with "allowed". Each model's pods and ReplicaSets are there too, each naming its owner
(``metadata.ownerReferences``), so warroom finds a model's Deployment through its pods as
it does on a real cluster. Each model's Deployment is at revision 2 with the ReplicaSet of
revision 1 kept beside it (an older vLLM image, scaled to 0), as the Deployment
controller keeps its history: "Roll back to the previous revision" has one to go to.

    .venv/bin/python scripts/demo-cluster.py [--port 8765] [--kubeconfig FILE]
    # in another terminal, as it prints:
    KUBECONFIG=/tmp/warroom-demo.kubeconfig .venv/bin/warroom --demo --scenario gpu-oom \
        --kube-context warroom-demo

Objects live in memory until the script stops; `kubectl --kubeconfig … get deploy -n
inference -o yaml` shows what a mitigation changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import kmock as km  # noqa: E402
from kube_emulator import SSAR, ApiServerEmulator, seed_canary  # noqa: E402

from tui.domain.plan import REVISION  # noqa: E402
from tui.sim.fleet import NAMESPACE, Fleet, ServedModel, build_fleet  # noqa: E402
from tui.sim.pods import (  # noqa: E402
    CONTAINER,
    IMAGE,
    deployment_name,
    pod_manifest,
    replica_set_manifest,
)
from tui.sim.scenarios import scenario  # noqa: E402

DEPLOYMENTS = km.resource("apps", "v1", "deployments")
REPLICASETS = km.resource("apps", "v1", "replicasets")
PODS = km.resource("", "v1", "pods")
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: warroom-demo
  cluster: {{server: "{url}"}}
users:
- name: sre
  user: {{token: demo}}
contexts:
- name: warroom-demo
  context: {{cluster: warroom-demo, user: sre, namespace: {namespace}}}
current-context: warroom-demo
"""


PREVIOUS_IMAGE = "vllm/vllm-openai:v0.6.2"
"""What the models ran at revision 1, before the current image (`IMAGE`)."""
PREVIOUS_HASH = "5d8f7c9b4"
"""The pod-template-hash of revision 1's ReplicaSet (any hash other than the current)."""


def deployment(
    name: str,
    replicas: int,
    image: str,
    env: list[dict[str, str]],
    *,
    labels: dict[str, str] | None = None,
    container: str = "main",
    revision: int = 1,
) -> dict[str, Any]:
    labels = labels or {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "annotations": {REVISION: str(revision)},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": container, "image": image, "env": env}]},
            },
        },
    }


def model_objects(fleet: Fleet, model: ServedModel) -> list[tuple[km.Resource, dict[str, Any]]]:
    """A model's Deployment at revision 2 and its two ReplicaSets, as the Deployment
    controller leaves them after one rollout: revision 2's (the pods' owner, serving
    `IMAGE`) and revision 1's (`PREVIOUS_IMAGE`, scaled to 0)."""
    name = deployment_name(model)
    current = replica_set_manifest(fleet, model)
    selector = {k: v for k, v in current["spec"]["selector"]["matchLabels"].items()
                if k != "pod-template-hash"}  # fmt: skip
    serving = deployment(name, len(model.pods), IMAGE, [], labels=selector,
                         container=CONTAINER, revision=2)  # fmt: skip
    out = [(DEPLOYMENTS, serving)]
    for revision, template_hash, image, replicas in (
        (2, current["metadata"]["labels"]["pod-template-hash"], IMAGE, len(model.pods)),
        (1, PREVIOUS_HASH, PREVIOUS_IMAGE, 0),
    ):
        labels = {**selector, "pod-template-hash": template_hash}
        replica_set = json.loads(json.dumps(current))
        meta = replica_set["metadata"]
        meta.update(name=f"{name}-{template_hash}", labels=labels,
                    annotations={REVISION: str(revision)})  # fmt: skip
        if revision != 2:
            meta["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{NAMESPACE}/{meta['name']}"))
        template = deployment(name, 0, image, [], labels=labels, container=CONTAINER)
        replica_set["spec"] = {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template["spec"]["template"],
        }
        out.append((REPLICASETS, replica_set))
    return out


def seed(cluster: ApiServerEmulator, fleet: Fleet, now: float) -> None:
    """Every object of the demo cluster, in ``cluster``."""
    cluster.objects[DEPLOYMENTS, NAMESPACE, "llm-gateway"] = deployment(
        "llm-gateway", 3, "registry.internal/inference-gateway:v41",
        [{"name": "FALLBACK_ENABLED", "value": "false"}],
    )  # fmt: skip
    healthy = scenario("healthy")
    for model in fleet.models:
        for resource, obj in model_objects(fleet, model):
            cluster.objects[resource, NAMESPACE, obj["metadata"]["name"]] = obj
        # Only their owners matter here: the demo reads pod status and logs from the
        # simulation itself, whatever the scenario.
        for pod in model.pods:
            cluster.objects[PODS, NAMESPACE, pod] = pod_manifest(fleet, healthy, pod, 0, now)
    # The gateway canary: its Deployment and the HTTPRoute splitting traffic (at 0 %, as
    # the canary scenarios start; the driver or the keys move it).
    seed_canary(cluster, NAMESPACE, canary_pct=0)
    allowed = {"kind": "SelfSubjectAccessReview", "status": {"allowed": True}}
    cluster["post", SSAR] << {"apiVersion": "authorization.k8s.io/v1", **allowed}


async def serve(port: int | None, kubeconfig: Path) -> None:
    fleet = build_fleet()
    async with ApiServerEmulator() as cluster, km.Server(cluster, port=port) as server:
        seed(cluster, fleet, time.time())
        kubeconfig.write_text(KUBECONFIG.format(url=server.url, namespace=NAMESPACE))
        print(f"Kubernetes API emulator at {server.url}, {len(fleet.models) + 2} Deployments "
              "and the canary's HTTPRoute.")  # fmt: skip
        print(f"KUBECONFIG={kubeconfig} .venv/bin/warroom --demo --scenario gpu-oom "
              "--kube-context warroom-demo", flush=True)  # fmt: skip
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--kubeconfig", type=Path, default=Path("/tmp/warroom-demo.kubeconfig"))
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.kubeconfig))


if __name__ == "__main__":
    main()
