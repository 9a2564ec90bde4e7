"""The one configuration model: TOML file, then environment, then command-line flags.

Each layer is validated on its own before it is merged, so a bad value is reported
against the place it came from: the file and key, the environment variable, or the
flag. Every failure is a `ConfigError` carrying one sentence; the CLI prints it and
exits 2.
"""

from __future__ import annotations

import os
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from tui.durations import parse_duration
from tui.errors import ConfigError

STACK_NAMES = (
    "generic", "litellm", "inference_extension", "istio", "envoy_gateway", "ingress_nginx",
    "vllm", "vllm_http", "sglang", "tgi",
)  # fmt: skip
"""What ``[metrics] stacks`` may name: gateways first, then model servers, in the order
the top line names them. `tui.sources.stacks` has one adapter for each (a test holds
the two together); the names live here so the config is checked without loading them."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrometheusSettings(_Strict):
    url: str | None = None
    """Base URL, e.g. ``https://prometheus.monitoring:9090``; None means no Prometheus."""
    bearer_token: SecretStr | None = None
    bearer_token_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    insecure_skip_verify: bool = False
    timeout_s: float = Field(default=5.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} must start with http:// or https://")
        return v.rstrip("/")


class Slo(_Strict):
    """Thresholds a model is judged against. A value at or above ``warn_fraction`` of its
    threshold is a warning; at or above the threshold it is a breach."""

    p99_s: float = Field(default=5.0, gt=0)
    error_5xx_ratio: float = Field(default=0.01, gt=0, le=1)
    rate_429_ratio: float = Field(default=0.05, gt=0, le=1)
    ttft_p99_s: float = Field(default=1.0, gt=0)
    queue_depth: float = Field(default=20.0, gt=0)
    kv_cache_ratio: float = Field(default=0.95, gt=0, le=1)
    """KV-cache usage of a model's fullest pod: past it vLLM preempts running requests."""
    warn_fraction: float = Field(default=0.8, gt=0, le=1)


class DcgmNames(_Strict):
    """dcgm-exporter's gauge names (its defaults) and any matchers to narrow them."""

    util: str = "DCGM_FI_DEV_GPU_UTIL"
    fb_used: str = "DCGM_FI_DEV_FB_USED"
    fb_free: str = "DCGM_FI_DEV_FB_FREE"
    fb_reserved: str = "DCGM_FI_DEV_FB_RESERVED"
    """Reserved framebuffer (dcgm-exporter 4.x): used + free + reserved is the card."""
    temp: str = "DCGM_FI_DEV_GPU_TEMP"
    power: str = "DCGM_FI_DEV_POWER_USAGE"
    xid: str = "DCGM_FI_DEV_XID_ERRORS"
    matchers: dict[str, str] = Field(default_factory=dict)
    """E.g. ``{cluster = "prod-us-east"}`` when one Prometheus watches several clusters."""


class KubernetesSettings(_Strict):
    """Where pod status and model-server logs are read for OOM evidence."""

    enabled: bool | None = None
    """None: on when a kubeconfig or in-cluster credentials are found."""
    kubeconfig: Path | None = None
    """Default: ``$KUBECONFIG`` or ``~/.kube/config``."""
    context: str | None = None
    log_tail_lines: int = Field(default=200, ge=1, le=5000)
    max_log_pods: int = Field(default=4, ge=1, le=50)
    """Pods whose logs one evidence read may fetch: the sickest models' first."""
    interval_s: float = Field(default=15.0, ge=2, le=600)
    """How often pod status and logs are read while a model's 5xx is up."""
    timeout_s: float = Field(default=5.0, gt=0, le=60)


DEFAULT_MODEL_DEPLOYMENT = "vllm-{model}"
"""The name template used when ``mitigations.model_deployment`` is unset and no pod of
the model is known (or its owners cannot be read)."""


class MitigationSettings(_Strict):
    """Which objects the mitigation keys change, and how."""

    namespace: str = "inference"
    gateway_deployment: str = "llm-gateway"
    gateway_container: str | None = None
    """None: the first container."""
    model_deployment: str | None = None
    """The Deployment serving a model, as a template: ``{model}`` is the model name made
    DNS-safe. Set, it always wins; None: the Deployment that owns the model's pods (their
    ReplicaSet's owner), and ``vllm-{model}`` only when no pod of the model is known."""
    model_container: str | None = None
    scale_step: int = Field(default=2, ge=1, le=100)
    overflow_threshold: str = "0.7"
    shed_rate: str = "0.1"
    max_batch_size: str = "16"
    read_only: bool = False
    """No write call at all: every mitigation is shown, none can run."""
    production: bool | None = None
    """Marks the confirmation as production; None: when the context's name says "prod"."""
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    # -- the gateway canary (Gateway API): its route, backends and Deployment
    canary_route: str = "llm-gateway"
    """The HTTPRoute splitting traffic between the stable gateway and the canary."""
    canary_route_rule: int = Field(default=0, ge=0)
    stable_backend: str = "llm-gateway"
    """The route's backendRef (a Service) for the stable build."""
    canary_backend: str = "llm-gateway-canary"
    canary_deployment: str = "llm-gateway-canary"
    drain_timeout_s: float = Field(default=120.0, ge=0, le=3600)
    """How long a drained rollback waits for the canary's in-flight requests to finish
    before it scales the canary to zero anyway (and says how many were cut)."""
    drain_poll_s: float = Field(default=2.0, gt=0, le=60)

    @field_validator("model_deployment")
    @classmethod
    def _model_deployment(cls, v: str | None) -> str | None:
        if v is not None:
            _check_template(v, "model")
        return v


def _check_template(template: str, name: str) -> None:
    """Refuse a `str.format` template that would fail (or say something else) when it is
    filled with ``name`` only: positional fields, other names, attribute or index lookups,
    conversions, format specs, unbalanced braces. Raises `ValueError`, one clause."""
    if not template.strip():
        raise ValueError(f"the template is empty; use e.g. 'vllm-{{{name}}}'")
    try:
        fields = [f + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
                  for _, f, spec, conv in string.Formatter().parse(template)
                  if f is not None and (f != name or spec or conv)]  # fmt: skip
    except ValueError:
        raise ValueError(
            f"{template!r} has an unbalanced brace; the only placeholder allowed is "
            f"{{{name}}} (write {{{{ or }}}} for a literal brace)"
        ) from None
    if fields:
        used = "{" + fields[0] + "}"
        raise ValueError(f"{template!r} uses the placeholder {used}; only {{{name}}} is allowed")


class CanarySettings(_Strict):
    """The canary gates (the deploy-inference-gateway defaults) and where its figures are
    read: every gateway series carries a revision label telling the builds apart."""

    stages: tuple[int, ...] = (5, 25, 50, 100)
    stage_hold_s: float = Field(default=300.0, gt=0)
    error_rate_regression: float = Field(default=1.5, ge=1)
    p99_regression: float = Field(default=1.2, ge=1)
    warmup_s: float = Field(default=90.0, ge=0)
    min_requests: int = Field(default=500, ge=1)
    revision_label: str = "revision"
    stable_revision: str = "stable"
    canary_revision: str = "canary"
    in_flight: str = "gateway_requests_in_flight"
    """Gauge of requests the gateway is serving now, with the revision label."""
    build_info: str = "gateway_build_info"
    """Info gauge (value 1) with the revision and the model version label."""
    model_version_label: str = "model_version"
    matchers: dict[str, str] = Field(default_factory=dict)
    """Label matchers for the in-flight and build-info gauges, e.g. ``{namespace =
    "inference"}`` where several gateways report to one Prometheus: without them the
    drain would wait on every gateway's canary. (The request series take the metric
    profile's matchers, which may name labels, like Istio's ``reporter``, that the
    gateway's own gauges do not carry.)"""
    poll_s: float = Field(default=15.0, gt=0, le=600)
    """How often the driver reads the figures and judges."""
    smoke_url: str | None = None
    """GET straight to the canary's Service before any traffic, e.g.
    ``http://llm-gateway-canary.inference:8080/healthz``; None: no smoke check."""
    warmup_url: str | None = None
    """POSTed straight to the canary during warm-up, e.g. its ``/v1/completions``."""
    warmup_body: dict[str, Any] = Field(default_factory=dict)

    @field_validator("stages")
    @classmethod
    def _stages(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        ok = bool(v) and all(1 <= p <= 100 for p in v) and list(v) == sorted(set(v))
        if not ok or v[-1] != 100:
            raise ValueError(f"stages must be increasing percentages ending at 100, not {v}")
        return v


class MetricProfile(_Strict):
    """Metric and label names for one deployment's spelling. ``profile`` picks a built-in
    set; any field given beside it overrides that one name."""

    stacks: tuple[str, ...] | None = None
    """The stack adapters to read (`tui.sources.stacks`), e.g. ``["vllm", "litellm"]``. None:
    with no ``[metrics]`` section warroom discovers them from what Prometheus holds;
    with one, the generic gateway named here and vLLM beside it."""
    profile: Literal["generic", "istio", "ingress-nginx"] = "generic"
    requests_total: str = "http_requests_total"
    model_label: str = "model"
    status_label: str = "status_code"
    latency_bucket: str = "http_request_duration_seconds_bucket"
    latency_unit_s: float = Field(default=1.0, gt=0)
    """Seconds per unit of the latency histogram's ``le`` (0.001 for millisecond buckets)."""
    rejections_total: str = "gateway_ratelimit_rejections_total"
    """Counter of 429s with an API-key label; the gateway's rate limiter exports it."""
    api_key_label: str = "api_key_id"
    tenant_label: str = "tenant"
    """The label naming the key's owner on the same counter, shown beside the key. LiteLLM
    (BerriAI/litellm ``litellm/types/integrations/prometheus.py``) labels its per-key
    counters ``api_key_alias`` / ``hashed_api_key`` and the owner ``team_alias`` /
    ``team``."""
    server_model_label: str = "model_name"
    ttft_bucket: str = "vllm:time_to_first_token_seconds_bucket"
    queue_waiting: str = "vllm:num_requests_waiting"
    matchers: dict[str, str] = Field(default_factory=dict)
    """Extra label matchers added to every gateway series, e.g. ``{namespace = "inference"}``."""
    running: str = "vllm:num_requests_running"
    """A per-pod model-server gauge with the model label: maps each pod to its model."""
    pod_label: str = "pod"
    namespace_label: str = "namespace"
    dcgm: DcgmNames = DcgmNames()

    @field_validator("stacks", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        # ``WARROOM_STACK=vllm,litellm`` and ``--stack vllm,litellm`` arrive as one string.
        if isinstance(v, str):
            return tuple(part.strip() for part in v.split(",") if part.strip())
        return v

    @field_validator("stacks")
    @classmethod
    def _known_stacks(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        known = STACK_NAMES
        wrong = [name for name in v if name not in known]
        if wrong or not v:
            raise ValueError(
                f"{', '.join(map(repr, wrong)) or 'an empty list'} names no stack warroom "
                f"reads; choose from {', '.join(known)}"
            )
        return v

    @property
    def discovered(self) -> bool:
        """Whether the stacks are found in Prometheus rather than named in the config."""
        return self.stacks is None and not (self.model_fields_set - _NOT_NAMING_A_GATEWAY)


_NOT_NAMING_A_GATEWAY = {
    "dcgm", "matchers", "pod_label", "namespace_label",
    "server_model_label", "ttft_bucket", "queue_waiting", "running",
}  # fmt: skip
"""Settings that narrow or rename series without saying which gateway writes them: the
model servers' names are read by the vLLM adapter whether discovered or named."""


PROFILES: dict[str, dict[str, Any]] = {
    "generic": {},
    "istio": {
        "requests_total": "istio_requests_total",
        "model_label": "destination_workload",
        "status_label": "response_code",
        "latency_bucket": "istio_request_duration_milliseconds_bucket",
        "latency_unit_s": 0.001,
        "matchers": {"reporter": "destination"},
    },
    "ingress-nginx": {
        "requests_total": "nginx_ingress_controller_requests",
        "model_label": "service",
        "status_label": "status",
        "latency_bucket": "nginx_ingress_controller_request_duration_seconds_bucket",
    },
}


DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
THEME_ALIASES = {"dark": DARK_THEME, "light": LIGHT_THEME}


class DisplaySettings(_Strict):
    """How the cockpit draws: for a dark or light terminal, a poor one, or a wall."""

    theme: str = "dark"
    """``dark``, ``light``, or any Textual theme name (a wrong one is answered with the
    list); the status colours follow it, so a light terminal reads as well as a dark.
    ``ansi-dark`` and ``ansi-light`` keep the terminal's own palette."""
    ascii: bool = False
    """Only ASCII on screen: for a serial console, a Windows jump host's old terminal,
    or a locale without UTF-8, where box drawing and braille come out as garbage."""
    wall: bool = False
    """The big-screen layout: taller plots, the worst models only, no key hints."""

    @field_validator("theme")
    @classmethod
    def _is_a_theme(cls, v: str) -> str:
        # Textual's themes, read here so a typo fails at start, not as a grey screen.
        from textual.theme import BUILTIN_THEMES

        name = THEME_ALIASES.get(v, v)
        if name not in BUILTIN_THEMES:
            known = ", ".join(["dark", "light", *sorted(BUILTIN_THEMES)])
            raise ValueError(f"{v!r} is not a theme; one of {known}")
        return v

    @property
    def textual_theme(self) -> str:
        return THEME_ALIASES.get(self.theme, self.theme)


KEY_BINDINGS: dict[str, tuple[str, ...]] = {
    "cockpit": (
        "quit", "help", "refresh", "gpus", "runbook", "mitigate", "canary", "export", "filter",
        "clear_filter", "palette", "quit_now",
    ),
    "replay": ("pause", "back_1m", "forward_1m", "back_10m", "forward_10m"),
    "table": ("up", "down", "page_up", "page_down", "home", "end", "sort"),
    "grid": (
        "left", "right", "up", "down", "page_up", "page_down", "home", "end", "next_event",
        "filter",
    ),
    "filter": ("clear",),
    "runbook": (
        "yes", "copy", *(f"copy_{n}" for n in range(1, 10)), "scroll_left", "scroll_right",
        "no", "accept", "back", "restart", "pick", "mitigate", "close", "quit",
    ),
    "picker": ("cancel",),
    "canary": ("pause", "promote", "abort", "back", "quit"),
    "help": ("close",),
    "quit": ("yes", "no"),
    "confirm": ("cancel", "no"),
    "menu": ("cancel",),
    "report": ("cancel",),
}  # fmt: skip
"""What ``[keys]`` may rebind: each scope's binding names (the id is ``scope.name``). The
bindings themselves are `widgets.keymap.KEYS` (a test holds the two together); the ids
live here so that the config is checked without loading the widgets."""
BINDING_IDS = frozenset(
    f"{scope}.{name}" for scope, names in KEY_BINDINGS.items() for name in names
)
_MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")


def _check_keys(table: Any) -> dict[str, str]:
    """``[keys]``: binding id -> a key, several comma-separated, or a list of keys; checked,
    and each key in Textual's name for it (``"?"`` -> ``question_mark``). A nested table
    is read as dotted ids (``[keys.cockpit] runbook = "T"``). Raises `ValueError`, one
    clause naming the binding."""
    if not isinstance(table, dict):
        raise ValueError('it must be a table of binding id = key, e.g. "cockpit.runbook" = "T"')
    checked: dict[str, str] = {}
    for binding_id, value in _flatten(table).items():
        if binding_id not in BINDING_IDS:
            raise ValueError(_unknown_binding(binding_id))
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str):
            raise ValueError(
                f'the key of {binding_id} must be a string such as "ctrl+t", or a list of them'
            )
        keys = _key_names(value)
        if not keys:
            raise ValueError(f"{binding_id} is given no key; leave it out to keep its own")
        for key in keys:
            if not _is_key(key):
                raise ValueError(
                    f"{key!r} (for {binding_id}) is not a key: write one character or a key "
                    "name such as escape, enter, space, f5 or pageup, with ctrl+, alt+ or "
                    "shift+ before it if need be"
                )
        checked[binding_id] = ",".join(keys)
    return checked


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    # TOML reads `cockpit.runbook = "T"` (unquoted) as a table within the table.
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _unknown_binding(binding_id: str) -> str:
    import difflib

    scope, _, name = binding_id.partition(".")
    known = KEY_BINDINGS.get(scope)
    if known:  # the scope is right: the nearest name in it, else all of them
        near = [f"{scope}.{n}" for n in difflib.get_close_matches(name, known, n=1)]
    else:
        near = difflib.get_close_matches(binding_id, sorted(BINDING_IDS), n=1)
    if near:
        nearest = near[0]
        return f"{binding_id!r} names no key binding; the nearest is {nearest}"
    if known:
        names = ", ".join(known)
        return f"{binding_id!r} names no key binding; those of {scope} are {names}"
    return (
        f"{binding_id!r} names no key binding; an id is scope.name, the scopes being "
        f"{', '.join(KEY_BINDINGS)}"
    )


def _key_names(keys: str) -> tuple[str, ...]:
    """Textual's names for comma-separated keys, as its bindings and keymap read them."""
    from textual.binding import Binding, InvalidBinding

    try:
        return tuple(b.key for b in Binding.make_bindings([Binding(keys, "")]))
    except InvalidBinding:  # an empty key between commas
        return ()


def _is_key(key: str) -> bool:
    """A key Textual can report: a character or a key's name, modifiers before it."""
    from textual.keys import Keys, format_key

    *modifiers, base = key.split("+")
    if not base or any(m not in _MODIFIERS for m in modifiers):
        return False
    named = {k.value for k in Keys if k.value.isalnum()}  # escape, enter, space, f1, pageup…
    # A character's name (question_mark, slash) shows as that one character.
    return len(base) == 1 or base in named or len(format_key(base)) == 1


class Config(_Strict):
    prometheus: PrometheusSettings = PrometheusSettings()
    refresh_s: float = Field(default=2.0, ge=0.5, le=300)
    gpu_refresh_s: float = Field(default=10.0, ge=0, le=300)
    """How often the GPU grid's DCGM series are read from Prometheus (0: every refresh).
    dcgm-exporter samples every 30 s by default, and at 1024 GPUs the grid's 6144 series
    are most of a refresh's work, so reading them every 2 s re-reads the same figures."""
    window: str = "5m"
    """Rate window for every PromQL ``rate()``."""
    history: str = "30m"
    """How far back the history plot reaches."""
    context: str | None = None
    """Name shown in the header for the cluster being watched (e.g. ``prod-us-east``)."""
    slo: Slo = Slo()
    metrics: MetricProfile = MetricProfile()
    gpu_source: Literal["auto", "dcgm", "nvml", "none"] = "auto"
    """``auto``: DCGM series from the health source, else NVML when this host has GPUs."""
    kubernetes: KubernetesSettings = KubernetesSettings()
    mitigations: MitigationSettings = MitigationSettings()
    canary: CanarySettings = CanarySettings()
    kiosk: bool = False
    """The war-room wall screen: panes only; no mitigation is offered and no change sent."""
    display: DisplaySettings = DisplaySettings()
    state_dir: Path | None = None
    """Where incident timelines are kept; default ``$XDG_STATE_HOME/warroom``."""
    runbook_dirs: list[Path] = Field(default_factory=list)
    """Folders of your own runbooks, read after the shipped ones: a tree with the same id
    replaces the shipped tree."""
    keys: dict[str, str] = Field(default_factory=dict)
    """``[keys]``: binding id -> its key(s), comma-separated, in Textual's names
    (``"cockpit.runbook" = "T"``); a binding not named keeps its own key."""

    @field_validator("window", "history")
    @classmethod
    def _is_duration(cls, v: str) -> str:
        if parse_duration(v) < 1:
            raise ValueError(f"{v!r} is shorter than one second")
        return v

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> dict[str, str]:
        return _check_keys(v)

    @property
    def window_s(self) -> float:
        return parse_duration(self.window)

    @property
    def history_s(self) -> float:
        return parse_duration(self.history)


ENV_KEYS: dict[str, tuple[str, ...]] = {
    "PROMETHEUS_URL": ("prometheus", "url"),
    "PROMETHEUS_BEARER_TOKEN": ("prometheus", "bearer_token"),
    "PROMETHEUS_BEARER_TOKEN_FILE": ("prometheus", "bearer_token_file"),
    "PROMETHEUS_USERNAME": ("prometheus", "username"),
    "PROMETHEUS_PASSWORD": ("prometheus", "password"),
    "PROMETHEUS_CA_FILE": ("prometheus", "ca_file"),
    "WARROOM_REFRESH_S": ("refresh_s",),
    "WARROOM_GPU_REFRESH_S": ("gpu_refresh_s",),
    "WARROOM_WINDOW": ("window",),
    "WARROOM_CONTEXT": ("context",),
    "WARROOM_PROFILE": ("metrics", "profile"),
    "WARROOM_STACK": ("metrics", "stacks"),
    "WARROOM_GPU_SOURCE": ("gpu_source",),
    "WARROOM_KUBE_CONTEXT": ("kubernetes", "context"),
    "WARROOM_THEME": ("display", "theme"),
    "WARROOM_ASCII": ("display", "ascii"),
}


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "warroom" / "config.toml"


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] = os.environ,
    flags: Mapping[tuple[str, ...], Any] | None = None,
) -> Config:
    """Build the config from file, environment and flags (later wins).

    ``path`` None means ``$WARROOM_CONFIG`` or the XDG default, which may be absent;
    a path the user named must exist. ``flags`` maps a key path to its value and the
    flag that set it is named in errors by its key path.
    """
    explicit = path is not None or "WARROOM_CONFIG" in env
    file = path or Path(env.get("WARROOM_CONFIG") or default_config_path(env))
    layers: list[tuple[str, dict[str, Any], dict[tuple[str, ...], str]]] = []

    file_data = _read_toml(file, must_exist=explicit)
    layers.append((str(file), file_data, {}))

    env_data: dict[str, Any] = {}
    env_names: dict[tuple[str, ...], str] = {}
    for name, key in ENV_KEYS.items():
        if env.get(name):
            _set(env_data, key, env[name])
            env_names[key] = name
    layers.append(("environment", env_data, env_names))

    flag_data: dict[str, Any] = {}
    flag_names: dict[tuple[str, ...], str] = {}
    for key, value in (flags or {}).items():
        if value is not None:
            _set(flag_data, key, value)
            flag_names[key] = "--" + key[-1].replace("_", "-")
    layers.append(("command line", flag_data, flag_names))

    merged: dict[str, Any] = {}
    for origin, data, names in layers:
        _validate(data, origin, names)
        merged = _merge(merged, data)
    return _validate(merged, "configuration", {})


def _read_toml(file: Path, *, must_exist: bool) -> dict[str, Any]:
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"Config file {file} does not exist.") from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {file} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ConfigError(f"Config file {file} cannot be read: {exc.strerror}.") from None


def _validate(data: dict[str, Any], origin: str, names: dict[tuple[str, ...], str]) -> Config:
    try:
        return Config.model_validate(_expand_profile(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = tuple(str(p) for p in err["loc"])
        dotted = ".".join(key) or "(top level)"
        msg = _reason(err)
        if key in names:
            raise ConfigError(f"{names[key]} is invalid: {msg}.") from None
        if origin in ("environment", "command line", "configuration"):
            raise ConfigError(f"Setting {dotted} is invalid: {msg}.") from None
        raise ConfigError(f"Config file {origin}: key {dotted} is invalid: {msg}.") from None


def _reason(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "no such setting"
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else msg


def _expand_profile(data: dict[str, Any]) -> dict[str, Any]:
    """Fill the metric names of the chosen built-in profile under the user's overrides."""
    metrics = data.get("metrics")
    if not isinstance(metrics, dict) or metrics.get("profile") not in PROFILES:
        return data
    return {**data, "metrics": {**PROFILES[metrics["profile"]], **metrics}}


def _set(tree: dict[str, Any], key: tuple[str, ...], value: Any) -> None:
    for part in key[:-1]:
        tree = tree.setdefault(part, {})
    tree[key[-1]] = value


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "matchers":
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out
