"""prefect.yaml: every deployment points at a real flow and its parameters validate."""

from __future__ import annotations

import importlib

import pytest
import yaml

from tests.conftest import REPO

DEPLOYMENTS = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_deployments_entrypoint_is_a_flow_with_valid_parameters(deployment):
    from prefect import Flow

    module_path, func = deployment["entrypoint"].split(":")
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, func)
    assert isinstance(flow, Flow)
    # Prefect validates flow parameters from the type hints; do the same here
    flow.validate_parameters(deployment.get("parameters", {}))
    assert deployment["work_pool"]["name"]
