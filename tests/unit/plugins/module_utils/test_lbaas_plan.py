"""Planning the fewest writes against the current state (no API: the state is a snapshot)."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_ops, lbaas_plan, lbaas_validate
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError

from lbaas_data import build, members, plan, snapshot, tree


@pytest.fixture
def state(fake):
    return fake, build(fake)


def test_no_op_plan_is_empty(state):
    fake, lb_id = state
    ops, before, after = plan(tree(), snapshot(fake, lb_id))
    assert ops == []
    assert before == after
    assert len(after["pools"][0]["members"]) == 10
    assert [li["protocol_port"] for li in after["listeners"]] == [80, 8080, 9000]


def test_no_op_with_the_same_tree_written_differently(state):
    fake, lb_id = state
    params = tree()
    params["listeners"].reverse()
    params["pools"].reverse()
    params["pools"][0]["members"].reverse()
    params["listeners"][2]["protocol"] = "http"
    params["listeners"][2]["insert_headers"] = {"X-Forwarded-For": "true"}
    params["pools"][2]["healthmonitor"]["url_path"] = "/health"
    params["pools"][2]["healthmonitor"]["http_method"] = "GET"       # Octavia's default, given explicitly
    params["pools"][1]["members"][0]["weight"] = 1                   # idem
    ops = plan(params, snapshot(fake, lb_id))[0]
    assert ops == []


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.update(description="front"), ["update load balancer web (description)"]),
    (lambda t: t["listeners"][1].update(connection_limit=500), ["update listener HTTP:8080 (connection_limit)"]),
    (lambda t: t["pools"][1].update(lb_algorithm="ROUND_ROBIN"), ["update pool api (lb_algorithm)"]),
    (lambda t: t["pools"][0]["healthmonitor"].update(delay=10), ["update health monitor of pool web (delay)"]),
    (lambda t: t["pools"][2]["members"][4].update(weight=0), ["batch-update members of pool tcp (update 1)"]),
    (lambda t: t["listeners"][0]["l7policies"][0]["rules"][0].update(invert=True),
     ["update L7 rule PATH STARTS_WITH /api of L7 policy api of listener HTTP:80 (invert)"]),
    (lambda t: t["listeners"][0]["l7policies"][1].update(redirect_http_code=301),
     ["update L7 policy legacy of listener HTTP:80 (redirect_http_code)"]),
    (lambda t: t["listeners"][1].update(default_pool="web"), ["update listener HTTP:8080 (default_pool)"]),
])
def test_one_field_change_is_one_write(state, change, expected):
    fake, lb_id = state
    params = tree()
    change(params)
    ops, before, after = plan(params, snapshot(fake, lb_id))
    assert [op.describe() for op in ops] == expected
    assert before != after


def test_one_field_change_body(state):
    fake, lb_id = state
    params = tree()
    params["listeners"][1]["default_pool"] = "web"
    params["listeners"][1]["timeout_client_data"] = 60000
    (op,) = plan(params, snapshot(fake, lb_id))[0]
    web_id = next(p["id"] for p in fake.pools.values() if p["name"] == "web")
    assert op.method == "PUT" and op.path.startswith("/lbaas/listeners/")
    assert op.body == {"listener": {"default_pool_id": web_id, "timeout_client_data": 60000}}
    assert op.changes["timeout_client_data"] == (50000, 60000)


def test_half_member_set_replacement_is_one_batch_put(state):
    fake, lb_id = state
    params = tree()
    params["pools"][0]["members"] = members(1, 5) + members(5, 5)
    ops, before, after = plan(params, snapshot(fake, lb_id))
    assert len(ops) == 1
    op = ops[0]
    web_id = next(p["id"] for p in fake.pools.values() if p["name"] == "web")
    assert (op.method, lbaas_ops.resolve(op.path, {})) == ("PUT", "/lbaas/pools/%s/members" % web_id)
    assert op.params is None
    assert len(op.body["members"]) == 10
    assert {m["address"] for m in op.body["members"]} == {"10.0.1.%d" % i for i in range(1, 6)} | {
        "10.0.5.%d" % i for i in range(1, 6)}
    assert len(op.detail["created"]) == 5 and len(op.detail["deleted"]) == 5 and op.detail["updated"] == []
    assert op.summary == "add 5, delete 5"
    assert len(before["pools"][0]["members"]) == 10 and len(after["pools"][0]["members"]) == 10


def test_additive_members_keep_the_others(state):
    fake, lb_id = state
    params = tree()
    params["pools"][0]["members"] = members(5, 2)
    params["pools"][0]["additive_only"] = True
    (op,), after = plan(params, snapshot(fake, lb_id))[0::2]
    assert op.params == {"additive_only": "true"}
    assert [m["address"] for m in op.body["members"]] == ["10.0.5.1", "10.0.5.2"]
    assert len(after["pools"][0]["members"]) == 12


def test_non_updatable_change_is_refused_before_any_write(state):
    fake, lb_id = state
    params = tree()
    params["pools"][2]["protocol"] = "PROXY"
    with pytest.raises(ModuleError) as err:
        plan(params, snapshot(fake, lb_id))
    assert "pool tcp" in err.value.msg and "protocol" in err.value.msg
    params = tree()
    params["vip_subnet"] = "99999999-2222-3333-4444-555555555555"
    with pytest.raises(ModuleError, match="vip_subnet"):
        plan(params, snapshot(fake, lb_id))
    params = tree()
    params["pools"][0]["healthmonitor"]["type"] = "HTTPS"
    with pytest.raises(ModuleError, match="type of health monitor of pool web"):
        plan(params, snapshot(fake, lb_id))


def test_purge_and_dependency_order(state):
    fake, lb_id = state
    params = tree()
    # drop listener 9000 and pool tcp, add pool "new" used by a new listener and by policy "api"
    params["listeners"].pop(2)
    params["pools"].pop(2)
    params["pools"].append({"name": "new", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": members(7, 2),
                            "healthmonitor": {"type": "HTTP", "delay": 5, "probe_timeout": 3, "max_retries": 3}})
    params["listeners"].append({"protocol": "HTTP", "protocol_port": 81, "default_pool": "new"})
    params["listeners"][0]["l7policies"][0]["redirect_pool"] = "new"
    params["listeners"][0]["l7policies"].pop(1)
    ops = plan(params, snapshot(fake, lb_id))[0]
    assert [op.describe() for op in ops] == [
        "delete L7 policy legacy of listener HTTP:80",
        "create pool new",
        "batch-update members of pool new (add 2)",
        "create health monitor of pool new",
        "create listener HTTP:81",
        "update L7 policy api of listener HTTP:80 (redirect_pool)",
        "delete listener TCP:9000",      # after the creates (issue 13 item 8)
        "delete pool tcp",
    ]
    create_listener = ops[4]
    assert create_listener.body["listener"]["default_pool_id"] == lbaas_ops.Ref("pool", "new")
    ids = {("pool", "new"): "NEW-ID"}
    assert lbaas_ops.resolve(create_listener.body, ids)["listener"]["default_pool_id"] == "NEW-ID"
    assert lbaas_ops.resolve(ops[2].path, ids) == "/lbaas/pools/NEW-ID/members"


def test_no_purge_keeps_unlisted_children(state):
    fake, lb_id = state
    params = tree()
    params["listeners"] = params["listeners"][:1]
    params["pools"] = params["pools"][:2]
    ops, after = plan(params, snapshot(fake, lb_id), purge_listeners=False, purge_pools=False)[0::2]
    assert ops == []
    assert len(after["listeners"]) == 3 and len(after["pools"]) == 3


def test_unlisted_children_are_left_alone_when_lists_are_not_given(state):
    fake, lb_id = state
    ops, before, after = plan({"name": "web", "vip_subnet": tree()["vip_subnet"]}, snapshot(fake, lb_id))
    assert ops == [] and "listeners" not in after and "pools" not in after


def test_referenced_pool_is_not_purged(state):
    fake, lb_id = state
    params = tree()
    params["pools"] = params["pools"][:2]
    params["listeners"] = params["listeners"][:2] + [{"protocol": "TCP", "protocol_port": 9000}]
    ops = plan(params, snapshot(fake, lb_id))[0]
    assert [op.describe() for op in ops] == ["delete pool tcp"]


def test_policy_reorder_and_new_rule(state):
    fake, lb_id = state
    params = tree()
    policies = params["listeners"][0]["l7policies"]
    policies.reverse()
    policies[1]["rules"].append({"type": "HOST_NAME", "compare_type": "EQUAL_TO", "value": "api.example.com"})
    ops = plan(params, snapshot(fake, lb_id))[0]
    # moving legacy to 1 moves api to 2 (Octavia renumbers): one position update
    assert [op.describe() for op in ops] == [
        "update L7 policy legacy of listener HTTP:80 (position)",
        "create L7 rule HOST_NAME EQUAL_TO api.example.com of L7 policy api of listener HTTP:80",
    ]
    assert ops[0].body == {"l7policy": {"position": 1}}


def apply(fake, ops, lb_id):
    """Send a plan to the fake (which renumbers policies as Octavia does)."""
    ids = {}
    for op in ops:
        fake.lbs[lb_id]["provisioning_status"] = "ACTIVE"
        resp = fake.load_balancer.request(lbaas_ops.resolve(op.path, ids), op.method, json=lbaas_ops.resolve(op.body, ids))
        assert resp.status_code < 300, resp.text
        if op.record:
            ids[op.record] = resp.json()[op.resource]["id"]
    fake.lbs[lb_id]["provisioning_status"] = "ACTIVE"


def policy_order(fake, lb_id):
    listener = next(li for li in fake.listeners.values()
                    if li["loadbalancers"][0]["id"] == lb_id and li["protocol_port"] == 80)
    return [(fake.policies[p["id"]]["name"], fake.policies[p["id"]]["position"]) for p in listener["l7policies"]]


@pytest.mark.parametrize("change, writes, order", [
    # a new policy first: one create, Octavia shifts the others
    (lambda pols: pols.insert(0, {"name": "block", "action": "REJECT"}),
     ["create L7 policy block of listener HTTP:80"], ["block", "api", "legacy"]),
    # the first policy gone: one delete, Octavia closes the gap
    (lambda pols: pols.pop(0), ["delete L7 policy api of listener HTTP:80"], ["legacy"]),
    # a new one in the middle
    (lambda pols: pols.insert(1, {"name": "mid", "action": "REJECT"}),
     ["create L7 policy mid of listener HTTP:80"], ["api", "mid", "legacy"]),
    # the last to the front and a new one last
    (lambda pols: (pols.insert(0, pols.pop()), pols.append({"name": "end", "action": "REJECT"})),
     ["update L7 policy legacy of listener HTTP:80 (position)", "create L7 policy end of listener HTTP:80"],
     ["legacy", "api", "end"]),
])
def test_policy_positions_follow_octavias_renumbering(state, change, writes, order):
    fake, lb_id = state
    params = tree()
    change(params["listeners"][0]["l7policies"])
    ops, before, after = plan(params, snapshot(fake, lb_id))
    assert [op.describe() for op in ops] == writes
    policies = next(li for li in after["listeners"] if li["protocol_port"] == 80)["l7policies"]
    assert [(p["name"], p["position"]) for p in policies] == [(name, i) for i, name in enumerate(order, start=1)]
    apply(fake, ops, lb_id)
    assert policy_order(fake, lb_id) == [(name, i) for i, name in enumerate(order, start=1)]
    assert plan(params, snapshot(fake, lb_id))[0] == []


def test_policy_position_beyond_the_end_is_the_end(state):
    fake, lb_id = state
    params = tree()
    params["listeners"][0]["l7policies"][1]["position"] = 10
    assert plan(params, snapshot(fake, lb_id))[0] == []
    params["listeners"][0]["l7policies"][0]["position"] = 10    # both "at 10": in the task's order
    assert plan(params, snapshot(fake, lb_id))[0] == []
    del params["listeners"][0]["l7policies"][1]["position"]     # legacy at 2 (its place in the list), api at 10
    ops = plan(params, snapshot(fake, lb_id))[0]
    assert [op.describe() for op in ops] == ["update L7 policy legacy of listener HTTP:80 (position)"]
    apply(fake, ops, lb_id)
    assert policy_order(fake, lb_id) == [("legacy", 1), ("api", 2)]
    assert plan(params, snapshot(fake, lb_id))[0] == []


def test_new_listener_with_policies_and_rules_on_existing_lb(state):
    fake, lb_id = state
    params = tree()
    params["listeners"].append({"protocol": "HTTP", "protocol_port": 81, "l7policies": [
        {"name": "deny", "action": "REJECT", "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/admin"}]}]})
    ops = plan(params, snapshot(fake, lb_id))[0]
    assert [op.describe() for op in ops] == [
        "create listener HTTP:81",
        "create L7 policy deny of listener HTTP:81",
        "create L7 rule PATH STARTS_WITH /admin of L7 policy deny of listener HTTP:81",
    ]
    listener_ref = lbaas_ops.Ref("listener", ("TCP", 81))
    assert ops[1].body["l7policy"]["listener_id"] == listener_ref


def test_reference_to_unknown_pool_fails_naming_the_field(state):
    fake, lb_id = state
    params = tree()
    params["listeners"][1]["default_pool"] = "ghost"
    with pytest.raises(ModuleError, match=r"listeners\[1\].default_pool"):
        lbaas_plan.tree_plan(lbaas_validate.desire_tree(dict(params, purge_pools=False)), snapshot(fake, lb_id), purge_pools=False)


def test_remove_session_persistence_sends_null(state):
    fake, lb_id = state
    web = next(p for p in fake.pools.values() if p["name"] == "web")
    web["session_persistence"] = {"type": "SOURCE_IP", "cookie_name": None, "persistence_timeout": None,
                                  "persistence_granularity": None}
    params = tree()
    params["pools"][0]["session_persistence"] = {}
    (op,) = plan(params, snapshot(fake, lb_id))[0]
    assert op.body == {"pool": {"session_persistence": None}}
