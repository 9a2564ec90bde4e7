"""The simulated fleet: models, their traffic, the GPU pods that serve them, the API keys.

Everything here is a pure function of (models, gpus, seed): the same arguments give the
same fleet on every machine, so the demo, the exporter and the tests agree on names.
Traffic is long-tailed like a real platform's: a few models take most requests and a
long tail of fine-tunes takes the rest, which is what lets one sick low-volume model
hide inside a healthy-looking aggregate.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

NAMESPACE = "inference"
GPUS_PER_NODE = 8
GPUS_PER_MODEL = 4
"""Default GPUs per model when the fleet size in GPUs is not given."""
MAX_MODELS = 1000
MAX_GPUS = 8192
GPU_PRODUCT = "NVIDIA H100 80GB HBM3"
GPU_MEMORY_MIB = 81559
"""What dcgm-exporter reports as FB used + free for an H100 80GB."""
TOTAL_RPS_PER_MODEL = 12.0
"""Fleet request rate grows with the fleet, so a bigger demo is a bigger platform."""
ZIPF_EXPONENT = 0.9
LATENCY_SIGMA = 0.45
"""Spread of the log-normal end-to-end latency: p99 is about 2.85x the median."""
TTFT_SIGMA = 0.6
"""Time to first token spreads wider (prompt lengths vary): p99 about 4x the median."""
Z_99 = 2.3263

# (name, parameters in billions): latency and memory scale with size.
_BASE_MODELS: tuple[tuple[str, float], ...] = (
    ("llama-3.1-8b-instruct", 8),
    ("llama-3.1-70b-instruct", 70),
    ("mistral-7b-instruct-v0.3", 7),
    ("qwen2.5-72b-instruct", 72),
    ("mixtral-8x7b-instruct", 47),
    ("gemma-2-27b-it", 27),
    ("qwen2.5-coder-32b-instruct", 32),
    ("llama-3.2-3b-instruct", 3),
    ("phi-3.5-mini-instruct", 4),
    ("deepseek-r1-distill-llama-70b", 70),
    ("mistral-nemo-12b-instruct", 12),
    ("codellama-34b-instruct", 34),
    ("llama-guard-3-8b", 8),
    ("bge-reranker-v2-m3", 1),
    ("command-r-35b", 35),
    ("yi-1.5-34b-chat", 34),
)

_TENANTS = (
    "acme-corp",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark-industries",
    "wayne-enterprises",
    "soylent",
    "tyrell",
    "cyberdyne",
    "wonka",
    "oscorp",
    "massive-dynamic",
    "vandelay",
    "pied-piper",
    "dunder-mifflin",
)


@dataclass(frozen=True, slots=True)
class Gpu:
    """One GPU as dcgm-exporter labels it."""

    node: str
    index: int
    """``gpu`` label: the index on its node."""
    uuid: str
    pci_bus_id: str
    pod: str
    model: str

    @property
    def device(self) -> str:
        return f"nvidia{self.index}"


@dataclass(frozen=True, slots=True)
class ServedModel:
    name: str
    params_b: float
    share: float
    """This model's fraction of the fleet's requests."""
    pods: tuple[str, ...]
    gpus: tuple[Gpu, ...]

    @property
    def latency_p50_s(self) -> float:
        """Healthy end-to-end median: bigger models generate more slowly."""
        return 0.3 + 0.009 * self.params_b

    @property
    def ttft_p50_s(self) -> float:
        return 0.03 + 0.0016 * self.params_b


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    tenant: str
    weight: float
    """Share of the ordinary, background rate-limit rejections."""


@dataclass(frozen=True, slots=True, eq=False)
class Fleet:
    """Compared and hashed by identity: scenarios cache per-fleet answers cheaply."""

    seed: int
    models: tuple[ServedModel, ...]
    keys: tuple[ApiKey, ...]
    total_rps: float

    @property
    def gpus(self) -> tuple[Gpu, ...]:
        return tuple(g for m in self.models for g in m.gpus)

    def model(self, name: str) -> ServedModel:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - fleets live as long as the process
    def closest_share(self, share: float) -> ServedModel:
        """The model whose traffic share is nearest ``share`` (ties to the busier one)."""
        return min(self.models, key=lambda m: (abs(m.share - share), -m.share))


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``: the same on every run and machine, unlike
    ``hash()``, which Python randomises per process."""
    # crc32 is plenty for jitter and several times cheaper than a cryptographic hash,
    # which matters at 200 models x every step.
    return zlib.crc32(":".join(map(str, parts)).encode()) / 2**32


def _hex(n: int, *parts: object) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).hexdigest()[:n]


def _model_names(count: int, renamed: Sequence[str] = ()) -> list[tuple[str, float]]:
    """``count`` (name, parameters) pairs; the first ``len(renamed)`` take those names
    and keep the sizes of the catalogue entries they stand in for."""
    names = list(_BASE_MODELS[:count])
    # Past the base catalogue, the tail is tenants' fine-tunes of the base models.
    i = 0
    while len(names) < count:
        base, params = _BASE_MODELS[i % len(_BASE_MODELS)]
        tenant = _TENANTS[(i // len(_BASE_MODELS)) % len(_TENANTS)]
        names.append((f"{base}-ft-{tenant}-{i // (len(_BASE_MODELS) * len(_TENANTS)) + 1}", params))
        i += 1
    head = [(new, params) for new, (_, params) in zip(renamed, names, strict=False)]
    return head + names[len(renamed) :]


_PLAIN_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]{0,50}[a-z0-9])?")
"""A name already fit for a DNS label once its dots are dashes: every catalogue name."""
_LABEL_KEEP = 30
"""Letters kept of a renamed model: its pods' names stay within 63 characters."""


def _dns_label(name: str) -> str:
    """``name`` as the part of a pod's and Deployment's name that says which model they
    serve: lowercase ASCII letters, digits and dashes, as Kubernetes requires. A catalogue
    name keeps its spelling (dots as dashes); any other (a model renamed through
    `build_fleet`'s ``names``: control characters, markup, 10 kB) keeps its first
    letters and digits and gains a hash of the whole name, so it stays short, valid and
    its own."""
    if _PLAIN_NAME.fullmatch(name):
        return name.replace(".", "-")
    # ASCII only: str.lower() of some non-ASCII letters is ASCII (the Kelvin sign is k).
    kept = re.sub(r"[^a-z0-9]+", "-", name.encode("ascii", "replace").decode().lower())
    kept = kept.strip("-")[:_LABEL_KEEP].rstrip("-")
    digest = _hex(6, "dns", name)
    return f"{kept}-{digest}" if kept else f"m-{digest}"


def _gpu_counts(shares: list[float], gpus: int) -> list[int]:
    """Split ``gpus`` across models by traffic share, each model at least one."""
    counts = [1] * len(shares)
    spare = gpus - len(shares)
    wants = [s * spare for s in shares]
    for i, want in enumerate(wants):
        counts[i] += int(want)
    # Largest remainders take what rounding left over.
    left = gpus - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: (-(wants[i] - int(wants[i])), i))
    for i in order[:left]:
        counts[i] += 1
    return counts


def build_fleet(
    models: int = 12, gpus: int | None = None, seed: int = 7, names: Sequence[str] = ()
) -> Fleet:
    """The fleet for these sizes and seed. Raises ValueError with one sentence on bad sizes
    or names.

    ``names`` rename the first models (``warroom simulate --model-names``): label values
    as an exporter may carry them, hostile ones included, for the cockpit to be tested on.
    Each must be a non-empty string that UTF-8 can encode (Prometheus fails a scrape
    holding a label value that is not valid UTF-8) and different from every other name.
    """
    if not 1 <= models <= MAX_MODELS:
        raise ValueError(f"--models must be between 1 and {MAX_MODELS}, not {models}.")
    gpus = models * GPUS_PER_MODEL if gpus is None else gpus
    if not models <= gpus <= MAX_GPUS:
        raise ValueError(
            f"--gpus must be at least the number of models ({models}) and at most "
            f"{MAX_GPUS}, not {gpus}."
        )
    named = _model_names(models, _checked_names(names, models))
    weights = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(models)]
    total = sum(weights)
    shares = [w / total for w in weights]
    counts = _gpu_counts(shares, gpus)

    served: list[ServedModel] = []
    slot = 0
    for (name, params), share, count in zip(named, shares, counts, strict=True):
        # Big models shard over two GPUs a pod (tensor parallel), small ones take one.
        per_pod = 2 if params >= 30 and count >= 2 else 1
        template_hash = _hex(9, seed, name, "rs")
        pods: list[str] = []
        model_gpus: list[Gpu] = []
        for g in range(count):
            node_no, index = divmod(slot, GPUS_PER_NODE)
            # A pod lives on one node: a tensor-parallel pair never straddles two.
            if g % per_pod == 0 or index == 0:
                pods.append(f"vllm-{_dns_label(name)}-{template_hash}-{_hex(5, seed, name, g)}")
            uuid = _hex(32, seed, "gpu", slot)
            model_gpus.append(
                Gpu(
                    node=f"gpu-node-{node_no + 1:03d}",
                    index=index,
                    uuid=f"GPU-{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}",
                    pci_bus_id=f"00000000:{0x18 + index * 0x10:02X}:00.0",
                    pod=pods[-1],
                    model=name,
                )
            )
            slot += 1
        served.append(ServedModel(name, params, share, tuple(pods), tuple(model_gpus)))

    key_weights = [1 / (rank + 1) for rank in range(len(_TENANTS))]
    key_total = sum(key_weights)
    keys = tuple(
        ApiKey(f"key_{_hex(6, seed, 'key', tenant)}", tenant, w / key_total)
        for tenant, w in zip(_TENANTS, key_weights, strict=True)
    )
    return Fleet(seed, tuple(served), keys, TOTAL_RPS_PER_MODEL * models**0.8)


def _checked_names(names: Sequence[str], models: int) -> tuple[str, ...]:
    if isinstance(names, str):
        raise ValueError("The model names must be a list of strings, not one string.")
    if len(names) > models:
        raise ValueError(
            f"There are {len(names)} model names for {models} models; pass --models "
            f"{len(names)} or fewer names."
        )
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ValueError(f"Model name {i + 1} is {name!r}: each must be a non-empty string.")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"Model name {i + 1} holds a lone surrogate: a label value must be valid UTF-8."
            ) from None
    taken = [n for n, _ in _model_names(models)[len(names) :]]
    if len(set(names) | set(taken)) < models:
        raise ValueError("The model names repeat a name: each model needs its own.")
    labels = {_dns_label(n) for n in [*names, *taken]}
    if len(labels) < models:
        raise ValueError(
            "Two model names give the same Deployment name (only dots and dashes differ): "
            "rename one."
        )
    return tuple(names)
