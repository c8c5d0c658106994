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
    module = importlib.import_module(
        module_path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    )
    flow = getattr(module, func)
    assert isinstance(flow, Flow)
    # Prefect validates flow parameters from the type hints; do the same here
    flow.validate_parameters(deployment.get("parameters", {}))
    assert deployment["work_pool"]["name"]


def test_deployments_cover_every_flow():
    """The README promises a deployment per flow."""
    from prefect import Flow

    declared = {d["entrypoint"] for d in DEPLOYMENTS}
    found = set()
    for path in sorted((REPO / "src" / "xproj" / "flows").glob("*.py")):
        module = importlib.import_module(f"xproj.flows.{path.stem}")
        for name, value in vars(module).items():
            if isinstance(value, Flow) and value.__module__ == module.__name__:
                found.add(f"src/xproj/flows/{path.name}:{name}")
    assert found == declared
