"""Shared fixtures: a deterministic cockpit over the simulated fleet (see `demo_app`), and
the Kubernetes client against kmock's emulator (see `kube_emulator`); and the `e2e` mark
on every test that starts a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from demo_app import frozen_demo_app
from kube_emulator import ApiServerEmulator, answer_access_reviews
from kubernetes.client import ApiClient, Configuration
from mitigation_rig import DEPLOYMENTS, MODEL_DEPLOYMENT, NS, deployment

from tui.app import WarroomApp


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``e2e`` every test that starts a real Prometheus (its ``prometheus`` mark) or
    kmock's Kubernetes API emulator (the ``kmock`` fixture, asked for directly or by
    another fixture), so ``-m "not e2e"`` leaves them out. (The `warroom serve` tests
    carry the mark themselves.)"""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if item.get_closest_marker("prometheus") or "kmock" in fixtures:
            item.add_marker(pytest.mark.e2e)


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
    kmock.objects[DEPLOYMENTS, NS, "llm-gateway"] = deployment("llm-gateway", env=[])
    kmock.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT] = deployment(MODEL_DEPLOYMENT)
    kmock.denied = set()
    answer_access_reviews(kmock, kmock.denied)
    return kmock
