"""The floor: what a hand-written openstacksdk script needs, with the fewest calls, for
the benchmark's scenarios. bench/lb_modules.py runs it as its own process (its process
time is the floor the modules are compared with).

  floor_sdk.py create  VARS.json   one fully populated POST, then poll until ACTIVE
  floor_sdk.py noop    VARS.json   read the tree (as few GETs as a diff needs), find nothing to do
  floor_sdk.py members VARS.json   find the pool, one batch member PUT, poll until ACTIVE

VARS.json holds cloud_name, lb_name, vip_subnet_id, body (create), pool_name and
members (members), tree (noop). Polls every 0.25 s (the floor, not a recommendation)."""

from __future__ import annotations

import json
import sys
import time

import openstack

POLL = 0.25


def wait_active(api, lb_id, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lb = api.get(f"/lbaas/loadbalancers/{lb_id}").json()["loadbalancer"]
        if lb["provisioning_status"] == "ACTIVE":
            return lb
        if lb["provisioning_status"] == "ERROR":
            sys.exit(f"load balancer {lb_id} went to ERROR")
        time.sleep(POLL)
    sys.exit(f"timed out waiting for {lb_id}")


def find_lb(api, name):
    (lb,) = api.get("/lbaas/loadbalancers", params={"name": name}).json()["loadbalancers"]
    return lb


def create(api, data):
    resp = api.post("/lbaas/loadbalancers", json=data["body"])
    if resp.status_code != 201:
        sys.exit(f"create failed: {resp.status_code} {resp.text}")
    wait_active(api, resp.json()["loadbalancer"]["id"])


def noop(api, data):
    """Read exactly what a declarative tool must read to know nothing changed."""
    lb = find_lb(api, data["lb_name"])
    listeners = api.get("/lbaas/listeners", params={"loadbalancer_id": lb["id"]}).json()["listeners"]
    pools = api.get("/lbaas/pools", params={"loadbalancer_id": lb["id"]}).json()["pools"]
    members = {p["name"]: api.get(f"/lbaas/pools/{p['id']}/members").json()["members"] for p in pools}
    monitors = {hm["id"]: hm for hm in api.get("/lbaas/healthmonitors").json()["healthmonitors"]}
    policies = {}
    for li in listeners:
        for policy in api.get("/lbaas/l7policies", params={"listener_id": li["id"]}).json()["l7policies"]:
            policy["rules"] = api.get(f"/lbaas/l7policies/{policy['id']}/rules").json()["rules"]
            policies.setdefault(li["protocol_port"], []).append(policy)
    tree = data["tree"]
    want_members = {p["name"]: {(m["address"], m["protocol_port"]) for m in p["members"]} for p in tree["pools"]}
    have_members = {name: {(m["address"], m["protocol_port"]) for m in ms} for name, ms in members.items()}
    assert want_members == have_members, "the tree differs: not a no-op"
    assert all(p.get("healthmonitor_id") in monitors for p in pools)
    assert sorted(li["protocol_port"] for li in listeners) == sorted(li["protocol_port"] for li in tree["listeners"])
    assert sum(len(v) for v in policies.values()) == sum(len(li.get("l7policies", [])) for li in tree["listeners"])


def members(api, data):
    lb = find_lb(api, data["lb_name"])
    (pool,) = [p for p in api.get("/lbaas/pools", params={"loadbalancer_id": lb["id"]}).json()["pools"]
               if p["name"] == data["pool_name"]]
    resp = api.put(f"/lbaas/pools/{pool['id']}/members", json={"members": data["members"]})
    if resp.status_code != 202:
        sys.exit(f"batch update failed: {resp.status_code} {resp.text}")
    wait_active(api, lb["id"])


def main():
    action, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    conn = openstack.connect(cloud=data["cloud_name"])
    {"create": create, "noop": noop, "members": members}[action](conn.load_balancer, data)


if __name__ == "__main__":
    main()
