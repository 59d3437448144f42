"""Fixtures for tests that drive the real test cloud (./run testbed up)."""

from __future__ import annotations

import os
import pathlib
import uuid

import pytest
import yaml

from deployment import ensure_drivers
from lb_helpers import delete_all

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATE = ROOT / ".testbed"


def pytest_configure(config):
    config.addinivalue_line("markers", "real_amphorae: needs Octavia on its real drivers "
                            "(amphora VMs under QEMU); runs after every other test")
    config.addinivalue_line("markers", "slow_vm: boots one more VM (an amphora, or the test bed's tiny "
                            "image) for a path that CI proves another way; tests/run-all.sh deselects it, "
                            "bench/real_amphorae.sh runs the amphora ones, `-m slow_vm` all of them")


def pytest_collection_modifyitems(items):
    """Every test on the noop drivers first, the real-amphora ones last (a stable sort keeps
    file order within each group), so a session switches the deployment at most twice."""
    items.sort(key=lambda item: item.get_closest_marker("real_amphorae") is not None)


@pytest.fixture(scope="module", autouse=True)
def octavia_drivers(request):
    """Deploy the drivers a test module needs (its pytestmark): the real ones for
    real_amphorae, the noop ones for every other integration module (see deployment.py).
    Module-scoped and autouse, so it runs before the module's own module-scoped fixtures
    (which build load balancers on whatever drivers are deployed)."""
    ensure_drivers("real" if request.node.get_closest_marker("real_amphorae") else "noop")


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


@pytest.fixture
def lbs(cloud):
    """A list a test appends the IDs of the load balancers it creates to: each is deleted
    (cascade) after the test, up to 600 s each (an amphora VM under TCG), and every one
    left behind fails the teardown."""
    made = []
    yield made
    delete_all(cloud, made, timeout=600)
