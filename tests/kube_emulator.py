"""kmock's Kubernetes emulator taught three things a real API server does, for the
mitigation tests and for `scripts/demo-cluster.py` (a cluster for `warroom --demo`).

Imported as ``kube_emulator``: pytest puts ``tests/`` on ``sys.path``, and the script
does the same.
"""

from __future__ import annotations

import json
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

    - ``dryRun=All``: run the patch (its ``test`` guards included) against a copy, answer
      with the result, store nothing;
    - a request answered with an error (a scripted 403 or 409) changes nothing;
    - a SelfSubjectAccessReview is a question, not an object to keep.
    """

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
            return aiohttp.web.json_response(would_be)
        response = await super()._handle(request)
        if response.status >= 400:
            self.objects[key] = before
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
