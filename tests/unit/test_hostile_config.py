"""Hostile settings (issue 21, items 10-12): a name template that cannot be filled is
refused at load, a Prometheus URL's secret query parameters never reach a sentence, and
model names that one template turns into the same Deployment name are refused before
any write.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient
from mitigation_rig import DEPLOYMENTS, NS, deployment, stored, writes
from promserver import free_port

from tui.actions.kube import ActionError, Mitigator
from tui.clock import FrozenClock
from tui.config import MitigationSettings, load_config
from tui.errors import ConfigError, SourceError
from tui.sources.prometheus import PrometheusSource, display_url

# -- item 11: name templates are checked when the config loads ----------------------------

BAD_TEMPLATES = ("vllm-{0}", "vllm-{}", "{model", "model}", "{name}", "vllm-{model!r}",
                 "vllm-{model:>40}", "vllm-{model[0]}", "vllm-{model.upper}", "")  # fmt: skip


def write(tmp_path: Path, template: str) -> Path:
    f = tmp_path / "config.toml"
    f.write_text(f"[mitigations]\nmodel_deployment = {json.dumps(template)}\n")
    return f


@pytest.mark.parametrize("template", BAD_TEMPLATES)
def test_a_template_that_cannot_be_filled_is_refused_at_load(tmp_path: Path, template: str) -> None:
    f = write(tmp_path, template)
    with pytest.raises(ConfigError) as caught:
        load_config(f, env={})
    message = str(caught.value)
    assert f"Config file {f}: key mitigations.model_deployment is invalid:" in message
    assert "\n" not in message and message.endswith(".")
    assert "{model}" in message, "the sentence says which placeholder is allowed"


@pytest.mark.parametrize("template", ["vllm-{model}", "{model}-serving", "x-{{y}}-{model}"])
def test_good_templates_still_load(tmp_path: Path, template: str) -> None:
    assert load_config(write(tmp_path, template), env={}).mitigations.model_deployment == (template)


def test_none_means_through_the_owners() -> None:
    assert MitigationSettings().model_deployment is None
    assert MitigationSettings(model_deployment=None).model_deployment is None


@pytest.mark.parametrize("template", ["vllm-{0}", "{model", "{name}"])
def test_the_cli_exits_2_in_one_sentence(tmp_path: Path, template: str) -> None:
    f = write(tmp_path, template)
    run = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot", "--demo", "--config", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0
    assert f"{f}: key mitigations.model_deployment is invalid" in run.stderr


# -- item 12: secret query parameters in the Prometheus URL -------------------------------

TOKEN = "abc-Q9zT-SECRET"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://prom:9090/?access_token=abc&x=1", "https://prom:9090/?access_token=***&x=1"),
        ("https://prom:9090/api?x=1&token=t%2Fz", "https://prom:9090/api?x=1&token=***"),
        ("https://prom/?api_key=k1&password=p2&Api-Key=k3",
         "https://prom/?api_key=***&password=***&Api-Key=***"),
        ("https://ops:pw@prom:9090/?access_token=abc", "https://prom:9090/?access_token=***"),
        ("https://ops:pw@prom:9090", "https://prom:9090"),
        ("https://prom:9090/?step=15&empty_token=", "https://prom:9090/?step=15&empty_token="),
        ("https://prom:9090", "https://prom:9090"),
    ],
)  # fmt: skip
def test_display_url_hides_secret_query_values(url: str, shown: str) -> None:
    assert display_url(url) == shown


class Quoting(BaseHTTPRequestHandler):
    """A careless proxy: its error quotes the request line, and the token decoded."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        error = f"bad request {self.path} (access_token {TOKEN} expired)"
        body = json.dumps({"status": "error", "errorType": "bad_data", "error": error}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def quoting_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Quoting)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def failure(tmp_path: Path, url: str) -> str:
    flags = {("prometheus", "url"): url, ("history",): "20m", ("metrics", "stacks"): ("vllm",)}
    config = load_config(None, env={"XDG_CONFIG_HOME": str(tmp_path)}, flags=flags)
    src = PrometheusSource(config, clock=FrozenClock(1_790_000_100.0))
    try:
        with pytest.raises(SourceError) as caught:
            await src.refresh()
    finally:
        await src.aclose()
    return str(caught.value)


@pytest.mark.parametrize("name", ["access_token", "token", "api_key", "password"])
async def test_a_server_quoting_the_token_never_shows_it(
    quoting_server: str, tmp_path: Path, name: str
) -> None:
    message = await failure(tmp_path, f"{quoting_server}/?{name}={TOKEN}&x=1")
    assert "SECRET" not in message, message
    assert f"{name}=***" in message, message
    assert "\n" not in message


async def test_a_refused_connection_never_shows_the_token(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/?access_token={TOKEN}"
    message = await failure(tmp_path, url)
    assert "refused the connection" in message
    assert "SECRET" not in message, message
    assert "access_token=***" in message


# -- item 10: model names that collide once made DNS-safe ---------------------------------

COLLIDING = ("LLAMA_3.1_70B", "llama-3.1-70b", "llama\u200b-3.1-70b")
SHARED = "vllm-llama-3-1-70b"
CLOCK = FrozenClock(1_795_000_600.0)


@pytest.fixture
def shared(kmock: Any) -> Any:
    kmock.objects[DEPLOYMENTS, NS, SHARED] = deployment(SHARED)
    kmock.objects[DEPLOYMENTS, NS, "vllm-mistral-7b"] = deployment("vllm-mistral-7b")
    return kmock


@pytest.mark.parametrize("template", [None, "vllm-{model}"])
async def test_colliding_names_are_refused_and_nothing_is_sent(
    shared: Any, api: ApiClient, template: str | None
) -> None:
    m = Mitigator(api, MitigationSettings(model_deployment=template), clock=CLOCK)
    known = ["mistral-7b", *COLLIDING[:2]]
    with pytest.raises(ActionError) as caught:
        await m.plan("scale-up", COLLIDING[0], (), known_models=known)
    fix = "unset" if template else "set"
    assert str(caught.value) == (
        f"Models 'LLAMA_3.1_70B' and 'llama-3.1-70b' both map to Deployment {SHARED} by "
        f"the template; {fix} mitigations.model_deployment or label the pods so warroom "
        "finds the Deployment through their owners."
    )
    assert writes(shared) == []
    assert stored(shared, SHARED)["spec"]["replicas"] == 2


async def test_three_colliding_names_are_all_named(shared: Any, api: ApiClient) -> None:
    m = Mitigator(api, MitigationSettings(), clock=CLOCK)
    with pytest.raises(ActionError) as caught:
        await m.plan("scale-up", COLLIDING[2], (), known_models=COLLIDING)
    message = str(caught.value)
    # The selected row first, its invisible character shown.
    assert message.startswith("Models 'llama\\u200b-3.1-70b', 'LLAMA_3.1_70B' and ")
    assert f"all map to Deployment {SHARED}" in message
    assert writes(shared) == []


async def test_a_name_of_its_own_still_plans(shared: Any, api: ApiClient) -> None:
    m = Mitigator(api, MitigationSettings(), clock=CLOCK)
    plan = await m.plan("scale-up", "mistral-7b", (), known_models=["mistral-7b", *COLLIDING])
    assert plan.edits[0].target.name == "vllm-mistral-7b"
    plan = await m.plan("scale-up", COLLIDING[1], ())  # no known models: as before
    assert plan.edits[0].target.name == SHARED
