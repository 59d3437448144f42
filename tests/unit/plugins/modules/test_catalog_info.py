"""flavor_info and availability_zone_info against the in-memory Octavia: everything,
by name, by ID (flavors), with filters; nothing found is an empty list, never a failure;
no writes."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.modules import availability_zone_info, flavor_info

from lbaas_data import UUID_A


@pytest.fixture
def catalog(fake):
    fp = fake._flavor_profiles("POST", {"flavorprofile": {"name": "p", "provider_name": "amphora",
                                                          "flavor_data": "{}"}}, {}).json()["flavorprofile"]
    azp = fake._az_profiles("POST", {"availability_zone_profile": {"name": "p", "provider_name": "amphora",
                                                                   "availability_zone_data": "{}"}}, {}).json()
    flavors = {name: fake._flavors("POST", {"flavor": {"name": name, "flavor_profile_id": fp["id"], "enabled": enabled}},
                                   {}).json()["flavor"] for name, enabled in (("single", True), ("ha", True), ("old", False))}
    for name, enabled in (("az2", True), ("az1", True), ("az0", False)):
        fake._azs("POST", {"availability_zone": {"name": name, "enabled": enabled,
                                                 "availability_zone_profile_id": azp["availability_zone_profile"]["id"]}}, {})
    fake.log.clear()
    return flavors


def test_flavor_info(run_module, fake, catalog):
    everything = run_module(flavor_info, {})
    assert [f["name"] for f in everything["flavors"]] == ["ha", "old", "single"]
    assert everything["changed"] is False and everything["api_calls"]["writes"] == 0
    assert [f["name"] for f in run_module(flavor_info, {"filters": {"enabled": True}})["flavors"]] == ["ha", "single"]
    assert run_module(flavor_info, {"name": "ha"})["flavors"] == [catalog["ha"]]
    fake.log.clear()
    by_id = run_module(flavor_info, {"name": catalog["old"]["id"]})
    assert by_id["flavors"] == [catalog["old"]] and [c[1] for c in fake.log] == ["/lbaas/flavors/%s" % catalog["old"]["id"]]
    assert run_module(flavor_info, {"name": "nope"})["flavors"] == []
    assert run_module(flavor_info, {"name": UUID_A})["flavors"] == []
    assert fake.writes() == []


def test_availability_zone_info(run_module, fake, catalog):
    everything = run_module(availability_zone_info, {})
    assert [z["name"] for z in everything["availability_zones"]] == ["az0", "az1", "az2"]
    enabled = run_module(availability_zone_info, {"filters": {"enabled": True}})
    assert [z["name"] for z in enabled["availability_zones"]] == ["az1", "az2"]
    one = run_module(availability_zone_info, {"name": "az1"})["availability_zones"]
    assert len(one) == 1 and one[0]["name"] == "az1" and one[0]["enabled"] is True
    assert run_module(availability_zone_info, {"name": "az9"})["availability_zones"] == []
    assert fake.writes() == []


def test_check_mode_reads_the_same(run_module, fake, catalog):
    assert run_module(flavor_info, {"name": "ha"}, check=True)["flavors"] == [catalog["ha"]]
