"""Fixtures: k8s/ built once per session, docker-compose.yml resolved once per profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import composefile
from .kube import (
    Obj,
    canary_builds,
    canary_name,
    canary_step,
    kustomize,
    materialise,
    overlay_names,
)


@pytest.fixture(scope="session")
def k8s_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialise(tmp_path_factory.mktemp("deploy"))


@pytest.fixture(scope="session")
def builds(k8s_copy: Path) -> dict[str, list[Obj]]:
    """Every kustomization users apply: the base and each overlay, by name."""
    found = {"base": kustomize(k8s_copy / "base")}
    for name in overlay_names():
        found[name] = kustomize(k8s_copy / "overlays" / name)
    for overlay, v1, v2 in canary_builds():
        found[canary_name(v1, v2, overlay)] = kustomize(canary_step(k8s_copy, v1, v2, overlay))
    return found


@pytest.fixture(scope="session")
def base(builds: dict[str, list[Obj]]) -> list[Obj]:
    return builds["base"]


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """The default profile, as docker-compose resolves it (anchors merged, ${...} filled)."""
    return composefile.resolve()


@pytest.fixture(scope="session")
def compose_aws() -> dict[str, Any]:
    return composefile.resolve("aws")
