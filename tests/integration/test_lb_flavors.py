"""The lb_flavors role (issue 16): the load-balancer flavors site.yml offers (SINGLE and
ACTIVE_STANDBY by default), on the test cloud's real Octavia API.

site.yml has run before these tests (molecule's converge, or the noop switch of the
conftest): its flavors must exist. The role is then run alone with an extra flavor of the
test's own, which it creates, leaves alone on a re-run, and deletes with its profile. Bad
input fails before any write. Real Octavia (API, database) throughout; the noop drivers
do not matter to flavors."""

from __future__ import annotations

import json
import uuid

import pytest

from playbook import ROOT, run_playbook

INVENTORY = ROOT / "inventories" / "aio"
ROLE = ROOT / "tests" / "integration" / "playbooks" / "lb_flavors.yml"
PREFIX = "octavia-lbaas-"


def flavors(cloud):
    return {f.name: f for f in cloud.load_balancer.flavors()}


def profiles(cloud):
    return {p.name: p for p in cloud.load_balancer.flavor_profiles()}


def run_role(**extra):
    return run_playbook(ROLE, "-i", str(INVENTORY), extra_vars=extra, timeout=600)


def test_site_yml_offers_single_and_active_standby(cloud):
    found, by_name = flavors(cloud), profiles(cloud)
    for name in ("SINGLE", "ACTIVE_STANDBY"):
        assert name in found and found[name].is_enabled, sorted(found)
        profile = by_name[PREFIX + name]
        assert found[name].flavor_profile_id == profile.id
        assert profile.provider_name == "amphora"
        assert json.loads(profile.flavor_data) == {"loadbalancer_topology": name}


@pytest.fixture
def extra_flavor(cloud):
    name = f"lbaas-test-{uuid.uuid4().hex[:6]}"
    yield name
    # whatever a failed test left behind
    for flavor in cloud.load_balancer.flavors(name=name):
        cloud.load_balancer.delete_flavor(flavor)
    for profile in cloud.load_balancer.flavor_profiles(name=PREFIX + name):
        cloud.load_balancer.delete_flavor_profile(profile)


def test_a_flavor_of_ones_own_is_made_kept_and_removed(cloud, extra_flavor):
    offered = [{"name": "SINGLE", "description": "One amphora per load balancer.",
                "flavor_data": {"loadbalancer_topology": "SINGLE"}},
               {"name": extra_flavor, "description": "two amphorae, not offered to new load balancers",
                "enabled": False, "flavor_data": {"loadbalancer_topology": "ACTIVE_STANDBY"}}]
    run = run_role(lb_flavors_offered=offered)
    assert run.rc == 0, run.failed_messages()
    assert run.changed() == 2, run.changed_tasks()   # its profile and its flavor; SINGLE stays
    flavor = flavors(cloud)[extra_flavor]
    assert flavor.is_enabled is False and flavor.description == offered[1]["description"]
    assert json.loads(profiles(cloud)[PREFIX + extra_flavor].flavor_data) == {"loadbalancer_topology": "ACTIVE_STANDBY"}

    again = run_role(lb_flavors_offered=offered)
    assert again.rc == 0 and again.changed() == 0, again.changed_tasks()

    gone = run_role(lb_flavors_offered=offered[:1], lb_flavors_absent=[extra_flavor])
    assert gone.rc == 0, gone.failed_messages()
    assert extra_flavor not in flavors(cloud) and PREFIX + extra_flavor not in profiles(cloud)


@pytest.mark.parametrize("offered, absent, message", [
    ([{"name": "x", "flavor_data": {"loadbalancer_topology": "SINGLE"}}] * 2, [], "distinct"),
    ([{"name": "x", "flavor_data": {"loadbalancer_topology": "SINGLE"}}], ["x"], "lb_flavors_absent"),
    ([{"name": "x", "flavor_data": {}}], [], "non-empty flavor_data"),
    ([{"name": "x", "flavor_data": {"no_such_capability": 1}}], [], "no_such_capability"),
], ids=["repeated name", "offered and absent", "empty flavor_data", "unknown capability"])
def test_bad_input_fails_before_any_write(cloud, extra_flavor, offered, absent, message):
    offered = [dict(item, name=extra_flavor) for item in offered]
    absent = [extra_flavor] if absent else []
    before = (sorted(flavors(cloud)), sorted(profiles(cloud)))
    run = run_role(lb_flavors_offered=offered, lb_flavors_absent=absent)
    assert run.rc != 0
    assert any(message in line for line in run.failed_messages()), run.failed_messages()
    assert run.changed() == 0, run.changed_tasks()
    assert (sorted(flavors(cloud)), sorted(profiles(cloud))) == before
