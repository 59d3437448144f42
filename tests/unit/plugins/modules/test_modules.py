"""The modules end to end against the in-memory Octavia: one write to create a whole
tree, none on a re-run, the same `changed` in check mode without writes, real diffs."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic

from ansible_collections.octavia.lbaas.plugins.modules import (
    health_monitor,
    health_monitor_info,
    l7policy,
    l7policy_info,
    l7rule,
    listener,
    listener_info,
    loadbalancer,
    loadbalancer_info,
    member,
    member_info,
    pool,
    pool_info,
)

from lbaas_data import SUBNET, build, http_monitor, members, tree


def test_create_tree_is_one_write_and_rerun_is_none(run_module, fake):
    first = run_module(loadbalancer, tree())
    assert first["changed"]
    assert first["api_calls"]["writes"] == 1
    assert first["actions"] == ["create load balancer web (one fully populated create: 3 listener(s), 3 pool(s), "
                                "30 member(s))"]
    assert len(fake.writes()) == 1
    lb = first["loadbalancer"]
    assert lb["provisioning_status"] == "ACTIVE"
    assert sorted(len(p["members"]) for p in lb["pools"]) == [10, 10, 10]
    assert all(p["healthmonitor"] for p in lb["pools"])
    assert [len(li.get("l7policies", [])) for li in lb["listeners"]] == [2, 0, 0]
    assert all(p["healthmonitor_id"] == p["healthmonitor"]["id"] for p in lb["pools"])
    assert {m["provisioning_status"] for p in lb["pools"] for m in p["members"]} == {"ACTIVE"}
    # the tree comes from the create's answer: the only reads are the lookup and the waits
    assert [entry[0] for entry in fake.log if entry[0] == "GET" and "/loadbalancers/" not in entry[1]] == ["GET"]
    fake.log.clear()
    again = run_module(loadbalancer, tree())
    assert not again["changed"]
    assert again["api_calls"]["writes"] == 0 and fake.writes() == []
    assert again["actions"] == [] and again["plan"] == []
    assert again["api_calls"]["reads"] == 10       # LB, listeners, pools, monitors, 3x members, policies, 2x rules


def test_check_mode_reports_the_same_change_without_writing(run_module, fake):
    checked = run_module(loadbalancer, tree(), check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and not fake.lbs
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"]["listeners"][0]["default_pool"] == "web"
    real = run_module(loadbalancer, tree())
    assert real["changed"] == checked["changed"]
    fake.log.clear()
    params = tree()
    params["pools"][0]["members"] = members(1, 5) + members(5, 5)
    checked = run_module(loadbalancer, params, check=True, diff=True)
    assert checked["changed"] and fake.writes() == []
    assert checked["actions"] == ["batch-update members of pool web (add 5, delete 5)"]
    web_before, web_after = (next(p for p in checked["diff"][side]["pools"] if p["name"] == "web")
                             for side in ("before", "after"))
    before = {m["address"] for m in web_before["members"]}
    after = {m["address"] for m in web_after["members"]}
    assert len(before - after) == 5 and len(after - before) == 5
    # both sides list children in the same order (pools by name, members by address)
    assert [p["name"] for p in checked["diff"]["before"]["pools"]] == ["api", "tcp", "web"]
    assert [m["address"] for m in web_after["members"]][:2] == ["10.0.1.1", "10.0.1.2"]
    unchanged = run_module(loadbalancer, tree(), check=True)
    assert not unchanged["changed"]


def test_half_member_replacement_is_one_write(run_module, fake):
    run_module(loadbalancer, tree())
    params = tree()
    params["pools"][0]["members"] = members(1, 5) + members(5, 5)
    fake.log.clear()
    result = run_module(loadbalancer, params)
    assert result["api_calls"]["writes"] == 1 and len(fake.writes()) == 1
    method, path, body = fake.writes()[0]
    assert method == "PUT" and path.endswith("/members") and len(body["members"]) == 10
    web = next(p for p in result["loadbalancer"]["pools"] if p["name"] == "web")
    assert sorted(m["address"] for m in web["members"])[-1] == "10.0.5.5"
    assert not run_module(loadbalancer, params)["changed"]


def test_diff_shows_real_before_and_after(run_module, fake):
    run_module(loadbalancer, tree())
    params = tree()
    params["listeners"][1]["connection_limit"] = 100
    params["pools"][1]["lb_algorithm"] = "SOURCE_IP"
    result = run_module(loadbalancer, params, diff=True)
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["listeners"][1]["connection_limit"] == -1 and after["listeners"][1]["connection_limit"] == 100
    assert before["pools"][0]["name"] == after["pools"][0]["name"] == "api"
    assert before["pools"][0]["lb_algorithm"] == "LEAST_CONNECTIONS" and after["pools"][0]["lb_algorithm"] == "SOURCE_IP"
    assert result["api_calls"]["writes"] == 2


def test_every_write_waits_for_the_load_balancer(run_module, fake):
    fake.pending_polls = 3        # the fake answers 409 to writes while PENDING_*
    params = tree()
    run_module(loadbalancer, params)
    params["pools"].append({"name": "new", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": members(8, 3),
                            "healthmonitor": http_monitor()})
    params["listeners"].append({"protocol": "HTTP", "protocol_port": 81, "default_pool": "new"})
    fake.log.clear()
    result = run_module(loadbalancer, params)
    assert result["api_calls"]["writes"] == 4         # pool, members, monitor, listener: no 409 retried
    assert not run_module(loadbalancer, params)["changed"]


def test_a_busy_load_balancer_is_waited_for_first(run_module, fake):
    lb_id = build(fake)
    fake.pending_polls = 2
    fake._touch(lb_id)                 # someone else is changing it
    params = tree()
    params["description"] = "x"
    result = run_module(loadbalancer, params)
    assert result["changed"] and fake.lbs[lb_id]["description"] == "x"
    assert [c[0] for c in fake.calls()].count("PUT") == 1


def test_non_updatable_change_fails_without_writes(run_module, fake):
    run_module(loadbalancer, tree())
    fake.log.clear()
    params = tree()
    params["listeners"][2]["protocol"] = "HTTPS"
    result = run_module(loadbalancer, params, expect_fail=True)
    assert "Cannot change protocol of listener HTTPS:9000" in result["msg"]
    assert fake.writes() == [] and result["api_calls"]["writes"] == 0


def test_failover_is_an_explicit_action(run_module, fake):
    run_module(loadbalancer, tree())
    result = run_module(loadbalancer, {"name": "web", "failover": True})
    assert result["changed"] and result["actions"] == ["failover load balancer web"]
    assert fake.writes()[-1][1].endswith("/failover")


def test_absent_cascade(run_module, fake):
    run_module(loadbalancer, tree())
    result = run_module(loadbalancer, {"name": "web", "state": "absent"}, diff=True)
    assert result["changed"] and not fake.lbs and not fake.pools and not fake.listeners
    assert result["diff"]["after"] == {}
    assert not run_module(loadbalancer, {"name": "web", "state": "absent"})["changed"]


def test_create_needs_a_vip(run_module, fake):
    result = run_module(loadbalancer, {"name": "web"}, expect_fail=True)
    assert "vip_subnet, vip_network or vip_port" in result["msg"] and fake.writes() == []


def test_vip_subnet_by_name(run_module, fake):
    fake.neutron["subnets"]["s"] = {"id": SUBNET, "name": "public"}
    result = run_module(loadbalancer, {"name": "web", "vip_subnet": "public"})
    assert result["loadbalancer"]["vip_subnet_id"] == SUBNET
    assert not run_module(loadbalancer, {"name": "web", "vip_subnet": "public"})["changed"]


def test_wait_false_returns_after_the_write(run_module, fake):
    fake.pending_polls = 5
    result = run_module(loadbalancer, dict(tree(), wait=False))
    assert result["changed"] and result["id"]
    assert fake.lbs[result["id"]]["provisioning_status"] == "PENDING_CREATE"


def test_listener_module(run_module, fake):
    build(fake)
    args = {"loadbalancer": "web", "protocol": "HTTP", "protocol_port": 81, "default_pool": "web",
            "l7policies": [{"name": "x", "action": "REJECT",
                            "rules": [{"type": "PATH", "compare_type": "EQUAL_TO", "value": "/x"}]}]}
    created = run_module(listener, args, diff=True)
    assert created["changed"] and created["api_calls"]["writes"] == 3
    assert created["listener"]["l7policies"][0]["rules"][0]["value"] == "/x"
    assert created["diff"]["after"]["default_pool"] == "web"
    assert not run_module(listener, args)["changed"]
    changed = run_module(listener, dict(args, connection_limit=10), check=True, diff=True)
    assert changed["changed"] and changed["diff"]["before"]["connection_limit"] == -1
    refused = run_module(listener, dict(args, protocol="TCP", l7policies=None), expect_fail=True)
    assert "Cannot change protocol" in refused["msg"]
    gone = run_module(listener, {"loadbalancer": "web", "protocol_port": 81, "state": "absent"})
    assert gone["changed"]


def test_pool_module_with_members_and_listener(run_module, fake):
    build(fake)
    args = {"loadbalancer": "web", "name": "extra", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
            "listener": "HTTP:8080", "members": members(6, 4), "healthmonitor": http_monitor()}
    created = run_module(pool, args)
    assert created["actions"] == ["create pool extra", "batch-update members of pool extra (add 4)",
                                  "create health monitor of pool extra", "update listener HTTP:8080 (default_pool)"]
    assert len(created["pool"]["members"]) == 4
    l8080 = next(li for li in fake.listeners.values() if li["protocol_port"] == 8080)
    assert l8080["default_pool_id"] == created["id"]
    assert not run_module(pool, args)["changed"]
    more = run_module(pool, dict(args, members=members(6, 1, start=9), additive_only=True))
    assert more["api_calls"]["writes"] == 1 and len(more["pool"]["members"]) == 5
    replace = run_module(pool, dict(args, members=members(6, 2)))
    assert replace["api_calls"]["writes"] == 1 and len(replace["pool"]["members"]) == 2
    # one field of the existing monitor, without repeating what only a create needs
    slower = run_module(pool, dict(args, members=members(6, 2), healthmonitor={"delay": 9}))
    assert slower["actions"] == ["update health monitor of pool extra (delay)"]
    assert run_module(pool, {"loadbalancer": "web", "name": "extra", "state": "absent"})["changed"]
    # ... which a new monitor does need
    build_again = run_module(pool, dict(args, healthmonitor={"delay": 9}), expect_fail=True)
    assert "healthmonitor.type, healthmonitor.probe_timeout, healthmonitor.max_retries are required" in build_again["msg"]


def test_members_octavia_left_in_error_fail_the_task_and_are_retried(run_module, fake):
    """Octavia puts the load balancer back to ACTIVE when a member flow fails and marks
    the members ERROR: the task fails naming them; the next run sends them again."""
    build(fake)
    args = {"loadbalancer": "web", "name": "tcp", "protocol": "TCP", "members": members(3, 12, port=9000)}
    fake.fail_batches = 1
    failed = run_module(pool, args, expect_fail=True)
    assert failed["msg"].startswith("Octavia put member 10.0.3.1:9000 of pool tcp, member 10.0.3.2:9000 of pool tcp")
    assert "member 10.0.3.12:9000 of pool tcp in ERROR" in failed["msg"] and failed["status_tree"]
    retried = run_module(pool, args)
    assert retried["actions"] == ["batch-update members of pool tcp (retry 12)"]
    assert {m["provisioning_status"] for m in retried["pool"]["members"]} == {"ACTIVE"}
    assert not run_module(pool, args)["changed"]
    # the tree module too
    fake.fail_batches = 1
    params = tree()
    params["pools"][0]["members"][0]["weight"] = 3
    failed = run_module(loadbalancer, params, expect_fail=True)
    assert "in ERROR" in failed["msg"]
    assert run_module(loadbalancer, params)["actions"] == ["batch-update members of pool web (retry 10)"]


def test_member_module(run_module, fake):
    build(fake)
    one = {"loadbalancer": "web", "pool": "web", "address": "10.0.1.1", "protocol_port": 80}
    assert not run_module(member, one)["changed"]
    changed = run_module(member, dict(one, weight=0), diff=True)
    assert changed["changed"] and changed["member"]["weight"] == 0 and changed["diff"]["before"]["weight"] == 1
    several = {"loadbalancer": "web", "pool": "web", "members": members(9, 3)}
    added = run_module(member, several)
    assert added["api_calls"]["writes"] == 1 and len(added["members"]) == 13
    assert not run_module(member, several)["changed"]
    removed = run_module(member, dict(several, state="absent"))
    assert removed["api_calls"]["writes"] == 1 and len(removed["members"]) == 10
    weight = next(m for m in removed["members"] if m["address"] == "10.0.1.1")["weight"]
    assert weight == 0          # the batch kept the other members' values
    assert run_module(member, dict(one, state="absent"))["changed"]
    fails = run_module(member, dict(several, weight=3), expect_fail=True)
    assert "weight" in fails["msg"]


def test_pool_by_id_needs_no_load_balancer(run_module, fake):
    build(fake)
    web_id = next(p["id"] for p in fake.pools.values() if p["name"] == "web")
    result = run_module(member, {"pool": web_id, "address": "10.0.1.2", "protocol_port": 80, "backup": True})
    assert result["changed"] and result["member"]["backup"] is True
    failed = run_module(member, {"pool": "web", "address": "10.0.1.2", "protocol_port": 80}, expect_fail=True)
    assert "give loadbalancer" in failed["msg"]


def test_health_monitor_module(run_module, fake):
    build(fake)
    args = {"loadbalancer": "web", "pool": "api", "type": "HTTP", "delay": 7}
    result = run_module(health_monitor, args)
    assert result["changed"] and result["health_monitor"]["delay"] == 7
    assert not run_module(health_monitor, args)["changed"]
    refused = run_module(health_monitor, dict(args, type="TCP"), expect_fail=True)
    assert "type" in refused["msg"]
    assert run_module(health_monitor, {"loadbalancer": "web", "pool": "api", "state": "absent"})["changed"]
    missing = run_module(health_monitor, {"loadbalancer": "web", "pool": "api", "type": "HTTP"}, expect_fail=True)
    assert "delay" in missing["msg"] and "probe_timeout" in missing["msg"]


def test_l7policy_and_l7rule_modules(run_module, fake):
    build(fake)
    policy = {"loadbalancer": "web", "listener": "HTTP:80", "name": "api", "action": "REDIRECT_TO_POOL",
              "redirect_pool": "api"}
    assert not run_module(l7policy, policy)["changed"]
    moved = run_module(l7policy, dict(policy, redirect_pool="web"), diff=True)
    assert moved["changed"] and moved["diff"]["after"]["redirect_pool"] == "web"
    new = run_module(l7policy, {"loadbalancer": "web", "listener": "HTTP:8080", "name": "deny", "action": "REJECT",
                                "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/admin"}]})
    assert new["changed"] and new["l7policy"]["rules"][0]["value"] == "/admin"
    rule = {"loadbalancer": "web", "listener": "HTTP:8080", "l7policy": "deny", "type": "PATH",
            "compare_type": "STARTS_WITH", "value": "/admin"}
    assert not run_module(l7rule, rule)["changed"]
    assert run_module(l7rule, dict(rule, invert=True))["changed"]
    assert run_module(l7rule, dict(rule, value="/root"))["changed"]
    assert run_module(l7rule, dict(rule, state="absent"))["changed"]
    incompatible = run_module(l7policy, dict(policy, listener="HTTP:8080", redirect_pool="tcp"), expect_fail=True)
    assert "redirect_pool" in incompatible["msg"]


def test_l7policy_position_beyond_the_end(run_module, fake):
    build(fake)
    deny = {"loadbalancer": "web", "listener": "HTTP:80", "name": "deny", "action": "REJECT", "position": 10}
    first = run_module(l7policy, deny)
    assert first["changed"] and first["l7policy"]["position"] == 3
    assert not run_module(l7policy, deny)["changed"]          # Octavia put it at the end: that is 10
    moved = run_module(l7policy, dict(deny, position=1))
    assert moved["changed"] and moved["l7policy"]["position"] == 1
    unnamed = run_module(l7policy, {"loadbalancer": "web", "listener": "HTTP:80", "position": 9, "action": "REJECT"},
                         expect_fail=True)
    assert unnamed["msg"].startswith("position: 9 is beyond the end of the listener's 3 L7 policies")


@pytest.mark.parametrize("module, args, key", [
    (loadbalancer_info, {"name": "web", "children": True, "status_tree": True, "stats": True}, "loadbalancers"),
    (listener_info, {"loadbalancer": "web", "name": "HTTP:80", "l7policies": True, "stats": True}, "listeners"),
    (pool_info, {"loadbalancer": "web", "name": "web", "members": True, "healthmonitor": True}, "pools"),
    (member_info, {"loadbalancer": "web", "pool": "web", "address": "10.0.1.3"}, "members"),
    (health_monitor_info, {"loadbalancer": "web", "pool": "web"}, "health_monitors"),
    (l7policy_info, {"loadbalancer": "web", "listener": "HTTP:80"}, "l7policies"),
])
def test_info_modules(run_module, fake, module, args, key):
    build(fake)
    found = run_module(module, args)
    assert found[key] and not found["changed"] and found["api_calls"]["writes"] == 0
    missing = dict(args)
    missing["loadbalancer" if "loadbalancer" in args else "name"] = "nope"
    assert run_module(module, missing)[key] == []
    assert run_module(module, args, check=True)[key]


def test_info_content(run_module, fake):
    build(fake)
    lbs = run_module(loadbalancer_info, {"name": "web", "children": True, "status_tree": True})["loadbalancers"]
    assert len(lbs[0]["pools"][0]["members"]) == 10 and lbs[0]["status"]["name"] == "web"
    policies = run_module(l7policy_info, {"loadbalancer": "web", "listener": "HTTP:80"})["l7policies"]
    assert [p["name"] for p in policies] == ["api", "legacy"] and policies[0]["rules"]
    monitors = run_module(health_monitor_info, {"loadbalancer": "web"})["health_monitors"]
    assert len(monitors) == 3


def test_info_modules_do_not_guess_between_load_balancers_of_one_name(run_module, fake, monkeypatch):
    """LbaasInfoModule.matching_lb: an ambiguous load balancer name is a warning and lists nothing
    (listener_info took the first of them, health_monitor_info all of them)."""
    build(fake)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    twin = dict(next(iter(fake.lbs.values())), id="99999999-9999-4999-8999-999999999999")
    fake.lbs[twin["id"]] = twin
    for module, key in ((listener_info, "listeners"), (pool_info, "pools"), (health_monitor_info, "health_monitors")):
        assert run_module(module, {"loadbalancer": "web"})[key] == []
    assert len(warnings) == 3 and all("2 load balancers are named web" in text for text in warnings)


def test_new_pool_becomes_default_of_a_listener_without_one(run_module, fake):
    build(fake)
    run_module(listener, {"loadbalancer": "web", "protocol": "HTTP", "protocol_port": 81})
    fake.log.clear()
    created = run_module(pool, {"loadbalancer": "web", "name": "p81", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                                "listener": "HTTP:81"})
    assert created["actions"] == ["create pool p81"]
    assert fake.writes()[0][2]["pool"]["listener_id"]
    l81 = next(li for li in fake.listeners.values() if li["protocol_port"] == 81)
    assert l81["default_pool_id"] == created["id"]


CHANGES = [
    (loadbalancer, dict(tree(), description="front", tags=["prod"])),
    (listener, {"loadbalancer": "web", "protocol": "TCP", "protocol_port": 443, "default_pool": "tcp",
                "allowed_cidrs": ["192.0.2.0/24"]}),
    (pool, {"loadbalancer": "web", "name": "more", "protocol": "PROXY", "lb_algorithm": "SOURCE_IP",
            "members": members(4, 2), "healthmonitor": {"type": "TCP", "delay": 3, "probe_timeout": 2, "max_retries": 2}}),
    (member, {"loadbalancer": "web", "pool": "api", "address": "2001:db8::7", "protocol_port": 80, "name": "v6"}),
    (member, {"loadbalancer": "web", "pool": "api", "members": members(2, 2) + members(4, 2), "additive_only": False}),
    (health_monitor, {"loadbalancer": "web", "pool": "tcp", "type": "TCP", "delay": 9, "max_retries_down": 5}),
    (l7policy, {"loadbalancer": "web", "listener": "HTTP:80", "name": "legacy", "action": "REDIRECT_PREFIX",
                "redirect_prefix": "https://www.example.com", "redirect_http_code": 308}),
    (l7rule, {"loadbalancer": "web", "listener": "HTTP:80", "l7policy": "api", "type": "COOKIE",
              "compare_type": "EQUAL_TO", "rule_key": "beta", "value": "1"}),
]


@pytest.mark.parametrize("module, args", CHANGES, ids=[m.__name__.rsplit(".", 1)[-1] + str(i) for i, (m, a) in enumerate(CHANGES)])
def test_check_mode_real_run_and_rerun(run_module, fake, module, args):
    build(fake)
    fake.log.clear()
    checked = run_module(module, args, check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and checked["api_calls"]["writes"] == 0
    assert checked["diff"]["before"] != checked["diff"]["after"]
    real = run_module(module, args, diff=True)
    assert real["changed"] == checked["changed"] and real["actions"] == checked["actions"]
    assert real["api_calls"]["writes"] == len(real["actions"]) == len(fake.writes())
    assert real["diff"]["after"] == checked["diff"]["after"]
    fake.log.clear()
    again = run_module(module, args)
    assert not again["changed"] and again["api_calls"]["writes"] == 0 and fake.writes() == []
    assert not run_module(module, args, check=True)["changed"]


def test_a_name_is_looked_up_in_the_callers_project_only(run_module, fake):
    """Issue 13 item 6, on the in-memory Octavia: a same-named load balancer of another
    project is neither deleted nor updated (the real two-project test is
    tests/integration/test_tenant_isolation.py)."""
    lb_id = build(fake)
    fake.lbs[lb_id]["project_id"] = "someone-else"
    gone = run_module(loadbalancer, {"name": "web", "state": "absent"})
    assert gone["changed"] is False and lb_id in fake.lbs
    assert not [entry for entry in fake.log if entry[0] != "GET"]
