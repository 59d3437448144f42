"""The API answers through the keystone catalog and a load balancer with a listener, pool
and member reaches ACTIVE through the real worker, RabbitMQ and MariaDB."""

from __future__ import annotations

import uuid


def test_load_balancer_tree_goes_active(cloud):
    name = "molecule-" + uuid.uuid4().hex[:8]
    endpoint = cloud.endpoint_for("load-balancer")
    assert endpoint and ":9876" in endpoint
    net = cloud.network.create_network(name=name)
    try:
        sub = cloud.network.create_subnet(network_id=net.id, cidr="192.168.201.0/24", ip_version=4)
        lb = cloud.load_balancer.create_load_balancer(
            name=name, vip_subnet_id=sub.id,
            listeners=[{"protocol": "HTTP", "protocol_port": 80, "default_pool": {
                "name": name, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                "members": [{"address": "192.168.201.10", "protocol_port": 8080, "subnet_id": sub.id}]}}])
        lb = cloud.load_balancer.wait_for_load_balancer(lb.id, interval=0.5, wait=180)
        assert lb.provisioning_status == "ACTIVE"
        pools = list(cloud.load_balancer.pools(loadbalancer_id=lb.id))
        assert len(pools) == 1
        members = list(cloud.load_balancer.members(pools[0].id))
        assert [m.address for m in members] == ["192.168.201.10"]
        cloud.load_balancer.delete_load_balancer(lb.id, cascade=True)
        cloud.load_balancer.wait_for_delete(lb, interval=0.5, wait=120)
    finally:
        cloud.network.delete_network(net.id)
