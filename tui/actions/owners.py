"""Which Deployment serves a model: found through its pods' owners, not guessed from its name.

A served model's name (``meta-llama/Llama-3.1-8B-Instruct``) says nothing about the
Deployment behind it. Its pods do: Prometheus knows them (vLLM's per-pod series carry
``model_name``, ``namespace`` and ``pod``, see `Snapshot.model_pods`), and the Kubernetes
API records who made each object in ``metadata.ownerReferences`` (ObjectMeta, an
OwnerReference list: ``apiVersion``, ``kind``, ``name``, ``uid``, ``controller``). A
Deployment's pod names its ReplicaSet there, with ``controller: true``; the ReplicaSet
names its Deployment the same way.

Pure functions only: `tui.actions.kube` does the reading. Each refusal is a `NoOwner`
carrying a clause that fits after "as", for the one sentence the confirmation shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.config import DEFAULT_MODEL_DEPLOYMENT
from tui.domain.plan import dns_name

MAX_PODS = 3
"""Pods read at most for one model: the first that exists answers for all of them (one
Deployment's pods share its owners); the others stand in only for pods that have gone
since Prometheus last saw them (a restart, a rollout)."""


class NoOwner(Exception):
    """Why the owners name no Deployment, as a clause: ``pod inference/x has no owner``."""


@dataclass(frozen=True, slots=True)
class Found:
    """The Deployment a model's mitigations act on, and how its name was found."""

    deployment: str
    note: str
    """One sentence for the confirmation: the pod whose owner named it, or the template."""
    pod: str | None = None
    """The pod whose owners named it; None when a template named it."""


def template_name(template: str, model: str) -> str:
    return template.format(model=dns_name(model))


def template_collision(
    template: str, model: str, known: Iterable[str], *, explicit: bool
) -> str | None:
    """One sentence when another of the ``known`` models makes the same Deployment name
    as ``model`` by ``template`` (``LLAMA_3.1_70B`` and ``llama-3.1-70b``): a mitigation
    of one would change the Deployment serving the other. None when none does."""
    name = template_name(template, model)
    others = sorted({k for k in known if k != model and template_name(template, k) == name})
    if not others:
        return None
    rows = [repr(m) for m in (model, *others)]
    who = f"{rows[0]} and {rows[1]} both" if len(rows) == 2 else (
        f"{', '.join(rows[:-1])} and {rows[-1]} all")  # fmt: skip
    fix = ("unset mitigations.model_deployment" if explicit
           else "set mitigations.model_deployment")  # fmt: skip
    return (f"Models {who} map to Deployment {name} by the template; {fix} or label the "
            "pods so warroom finds the Deployment through their owners.")  # fmt: skip


def by_explicit_template(template: str, model: str) -> Found:
    note = f"Deployment named by the template {template!r} set in mitigations.model_deployment."
    return Found(template_name(template, model), note)


def by_fallback_template(model: str, why: NoOwner) -> Found:
    return Found(
        template_name(DEFAULT_MODEL_DEPLOYMENT, model),
        f"Deployment named by the template {DEFAULT_MODEL_DEPLOYMENT!r}, as {why}.",
    )


def by_owner(namespace: str, pod: str, replica_set: str, deployment: str) -> Found:
    note = f"Deployment found through pod {namespace}/{pod}'s owner, ReplicaSet {replica_set}."
    return Found(deployment, note, pod)


def pods_in(namespace: str, model: str, pods: Iterable[str]) -> list[str]:
    """The names of ``model``'s pods (given as ``namespace/pod``) in ``namespace``, sorted
    so that the same pods are read every time; `NoOwner` when there are none there."""
    split = [p.partition("/") for p in pods]
    here = sorted({name for ns, _, name in split if ns == namespace and name})
    if here:
        return here
    elsewhere = sorted({ns for ns, _, name in split if name})
    if elsewhere:
        # Mitigations act in one namespace (its RBAC and action lock are checked there):
        # a Deployment elsewhere is not one they may touch.
        raise NoOwner(
            f"the pods of {model} are in namespace {', '.join(elsewhere)}, not {namespace}"
        )
    raise NoOwner(f"no pod of {model} is known from its model-server series in Prometheus")


def controller(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(kind, name)`` of the object's managing controller: the entry of
    ``metadata.ownerReferences`` with ``controller: true`` (the API allows at most one)."""
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    for ref in owners:
        if isinstance(ref, Mapping) and ref.get("controller") is True and ref.get("name"):
            return str(ref.get("kind") or ""), str(ref["name"])
    return None


def replica_set_of(pod: Mapping[str, Any], where: str) -> str:
    """The ReplicaSet that made ``pod`` (``where``: its ``namespace/name``)."""
    owner = controller(pod)
    if owner is None:
        raise NoOwner(f"pod {where} has no owner (a bare pod)")
    kind, name = owner
    if kind != "ReplicaSet":
        # A StatefulSet, a DaemonSet, a Job, a LeaderWorkerSet: none is scaled or rolled
        # back the way these mitigations patch a Deployment.
        raise NoOwner(f"pod {where} is owned by {kind or 'an object of no kind'} {name}, "
                      "not by a Deployment's ReplicaSet")  # fmt: skip
    return name


def deployment_of(replica_set: Mapping[str, Any], where: str) -> str:
    """The Deployment that owns ``replica_set`` (``where``: its ``namespace/name``)."""
    owner = controller(replica_set)
    if owner is None:
        raise NoOwner(f"ReplicaSet {where} has no owner")
    kind, name = owner
    if kind != "Deployment":
        # E.g. an Argo Rollout, which owns ReplicaSets itself and reverts a patched one.
        raise NoOwner(f"ReplicaSet {where} is owned by {kind or 'an object of no kind'} "
                      f"{name}, not by a Deployment")  # fmt: skip
    return name


def unreadable(kind: str, where: str, status: int | None) -> NoOwner:
    """Why an owner was not learnt when reading ``kind`` ``where`` failed with ``status``
    (None: no answer in time, or none at all)."""
    if status == 403:
        return NoOwner(f"RBAC forbids reading {kind} {where} (403)")
    if status == 404:
        return NoOwner(f"{kind} {where} does not exist (404)")
    answer = f" ({status})" if status else ": the API did not answer"
    return NoOwner(f"{kind} {where} could not be read{answer}")
