"""Shared test data: the reference tree of the benchmarks (1 load balancer, listeners
HTTP 80, HTTP 8080 and TCP 9000, 3 pools of 10 members with a health monitor each, 2 L7
policies) and helpers to turn the fake cloud's state into an API-free snapshot."""

from __future__ import annotations

import copy

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_ops, lbaas_plan, lbaas_state, lbaas_validate

# http_monitor and members are re-exported for the tests that import them from here.
from reference_tree import http_monitor, members, reference_tree  # noqa: F401  # pylint: disable=unused-import

SUBNET = "11111111-2222-3333-4444-555555555555"
# IDs as OpenStack writes them (8-4-4-4-12 hex digits: values.is_uuid)
UUID_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
UUID_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
UUID_C = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def tree():
    """Module parameters of the reference tree, as a user writes them."""
    return dict(reference_tree(), name="web", vip_subnet=SUBNET)


def build(fake, params=None):
    """Create the tree in the fake cloud through the engine's graph body; returns the LB id."""
    desired = lbaas_validate.desire_tree(params or tree())
    resp = fake.load_balancer.request("/lbaas/loadbalancers", "POST", json=lbaas_ops.graph_body(desired))
    assert resp.status_code == 201, resp.text
    lb_id = resp.json()["loadbalancer"]["id"]
    fake.lbs[lb_id]["provisioning_status"] = "ACTIVE"
    fake.log.clear()
    return lb_id


def snapshot(fake, lb_id):
    """The fake's state of one load balancer as a Current with everything preloaded and
    no API client: planning against it cannot make a call."""
    lb = copy.deepcopy(fake.lbs[lb_id])
    listeners = [copy.deepcopy(li) for li in fake.listeners.values() if li["loadbalancers"][0]["id"] == lb_id]
    pools = [copy.deepcopy(p) for p in fake.pools.values() if p["loadbalancers"][0]["id"] == lb_id]
    return lbaas_state.Current(
        None, lb, listeners=listeners, pools=pools,
        members={p["id"]: copy.deepcopy(list(fake.members[p["id"]].values())) for p in pools},
        healthmonitors={hm_id: copy.deepcopy(hm) for hm_id, hm in fake.hms.items()},
        l7policies={li["id"]: [copy.deepcopy(fake.policies[x["id"]]) for x in li["l7policies"]] for li in listeners},
        rules={pid: copy.deepcopy(list(r.values())) for pid, r in fake.rules.items()},
    )


def plan(params, current, **kwargs):
    desired = lbaas_validate.desire_tree(params)
    return lbaas_plan.tree_plan(desired, current, **kwargs)
