"""Issue 13 item 7: a retried write never acts on a stale picture.

* a member batch answered 409 because another client changed the pool meanwhile is made
  again from the members as they are now, not resent as it was (which would delete or
  reset the other client's members);
* a create answered 503 after Octavia did make the object (the answer was lost on its way
  back) is looked up before it is sent again: no duplicate.

A 409 and a lost answer at exactly that moment cannot be produced on demand by the real
Octavia of the test cloud, so these run on the in-memory Octavia (tests/unit/fake_octavia.py),
which injects them."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.modules import listener, loadbalancer, member, pool

from lbaas_data import build, tree


def _members(fake, pool_name="web"):
    pool_id = next(p["id"] for p in fake.pools.values() if p["name"] == pool_name)
    return pool_id, {(m["address"], m["protocol_port"]): m for m in fake.members[pool_id].values()}


def test_a_member_batch_refused_with_409_is_made_again_from_fresh_members(run_module, fake):
    build(fake)
    pool_id, before = _members(fake)
    wanted = [{"address": a, "protocol_port": p, "weight": 7 if a == "10.0.1.1" else None}
              for (a, p) in before]
    wanted = [{k: v for k, v in m.items() if v is not None} for m in wanted]

    def someone_else(octavia):
        # another client sets a weight on a member this task does not give a weight for
        member_id = next(m["id"] for m in octavia.members[pool_id].values() if m["address"] == "10.0.1.2")
        octavia.members[pool_id][member_id]["weight"] = 42

    fake.inject.append(("PUT", 409, "Load Balancer is immutable and cannot be updated.", someone_else, False))
    result = run_module(pool, {"loadbalancer": "web", "name": "web", "protocol": "HTTP", "members": wanted})
    assert result["changed"] is True
    puts = [body for method, path, body in fake.log if method == "PUT" and path.endswith("/members")]
    assert len(puts) == 2
    resent = {m["address"]: m for m in puts[1]["members"]}
    assert resent["10.0.1.1"]["weight"] == 7
    assert resent["10.0.1.2"]["weight"] == 42        # the other client's change is kept
    assert _members(fake)[1][("10.0.1.2", 80)]["weight"] == 42


def test_a_batch_whose_work_was_done_meanwhile_is_not_sent_again(run_module, fake):
    build(fake)
    pool_id, before = _members(fake)
    wanted = [{"address": a, "protocol_port": p} for (a, p) in before] + [{"address": "10.0.1.99", "protocol_port": 80}]

    def someone_else(octavia):
        octavia.members[pool_id]["x"] = dict(next(iter(octavia.members[pool_id].values())), id="x",
                                             address="10.0.1.99")

    fake.inject.append(("PUT", 409, "Load Balancer is immutable and cannot be updated.", someone_else, False))
    result = run_module(pool, {"loadbalancer": "web", "name": "web", "protocol": "HTTP", "members": wanted})
    assert result.get("failed") is not True
    assert len([1 for method, path, _body in fake.log if method == "PUT" and path.endswith("/members")]) == 1


def test_a_load_balancer_create_whose_answer_was_lost_is_not_made_twice(run_module, fake):
    fake.inject.append(("POST", 503, "Service Unavailable", None, True))
    result = run_module(loadbalancer, tree())
    assert result["changed"] is True
    assert len([1 for method, path, _body in fake.log if method == "POST"]) == 1
    assert [lb["name"] for lb in fake.lbs.values()] == ["web"]
    assert result["id"] in fake.lbs


def test_a_listener_and_a_member_create_whose_answer_was_lost_are_not_made_twice(run_module, fake):
    build(fake)
    fake.inject.append(("POST", 503, "Service Unavailable", None, True))
    made = run_module(listener, {"loadbalancer": "web", "protocol": "TCP", "protocol_port": 7000})
    assert made["changed"] is True
    assert len([li for li in fake.listeners.values() if li["protocol_port"] == 7000]) == 1
    fake.inject.append(("POST", 503, "Service Unavailable", None, True))
    run_module(member, {"loadbalancer": "web", "pool": "web", "address": "10.0.9.9", "protocol_port": 80})
    assert len([m for m in _members(fake)[1] if m == ("10.0.9.9", 80)]) == 1
    assert len([1 for method, path, _body in fake.log if method == "POST" and path.endswith("/members")]) == 1


def test_a_503_without_a_write_is_still_retried(run_module, fake):
    build(fake)
    fake.inject.append(("POST", 503, "Service Unavailable"))
    made = run_module(listener, {"loadbalancer": "web", "protocol": "TCP", "protocol_port": 7001})
    assert made["changed"] is True
    assert len([li for li in fake.listeners.values() if li["protocol_port"] == 7001]) == 1
    assert len([1 for method, path, _body in fake.log if method == "POST"]) == 2
