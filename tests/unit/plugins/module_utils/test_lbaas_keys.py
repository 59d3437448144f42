"""Objects are found by their natural key inside their parent."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_specs, lbaas_state, lbaas_validate
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError

LB = {"id": "lb-1", "name": "web", "provisioning_status": "ACTIVE"}
LISTENERS = [
    {"id": "l-80", "name": "front", "protocol": "HTTP", "protocol_port": 80},
    {"id": "l-53t", "name": "dns-tcp", "protocol": "TCP", "protocol_port": 53},
    {"id": "l-53u", "name": "dns-udp", "protocol": "UDP", "protocol_port": 53},
]
POOLS = [{"id": "p-1", "name": "web", "protocol": "HTTP"}, {"id": "p-2", "name": "api", "protocol": "HTTP"},
         {"id": "p-3", "name": "", "protocol": "TCP"}]


def current(**kwargs):
    return lbaas_state.Current(None, LB, listeners=LISTENERS, pools=POOLS, **kwargs)


def test_listener_key_is_l4_protocol_and_port():
    assert lbaas_specs.listener_key({"protocol": "HTTP", "protocol_port": 80}) == ("TCP", 80)
    assert lbaas_specs.listener_key({"protocol": "TERMINATED_HTTPS", "protocol_port": 80}) == ("TCP", 80)
    assert lbaas_specs.listener_key({"protocol": "UDP", "protocol_port": 80}) == ("UDP", 80)


@pytest.mark.parametrize("ref, expected", [
    ("HTTP:80", "l-80"), ("http:80", "l-80"), ("TCP:80", "l-80"), ("front", "l-80"), ("l-53u", "l-53u"),
    ("UDP:53", "l-53u"), ("TCP:53", "l-53t"), ("HTTP:81", None), ("nope", None),
])
def test_find_listener(ref, expected):
    found = current().find_listener(ref)
    assert (found or {}).get("id") == expected


def test_find_listener_by_port_needs_protocol_when_two_share_it():
    with pytest.raises(ModuleError, match="give the protocol"):
        current().find_listener(protocol_port=53)
    assert current().find_listener(protocol="UDP", protocol_port=53)["id"] == "l-53u"


def test_pools_by_name_or_id_in_their_load_balancer():
    cur = current()
    assert cur.find_pool("api")["id"] == "p-2"
    assert cur.find_pool("p-3")["id"] == "p-3"
    assert cur.find_pool("other-lb-pool") is None
    assert cur.pool_names() == {"p-1": "web", "p-2": "api", "p-3": "p-3"}


def test_duplicate_pool_names_are_refused():
    cur = lbaas_state.Current(None, LB, listeners=[], pools=POOLS + [{"id": "p-4", "name": "web", "protocol": "HTTP"}])
    with pytest.raises(ModuleError, match="2 pools"):
        cur.find_pool("web")


def test_member_key_normalizes_addresses():
    a = lbaas_specs.MEMBER.view({"address": "2001:db8:0::1", "protocol_port": 80})
    b = lbaas_validate.desire("member", {"address": "2001:DB8::1", "protocol_port": "80"})
    assert lbaas_specs.member_key(a) == lbaas_specs.member_key(b)


def test_l7policy_by_name_or_position():
    policies = {"l-80": [{"id": "x", "name": "api", "position": 2}, {"id": "y", "name": "", "position": 1}]}
    cur = current(l7policies=policies)
    listener = LISTENERS[0]
    assert [p["id"] for p in cur.l7policies(listener)] == ["y", "x"]
    assert cur.find_l7policy(listener, "api")["id"] == "x"
    assert cur.find_l7policy(listener, position=1)["id"] == "y"


def test_rule_key():
    view = lbaas_specs.L7RULE.view({"type": "HEADER", "compare_type": "EQUAL_TO", "key": "X-A", "value": "1", "invert": True})
    want = lbaas_validate.desire("l7rule", {"type": "header", "compare_type": "equal_to", "rule_key": "X-A", "value": "1"})
    assert lbaas_specs.rule_key(view) == lbaas_specs.rule_key(want) == ("HEADER", "EQUAL_TO", "X-A", "1")


def test_tree_listeners_match_by_key_and_pools_by_name(fake):
    from lbaas_data import build, plan, snapshot, tree
    lb_id = build(fake)
    params = tree()
    params["listeners"][1]["protocol"] = "TERMINATED_HTTPS"          # same key (TCP/8080) → protocol change refused
    params["listeners"][1]["default_tls_container_ref"] = "https://kms/c"
    with pytest.raises(ModuleError) as err:
        plan(params, snapshot(fake, lb_id))
    assert "listener TERMINATED_HTTPS:8080" in err.value.msg and "protocol" in err.value.msg
    params = tree()
    params["listeners"].append({"protocol": "UDP", "protocol_port": 80})  # UDP 80 is a new listener, no conflict
    ops = plan(params, snapshot(fake, lb_id))[0]
    assert [op.describe() for op in ops] == ["create listener UDP:80"]
