"""Shared fixtures: a deterministic cockpit over the simulated fleet (see `demo_app`), and
the Kubernetes client against kmock's emulator (see `kube_emulator`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from demo_app import frozen_demo_app
from kube_emulator import ApiServerEmulator, answer_access_reviews
from kubernetes.client import ApiClient, Configuration

from tui.app import WarroomApp


@pytest.fixture
def make_app() -> Callable[..., WarroomApp]:
    """Factory: ``make_app("gpu-oom", at_s=600.0, wrap=None)`` -> a frozen `WarroomApp`."""
    return frozen_demo_app


@pytest.fixture
def kmock_options(kmock_options: dict[str, Any]) -> dict[str, Any]:
    """Every kmock server is kmock's emulator taught dry runs, refused requests and access
    reviews as a real API server has them (`kube_emulator`)."""
    return {**kmock_options, "cls": ApiServerEmulator}


@pytest.fixture
def api(kmock: Any) -> Iterator[ApiClient]:
    """The official client, talking to the kmock server."""
    client = ApiClient(Configuration(host=str(kmock.url)))
    yield client
    client.close()


@pytest.fixture
def cluster(kmock: Any) -> Any:
    """The gateway's and the sick model's Deployments for the cockpit's mitigations; every
    access review allowed but those a test adds to ``kmock.denied``. (Modules needing
    other objects define their own.)"""
    from test_actions import DEPLOYMENTS, MODEL_DEPLOYMENT, NS, deployment

    kmock.objects[DEPLOYMENTS, NS, "llm-gateway"] = deployment("llm-gateway", env=[])
    kmock.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT] = deployment(MODEL_DEPLOYMENT)
    kmock.denied = set()
    answer_access_reviews(kmock, kmock.denied)
    return kmock
