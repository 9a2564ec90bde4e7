"""What a mitigation will change, worked out before anything is sent: pure functions from
the objects as read to a `Plan`.

A plan names every field it changes, old -> new, which the confirmation shows word for
word, and carries the JSON Patch that makes exactly that change. Each patch starts with
``test`` operations on the values it read: if someone changed the object in between,
the API server refuses the patch instead of overwriting their change (FIELD-NOTES:
JSON Patch, never strategic merge, which would replace a container list wholesale).

A plan whose changes are all already in place is a no-op that says so: pressing the
fallback key twice turns fallback on once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.domain.format import printable
from tui.domain.mitigations import MITIGATIONS, scale_title, scaled_to, stops_serving

UNSET = "(unset)"
FREEZE_ANNOTATION = "warroom.io/deploy-freeze"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
"""The annotation `kubectl rollout restart` sets: the same rolling restart, recognised by
every tool that reads it."""
REVISION = "deployment.kubernetes.io/revision"


class PlanError(ValueError):
    """One sentence: why this mitigation cannot be planned against these objects."""


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    """In the SRE's words: ``env FALLBACK_ENABLED (container gateway)``, ``replicas``."""
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.field}: {self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class Edit:
    """The changes to one object and the patch that makes them."""

    target: Target
    changes: tuple[Change, ...]
    patch: tuple[dict[str, Any], ...]
    """JSON Patch operations, ``test`` guards first."""

    @property
    def noop(self) -> bool:
        return not self.changes


@dataclass(frozen=True, slots=True)
class Drain:
    """A wait between a plan's edits: the first ``after`` edits stop new traffic, then the
    in-flight requests get up to ``timeout_s`` to finish before the rest run."""

    after: int
    timeout_s: float
    poll_s: float = 2.0

    def __str__(self) -> str:
        return f"then wait up to {self.timeout_s:g} s for in-flight requests to finish"


@dataclass(frozen=True, slots=True)
class Plan:
    mitigation: str
    title: str
    edits: tuple[Edit, ...]
    destructive: bool = False
    """Asks for a typed confirmation: a rollback, or scaling something to zero."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    drain: Drain | None = None

    @property
    def noop(self) -> bool:
        return all(e.noop for e in self.edits)

    def phases(self) -> tuple[Plan, Plan | None]:
        """(before the drain, after it); the second is None without a drain."""
        if self.drain is None:
            return self, None
        first = Plan(self.mitigation, self.title, self.edits[: self.drain.after])
        rest = Plan(self.mitigation, self.title, self.edits[self.drain.after :])
        return first, rest

    @property
    def pending(self) -> tuple[Edit, ...]:
        """The edits that change something."""
        return tuple(e for e in self.edits if not e.noop)

    def lines(self) -> list[str]:
        """What the confirmation shows: one line per changed field, object first, and the
        drain where it happens."""
        out = []
        for i, edit in enumerate(self.edits):
            if self.drain is not None and i == self.drain.after:
                out.append(
                    f"then wait up to {self.drain.timeout_s:g} s for in-flight requests to finish"
                )
            out += [f"{edit.target}: {c}" for c in edit.changes]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "mitigation": self.mitigation,
            "title": self.title,
            "destructive": self.destructive,
            "changes": [
                {"object": str(e.target), "field": c.field, "old": c.old, "new": c.new}
                for e in self.pending
                for c in e.changes
            ],
        }


def pointer(*parts: str | int) -> str:
    """A JSON Pointer (RFC 6901): ``~`` and ``/`` in a key are escaped."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def dns_name(text: str) -> str:
    """``Llama-3.1-70B`` -> ``llama-3-1-70b``: a model name as Kubernetes names allow."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


def _target(obj: Mapping[str, Any]) -> Target:
    meta = obj.get("metadata") or {}
    return Target(str(obj.get("kind") or "Deployment"), meta.get("namespace", ""), meta["name"])


def _container(obj: Mapping[str, Any], name: str | None) -> tuple[int, dict[str, Any]]:
    containers = obj["spec"]["template"]["spec"]["containers"]
    if name is None:
        return 0, containers[0]
    for i, c in enumerate(containers):
        if c.get("name") == name:
            return i, c
    have = ", ".join(str(c.get("name")) for c in containers)
    raise PlanError(f"{_target(obj)} has no container {name!r} (it has {have}).")


def set_env(obj: Mapping[str, Any], name: str, value: str, *, container: str | None = None) -> Edit:
    """Set one environment variable of one container, guarded by the value read."""
    target = _target(obj)
    i, c = _container(obj, container)
    base = ("spec", "template", "spec", "containers", i)
    guard = {"op": "test", "path": pointer(*base, "name"), "value": c["name"]}
    env = c.get("env")
    field_name = f"env {name} (container {c['name']})"
    if env is None:
        change = Change(field_name, UNSET, value)
        ops = [guard, {"op": "add", "path": pointer(*base, "env"),
                       "value": [{"name": name, "value": value}]}]  # fmt: skip
        return Edit(target, (change,), tuple(ops))
    for j, var in enumerate(env):
        if var.get("name") != name:
            continue
        if "valueFrom" in var:
            raise PlanError(
                f"{target} takes {name} from a ConfigMap or Secret (valueFrom); change it there."
            )
        old = var.get("value")
        if old == value:
            return Edit(target, (), ())
        path = pointer(*base, "env", j)
        ops = [
            guard,
            {"op": "test", "path": path, "value": var},
            {"op": "replace", "path": path + "/value", "value": value},
        ]
        return Edit(target, (Change(field_name, UNSET if old is None else old, value),), tuple(ops))
    ops = [
        guard,
        {"op": "test", "path": pointer(*base, "env"), "value": env},
        {"op": "add", "path": pointer(*base, "env", "-"), "value": {"name": name, "value": value}},
    ]
    return Edit(target, (Change(field_name, UNSET, value),), tuple(ops))


def scale(obj: Mapping[str, Any], replicas: int) -> Edit:
    target = _target(obj)
    old = int(obj["spec"].get("replicas", 1))
    new = max(0, replicas)
    if new == old:
        return Edit(target, (), ())
    ops = (
        {"op": "test", "path": "/spec/replicas", "value": old},
        {"op": "replace", "path": "/spec/replicas", "value": new},
    )
    return Edit(target, (Change("replicas", str(old), str(new)),), ops)


def scale_plan(mitigation: str, obj: Mapping[str, Any], step: int, model: str) -> Plan:
    """``scale-up`` or ``scale-down`` of the model's Deployment by ``step`` replicas, titled
    in numbers (``Scale llama-3 from 4 to 6 replicas``). A scale to zero stops the model
    serving: the confirmation says so and asks for the name typed."""
    old = int(obj["spec"].get("replicas", 1))
    new = scaled_to(mitigation, old, step)
    edit = scale(obj, new)
    to_zero = bool(edit.changes) and new == 0
    name = printable(model)
    return Plan(
        mitigation,
        scale_title(name, old, new) if edit.changes else MITIGATIONS[mitigation].title,
        (edit,),
        destructive=to_zero,
        notes=(stops_serving(name),) if to_zero else (),
    )


def annotate(obj: Mapping[str, Any], key: str, value: str | None) -> Edit:
    """Set (or with None, remove) one annotation on the object itself."""
    target = _target(obj)
    annotations = (obj.get("metadata") or {}).get("annotations")
    old = (annotations or {}).get(key)
    if old == value:
        return Edit(target, (), ())
    path = pointer("metadata", "annotations", key)
    change = Change(f"annotation {key}", UNSET if old is None else old,
                    UNSET if value is None else value)  # fmt: skip
    ops: tuple[dict[str, Any], ...]
    if value is None:
        ops = ({"op": "test", "path": path, "value": old}, {"op": "remove", "path": path})
    elif annotations is None:
        ops = ({"op": "add", "path": "/metadata/annotations", "value": {key: value}},)
    else:
        ops = ({"op": "add", "path": path, "value": value},)  # adds, or replaces (RFC 6902)
    return Edit(target, (change,), ops)


def restart(obj: Mapping[str, Any], at: str) -> Edit:
    """A rolling restart: a new pod-template annotation, as `kubectl rollout restart`."""
    target = _target(obj)
    template_meta = obj["spec"]["template"].get("metadata") or {}
    annotations = template_meta.get("annotations")
    old = (annotations or {}).get(RESTARTED_AT)
    base = ("spec", "template", "metadata", "annotations")
    if annotations is None:
        op = {"op": "add", "path": pointer(*base), "value": {RESTARTED_AT: at}}
    else:
        # "add" on a member that exists replaces it (RFC 6902).
        op = {"op": "add", "path": pointer(*base, RESTARTED_AT), "value": at}
    change = Change(f"pod template annotation {RESTARTED_AT}", old or UNSET, at)
    return Edit(target, (change,), (op,))


def undo(obj: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]]) -> Edit:
    """Back to the previous revision's pod template: what `kubectl rollout undo` does, from
    the Deployment's own ReplicaSets (the client has no undo)."""
    target = _target(obj)
    current = (obj.get("metadata") or {}).get("annotations", {}).get(REVISION)
    owned = []
    for rs in replica_sets:
        meta = rs.get("metadata") or {}
        owners = meta.get("ownerReferences") or meta.get("owner_references") or []
        revision = (meta.get("annotations") or {}).get(REVISION)
        if revision is not None and any(o.get("name") == target.name for o in owners):
            owned.append((int(revision), rs))
    earlier = sorted((r for r in owned if str(r[0]) != str(current)), key=lambda r: r[0])
    if current is None or not earlier:
        raise PlanError(f"{target} has no earlier revision to roll back to.")
    revision, rs = earlier[-1]
    template = dict(rs["spec"]["template"])
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.pop("pod-template-hash", None)
    template["metadata"] = {**(template.get("metadata") or {}), "labels": labels}
    ops = (
        {"op": "test", "path": pointer("metadata", "annotations", REVISION), "value": current},
        {"op": "replace", "path": "/spec/template", "value": template},
    )
    images = lambda t: ", ".join(c.get("image", "?") for c in t["spec"]["containers"])  # noqa: E731
    change = Change("pod template (revision)", f"{current} ({images(obj['spec']['template'])})",
                    f"{revision} ({images(template)})")  # fmt: skip
    return Edit(target, (change,), ops)


def route_weights(
    route: Mapping[str, Any], stable: str, canary: str, canary_pct: int, *, rule: int = 0
) -> Edit:
    """Set one HTTPRoute rule's backend weights to ``100 - canary_pct`` / ``canary_pct``.

    JSON Patch, each weight guarded by a ``test`` of the backend's name and the weight
    read: a merge patch would replace the whole ``rules`` list (FIELD-NOTES). Weights are
    relative; a backendRef without one weighs 1 (the Gateway API default).
    """
    target = _target({**route, "kind": route.get("kind") or "HTTPRoute"})
    rules = (route.get("spec") or {}).get("rules") or []
    if rule >= len(rules):
        raise PlanError(f"{target} has no rule {rule} (it has {len(rules)}).")
    refs = rules[rule].get("backendRefs") or []
    where = {ref.get("name"): i for i, ref in enumerate(refs)}
    missing = [name for name in (stable, canary) if name not in where]
    if missing:
        have = ", ".join(str(r.get("name")) for r in refs) or "none"
        raise PlanError(
            f"{target} rule {rule} has no backend {' or '.join(missing)} (it has {have})."
        )
    ops: list[dict[str, Any]] = []
    changes: list[Change] = []
    for name, new in ((stable, 100 - canary_pct), (canary, canary_pct)):
        i = where[name]
        base = pointer("spec", "rules", rule, "backendRefs", i)
        old = refs[i].get("weight")
        if (1 if old is None else old) == new:
            continue
        ops.append({"op": "test", "path": base + "/name", "value": name})
        if old is None:
            ops.append({"op": "add", "path": base + "/weight", "value": new})
        else:
            ops.append({"op": "test", "path": base + "/weight", "value": old})
            ops.append({"op": "replace", "path": base + "/weight", "value": new})
        changes.append(Change(f"rule {rule} backend {name} weight", str(1 if old is None else old),
                              str(new)))  # fmt: skip
    return Edit(target, tuple(changes), tuple(ops))


def canary_percent(route: Mapping[str, Any], stable: str, canary: str, *, rule: int = 0) -> int:
    """The share of the rule's traffic on ``canary``, in whole percent (weights are
    relative: 1 and 19 is 5 %)."""
    rules = (route.get("spec") or {}).get("rules") or []
    refs = rules[rule].get("backendRefs") or [] if rule < len(rules) else []
    weights = {r.get("name"): (1 if r.get("weight") is None else r["weight"]) for r in refs}
    total = sum(weights.values())
    return round(100 * weights.get(canary, 0) / total) if total else 0


def drained_rollback(
    shift: Sequence[Edit], down: Edit, *, title: str, timeout_s: float, poll_s: float
) -> Plan:
    """Traffic off the canary (``shift``), a drain, then ``down`` (its scale to zero)."""
    return Plan("drained-rollback", title, (*shift, down), destructive=True,
                drain=Drain(len(shift), timeout_s, poll_s))  # fmt: skip
