"""The fully populated create body and the batch member body."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_ops, lbaas_plan, lbaas_validate
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError

from lbaas_data import SUBNET, UUID_A, UUID_B, members, tree


def _no_nulls(obj):
    if isinstance(obj, dict):
        return all(v is not None and _no_nulls(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_no_nulls(v) for v in obj)
    return True


def test_full_tree_graph_body():
    body = lbaas_ops.graph_body(lbaas_validate.desire_tree(tree()))
    json.dumps(body)
    lb = body["loadbalancer"]
    assert lb["name"] == "web" and lb["vip_subnet_id"] == SUBNET
    assert set(lb) == {"name", "vip_subnet_id", "listeners", "pools"}
    assert _no_nulls(body)
    # every pool is defined fully once, at the load balancer level
    pools = {p["name"]: p for p in lb["pools"]}
    assert list(pools) == ["web", "api", "tcp"]
    for pool in pools.values():
        assert len(pool["members"]) == 10
        assert set(pool["healthmonitor"]) >= {"type", "delay", "timeout", "max_retries"}
        assert "probe_timeout" not in pool["healthmonitor"]
    assert pools["tcp"]["members"][0] == {"address": "10.0.3.1", "protocol_port": 9000}
    assert pools["web"]["healthmonitor"]["url_path"] == "/health"
    # listeners and policies refer to pools by name only
    listeners = {(li["protocol"], li["protocol_port"]): li for li in lb["listeners"]}
    assert list(listeners) == [("HTTP", 80), ("HTTP", 8080), ("TCP", 9000)]
    assert listeners[("HTTP", 80)]["default_pool"] == {"name": "web"}
    assert listeners[("HTTP", 8080)]["default_pool"] == {"name": "api"}
    assert listeners[("TCP", 9000)]["default_pool"] == {"name": "tcp"}
    assert "default_pool_id" not in listeners[("HTTP", 80)]
    assert listeners[("HTTP", 80)]["insert_headers"] == {"X-Forwarded-For": "true"}
    policies = listeners[("HTTP", 80)]["l7policies"]
    assert [p["name"] for p in policies] == ["api", "legacy"]
    assert [p["position"] for p in policies] == [1, 2]
    assert policies[0]["redirect_pool"] == {"name": "api"} and "redirect_pool_id" not in policies[0]
    assert policies[0]["rules"] == [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}]
    assert policies[1]["redirect_url"] == "https://www.example.com/new"
    assert policies[1]["rules"] == [{"type": "HEADER", "compare_type": "EQUAL_TO", "key": "X-Legacy", "value": "1"}]
    assert "l7policies" not in listeners[("HTTP", 8080)]


def test_inline_pools_are_hoisted_and_referenced_by_name():
    params = tree()
    tcp = params["pools"].pop(2)
    params["listeners"][2]["default_pool"] = tcp
    body = lbaas_ops.graph_body(lbaas_validate.desire_tree(params))["loadbalancer"]
    assert [p["name"] for p in body["pools"]] == ["web", "api", "tcp"]
    assert body["listeners"][2]["default_pool"] == {"name": "tcp"}
    assert len(body["pools"][2]["members"]) == 10


def test_graph_body_refuses_unresolved_names_and_undefined_pools():
    with pytest.raises(ModuleError, match="vip_subnet"):
        lbaas_ops.graph_body(lbaas_validate.desire_tree({"name": "web", "vip_subnet": "public"}))
    params = {"name": "web", "vip_subnet": SUBNET, "listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": "x"}]}
    with pytest.raises(ModuleError, match=r"listeners\[0\].default_pool"):
        lbaas_ops.graph_body(lbaas_validate.desire_tree(params))


def test_resolved_names_go_into_the_body():
    desired = lbaas_validate.desire_tree({"name": "web", "vip_network": "public", "flavor": "small"})
    body = lbaas_ops.graph_body(desired, {"vip_network": UUID_A, "flavor": UUID_B})["loadbalancer"]
    assert body == {"name": "web", "vip_network_id": UUID_A, "flavor_id": UUID_B}


def _current_members(n=4):
    out = []
    for i, m in enumerate(members(1, n)):
        out.append(dict(m, id="m%d" % i, name="m%d" % i, weight=i + 1, backup=False, admin_state_up=True,
                        monitor_address=None, monitor_port=None, subnet_id="s" * 32, tags=["t"]))
    return out


def test_batch_body_keeps_current_values_of_unspecified_options():
    current = _current_members()
    wanted = lbaas_validate.desire_members(members(1, 2) + [{"address": "10.0.1.9", "protocol_port": 80, "weight": 7}])
    body = lbaas_plan.batch_members_body(wanted, current)
    assert [m["address"] for m in body["members"]] == ["10.0.1.1", "10.0.1.2", "10.0.1.9"]
    kept = body["members"][0]
    assert kept == {"address": "10.0.1.1", "protocol_port": 80, "name": "m0", "weight": 1, "backup": False,
                    "admin_state_up": True, "subnet_id": "s" * 32, "tags": ["t"]}
    assert body["members"][2] == {"address": "10.0.1.9", "protocol_port": 80, "weight": 7}


def test_batch_body_updates_only_given_options():
    current = _current_members(2)
    wanted = lbaas_validate.desire_members([{"address": "10.0.1.1", "protocol_port": 80, "weight": 50}, members(1, 2)[1]])
    body = lbaas_plan.batch_members_body(wanted, current)
    assert body["members"][0]["weight"] == 50 and body["members"][0]["name"] == "m0"
    assert body["members"][1]["weight"] == 2


def test_batch_body_additive_only_carries_just_the_changes():
    current = _current_members(3)
    wanted = lbaas_validate.desire_members([members(1, 1)[0], {"address": "10.0.9.9", "protocol_port": 80}])
    body = lbaas_plan.batch_members_body(wanted, current, additive_only=True)
    assert body == {"members": [{"address": "10.0.9.9", "protocol_port": 80}]}


def test_batch_body_is_none_when_nothing_changes():
    current = _current_members(2)
    assert lbaas_plan.batch_members_body(lbaas_validate.desire_members(members(1, 2)), current) is None


def test_batch_body_empties_a_pool():
    assert lbaas_plan.batch_members_body([], _current_members(2)) == {"members": []}


def test_predicted_tree_for_check_mode():
    after = lbaas_ops.predict_tree(lbaas_validate.desire_tree(tree()))
    assert after["admin_state_up"] is True
    listener = after["listeners"][0]
    assert listener["connection_limit"] == -1 and listener["default_pool"] == "web"
    assert after["pools"][0]["healthmonitor"]["http_method"] == "GET"
    assert after["pools"][2]["healthmonitor"]["url_path"] is None
    assert after["pools"][0]["members"][0]["weight"] == 1
    assert after["listeners"][0]["l7policies"][1]["redirect_http_code"] == 302
