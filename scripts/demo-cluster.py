"""A Kubernetes API for trying mitigations on the demo: kmock's emulator (a real HTTP
server, the test extra) holding the simulated fleet's Deployments — `llm-gateway` and a
`vllm-<model>` per model, the canary `llm-gateway-canary` and the HTTPRoute `llm-gateway`
splitting traffic between them, in namespace `inference` — and answering access reviews
with "allowed". Each model's pods and ReplicaSet are there too, each naming its owner
(``metadata.ownerReferences``), so warroom finds a model's Deployment through its pods as
it does on a real cluster.

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
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import kmock as km  # noqa: E402
from kube_emulator import SSAR, ApiServerEmulator, seed_canary  # noqa: E402

from tui.actions.plan import REVISION  # noqa: E402
from tui.sim.fleet import NAMESPACE, build_fleet  # noqa: E402
from tui.sim.pods import deployment_name, pod_manifest, replica_set_manifest  # noqa: E402
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


def deployment(name: str, replicas: int, image: str, env: list[dict[str, str]]) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": {REVISION: "1"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": image, "env": env}]},
            },
        },
    }


async def serve(port: int | None, kubeconfig: Path) -> None:
    fleet = build_fleet()
    async with ApiServerEmulator() as cluster, km.Server(cluster, port=port) as server:
        cluster.objects[DEPLOYMENTS, NAMESPACE, "llm-gateway"] = deployment(
            "llm-gateway", 3, "registry.internal/inference-gateway:v41",
            [{"name": "FALLBACK_ENABLED", "value": "false"}],
        )  # fmt: skip
        healthy, now = scenario("healthy"), time.time()
        for model in fleet.models:
            name = deployment_name(model)
            cluster.objects[DEPLOYMENTS, NAMESPACE, name] = deployment(
                name, len(model.pods), "vllm/vllm-openai:v0.6.3", []
            )
            replica_set = replica_set_manifest(fleet, model)
            cluster.objects[REPLICASETS, NAMESPACE, replica_set["metadata"]["name"]] = replica_set
            # Only their owners matter here: the demo reads pod status and logs from the
            # simulation itself, whatever the scenario.
            for pod in model.pods:
                cluster.objects[PODS, NAMESPACE, pod] = pod_manifest(fleet, healthy, pod, 0, now)
        # The gateway canary: its Deployment and the HTTPRoute splitting traffic (at 0 %,
        # as the canary scenarios start; the driver or the keys move it).
        seed_canary(cluster, NAMESPACE, canary_pct=0)
        allowed = {"kind": "SelfSubjectAccessReview", "status": {"allowed": True}}
        cluster["post", SSAR] << {"apiVersion": "authorization.k8s.io/v1", **allowed}
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
