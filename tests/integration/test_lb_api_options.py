"""Issue 16 item 3 against the real Octavia of the test cloud (no-op drivers): the load
balancer's vip_sg_ids, vip_qos_policy_id and additional_vips, and a pool's TLS options
without certificates (tls_enabled, tls_versions, tls_ciphers, alpn_protocols). Each: the
change, a re-run without a write, check mode with --diff without a write; what Octavia
cannot do fails before any write. Octavia's request log counts the writes.

TERMINATED_HTTPS listeners and certificate references need Barbican, which the test cloud
lacks: they are unit-tested only (tests/unit/plugins/modules/test_vip_and_tls_options.py).
The tests run in file order and build on each other."""

from __future__ import annotations

import uuid

import pytest

from lb_helpers import active_lb, delete_lb
from octavia_api_log import Window
from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "lb_api_options.yml"


class World:
    def __init__(self, cloud, cloud_name):
        self.cloud = cloud
        self.cloud_name = cloud_name
        self.prefix = f"lbaas-opts-{uuid.uuid4().hex[:8]}"
        self.lb_name = f"{self.prefix}-lb"
        self.lb_id = None
        self.network = self.subnet = self.subnet_2 = None
        self.sgs = []
        self.qos = []

    def ids(self):
        found = {self.prefix, self.lb_name}
        if self.lb_id:
            found.add(self.lb_id)
            # the pools it made: their creates and updates are ours too
            pools = self.cloud.load_balancer.get("/lbaas/pools", params={"loadbalancer_id": self.lb_id}).json()["pools"]
            found |= {pool["id"] for pool in pools}
        return found

    def play(self, check=False, diff=False, **variables):
        extra = {"cloud_name": self.cloud_name, "lb_name": self.lb_name, "vip_subnet": self.subnet.id}
        extra.update(variables)
        with Window(self.ids) as window:
            run = run_playbook(PLAYBOOK, extra_vars=extra, check=check, diff=diff)
            results = {item["task"]["name"]: item["hosts"]["localhost"] for p in run.plays for item in p["tasks"]}
            # the window attributes a create (a POST without an ID in its path) by the ID it
            # made: known before the window closes
            if self.lb_id is None and not check and results.get("Load balancer", {}).get("id"):
                self.lb_id = results["Load balancer"]["id"]
        return run, window, results

    def lb(self):
        return self.cloud.load_balancer.get(f"/lbaas/loadbalancers/{self.lb_id}").json()["loadbalancer"]


@pytest.fixture(scope="module")
def world(cloud, testbed_facts):
    w = World(cloud, testbed_facts["testbed_cloud_name"])
    try:
        w.network = cloud.network.create_network(name=f"{w.prefix}-net")
        w.subnet = cloud.network.create_subnet(name=f"{w.prefix}-vip", network_id=w.network.id, ip_version=4,
                                               cidr="10.253.0.0/24")
        w.subnet_2 = cloud.network.create_subnet(name=f"{w.prefix}-vip2", network_id=w.network.id, ip_version=4,
                                                 cidr="10.253.1.0/24")
        w.sgs = [cloud.network.create_security_group(name=f"{w.prefix}-sg{i}") for i in (1, 2)]
        yield w
    finally:
        if w.lb_id:
            delete_lb(cloud, w.lb_id, timeout=180)
        for policy in w.qos:
            cloud.network.delete_qos_policy(policy, ignore_missing=True)
        for sg in w.sgs:
            cloud.network.delete_security_group(sg, ignore_missing=True)
        for subnet in (w.subnet, w.subnet_2):
            if subnet is not None:
                cloud.network.delete_subnet(subnet, ignore_missing=True)
        if w.network is not None:
            cloud.network.delete_network(w.network, ignore_missing=True)


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def writes(window):
    return sorted(f"{r.method} {r.path.split('?')[0]}" for r in window.writes)


def check_then_apply(world, task, expect_writes, **variables):
    """Check mode with --diff (no write), the real run (`expect_writes` writes), a re-run (none)."""
    run, window, results = world.play(check=True, diff=True, **variables)
    assert_ok(run)
    assert results[task]["changed"] is True and window.writes == [], window.show()
    checked = results[task]
    run, window, results = world.play(diff=True, **variables)
    assert_ok(run)
    assert results[task]["changed"] is True and len(window.writes) == expect_writes, window.show()
    assert results[task]["api_calls"]["writes"] == expect_writes
    assert results[task]["diff"]["after"] == checked["diff"]["after"]
    active_lb(world.cloud, world.lb_id)
    run, window, results = world.play(**variables)
    assert_ok(run)
    assert results[task]["changed"] is False and window.writes == [], window.show()
    return checked


# -- additional_vips (create-only) and vip_sg_ids -----------------------------------------------------------------
def test_create_with_additional_vip_and_vip_security_groups(world):
    variables = {"additional_vips": [{"subnet_id": world.subnet_2.id}], "vip_sg_ids": [world.sgs[0].id]}
    check_then_apply(world, "Load balancer", 1, **variables)
    lb = world.lb()
    assert [v["subnet_id"] for v in lb["additional_vips"]] == [world.subnet_2.id]
    # Octavia's no-op network driver allocates no address for an additional VIP (the
    # amphora driver's allowed-address-pairs driver does): the subnet is what is checked here
    assert lb["vip_sg_ids"] == [world.sgs[0].id]


def test_additional_vips_cannot_change(world):
    run, window, results = world.play(additional_vips=[{"subnet_id": world.subnet_2.id, "ip_address": "10.253.1.250"}])
    assert run.rc != 0 and window.writes == [], window.show()
    assert "Cannot change additional_vips" in results["Load balancer"]["msg"]


def test_vip_sg_ids_update_and_back_to_octavias_group(world):
    both = [sg.id for sg in world.sgs]
    check_then_apply(world, "Load balancer", 1, vip_sg_ids=both)
    assert sorted(world.lb()["vip_sg_ids"]) == sorted(both)
    active_lb(world.cloud, world.lb_id)
    check_then_apply(world, "Load balancer", 1, vip_sg_ids=[])
    assert world.lb()["vip_sg_ids"] == []
    active_lb(world.cloud, world.lb_id)


def test_vip_sg_ids_with_allowed_cidrs_fail_before_any_write(world):
    listeners = [{"protocol": "TCP", "protocol_port": 22, "allowed_cidrs": ["192.0.2.0/24"]}]
    run, window, results = world.play(vip_sg_ids=[world.sgs[0].id], listeners=listeners)
    assert run.rc != 0 and window.writes == [], window.show()
    assert "allowed_cidrs: cannot be used with the load balancer's vip_sg_ids" in results["Load balancer"]["msg"]


# -- vip_qos_policy_id ----------------------------------------------------------------------------------------------
def test_vip_qos_policy_set_changed_and_removed(world):
    if not world.cloud.network.find_extension("qos"):
        pytest.skip("the test cloud's Neutron has no qos extension: Octavia refuses vip_qos_policy_id without it")
    world.qos = [world.cloud.network.create_qos_policy(name=f"{world.prefix}-qos{i}") for i in (1, 2)]
    for policy in world.qos:
        check_then_apply(world, "Load balancer", 1, vip_qos_policy_id=policy.id)
        assert world.lb()["vip_qos_policy_id"] == policy.id
        active_lb(world.cloud, world.lb_id)
    check_then_apply(world, "Load balancer", 1, vip_qos_policy_id="")
    assert world.lb()["vip_qos_policy_id"] is None
    active_lb(world.cloud, world.lb_id)


# -- a pool with TLS towards its members (no certificates: no Barbican) -------------------------------------------
def test_pool_tls_create_update(world):
    pool = {"name": f"{world.prefix}-tls", "tls_enabled": True, "tls_versions": ["TLSv1.2", "TLSv1.3"],
            "alpn_protocols": ["h2", "http/1.1"], "tls_ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"}
    check_then_apply(world, "Pool", 1, tls_pool=pool)
    active_lb(world.cloud, world.lb_id)
    changed = dict(pool, tls_versions=["TLSv1.3"], alpn_protocols=["http/1.1"])
    checked = check_then_apply(world, "Pool", 1, tls_pool=changed)
    assert checked["diff"]["before"]["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    found = [p for p in world.cloud.load_balancer.get("/lbaas/pools", params={"loadbalancer_id": world.lb_id}).json()["pools"]
             if p["name"] == pool["name"]]
    assert found and found[0]["tls_versions"] == ["TLSv1.3"] and found[0]["alpn_protocols"] == ["http/1.1"]
    active_lb(world.cloud, world.lb_id)


def test_pool_tls_bad_input_fails_before_any_write(world):
    run, window, results = world.play(tls_pool={"name": f"{world.prefix}-tls", "tls_enabled": True, "tls_versions": []})
    assert run.rc != 0 and window.writes == [], window.show()
    assert "tls_versions" in results["Pool"]["msg"]
