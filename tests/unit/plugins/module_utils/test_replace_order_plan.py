"""Issue 13 item 8: a listener replaced by another (a new port) is deleted only after the
new one exists, so a create Octavia refuses leaves the old listener serving; when the
delete has to come first (the new listener takes over the old one's default pool, which
Octavia lets only one listener have), the failure names what is gone. The refusal is
injected into the in-memory Octavia; tests/integration/test_replace_order.py makes the
real Octavia refuse one."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.modules import loadbalancer

from lbaas_data import build, tree


def _ports(fake):
    return sorted(li["protocol_port"] for li in fake.listeners.values())


def test_a_failed_create_leaves_the_listener_it_would_replace(run_module, fake):
    build(fake)
    params = tree()
    params["listeners"][2] = {"protocol": "TCP", "protocol_port": 9001}
    fake.inject.append(("POST", 400, "Validation failure: something Octavia does not like."))
    result = run_module(loadbalancer, params, expect_fail=True)
    assert _ports(fake) == [80, 8080, 9000]           # the old listener still serves
    assert "Gone now" not in result["msg"]
    assert result["changed"] is False


def test_when_the_delete_must_come_first_the_failure_names_what_is_gone(run_module, fake):
    build(fake)
    params = tree()
    params["listeners"][2] = {"protocol": "TCP", "protocol_port": 9001, "default_pool": "tcp"}
    fake.inject.append(("POST", 400, "Validation failure: something Octavia does not like."))
    result = run_module(loadbalancer, params, expect_fail=True)
    assert _ports(fake) == [80, 8080]
    assert "Gone now: listener TCP:9000." in result["msg"], result["msg"]
    assert result["changed"] is True
    assert result["done"] == ["delete listener TCP:9000"]
