"""Mitigations through the official Kubernetes client: read, plan, dry-run, apply.

Every call runs in a worker thread (the client is synchronous) under a deadline. Objects
are read as the API's own JSON (``_preload_content=False``) so a plan tests exactly the
values the server holds. Every write is a JSON Patch, sent first with
``dryRun=All`` — the server validates and admits it without storing — and only then for
real. A refused ``test`` guard (409, or 422 from the patch's test operation) means the
object changed since it was read: `Conflict`, so the caller re-reads and asks again.
With ``read_only`` no write call leaves this module at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from tui.actions.owners import (
    MAX_PODS,
    Found,
    NoOwner,
    by_explicit_template,
    by_fallback_template,
    by_owner,
    deployment_of,
    pods_in,
    replica_set_of,
    template_collision,
    unreadable,
)
from tui.clock import Clock, WallClock, utc
from tui.config import DEFAULT_MODEL_DEPLOYMENT, MitigationSettings
from tui.domain.mitigations import MITIGATIONS
from tui.domain.model import iso_utc
from tui.domain.plan import (
    FREEZE_ANNOTATION,
    Edit,
    Plan,
    PlanError,
    annotate,
    canary_percent,
    drained_rollback,
    restart,
    route_weights,
    scale,
    scale_plan,
    set_env,
    undo,
)
from tui.kubeclient import display_host, first_line, status_message

if TYPE_CHECKING:
    # Imported where a cluster is talked to: the demo and the cockpit's start-up need
    # only this module's names, not the client's tenth of a second (tui/kubeclient.py).
    from kubernetes import client
    from kubernetes.client.rest import ApiException

T = TypeVar("T")
JSON_PATCH = "application/json-patch+json"
ROUTES = ("gateway.networking.k8s.io", "v1", "httproutes")
"""Gateway API HTTPRoutes (FIELD-NOTES: JSON Patch on the backendRef weights)."""

GATEWAY_ENV = {
    "fallback-on": ("FALLBACK_ENABLED", lambda s: "true"),
    "fallback-off": ("FALLBACK_ENABLED", lambda s: "false"),
    "overflow-routing": ("OVERFLOW_THRESHOLD", lambda s: s.overflow_threshold),
    "request-shedding": ("SHED_RATE", lambda s: s.shed_rate),
}
MODEL_ENV = {"batch-size-cap": ("MAX_BATCH_SIZE", lambda s: s.max_batch_size)}
SUPPORTED = (
    *GATEWAY_ENV,
    *MODEL_ENV,
    "scale-up",
    "scale-down",
    "rollout-restart",
    "rollout-undo",
    "deploy-freeze",
    "deploy-unfreeze",
    "drained-rollback",
)
"""Mitigations this module carries out."""
FREEZES = ("deploy-freeze", "deploy-unfreeze")
MODEL_FREE = (*GATEWAY_ENV, *FREEZES, "drained-rollback")
"""Mitigations on the gateway or the whole namespace: they need no model selected."""


class ActionError(Exception):
    """One sentence: why the mitigation did not (or may not) happen."""

    def __init__(self, sentence: str, status: int | None = None) -> None:
        super().__init__(" ".join(sentence.split()))
        self.status = status
        """The API's HTTP status, when it answered with one."""


class Conflict(ActionError):
    """The object changed between the read and the write: re-read, show, ask again."""


class ReadOnly(ActionError):
    pass


class Mitigator:
    def __init__(
        self,
        api: client.ApiClient,
        settings: MitigationSettings,
        *,
        clock: Clock | None = None,
        context: str | None = None,
    ) -> None:
        from kubernetes import client

        self.api = api
        self.context = context
        """The kubeconfig context's name, shown beside every change; None: the server URL."""
        self._apps = client.AppsV1Api(api)
        self._core = client.CoreV1Api(api)
        self._auth = client.AuthorizationV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self.settings = settings
        self.host = display_host(api.configuration.host)
        self._clock = clock or WallClock()
        self.on_applied: Callable[[dict[str, Any]], None] | None = None
        """Told each object as a real (not dry-run) patch left it: the demo's simulated
        fleet follows the demo cluster through this."""
        self._found: dict[str, Found] = {}
        """Per model, the Deployment its pods' owners named: kept for the session, and
        looked for again only when that Deployment is gone (404)."""

    @property
    def cluster(self) -> str:
        """The kubeconfig context's name, else the API server's URL."""
        return self.context or self.host

    @property
    def place(self) -> str:
        """Where changes land, as the menu and the confirmation name it."""
        return f"{self.cluster} · namespace {self.settings.namespace}"

    # -- planning (reads only)

    async def deployment_for(self, model: str, pods: Sequence[str] = ()) -> Found:
        """The Deployment serving ``model``: the template when the config sets one, else
        the owner of its pods (``pods``: ``namespace/pod``, from Prometheus), else the
        default template, with the one sentence saying why not the owner."""
        template = self.settings.model_deployment
        if template is not None:
            return by_explicit_template(template, model)
        if model in self._found:
            return self._found[model]
        try:
            found = await self._through_owners(model, pods)
        except NoOwner as why:
            return by_fallback_template(model, why)
        self._found[model] = found
        return found

    async def _through_owners(self, model: str, pods: Sequence[str]) -> Found:
        """Pod -> its controller ReplicaSet -> that one's controller Deployment; reads at
        most `MAX_PODS` pods and one ReplicaSet. Raises `NoOwner`."""
        ns = self.settings.namespace
        gone: list[str] = []
        for pod in pods_in(ns, model, pods)[:MAX_PODS]:
            try:
                obj = await self._read_object("Pod", pod, self._core.read_namespaced_pod)
            except ActionError as exc:
                if exc.status == 404:
                    gone.append(f"{ns}/{pod}")  # gone since Prometheus saw it: the next
                    continue
                raise unreadable("pod", f"{ns}/{pod}", exc.status) from None
            rs_name = replica_set_of(obj, f"{ns}/{pod}")
            where = f"{ns}/{rs_name}"
            try:
                rs = await self._read_object(
                    "ReplicaSet", rs_name, self._apps.read_namespaced_replica_set
                )
            except ActionError as exc:
                raise unreadable("ReplicaSet", where, exc.status) from None
            return by_owner(ns, pod, rs_name, deployment_of(rs, where))
        raise NoOwner(f"none of the pods Prometheus named for {model} exists now "
                      f"({', '.join(gone)})")  # fmt: skip

    def _refuse_collision(self, found: Found, model: str, known: Iterable[str]) -> None:
        """`ActionError` when a template named ``found`` and another of the ``known``
        models makes the same name by it: that Deployment may serve the other one."""
        if found.pod is not None:
            return  # its pods' owners named it: no guess from the name
        explicit = self.settings.model_deployment
        template = explicit if explicit is not None else DEFAULT_MODEL_DEPLOYMENT
        why = template_collision(template, model, known, explicit=explicit is not None)
        if why is not None:
            raise ActionError(why)

    async def _model_deployment(
        self, model: str, pods: Sequence[str], known: Iterable[str] = ()
    ) -> tuple[Found, dict[str, Any]]:
        """The model's Deployment as the server holds it, and how it was found. One the
        owners named earlier but that is gone now (404) is looked for again. Refused
        (`ActionError`) when a template names it and another of the ``known`` models
        maps to the same name."""
        known = tuple(known)
        cached = self.settings.model_deployment is None and model in self._found
        found = await self.deployment_for(model, pods)
        self._refuse_collision(found, model, known)
        try:
            return found, await self._read(found.deployment)
        except ActionError as exc:
            if exc.status != 404:
                raise
            if not cached:
                # Which template or owner named a missing Deployment is half the answer.
                raise ActionError(f"{exc} {found.note}", exc.status) from None
        # The Deployment the owners named earlier is gone (replaced, renamed): ask again.
        del self._found[model]
        found = await self.deployment_for(model, pods)
        self._refuse_collision(found, model, known)
        return found, await self._read(found.deployment)

    async def plan(
        self,
        mitigation: str,
        model: str | None = None,
        pods: Sequence[str] = (),
        *,
        known_models: Iterable[str] = (),
    ) -> Plan:
        """What ``mitigation`` would change now, from the objects as the server holds them;
        ``pods`` (``namespace/pod``) are the model's, to find its Deployment through;
        ``known_models``: every model of the latest snapshot, so that a template naming a
        Deployment that another of them maps to as well is refused.
        Raises `ActionError` (unknown, not planned, refused, or the API failed)."""
        s = self.settings
        if mitigation not in SUPPORTED:
            raise ActionError(f"warroom does not carry out {mitigation!r} itself.")
        title = MITIGATIONS[mitigation].title
        try:
            if mitigation in GATEWAY_ENV:
                name, value = GATEWAY_ENV[mitigation]
                gateway = await self._read(s.gateway_deployment)
                edit = set_env(gateway, name, value(s), container=s.gateway_container)
                return Plan(mitigation, title, (edit,))
            if mitigation in FREEZES:
                value = "true" if mitigation == "deploy-freeze" else None
                edits = tuple(annotate(d, FREEZE_ANNOTATION, value) for d in await self._list())
                if not edits:
                    raise ActionError(f"There is no Deployment in namespace {s.namespace}.")
                return Plan(mitigation, title, edits)
            if mitigation == "drained-rollback":
                return await self.drained_rollback()
            if model is None:
                raise ActionError(f"{title} needs a model: select one in the table first.")
            found, deployment = await self._model_deployment(model, pods, known_models)
            plan = await self._model_plan(mitigation, deployment, model)
        except PlanError as exc:
            raise ActionError(str(exc)) from None
        if plan.pending:
            await self._may_patch(found.deployment)
        return replace(plan, notes=(*plan.notes, found.note))

    async def _model_plan(self, mitigation: str, deployment: dict[str, Any], model: str) -> Plan:
        """A mitigation on one model's Deployment, as read. Raises `PlanError`."""
        s = self.settings
        title = MITIGATIONS[mitigation].title
        if mitigation in MODEL_ENV:
            name, value = MODEL_ENV[mitigation]
            edit = set_env(deployment, name, value(s), container=s.model_container)
            return Plan(mitigation, title, (edit,))
        if mitigation in ("scale-up", "scale-down"):
            return scale_plan(mitigation, deployment, s.scale_step, model)
        if mitigation == "rollout-restart":
            at = iso_utc(utc(self._clock.now()))
            return Plan(mitigation, title, (restart(deployment, at),))
        owned = await self._replica_sets()
        return Plan(mitigation, title, (undo(deployment, owned),), destructive=True)

    async def replicas(
        self, model: str, pods: Sequence[str] = (), *, known_models: Iterable[str] = ()
    ) -> int:
        """The replicas the model's Deployment asks for now (its spec), for the menu to
        say what a scale changes in numbers. Raises `ActionError`."""
        try:
            _, deployment = await self._model_deployment(model, pods, known_models)
        except PlanError as exc:
            raise ActionError(str(exc)) from None
        return int(deployment["spec"].get("replicas", 1))

    async def drained_rollback(self) -> Plan:
        """Canary weight to 0, a drain, then the canary's replicas to 0."""
        s = self.settings
        shift = await self.plan_weight(0)
        down = scale(await self._read(s.canary_deployment), 0)
        return drained_rollback(shift.edits, down, title=MITIGATIONS["drained-rollback"].title,
                                timeout_s=s.drain_timeout_s, poll_s=s.drain_poll_s)  # fmt: skip

    async def plan_weight(self, canary_pct: int) -> Plan:
        """The route edit that puts ``canary_pct`` % of traffic on the canary."""
        s = self.settings
        try:
            edit = route_weights(await self.read_route(), s.stable_backend, s.canary_backend,
                                 canary_pct, rule=s.canary_route_rule)  # fmt: skip
        except PlanError as exc:
            raise ActionError(str(exc)) from None
        return Plan("canary-weight", f"Send {canary_pct} % of traffic to the canary", (edit,))

    async def plan_canary_scale(self, replicas: int) -> Plan:
        edit = scale(await self._read(self.settings.canary_deployment), replicas)
        title = f"Scale the canary to {replicas}"
        return Plan("canary-scale", title, (edit,), destructive=replicas == 0)

    async def canary_weight(self) -> int:
        """The canary's share of the route's traffic now, in percent."""
        s = self.settings
        route = await self.read_route()
        return canary_percent(route, s.stable_backend, s.canary_backend, rule=s.canary_route_rule)

    async def read_route(self) -> dict[str, Any]:
        ns, name = self.settings.namespace, self.settings.canary_route
        route = await self.request(
            f"reading HTTPRoute {ns}/{name}",
            self._custom.get_namespaced_custom_object,
            *ROUTES[:2],
            ns,
            ROUTES[2],
            name,
        )
        route.setdefault("kind", "HTTPRoute")
        return route

    # -- writing

    async def dry_run(self, plan: Plan) -> None:
        """Send every pending patch with ``dryRun=All``: the server's admission and
        validation, nothing stored."""
        for edit in plan.pending:
            await self._patch(edit, dry_run=True)

    async def apply(self, plan: Plan) -> None:
        """The real patches, in order. A failure part way names what was done."""
        done: list[str] = []
        for edit in plan.pending:
            try:
                await self._patch(edit, dry_run=False)
            except ActionError as exc:
                if not done:
                    raise
                raise type(exc)(f"{exc} Already changed: {', '.join(done)}.", exc.status) from None
            done.append(str(edit.target))

    async def _patch(self, edit: Edit, *, dry_run: bool) -> None:
        if self.settings.read_only:
            raise ReadOnly("warroom runs read-only: no change is sent to the cluster.")
        name, ns = edit.target.name, edit.target.namespace
        what = f"patching {edit.target}" + (" (dry run)" if dry_run else "")
        options: dict[str, Any] = {
            "dry_run": "All" if dry_run else None,
            "_content_type": JSON_PATCH,
        }
        if edit.target.kind == "HTTPRoute":
            group, version, plural = ROUTES
            method = self._custom.patch_namespaced_custom_object
            args: tuple[Any, ...] = (group, version, ns, plural, name, list(edit.patch))
        else:
            method = self._apps.patch_namespaced_deployment
            args = (name, ns, list(edit.patch))
        result = await self.request(what, method, *args, **options)
        if not dry_run and self.on_applied is not None and result:
            result.setdefault("kind", edit.target.kind)
            self.on_applied(result)

    # -- permissions

    async def permissions(self, mitigations: Sequence[str] = SUPPORTED) -> dict[str, str | None]:
        """For each mitigation: None when this user may carry it out, else why not (RBAC,
        read-only, or the check itself failing). One SelfSubjectAccessReview per verb."""
        if self.settings.read_only:
            return dict.fromkeys(mitigations, "warroom runs read-only.")
        ns = self.settings.namespace
        # Namespace-wide: allowed, it covers whichever Deployment a model's pods lead to;
        # `plan` asks again about the one it found, by name, before offering the change.
        patch = await self._can("patch", "deployments", ns)
        list_deployments = await self._can("list", "deployments", ns)
        list_replica_sets = await self._can("list", "replicasets", ns)
        # The action lock: a Lease created before and deleted after every action. One
        # that may be created but not deleted would hold every later mitigation off for
        # the lease's length, so both are asked before anything is offered.
        lease = await self._can("create", "leases", ns, group="coordination.k8s.io") or (
            await self._can("delete", "leases", ns, group="coordination.k8s.io")
        )
        routes = None
        if "drained-rollback" in mitigations:
            routes = await self._can("patch", "httproutes", ns, group=ROUTES[0])
        out: dict[str, str | None] = {}
        for m in mitigations:
            why = patch or lease
            if m == "drained-rollback":
                why = why or routes
            if m in FREEZES:
                why = why or list_deployments
            if m == "rollout-undo":
                why = why or list_replica_sets
            out[m] = why
        return out

    async def _can(
        self, verb: str, resource: str, namespace: str, group: str = "apps"
    ) -> str | None:
        try:
            status = await self._review(verb, resource, namespace, group)
        except ActionError as exc:
            return f"The permission check failed: {exc}"
        if status.get("allowed"):
            return None
        reason = status.get("reason") or ""
        return f"RBAC does not allow {verb} on {resource} in {namespace}" + (
            f" ({reason})." if reason else "."
        )

    async def _may_patch(self, deployment: str) -> None:
        """Raises `ActionError` when the cluster says this user may not patch this very
        Deployment: an authorizer may answer per name (``resourceAttributes.name``)
        where the start-up check asked about the whole namespace."""
        if self.settings.read_only:
            return  # the write path says so, and read-only asks the cluster nothing
        ns = self.settings.namespace
        try:
            status = await self._review("patch", "deployments", ns, "apps", deployment)
        except ActionError:
            # The dry run meets the same authorizer before anything is stored.
            return
        if status.get("allowed"):
            return
        reason = status.get("reason") or ""
        raise ActionError(
            f"RBAC does not allow patch on Deployment {ns}/{deployment}"
            + (f" ({reason})." if reason else "."),
            403,
        )

    async def _review(
        self, verb: str, resource: str, namespace: str, group: str, name: str | None = None
    ) -> dict[str, Any]:
        """A SelfSubjectAccessReview's ``status`` (``allowed``, ``reason``); ``name``
        narrows it to one object (``spec.resourceAttributes.name``)."""
        attributes = {"verb": verb, "group": group, "resource": resource,
                      "namespace": namespace}  # fmt: skip
        if name is not None:
            attributes["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        answer = await self.request(
            f"checking permission to {verb} {resource}",
            self._auth.create_self_subject_access_review,
            body,
        )
        return answer.get("status") or {}

    # -- reads

    async def _read(self, name: str) -> dict[str, Any]:
        return await self._read_object("Deployment", name, self._apps.read_namespaced_deployment)

    async def _read_object(
        self, kind: str, name: str, method: Callable[..., Any]
    ) -> dict[str, Any]:
        """One object of the namespace (``method`` is the client's ``read_namespaced_*``)."""
        ns = self.settings.namespace
        return await self.request(f"reading {kind} {ns}/{name}", method, name, ns)

    async def _list(self) -> list[dict[str, Any]]:
        ns = self.settings.namespace
        what = f"listing Deployments in {ns}"
        items = (await self.request(what, self._apps.list_namespaced_deployment, ns)).get("items")
        for item in items or []:
            # A list's items carry no kind of their own.
            item.setdefault("kind", "Deployment")
        return items or []

    async def _replica_sets(self) -> list[dict[str, Any]]:
        ns = self.settings.namespace
        what = f"listing ReplicaSets in {ns}"
        listing = await self.request(what, self._apps.list_namespaced_replica_set, ns)
        return listing.get("items") or []

    async def request(
        self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """One client call (``method(*args, **kwargs)``) under the timeout, answered as the
        API's own JSON object; a failure as `ActionError` naming ``what``."""

        def call() -> Any:
            return method(
                *args, _request_timeout=self.settings.timeout_s, _preload_content=False, **kwargs
            )

        response = await self.call(call, what)
        # A delete or a patch may answer with no body worth reading.
        return json_object(response) if response.data else {}

    async def call(self, fn: Callable[[], T], what: str) -> T:
        """``fn`` (a client call) in a worker thread under the deadline; its failure as
        `ActionError` with one sentence naming ``what`` was being done."""
        deadline = self.settings.timeout_s * 1.25 + 0.05
        import urllib3
        from kubernetes.client.rest import ApiException

        try:
            return await asyncio.wait_for(asyncio.to_thread(fn), deadline)
        except ApiException as exc:
            failure = self._failure(exc, what)
            failure.status = exc.status
            raise failure from None
        except TimeoutError:
            raise self._timed_out(what) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
            # urllib3's own timeout fires before the deadline on a write (it retries no
            # PATCH): the server was reached but did not answer. A refused connection is
            # a kind of connect timeout to urllib3, so it is asked first.
            refused = isinstance(reason, urllib3.exceptions.NewConnectionError)
            if isinstance(reason, urllib3.exceptions.TimeoutError) and not refused:
                raise self._timed_out(what) from None
            raise ActionError(
                f"The Kubernetes API at {self.host} could not be reached while {what} "
                f"({_unreachable_reason(reason)}); check that the cluster is up."
            ) from None

    def _timed_out(self, what: str) -> ActionError:
        return ActionError(
            f"The Kubernetes API at {self.host} did not answer within "
            f"{self.settings.timeout_s:g} s while {what}; nothing is known to have changed."
        )

    def _failure(self, exc: ApiException, what: str) -> ActionError:
        status, message = exc.status, status_message(exc)
        detail = f" ({message})" if message else ""
        if status == 401:
            return ActionError(
                f"The Kubernetes API at {self.host} rejected the credentials (401) while {what}; "
                "refresh the kubeconfig's token."
            )
        if status == 403:
            return ActionError(f"Kubernetes RBAC forbids {what} (403){detail}.")
        # A 404's body is the server's, not a sentence for the engineer (a resource path,
        # an emulator's advice): what was asked for says it all. No "[mitigations]": a
        # toast reads brackets as markup and drops the word.
        if status == 404 and what.startswith("listing "):
            # A list answers 200 in an empty namespace: a 404 is a kind not served at all.
            return ActionError(
                f"The Kubernetes API at {self.host} has no {what.removeprefix('listing ')} "
                "(404); check that it serves that kind, and the namespace under mitigations "
                "in the config."
            )
        if status == 404:
            return ActionError(
                f"Not found while {what} (404); check the namespace and names under "
                "mitigations in the config."
            )
        if status in (409, 422) and "patching" in what:
            return Conflict(
                f"The object changed since warroom read it ({status}) while {what}{detail}; "
                "read it again and confirm the new change."
            )
        return ActionError(
            f"The Kubernetes API at {self.host} failed {what} ({status} {exc.reason}){detail}."
        )


def _unreachable_reason(reason: object) -> str:
    """Why a connection failed, in a few words: urllib3's text names a connection object
    and an errno, which say nothing to the engineer."""
    text = str(reason)
    if isinstance(reason, ConnectionRefusedError) or "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    return first_line(text)


def json_object(response: Any) -> dict[str, Any]:
    """The body of a ``_preload_content=False`` answer as a JSON object."""
    data = response.data if hasattr(response, "data") else response
    try:
        parsed = json.loads(data)
    except (TypeError, ValueError):
        raise ActionError("The Kubernetes API answered with something that is not JSON.") from None
    if not isinstance(parsed, dict):
        raise ActionError("The Kubernetes API answered with something that is not an object.")
    return parsed
