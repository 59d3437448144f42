"""Shared fixtures of the prereqs scenario's verifier (testinfra on the deploy host)."""

from __future__ import annotations

import json
import os
import pathlib
from unittest import mock

import openstack
import pytest
import yaml

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", pathlib.Path(__file__).parents[4]))
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


@pytest.fixture(scope="session")
def testbed():
    return yaml.safe_load((PROJECT / ".testbed" / "testbed.yml").read_text())


@pytest.fixture(scope="session")
def outputs():
    """The facts the roles published, as the converge run saw them."""
    return json.loads((EPHEMERAL / "outputs.json").read_text())


@pytest.fixture(scope="session")
def cloud(testbed):
    os.environ["OS_CLIENT_CONFIG_FILE"] = testbed["testbed_clouds_yaml"]
    conn = openstack.connect(cloud=testbed["testbed_cloud_name"])
    yield conn
    conn.close()


def in_cloud_container(host, script, **env):
    """Run Python with the cloud container's OpenStack venv (real SQLAlchemy, oslo.*)."""
    flags = " ".join(f"-e {k}" for k in env)
    cmd = f"podman exec -i {flags} octavia-lbaas-cloud /opt/openstack/bin/python -"
    with mock.patch.dict(os.environ, env):
        return host.run(f"{cmd} <<'PY'\n{script}\nPY")
