"""The catalog's pieces without a module: profile data (a dict Octavia takes as a JSON
string), the profiles' page links, lookups by name."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_catalog
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import Deadline, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_api import OctaviaApi
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import Invalid
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import FLAVOR, FLAVOR_PROFILE, QUOTA
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_state import diff_fields

from fake_octavia import FakeResponse

DATA = FLAVOR_PROFILE.fields["flavor_data"]


def test_profile_data_keeps_json_values_and_compares_as_a_dict():
    value = DATA.coerce({"sriov_vip": True, "valid": ["a", "b"], "n": 2}, "flavor_data")
    assert value == {"sriov_vip": True, "valid": ["a", "b"], "n": 2}       # not turned into strings
    body = FLAVOR_PROFILE.body({"name": "x", "provider_name": "amphora", "flavor_data": value})
    assert json.loads(body["flavor_data"]) == value and body["flavor_data"] == json.dumps(value, sort_keys=True)
    have = FLAVOR_PROFILE.view({"name": "x", "provider_name": "amphora",
                                "flavor_data": '{"valid": ["a", "b"], "n": 2, "sriov_vip": true}'})
    assert diff_fields("flavor_profile", {"flavor_data": value}, have) == {}
    assert diff_fields("flavor_profile", {"flavor_data": {"n": 3}}, have) == {"flavor_data": (have["flavor_data"], {"n": 3})}


def test_profile_data_that_is_not_a_json_object_differs_from_any_dict():
    have = FLAVOR_PROFILE.view({"flavor_data": "not json"})
    assert have["flavor_data"] == "not json"
    assert "flavor_data" in diff_fields("flavor_profile", {"flavor_data": {}}, have)


@pytest.mark.parametrize("value, words", [
    ({"a": {1, 2}}, "cannot be written as JSON"),
    ({"a": "x" * 4100}, "characters long as JSON; Octavia takes at most 4096"),
    (["a"], "must be a dict"),
])
def test_profile_data_refused(value, words):
    with pytest.raises(Invalid, match=words):
        DATA.coerce(value, "flavor_data")


def test_what_octavia_cannot_update():
    assert not FLAVOR.fields["flavor_profile"].updatable and FLAVOR.fields["description"].updatable
    assert FLAVOR.fields["flavor_profile"].api == "flavor_profile_id"
    assert sorted(QUOTA.fields) == sorted(["loadbalancer", "listener", "pool", "member", "healthmonitor", "l7policy", "l7rule"])
    with pytest.raises(Invalid, match="out of range -1..2000000000"):
        QUOTA.fields["member"].coerce(2000000001, "member")


class Pages:
    """Octavia's flavor profile listing, two pages, linked under `flavorprofile_links`."""

    def __init__(self):
        self.calls = []

    def request(self, path, method, params=None, **kwargs):
        self.calls.append(path)
        if "marker" in path:
            return FakeResponse(200, {"flavorprofiles": [{"id": "2", "name": "b"}], "flavorprofile_links": []})
        return FakeResponse(200, {"flavorprofiles": [{"id": "1", "name": "a"}],
                                  "flavorprofile_links": [{"rel": "next", "href": "/lbaas/flavorprofiles?marker=1"}]})


def test_profiles_are_listed_to_the_last_page():
    pages = Pages()
    api = OctaviaApi(type("Conn", (), {"load_balancer": pages})(), Deadline(30))
    assert [p["id"] for p in lbaas_catalog.catalog_list(api, "flavor_profile")] == ["1", "2"]
    assert len(pages.calls) == 2


def test_find_by_name_refuses_a_shared_name(fake):
    api = OctaviaApi(fake, Deadline(30))
    for _i in range(2):
        fake._flavor_profiles("POST", {"flavorprofile": {"name": "twin", "provider_name": "amphora",
                                                         "flavor_data": "{}"}}, {})
    with pytest.raises(ModuleError, match="2 flavor profiles are named twin"):
        lbaas_catalog.find_by_name(api, "flavor_profile", "twin")
    assert lbaas_catalog.find_by_name(api, "flavor_profile", "other") is None
