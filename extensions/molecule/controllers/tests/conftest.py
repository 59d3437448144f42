"""Fixtures of the controllers scenario's verifier: testinfra straight into the podman
containers (much faster than through Ansible), openstacksdk against the test cloud."""

from __future__ import annotations

import os
import pathlib

import openstack
import pytest
import testinfra
import yaml

CONTROLLERS = ["octavia-lbaas-controller-1", "octavia-lbaas-controller-2"]
STATE = pathlib.Path(os.environ.get("XDG_STATE_HOME", pathlib.Path.home() / ".local" / "state")) / "octavia-lbaas"


@pytest.fixture(scope="session")
def testbed():
    return yaml.safe_load((STATE / "testbed" / "testbed.yml").read_text())


@pytest.fixture(scope="session")
def cloud(testbed):
    os.environ["OS_CLIENT_CONFIG_FILE"] = testbed["testbed_clouds_yaml"]
    conn = openstack.connect(cloud=testbed["testbed_cloud_name"])
    yield conn
    conn.close()


@pytest.fixture(scope="session", params=CONTROLLERS)
def controller(request):
    return testinfra.get_host("podman://" + request.param)


@pytest.fixture(scope="session")
def controllers():
    return {name: testinfra.get_host("podman://" + name) for name in CONTROLLERS}


def hm_port(cloud, host):
    """The controller's health-manager port, found by its name in Neutron (the role
    names it after the inventory host, which is the container's name here)."""
    name = f"octavia-health-manager-{host.backend.name}-listen-port"
    ports = list(cloud.network.ports(name=name))
    assert len(ports) == 1, f"expected one port named {name}, found {len(ports)}"
    return ports[0]


def octavia_conf(host):
    import configparser
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(host.file("/etc/octavia/octavia.conf").content_string)
    return parser
