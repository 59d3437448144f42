"""Smoke test of the test cloud: the objects an Octavia deployer needs, through
openstacksdk and clouds.yaml, against the real Keystone, Neutron, Nova API and Glance
running in the cloud container. Everything created here is deleted again, and the test
checks that it is gone."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import urllib.request

import openstack
import pytest

from placeholder_qcow2 import tiny_qcow2


def test_keystone_catalog_has_the_services(cloud):
    token = cloud.authorize()
    assert token
    types = {s.type for s in cloud.identity.services()}
    assert {"identity", "image", "network", "compute"} <= types
    assert cloud.identity.find_project("service") is not None


def test_deployer_prerequisites_round_trip(cloud, unique_name):
    created = []
    try:
        net = cloud.network.create_network(name=unique_name)
        created.append(("network", net.id))
        subnet = cloud.network.create_subnet(
            name=unique_name, network_id=net.id, ip_version=4, cidr="172.31.250.0/24",
            gateway_ip=None, enable_dhcp=False,
            allocation_pools=[{"start": "172.31.250.10", "end": "172.31.250.50"}],
        )
        created.append(("subnet", subnet.id))
        assert subnet.allocation_pools == [{"start": "172.31.250.10", "end": "172.31.250.50"}]
        assert subnet.gateway_ip is None

        sg = cloud.network.create_security_group(name=unique_name, description="smoke")
        created.append(("security_group", sg.id))
        rule = cloud.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", protocol="udp",
            port_range_min=5555, port_range_max=5555, ethertype="IPv4",
        )
        rules = [r for r in cloud.network.security_group_rules(security_group_id=sg.id)
                 if r.id == rule.id]
        assert rules and rules[0].port_range_min == 5555 and rules[0].protocol == "udp"

        port = cloud.network.create_port(
            name=unique_name, network_id=net.id, device_owner="Octavia:health-mgr",
            binding_host_id="controller-1", security_group_ids=[sg.id],
            fixed_ips=[{"subnet_id": subnet.id}],
        )
        created.append(("port", port.id))
        port = cloud.network.get_port(port.id)
        assert port.device_owner == "Octavia:health-mgr"
        assert port.binding_host_id == "controller-1"
        assert port.mac_address and len(port.mac_address.split(":")) == 6
        ip = port.fixed_ips[0]["ip_address"]
        assert ip.startswith("172.31.250.")
        assert 10 <= int(ip.rsplit(".", 1)[1]) <= 50

        flavor = cloud.compute.create_flavor(name=unique_name, ram=1024, vcpus=1, disk=2,
                                             is_public=False)
        created.append(("flavor", flavor.id))
        service = cloud.identity.find_project("service")
        cloud.compute.flavor_add_tenant_access(flavor, service.id)
        access = cloud.compute.get_flavor_access(flavor)
        assert any(a["tenant_id"] == service.id for a in access)

        keypair = cloud.compute.create_keypair(name=unique_name)
        created.append(("keypair", keypair.name))
        assert keypair.public_key.startswith("ssh-")

        data = tiny_qcow2()
        image = cloud.image.create_image(
            name=unique_name, disk_format="qcow2", container_format="bare",
            data=io.BytesIO(data), tags=["amphora", unique_name], visibility="private",
            owner=service.id,
        )
        created.append(("image", image.id))
        image = cloud.image.get_image(image.id)
        assert image.status == "active"
        assert image.size == len(data)
        assert "amphora" in image.tags
        assert image.owner == service.id
    finally:
        errors = cleanup(cloud, created)
    assert not errors, errors
    for kind, ident in created:
        assert find(cloud, kind, ident) is None, f"{kind} {ident} still exists"


def cleanup(cloud, created):
    delete = {
        "network": cloud.network.delete_network,
        "subnet": cloud.network.delete_subnet,
        "security_group": cloud.network.delete_security_group,
        "port": cloud.network.delete_port,
        "flavor": cloud.compute.delete_flavor,
        "keypair": cloud.compute.delete_keypair,
        "image": cloud.image.delete_image,
    }
    errors = []
    for kind, ident in reversed(created):
        try:
            delete[kind](ident, ignore_missing=False)
        except openstack.exceptions.SDKException as exc:  # report, keep cleaning
            errors.append(f"{kind} {ident}: {exc}")
    return errors


def find(cloud, kind, ident):
    get = {
        "network": cloud.network.find_network,
        "subnet": cloud.network.find_subnet,
        "security_group": cloud.network.find_security_group,
        "port": cloud.network.find_port,
        "flavor": cloud.compute.find_flavor,
        "keypair": cloud.compute.find_keypair,
        "image": cloud.image.find_image,
    }
    return get[kind](ident)


@pytest.mark.parametrize("service", ["keystone", "glance-api", "neutron-api", "nova-api"])
def test_api_units_are_systemd_services(testbed_facts, service):
    out = subprocess.run(
        ["podman", "exec", "octavia-lbaas-cloud", "systemctl", "is-active", service],
        capture_output=True, text=True, check=False,
    )
    assert out.stdout.strip() == "active", out.stdout + out.stderr


def test_deployer_can_create_a_database_and_user(testbed_facts, unique_name):
    import pymysql

    admin = pymysql.connect(host=testbed_facts["testbed_mariadb_host"],
                            user=testbed_facts["testbed_mariadb_admin_user"],
                            password=testbed_facts["testbed_mariadb_admin_password"])
    db = unique_name.replace("-", "_")
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {db}")
            cur.execute(f"CREATE USER '{db}'@'%' IDENTIFIED BY 'p@ss:w/rd'")
            cur.execute(f"GRANT ALL ON {db}.* TO '{db}'@'%'")
        user = pymysql.connect(host=testbed_facts["testbed_mariadb_host"], user=db,
                               password="p@ss:w/rd", database=db)
        with user.cursor() as cur:
            cur.execute("SELECT DATABASE()")
            assert cur.fetchone()[0] == db
        user.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
            cur.execute(f"DROP USER IF EXISTS '{db}'@'%'")
        admin.close()


def rabbit(testbed_facts, method, path, body=None):
    auth = base64.b64encode(f"{testbed_facts['testbed_rabbitmq_admin_user']}:"
                            f"{testbed_facts['testbed_rabbitmq_admin_password']}".encode()).decode()
    req = urllib.request.Request(testbed_facts["testbed_rabbitmq_management_url"] + path,
                                 method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Basic " + auth,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


def test_deployer_can_create_a_vhost_and_user(testbed_facts, unique_name):
    try:
        assert rabbit(testbed_facts, "PUT", f"/api/vhosts/{unique_name}") in (201, 204)
        assert rabbit(testbed_facts, "PUT", f"/api/users/{unique_name}",
                      {"password": "s3cret", "tags": ""}) in (201, 204)
        assert rabbit(testbed_facts, "PUT", f"/api/permissions/{unique_name}/{unique_name}",
                      {"configure": ".*", "write": ".*", "read": ".*"}) in (201, 204)
        assert rabbit(testbed_facts, "GET", f"/api/vhosts/{unique_name}") == 200
    finally:
        rabbit(testbed_facts, "DELETE", f"/api/users/{unique_name}")
        rabbit(testbed_facts, "DELETE", f"/api/vhosts/{unique_name}")


def test_services_reachable_from_another_container(testbed_facts):
    """A controller container on the test-bed network reaches every port it needs."""
    ip = testbed_facts["testbed_cloud_ip"]
    probe = " && ".join(f"timeout 5 bash -c '</dev/tcp/{ip}/{port}'"
                        for port in (3306, 5672, 15672, 5000, 9292, 9696, 8774))
    out = subprocess.run(
        ["podman", "run", "--rm", "--network", testbed_facts["testbed_network_name"],
         testbed_facts["testbed_base_image"], "bash", "-c", probe],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert out.returncode == 0, out.stderr
