"""The Kubernetes client as both sides use it: pod evidence reads (`tui.sources.kube`) and
mitigations write (`tui.actions`). How a client is built from a kubeconfig, and how the
API's answers and failures are put in one sentence.

The client (and urllib3 under it) costs a tenth of a second to import: the demo and a
cockpit without a cluster never pay it, so the functions that talk to a cluster import it
themselves.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui.errors import ConfigError

if TYPE_CHECKING:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

DETAIL_CHARS = 160


def trim(line: str) -> str:
    return line if len(line) <= DETAIL_CHARS else line[: DETAIL_CHARS - 1].rstrip() + "…"


def parse_time(text: object) -> datetime | None:
    """An RFC 3339 time with a zone (``Z`` or an offset, any fraction) as UTC; None if it
    is anything else."""
    if not isinstance(text, str):
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo is not None else None


def api_client(kubeconfig: Path | None = None, context: str | None = None) -> client.ApiClient:
    """A client from a kubeconfig (``kubeconfig``, else ``$KUBECONFIG`` or
    ``~/.kube/config``), or the pod's service account when there is none and we run in a
    cluster. Raises `ConfigError` with one sentence when no usable configuration is found.
    """
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    if kubeconfig is not None and not kubeconfig.is_file():
        raise ConfigError(
            f"The kubeconfig {kubeconfig} does not exist; give the path to a kubeconfig "
            "file or leave it out to use $KUBECONFIG or ~/.kube/config."
        )
    path = str(kubeconfig) if kubeconfig is not None else default_kubeconfig()
    try:
        if path is not None:
            config.load_kube_config(
                config_file=path,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        else:
            config.load_incluster_config(client_configuration=configuration)
    except ConfigException as exc:
        if path is None:
            raise ConfigError(
                "No Kubernetes configuration was found (no ~/.kube/config, no $KUBECONFIG, "
                "not running in a pod); give a kubeconfig."
            ) from None
        where = f" for context {context!r}" if context else ""
        raise ConfigError(
            f"The kubeconfig {path} cannot be used{where} ({first_line(exc)}); "
            "check the file and the context name."
        ) from None
    # One attempt per request: the next refresh is the retry, and urllib3's own
    # retries would multiply the wait on a server that is timing out.
    configuration.retries = 0
    return client.ApiClient(configuration)


def default_kubeconfig() -> str | None:
    """``$KUBECONFIG`` (possibly several files, which the client merges) or
    ``~/.kube/config``, when any of those files exists; None otherwise."""
    listed = os.environ.get("KUBECONFIG") or "~/.kube/config"
    paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    return os.pathsep.join(map(str, paths)) if any(p.is_file() for p in paths) else None


def display_host(url: str) -> str:
    """The server URL without any ``user:password@`` part."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url.rstrip("/")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)).rstrip("/")


def status_message(exc: ApiException) -> str:
    """The ``message`` of the API's Status body, shortened; empty if there is none."""
    try:
        message = str(json.loads(exc.body or "")["message"])
    except (ValueError, KeyError, TypeError):
        return ""
    return trim(" ".join(message.split()))


def connect_reason(exc: object) -> str:
    text = str(exc)
    if "Connection refused" in text or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    return first_line(f"{type(exc).__name__}: {text}")


def first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return trim(lines[0].rstrip(".")) if lines else "unknown error"


# -- reading the simulator -----------------------------------------------------------
