"""kmock's Kubernetes emulator taught three things a real API server does, for the
mitigation tests and for `scripts/demo-cluster.py` (a cluster for `warroom --demo`).

Imported as ``kube_emulator``: pytest puts ``tests/`` on ``sys.path``, and the script
does the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp.web
import jsonpatch
import jsonpointer
import kmock as km

SSAR = km.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews")


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    """A Kubernetes ``Status`` failure body."""
    return {"apiVersion": "v1", "kind": "Status", "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip


class ApiServerEmulator(km.KubernetesEmulator):
    """kmock's emulator plus three things a real API server does that kmock does not (it
    stores every modifying request before any scripted reaction runs):

    - ``dryRun=All``: scripted reactions answer it as the real request, and the patch (its
      ``test`` guards included) runs against a copy: the result is answered, nothing stored;
    - a request answered with an error (a scripted 403 or 409) changes nothing;
    - a SelfSubjectAccessReview is a question, not an object to keep.

    It also tells `followers` about every patch it stores, so a simulated fleet can react
    to the cluster as pods react to a real one (the canary's route weight and replicas).
    """

    followers: list[Callable[[km.Resource, dict[str, Any]], None]]

    def follow(self, callback: Callable[[km.Resource, dict[str, Any]], None]) -> None:
        """Call ``callback(resource, object)`` after each stored (not dry-run) patch."""
        if not hasattr(self, "followers"):
            self.followers = []
        self.followers.append(callback)

    async def _handle(self, request: km.Request) -> Any:
        if request.resource == SSAR:
            return await km.KubernetesScaffold._handle(self, request)
        key = (request.resource, request.namespace, request.name)
        if request.method.value != "PATCH" or key not in self.objects:
            return await super()._handle(request)
        before = json.loads(json.dumps(self.objects[key].raw))
        if request.params.get("dryRun") == "All":
            try:
                would_be = jsonpatch.apply_patch(before, request.data)
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                body = status(422, "Invalid", f"the dry run of the patch failed: {exc}")
                return aiohttp.web.json_response(body, status=422)
            # Scripted reactions (a 403, a 409) answer a dry run as they would the real
            # request — RBAC and admission run on both — and nothing is kept either way,
            # not even when the client gives up first (its timeout cancels this handler).
            try:
                response = await super()._handle(request)
            finally:
                self.objects[key] = before
            if response.status >= 400:
                return response
            return aiohttp.web.json_response(would_be)
        response = await super()._handle(request)
        if response.status >= 400:
            self.objects[key] = before
        else:
            stored = json.loads(json.dumps(self.objects[key].raw))
            for callback in getattr(self, "followers", []):
                callback(request.resource, stored)
        return response


def answer_access_reviews(kmock: Any, denied: set[tuple[str, str]]) -> None:
    """SelfSubjectAccessReviews answered "allowed" except for the (verb, resource) pairs in
    ``denied`` — a set the test may change later."""

    def review(request: km.Request) -> dict[str, Any]:
        attrs = request.data["spec"]["resourceAttributes"]
        allowed = (attrs["verb"], attrs["resource"]) not in denied
        return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "status": {"allowed": allowed, "reason": "" if allowed else "no rule"}}  # fmt: skip

    kmock["post", SSAR] << review


ROUTES = km.resource("gateway.networking.k8s.io", "v1", "httproutes")
DEPLOYMENTS = km.resource("apps", "v1", "deployments")


def http_route(namespace: str, stable_weight: int, canary_weight: int) -> dict[str, Any]:
    """The Gateway API route splitting the inference API between the stable gateway and
    its canary, as `[mitigations]` names them by default."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "llm-gateway", "namespace": namespace},
        "spec": {
            "parentRefs": [{"name": "inference-gateway"}],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
                "backendRefs": [
                    {"name": "llm-gateway", "port": 8080, "weight": stable_weight},
                    {"name": "llm-gateway-canary", "port": 8080, "weight": canary_weight},
                ],
            }],
        },
    }  # fmt: skip


def gateway_deployment(namespace: str, name: str, replicas: int, image: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace,
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "gateway", "image": image}]}},
        },
    }  # fmt: skip


def seed_canary(kmock: Any, namespace: str, canary_pct: int = 0, replicas: int = 2) -> None:
    """The route and the canary's Deployment, the canary at ``canary_pct`` %."""
    kmock.objects[ROUTES, namespace, "llm-gateway"] = http_route(
        namespace, 100 - canary_pct, canary_pct
    )
    kmock.objects[DEPLOYMENTS, namespace, "llm-gateway-canary"] = gateway_deployment(
        namespace, "llm-gateway-canary", replicas, "registry.internal/inference-gateway:v2.14.0"
    )
