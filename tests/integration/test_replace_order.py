"""Issue 13 item 8 on the real Octavia: a task replaces listener HTTP:80 with a
TERMINATED_HTTPS:443 one whose certificate Octavia cannot fetch (the test cloud has no
Barbican, so Octavia refuses the create). The old listener used to be deleted first and
was lost; now the new one is created first, and the refusal leaves HTTP:80 in place."""

from __future__ import annotations

import uuid

import pytest

from lb_helpers import Cleanup, delete_lb
from playbook import ROOT, run_playbook

TREE = ROOT / "tests" / "integration" / "playbooks" / "lb_tree.yml"


@pytest.fixture
def vip_subnet(cloud):
    tag = uuid.uuid4().hex[:8]
    net = cloud.network.create_network(name=f"lbaas-test-{tag}-net")
    subnet = cloud.network.create_subnet(name=f"lbaas-test-{tag}-vip", network_id=net.id, ip_version=4,
                                         cidr="10.250.0.0/24")
    yield tag, subnet
    cleanup = Cleanup()
    for lb in cloud.load_balancer.load_balancers(name=f"lbaas-test-{tag}-lb"):
        cleanup.attempt("load balancer", delete_lb, cloud, lb.id)
    cleanup.attempt("subnet", cloud.network.delete_subnet, subnet, ignore_missing=True)
    cleanup.attempt("network", cloud.network.delete_network, net, ignore_missing=True)
    assert not cleanup.errors, cleanup.errors


def _result(run):
    return run.plays[0]["tasks"][0]["hosts"]["localhost"]


def test_a_refused_replacement_leaves_the_old_listener(cloud, vip_subnet, testbed_facts):
    tag, subnet = vip_subnet
    base = {"cloud_name": testbed_facts["testbed_cloud_name"], "lb_name": f"lbaas-test-{tag}-lb",
            "lb_vip_subnet": subnet.name, "lb_timeout": 120}
    made = run_playbook(TREE, extra_vars=dict(base, lb_listeners=[{"protocol": "HTTP", "protocol_port": 80}]))
    assert made.rc == 0, made.failed_messages()
    lb_id = _result(made)["id"]
    tls = {"protocol": "TERMINATED_HTTPS", "protocol_port": 443,
           "default_tls_container_ref": "https://barbican.invalid:9311/v1/containers/" + str(uuid.uuid4())}
    replaced = run_playbook(TREE, extra_vars=dict(base, lb_listeners=[tls]))
    result = _result(replaced)
    assert result.get("failed") is True, result
    assert "create listener TERMINATED_HTTPS:443" in result["msg"], result["msg"]
    listeners = [(li.protocol, li.protocol_port) for li in cloud.load_balancer.listeners(load_balancer_id=lb_id)]
    assert listeners == [("HTTP", 80)]
    assert result["changed"] is False
