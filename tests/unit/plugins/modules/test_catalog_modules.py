"""The catalog modules (flavor_profile, flavor, availability_zone_profile,
availability_zone, quota, provider_info) end to end against the in-memory Octavia: input
refused before any API call, create / update / no-op / delete with one write at most,
check mode and --diff without writes, refusals of what Octavia cannot or will not do."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octavia.lbaas.plugins.modules import (
    availability_zone,
    availability_zone_profile,
    flavor,
    flavor_profile,
    provider_info,
    quota,
)

from lbaas_data import build

SINGLE = {"loadbalancer_topology": "SINGLE"}
HA = {"loadbalancer_topology": "ACTIVE_STANDBY", "compute_flavor": "amphora-2"}


def profile(fake, name="single", data=None):
    body = {"name": name, "provider_name": "amphora", "flavor_data": json.dumps(data or SINGLE)}
    return fake._flavor_profiles("POST", {"flavorprofile": body}, {}).json()["flavorprofile"]


def az_profile(fake, name="az1", data=None):
    body = {"name": name, "provider_name": "amphora", "availability_zone_data": json.dumps(data or {"compute_zone": "az1"})}
    return fake._az_profiles("POST", {"availability_zone_profile": body}, {}).json()["availability_zone_profile"]


# -- flavor profiles ------------------------------------------------------------------------------
def test_flavor_profile_create_rerun_update_delete(run_module, fake):
    args = {"name": "ha", "provider_name": "amphora", "flavor_data": HA}
    created = run_module(flavor_profile, args)
    assert created["changed"] and created["api_calls"]["writes"] == 1
    method, path, body = fake.writes()[0]
    assert (method, path) == ("POST", "/lbaas/flavorprofiles")
    assert isinstance(body["flavorprofile"]["flavor_data"], str)          # the API takes a JSON string
    assert json.loads(body["flavorprofile"]["flavor_data"]) == HA
    assert created["flavor_profile"]["id"] == created["id"]
    fake.log.clear()
    # the same data in another key order, written as JSON text by hand: the same dict
    again = run_module(flavor_profile, dict(args, flavor_data={"compute_flavor": "amphora-2",
                                                               "loadbalancer_topology": "ACTIVE_STANDBY"}))
    assert not again["changed"] and fake.writes() == [] and again["plan"] == []
    fake.flavor_profiles[created["id"]]["flavor_data"] = '{"loadbalancer_topology":"ACTIVE_STANDBY","compute_flavor":"amphora-2"}'
    assert not run_module(flavor_profile, args)["changed"]
    changed = run_module(flavor_profile, dict(args, flavor_data=SINGLE), diff=True)
    assert changed["changed"] and changed["actions"] == ["update flavor profile ha (flavor_data)"]
    assert changed["diff"]["before"]["flavor_data"] == HA and changed["diff"]["after"]["flavor_data"] == SINGLE
    assert json.loads(fake.flavor_profiles[created["id"]]["flavor_data"]) == SINGLE
    fake.log.clear()
    gone = run_module(flavor_profile, {"name": "ha", "state": "absent"}, diff=True)
    assert gone["changed"] and fake.writes() == [("DELETE", "/lbaas/flavorprofiles/%s" % created["id"], None)]
    assert gone["diff"]["after"] == {} and not fake.flavor_profiles
    fake.log.clear()
    assert not run_module(flavor_profile, {"name": "ha", "state": "absent"})["changed"] and fake.writes() == []


def test_flavor_profile_with_a_string_is_what_ansible_makes_of_json(run_module, fake):
    result = run_module(flavor_profile, {"name": "s", "provider_name": "amphora",
                                         "flavor_data": '{"loadbalancer_topology": "SINGLE"}'})
    assert result["changed"]
    assert not run_module(flavor_profile, {"name": "s", "flavor_data": SINGLE})["changed"]


@pytest.mark.parametrize("args, words", [
    ({"name": "x", "provider_name": "amphora"}, "flavor_data is required to create flavor profile x"),
    ({"name": "x", "flavor_data": SINGLE}, "provider_name is required to create flavor profile x"),
    ({"name": "x", "provider_name": "ovn", "flavor_data": SINGLE}, "provider_name: provider ovn is not enabled in Octavia "
                                                                   "(enabled: amphora, octavia)"),
    ({"name": "x", "provider_name": "amphora", "flavor_data": {"topology": "SINGLE"}},
     "flavor_data: topology not among the flavor capabilities of provider amphora (allow_member_sriov, amp_image_tag, "
     "compute_flavor, loadbalancer_topology, sriov_vip)"),
    ({"name": "x" * 256, "provider_name": "amphora", "flavor_data": SINGLE}, "name: is 256 characters long"),
    ({"name": "", "provider_name": "amphora", "flavor_data": SINGLE}, "name: must not be empty"),
    ({"name": "x", "provider_name": "amphora", "flavor_data": {"amp_image_tag": "t" * 5000}},
     "flavor_data: is 5021 characters long as JSON; Octavia takes at most 4096"),
    ({"name": "x", "provider_name": "amphora", "flavor_data": "not json"}, "flavor_data"),
])
def test_flavor_profile_bad_input_fails_before_any_write(run_module, fake, args, words):
    result = run_module(flavor_profile, args, expect_fail=True)
    assert words in result["msg"]
    assert fake.writes() == [] and result.get("changed") is not True


def test_flavor_profile_input_errors_make_no_api_call(run_module, fake):
    result = run_module(flavor_profile, {"name": "", "provider_name": "amphora", "flavor_data": {"a": 1}}, expect_fail=True)
    assert "name: must not be empty" in result["msg"] and fake.log == []


def test_flavor_profile_in_use_is_not_changed_nor_deleted(run_module, fake):
    used = profile(fake, "single")
    fake._flavors("POST", {"flavor": {"name": "small", "flavor_profile_id": used["id"]}}, {})
    fake.log.clear()
    result = run_module(flavor_profile, {"name": "single", "flavor_data": HA}, expect_fail=True)
    assert "Cannot change flavor_data of flavor profile single: 1 flavor uses it (small)" in result["msg"]
    assert "Make a new profile and a new flavor instead" in result["msg"]
    result = run_module(flavor_profile, {"name": "single", "state": "absent"}, expect_fail=True)
    assert "Cannot delete flavor profile single: 1 flavor uses it (small)" in result["msg"]
    assert fake.writes() == []


def test_flavor_profile_name_shared_by_two_is_refused(run_module, fake):
    profile(fake, "twin")
    profile(fake, "twin")
    result = run_module(flavor_profile, {"name": "twin", "state": "absent"}, expect_fail=True)
    assert "name: 2 flavor profiles are named twin" in result["msg"] and fake.writes() == []


# -- flavors ------------------------------------------------------------------------------------------
def test_flavor_create_by_profile_name_or_id_rerun_update_delete(run_module, fake):
    single = profile(fake, "single")
    fake.log.clear()
    created = run_module(flavor, {"name": "small", "description": "One amphora", "flavor_profile": "single"})
    sent = {"flavor": {"name": "small", "description": "One amphora", "flavor_profile_id": single["id"]}}
    assert created["changed"] and fake.writes()[0][2] == sent
    fake.log.clear()
    for ref in ("single", single["id"]):
        assert not run_module(flavor, {"name": "small", "description": "One amphora", "flavor_profile": ref})["changed"]
    assert fake.writes() == []
    off = run_module(flavor, {"name": "small", "enabled": False}, diff=True)
    assert off["actions"] == ["update flavor small (enabled)"]
    assert fake.writes()[-1][2] == {"flavor": {"enabled": False}}
    assert off["diff"]["before"]["enabled"] is True and off["diff"]["after"]["enabled"] is False
    assert off["flavor"]["enabled"] is False
    fake.log.clear()
    assert run_module(flavor, {"name": "small", "state": "absent"})["changed"] and not fake.flavors
    assert [w[0] for w in fake.writes()] == ["DELETE"]


def test_flavor_profile_of_a_flavor_cannot_change(run_module, fake):
    profile(fake, "single")
    profile(fake, "ha", HA)
    run_module(flavor, {"name": "small", "flavor_profile": "single"})
    fake.log.clear()
    result = run_module(flavor, {"name": "small", "flavor_profile": "ha"}, expect_fail=True)
    assert "Cannot change flavor_profile of flavor small" in result["msg"]
    assert "Octavia cannot update this field; delete the flavor and create it again" in result["msg"]
    assert fake.writes() == []


def test_flavor_with_an_unknown_profile(run_module, fake):
    result = run_module(flavor, {"name": "small", "flavor_profile": "nowhere"}, expect_fail=True)
    assert "flavor_profile: flavor profile nowhere not found" in result["msg"] and fake.writes() == []
    result = run_module(flavor, {"name": "small"}, expect_fail=True)
    assert "flavor_profile is required to create flavor small" in result["msg"]
    # check mode: the profile an earlier task would create does not exist yet
    checked = run_module(flavor, {"name": "small", "flavor_profile": "nowhere"}, check=True, diff=True)
    assert checked["changed"] and checked["diff"]["after"]["flavor_profile"] == "nowhere"
    assert fake.writes() == []


def test_flavor_used_by_a_load_balancer_is_not_deleted(run_module, fake):
    single = profile(fake, "single")
    made = run_module(flavor, {"name": "small", "flavor_profile": single["id"]})
    lb_id = build(fake)
    fake.lbs[lb_id]["flavor_id"] = made["id"]
    fake.log.clear()
    result = run_module(flavor, {"name": "small", "state": "absent"}, expect_fail=True)
    assert "Cannot delete flavor small: 1 load balancer uses it (web)" in result["msg"]
    assert fake.writes() == []


# -- availability zones and their profiles ------------------------------------------------------------------
def test_availability_zone_profile_and_zone(run_module, fake):
    args = {"name": "az1", "provider_name": "amphora", "availability_zone_data": {"compute_zone": "az1"}}
    created = run_module(availability_zone_profile, args)
    assert created["changed"] and json.loads(fake.writes()[0][2]["availability_zone_profile"]["availability_zone_data"]) \
        == {"compute_zone": "az1"}
    assert fake.writes()[0][1] == "/lbaas/availabilityzoneprofiles"
    assert not run_module(availability_zone_profile, args)["changed"]
    zone = run_module(availability_zone, {"name": "rack1", "availability_zone_profile": "az1", "description": "Rack 1"})
    assert zone["changed"] and zone["availability_zone"]["availability_zone_profile_id"] == created["id"]
    assert zone["id"] is None                                     # an availability zone has no ID
    fake.log.clear()
    assert not run_module(availability_zone, {"name": "rack1", "availability_zone_profile": created["id"]})["changed"]
    renamed = run_module(availability_zone, {"name": "rack1", "description": "Rack one"})
    assert fake.writes() == [("PUT", "/lbaas/availabilityzones/rack1", {"availability_zone": {"description": "Rack one"}})]
    assert renamed["availability_zone"]["description"] == "Rack one"
    refused = run_module(availability_zone_profile, dict(args, availability_zone_data={"compute_zone": "az2"}),
                         expect_fail=True)
    assert "1 availability zone uses it (rack1)" in refused["msg"]
    bad = run_module(availability_zone_profile, dict(args, name="az9", availability_zone_data={"zone": "x"}),
                     expect_fail=True)
    assert "availability_zone_data: zone not among the availability zone capabilities of provider amphora" in bad["msg"]
    fake.log.clear()
    assert run_module(availability_zone, {"name": "rack1", "state": "absent"})["changed"]
    assert fake.writes() == [("DELETE", "/lbaas/availabilityzones/rack1", None)]
    assert run_module(availability_zone_profile, {"name": "az1", "state": "absent"})["changed"]
    assert not fake.azs and not fake.az_profiles


def test_availability_zone_profile_cannot_change(run_module, fake):
    az_profile(fake, "az1")
    az_profile(fake, "az2", {"compute_zone": "az2"})
    run_module(availability_zone, {"name": "rack1", "availability_zone_profile": "az1"})
    fake.log.clear()
    result = run_module(availability_zone, {"name": "rack1", "availability_zone_profile": "az2"}, expect_fail=True)
    assert "Cannot change availability_zone_profile of availability zone rack1" in result["msg"] and fake.writes() == []


# -- quotas ----------------------------------------------------------------------------------------------------------
def test_quota_set_rerun_and_reset(run_module, fake):
    result = run_module(quota, {"project": "demo", "loadbalancer": 5, "member": -1}, diff=True)
    # member is already unlimited (the default): only the load balancer limit is written
    assert result["changed"] and fake.writes() == [("PUT", "/lbaas/quotas/q", {"quota": {"loadbalancer": 5}})]
    assert result["quota"]["loadbalancer"] == 5 and result["project_id"] == "q"
    assert result["diff"]["before"]["loadbalancer"] == -1 and result["diff"]["after"]["loadbalancer"] == 5
    fake.log.clear()
    assert not run_module(quota, {"project": "q", "loadbalancer": 5})["changed"] and fake.writes() == []
    reset = run_module(quota, {"project": "demo", "state": "absent"}, diff=True)
    assert reset["changed"] and fake.writes() == [("DELETE", "/lbaas/quotas/q", None)]
    assert reset["quota"]["loadbalancer"] == -1 and reset["diff"]["after"]["loadbalancer"] == -1
    fake.log.clear()
    # the record stays, listed with the defaults filled in (as Octavia 19 does): nothing to reset
    assert not run_module(quota, {"project": "demo", "state": "absent"})["changed"] and fake.writes() == []


def test_quota_reset_of_own_limits_equal_to_the_defaults_is_no_write(run_module, fake):
    # the API shows own limits equal to the defaults exactly like no limits: nothing in effect would change
    fake.quota_rows["q"] = {"loadbalancer": -1, "member": -1}
    assert not run_module(quota, {"project": "demo", "state": "absent"})["changed"] and fake.writes() == []


def test_quota_check_mode_and_a_project_without_a_record(run_module, fake):
    checked = run_module(quota, {"project": "demo", "pool": 0, "l7rule": 10}, check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and checked["quota"]["pool"] == 0
    assert checked["actions"] == ["update quota of project demo (l7rule, pool)"]
    assert not run_module(quota, {"project": "demo", "state": "absent"}, check=True)["changed"]
    fake.quota_rows["q"] = {"pool": 3}
    checked = run_module(quota, {"project": "demo", "state": "absent"}, check=True, diff=True)
    assert checked["changed"] and checked["diff"]["after"]["pool"] == -1 and fake.writes() == []


@pytest.mark.parametrize("args, words", [
    ({"project": "demo"}, "Give at least one limit"),
    ({"project": "demo", "loadbalancer": -2}, "loadbalancer: -2 is out of range -1..2000000000"),
    ({"project": "demo", "state": "absent", "pool": 3}, "pool: state absent resets every limit"),
])
def test_quota_bad_input_makes_no_api_call(run_module, fake, args, words):
    result = run_module(quota, args, expect_fail=True)
    assert words in result["msg"] and fake.log == []


def test_quota_of_an_unknown_project(run_module, fake):
    result = run_module(quota, {"project": "nobody", "loadbalancer": 1}, expect_fail=True)
    assert "project: nobody not found" in result["msg"] and fake.writes() == []


# -- providers ----------------------------------------------------------------------------------------------------
def test_provider_info(run_module, fake):
    everything = run_module(provider_info, {})
    assert [p["name"] for p in everything["providers"]] == ["amphora", "octavia"]
    assert "flavor_capabilities" not in everything["providers"][0] and everything["api_calls"]["reads"] == 1
    one = run_module(provider_info, {"provider": "amphora"})
    (amphora,) = one["providers"]
    assert [c["name"] for c in amphora["flavor_capabilities"]] == ["allow_member_sriov", "amp_image_tag", "compute_flavor",
                                                                   "loadbalancer_topology", "sriov_vip"]
    assert [c["name"] for c in amphora["availability_zone_capabilities"]] == ["compute_zone", "management_network",
                                                                              "valid_vip_networks", "volume_zone"]
    assert not one["changed"]
    assert run_module(provider_info, {"provider": "ovn"})["providers"] == []


# -- check mode, the real run and the re-run: the same plan, the writes only once ----------------------------------------
def _world(fake):
    profile(fake, "single")
    az_profile(fake, "az1")


CHANGES = [
    (flavor_profile, {"name": "ha", "provider_name": "amphora", "flavor_data": HA}),
    (flavor_profile, {"name": "single", "flavor_data": HA}),
    (flavor, {"name": "small", "flavor_profile": "single", "description": "One amphora"}),
    (availability_zone_profile, {"name": "az2", "provider_name": "amphora", "availability_zone_data": {"compute_zone": "b"}}),
    (availability_zone, {"name": "rack1", "availability_zone_profile": "az1", "enabled": False}),
    (quota, {"project": "demo", "listener": 20, "healthmonitor": 0}),
    (flavor_profile, {"name": "single", "state": "absent"}),
    (quota, {"project": "p", "state": "absent"}),
]


@pytest.mark.parametrize("module, args", CHANGES, ids=[m.__name__.rsplit(".", 1)[-1] + str(i) for i, (m, a) in enumerate(CHANGES)])
def test_check_mode_real_run_and_rerun(run_module, fake, module, args):
    _world(fake)
    fake.quota_rows["p"] = {"member": 100}
    fake.log.clear()
    checked = run_module(module, args, check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and checked["api_calls"]["writes"] == 0
    assert checked["diff"]["before"] != checked["diff"]["after"]
    real = run_module(module, args, diff=True)
    assert real["changed"] and real["actions"] == checked["actions"]
    assert real["api_calls"]["writes"] == len(real["actions"]) == len(fake.writes()) == 1
    assert real["diff"]["after"] == checked["diff"]["after"]
    fake.log.clear()
    again = run_module(module, args)
    assert not again["changed"] and again["api_calls"]["writes"] == 0 and fake.writes() == []
    assert not run_module(module, args, check=True)["changed"]


@pytest.mark.parametrize("module", [flavor_profile, flavor, availability_zone_profile, availability_zone])
def test_a_name_is_required_whatever_the_state(run_module, fake, module):
    result = run_module(module, {"state": "absent"}, expect_fail=True)
    assert "missing required arguments: name" in result["msg"] and fake.log == []


def test_a_create_whose_answer_was_lost_is_not_made_twice(run_module, fake):
    """503 after Octavia made the profile: the retry finds it by name instead of posting again."""
    fake.inject.append(("POST", 503, "Service Unavailable", None, True))
    result = run_module(flavor_profile, {"name": "ha", "provider_name": "amphora", "flavor_data": HA})
    assert result["changed"] and len(fake.flavor_profiles) == 1
    assert [w[0] for w in fake.writes()] == ["POST"]
    assert result["id"] == next(iter(fake.flavor_profiles))


def test_quota_reset_names_the_limits_it_changes(run_module, fake):
    run_module(quota, {"project": "demo", "loadbalancer": 3, "pool": 9})
    reset = run_module(quota, {"project": "demo", "state": "absent"})
    assert reset["actions"] == ["reset quota of project demo (loadbalancer, pool)"]
    assert reset["plan"][0]["changes"]["pool"] == {"before": 9, "after": -1}
