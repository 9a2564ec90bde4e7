"""The config: layering, profiles, and one-sentence errors naming where the bad value is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.config import load_config
from tui.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "config.toml"
    f.write_text(text)
    return f


def test_defaults_without_any_file(tmp_path: Path) -> None:
    cfg = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert cfg.prometheus.url is None
    assert cfg.refresh_s == 2.0
    assert cfg.window_s == 300
    assert cfg.metrics.requests_total == "http_requests_total"


def test_file_is_read_from_the_xdg_path(tmp_path: Path) -> None:
    (tmp_path / "warroom").mkdir()
    (tmp_path / "warroom" / "config.toml").write_text(
        'refresh_s = 5\n[prometheus]\nurl = "http://prom:9090/"\n[slo]\np99_s = 8\n'
    )
    cfg = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert cfg.refresh_s == 5
    assert cfg.prometheus.url == "http://prom:9090"
    assert cfg.slo.p99_s == 8


def test_env_beats_file_and_flags_beat_env(tmp_path: Path) -> None:
    f = write(tmp_path, '[prometheus]\nurl = "http://file:9090"\n')
    env = {"PROMETHEUS_URL": "http://env:9090", "PROMETHEUS_BEARER_TOKEN": "s3cr3t"}
    assert load_config(f, env=env).prometheus.url == "http://env:9090"
    cfg = load_config(f, env=env, flags={("prometheus", "url"): "http://flag:9090"})
    assert cfg.prometheus.url == "http://flag:9090"
    assert cfg.prometheus.bearer_token is not None
    assert cfg.prometheus.bearer_token.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(cfg)


def test_profile_fills_names_and_single_names_override(tmp_path: Path) -> None:
    f = write(tmp_path, '[metrics]\nprofile = "istio"\nmodel_label = "destination_service"\n')
    m = load_config(f, env={}).metrics
    assert m.requests_total == "istio_requests_total"
    assert m.latency_unit_s == 0.001
    assert m.model_label == "destination_service"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("refresh_s = 0.1\n", "key refresh_s is invalid"),
        ("[slo]\np99 = 3\n", "key slo.p99 is invalid: no such setting"),
        ('[prometheus]\nurl = "prom:9090"\n', "key prometheus.url is invalid"),
        ('window = "five minutes"\n', "key window is invalid"),
        ('[metrics]\nprofile = "datadog"\n', "key metrics.profile is invalid"),
        ("refresh_s = \n", "is not valid TOML"),
    ],
)
def test_bad_file_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    f = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(f, env={})
    message = str(info.value)
    assert str(f) in message
    assert expected in message
    assert "\n" not in message


def test_bad_env_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^WARROOM_REFRESH_S is invalid"):
        load_config(env={"XDG_CONFIG_HOME": str(tmp_path), "WARROOM_REFRESH_S": "fast"})


def test_bad_flag_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--window is invalid"):
        load_config(env={"XDG_CONFIG_HOME": str(tmp_path)}, flags={("window",): "soon"})


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_cli_bad_config_exits_2_with_one_sentence_and_no_traceback(tmp_path: Path) -> None:
    f = write(tmp_path, "[slo]\np99_s = -1\n")
    run = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot", "--json", "--demo", "--config", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0
    assert f"{f}: key slo.p99_s is invalid" in run.stderr


def test_stack_with_the_demo_is_refused_in_one_sentence(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot", "--json", "--demo", "--stack", "vllm"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "--stack picks how a Prometheus is read" in run.stderr
    assert "warroom simulate --stack" in run.stderr


def test_the_config_names_exactly_the_stacks_with_an_adapter() -> None:
    """The config checks names against its own list, without loading any adapter: the
    list and the adapters must be the same names in the same order."""
    from tui.config import STACK_NAMES
    from tui.sources.stacks import _adapters

    assert tuple(_adapters()) == STACK_NAMES


def test_stack_names_are_checked_and_split(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "WARROOM_STACK": "litellm, vllm"}
    assert load_config(env=env).metrics.stacks == ("litellm", "vllm")
    assert not load_config(env=env).metrics.discovered
    with pytest.raises(ConfigError, match=r"'nope' names no stack warroom reads; choose from"):
        load_config(env={**env, "WARROOM_STACK": "vllm,nope"})
    # No [metrics] at all: discovered; a model-server rename alone does not stop that.
    assert load_config(env={"XDG_CONFIG_HOME": str(tmp_path)}).metrics.discovered
