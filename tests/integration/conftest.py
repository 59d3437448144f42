"""Fixtures for tests that drive the real test cloud (./run testbed up)."""

from __future__ import annotations

import os
import pathlib
import uuid

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATE = ROOT / ".testbed"


@pytest.fixture(scope="session")
def testbed_facts():
    path = STATE / "testbed.yml"
    if not path.exists():
        pytest.fail(f"{path} is missing: bring the test cloud up first (./run testbed up)")
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def cloud(testbed_facts):
    import openstack

    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", testbed_facts["testbed_clouds_yaml"])
    conn = openstack.connect(cloud=testbed_facts["testbed_cloud_name"])
    yield conn
    conn.close()


@pytest.fixture
def unique_name():
    """A name no other run uses, so a failed run never collides with the next one."""
    return f"lbaas-test-{uuid.uuid4().hex[:8]}"
