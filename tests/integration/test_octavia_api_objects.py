"""The catalog modules (flavor_profile, flavor, availability_zone_profile,
availability_zone, quota, provider_info) against the real Octavia of the test cloud.

Each object is created, left alone on a re-run, changed in check mode (with --diff), changed
for real and deleted, every module in the same playbook run (a run per phase: an
ansible-playbook start costs seconds); a bad input per option family fails before any write; what Octavia
refuses (a profile in use, a flavor or zone a load balancer uses, a flavor's profile) fails
naming it, before any write. Octavia's own request log (octavia_api_log) counts the writes.
Everything is named after one random prefix (a project of its own for the quota) and removed
at the end, also when a test fails. The tests run in file order and build on each other."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from lb_helpers import active_lb, delete_lb
from octavia_api_log import Window
from playbook import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
OBJECTS = PLAYBOOKS / "api_objects.yml"
BAD = PLAYBOOKS / "api_objects_bad.yml"

# what the catalog modules can write to (other tests' requests elsewhere are not ours)
CATALOG_COLLECTIONS = ("flavorprofiles", "flavors", "availabilityzoneprofiles", "availabilityzones", "quotas",
                       "providers")
CATALOG = tuple(f"/v2.0/lbaas/{name}" for name in CATALOG_COLLECTIONS)
SINGLE = {"loadbalancer_topology": "SINGLE"}
ACTIVE_STANDBY = {"loadbalancer_topology": "ACTIVE_STANDBY"}
# validated by the compute and volume drivers (no-op on the test bed: any name; Nova's own zone is "nova")
ZONE = {"compute_zone": "nova"}
ZONE_2 = {"compute_zone": "nova", "volume_zone": "nova"}


class World:
    """Names, IDs and the cloud, shared by the tests of this file."""

    def __init__(self, cloud, cloud_name):
        self.cloud = cloud
        self.cloud_name = cloud_name
        self.prefix = f"lbaas-api-{uuid.uuid4().hex[:8]}"
        self.fp = f"{self.prefix}-fp"
        self.fp2 = f"{self.prefix}-fp2"
        self.flavor = f"{self.prefix}-flavor"
        self.azp = f"{self.prefix}-azp"
        self.azp2 = f"{self.prefix}-azp2"
        self.az = f"{self.prefix}-az"
        self.project = None
        self.network = self.subnet = None
        self.lb_id = None

    # -- reading Octavia ------------------------------------------------------------------------
    def get(self, path):
        resp = self.cloud.load_balancer.get(path)
        return resp.json() if resp.status_code == 200 else None

    def listing(self, path, key):
        return (self.get(path) or {}).get(key) or []

    def profiles(self):
        return [p for p in self.listing("/lbaas/flavorprofiles", "flavorprofiles") if p["name"].startswith(self.prefix)]

    def az_profiles(self):
        return [p for p in self.listing("/lbaas/availabilityzoneprofiles", "availability_zone_profiles")
                if p["name"].startswith(self.prefix)]

    def flavors(self):
        return [f for f in self.listing("/lbaas/flavors", "flavors") if f["name"].startswith(self.prefix)]

    def zones(self):
        return [z for z in self.listing("/lbaas/availabilityzones", "availability_zones") if z["name"].startswith(self.prefix)]

    def one(self, items, name):
        found = [i for i in items if i["name"] == name]
        assert len(found) <= 1, found
        return found[0] if found else None

    def quota(self):
        return self.get(f"/lbaas/quotas/{self.project.id}")["quota"]

    def ids(self):
        """Our objects' IDs and names (to tell our API requests from other tests')."""
        found = {self.prefix, self.fp, self.fp2, self.flavor, self.azp, self.azp2, self.az}
        if self.project is not None:
            found |= {self.project.id, self.project.name}
        found |= {o["id"] for o in self.profiles() + self.az_profiles() + self.flavors()}
        if self.lb_id:
            found.add(self.lb_id)
        return found

    # -- running the modules ----------------------------------------------------------------------
    def extra(self, **more):
        base = {"cloud_name": self.cloud_name}
        base.update(more)
        return base

    def play(self, check=False, diff=False, **lists):
        """Run api_objects.yml with the given lists of module options (fps=[...],
        flavors=[...], ...); returns (run, window, results): results maps a task name to
        its items' results, in loop order."""
        for attempt in range(3):
            with Window(self.ids, paths=CATALOG) as window:
                run = run_playbook(OBJECTS, extra_vars=self.extra(**lists), check=check, diff=diff)
            failures = run.failed_messages()
            transient = failures and all("Could not connect to the cloud" in f or "HTTP 401" in f for f in failures)
            if not transient or attempt == 2:
                break
            time.sleep(10)
        results = {item["task"]["name"]: item["hosts"]["localhost"].get("results", [])
                   for play in run.plays for item in play["tasks"]}
        return run, window, results


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def paths(requests):
    """Requests without IDs: PUT /v2.0/lbaas/flavorprofiles/<id>."""
    out = []
    for r in requests:
        parts = ["<id>" if (len(p) == 36 and p.count("-") == 4) or (len(p) == 32 and p.isalnum()) else p
                 for p in r.path.split("?")[0].split("/")]
        out.append(f"{r.method} {'/'.join(parts)}")
    return sorted(out)


def cleanup(world):
    """Delete whatever the tests left, in dependency order, each step on its own (one
    failing does not keep the others from running)."""
    cloud = world.cloud
    api = cloud.load_balancer
    steps = []
    if world.lb_id:
        steps.append(lambda: delete_lb(cloud, world.lb_id, timeout=180))
    steps += [lambda: [api.delete(f"/lbaas/availabilityzones/{z['name']}") for z in world.zones()],
              lambda: [api.delete(f"/lbaas/flavors/{f['id']}") for f in world.flavors()],
              lambda: [api.delete(f"/lbaas/availabilityzoneprofiles/{p['id']}") for p in world.az_profiles()],
              lambda: [api.delete(f"/lbaas/flavorprofiles/{p['id']}") for p in world.profiles()]]
    if world.project is not None:
        steps += [lambda: api.delete(f"/lbaas/quotas/{world.project.id}"),
                  lambda: cloud.identity.delete_project(world.project, ignore_missing=True)]
    if world.subnet is not None:
        steps.append(lambda: cloud.network.delete_subnet(world.subnet, ignore_missing=True))
    if world.network is not None:
        steps.append(lambda: cloud.network.delete_network(world.network, ignore_missing=True))
    problems = []
    for step in steps:
        try:
            step()
        except Exception as exc:  # pylint: disable=broad-except
            problems.append(repr(exc))    # reported at the end; the next step runs
    return problems


@pytest.fixture(scope="module")
def world(cloud, testbed_facts):
    w = World(cloud, testbed_facts["testbed_cloud_name"])
    try:
        w.project = cloud.identity.create_project(name=f"{w.prefix}-project", domain_id="default",
                                                  description="octavia.lbaas quota test")
        w.network = cloud.network.create_network(name=f"{w.prefix}-net")
        w.subnet = cloud.network.create_subnet(name=f"{w.prefix}-vip", network_id=w.network.id, ip_version=4,
                                               cidr="10.252.0.0/24")
        yield w
    finally:
        problems = cleanup(w)
        assert not w.profiles() and not w.az_profiles() and not w.flavors() and not w.zones(), \
            f"left behind: {w.profiles() + w.az_profiles() + w.flavors() + w.zones()} ({problems})"


def one_of(results, name):
    (result,) = results[name]
    return result


def everything(world, fp2_data=None, flavor=None, azp2_data=None, az=None, quota=None):
    """The lists of module options for every object of this file: two flavor profiles, a
    flavor (of the first profile), two zone profiles, a zone (of the first zone profile) and
    the project's quota. Octavia refuses to change the data of a profile in use: the
    updates below change the second profiles."""
    return dict(
        fps=[{"name": world.fp, "provider_name": "amphora", "flavor_data": ACTIVE_STANDBY},
             {"name": world.fp2, "provider_name": "amphora", "flavor_data": fp2_data or ACTIVE_STANDBY}],
        flavors=[flavor or {"name": world.flavor, "description": "one amphora", "flavor_profile": world.fp}],
        azps=[{"name": world.azp, "provider_name": "amphora", "availability_zone_data": ZONE},
              {"name": world.azp2, "provider_name": "amphora", "availability_zone_data": azp2_data or ZONE}],
        azs=[az or {"name": world.az, "description": "rack 1", "availability_zone_profile": world.azp}],
        quotas=[quota or {"project": world.project.name, "loadbalancer": 5, "member": 50, "l7rule": -1}])


# -- 1. create -----------------------------------------------------------------------------------------------------
def test_create_every_object_with_one_write_each_and_read_the_providers(world):
    defaults = world.get(f"/lbaas/quotas/{world.project.id}/default")["quota"]
    providers = [{}, {"provider": "amphora"}, {"provider": f"{world.prefix}-none"}]
    run, window, results = world.play(diff=True, providers=providers, **everything(world))
    assert_ok(run)
    created = (["POST /v2.0/lbaas/flavorprofiles"] * 2 + ["POST /v2.0/lbaas/flavors"]
               + ["POST /v2.0/lbaas/availabilityzoneprofiles"] * 2
               + ["POST /v2.0/lbaas/availabilityzones", "PUT /v2.0/lbaas/quotas/<id>"])
    assert paths(window.writes) == sorted(created), window.show(window.writes)
    for name in ("Flavor profile", "Flavor", "Availability zone profile", "Availability zone", "Quota"):
        assert all(r["changed"] is True and r["api_calls"]["writes"] == 1 for r in results[name]), (name, results[name])

    listed, amphora_only, none = results["Provider info"]
    assert "amphora" in [p["name"] for p in listed["providers"]]
    (amphora,) = amphora_only["providers"]
    assert {"loadbalancer_topology", "compute_flavor"} <= {c["name"] for c in amphora["flavor_capabilities"]}
    assert {"compute_zone", "management_network"} <= {c["name"] for c in amphora["availability_zone_capabilities"]}
    assert none["providers"] == [] and not any(r["changed"] for r in results["Provider info"])

    fp = world.one(world.profiles(), world.fp)
    assert fp["id"] == results["Flavor profile"][0]["id"] and fp["provider_name"] == "amphora"
    assert json.loads(fp["flavor_data"]) == ACTIVE_STANDBY
    flavor = world.one(world.flavors(), world.flavor)
    assert (flavor["flavor_profile_id"], flavor["description"], flavor["enabled"]) == (fp["id"], "one amphora", True)
    azp = world.one(world.az_profiles(), world.azp)
    assert json.loads(azp["availability_zone_data"]) == ZONE
    assert world.one(world.zones(), world.az)["availability_zone_profile_id"] == azp["id"]
    quota = one_of(results, "Quota")
    assert quota["project_id"] == world.project.id and quota["quota"]["loadbalancer"] == 5
    assert quota["diff"]["before"]["loadbalancer"] == defaults["loadbalancer"]
    assert (world.quota()["loadbalancer"], world.quota()["member"]) == (5, 50)


# -- 2. re-run ---------------------------------------------------------------------------------------------------
def test_a_rerun_writes_nothing_also_with_references_by_id(world):
    fp_id = world.one(world.profiles(), world.fp)["id"]
    again = everything(world, flavor={"name": world.flavor, "description": "one amphora", "flavor_profile": fp_id},
                       quota={"project": world.project.id, "loadbalancer": 5, "member": 50, "l7rule": -1})
    run, window, results = world.play(**again)
    assert_ok(run)
    assert window.writes == [], window.show(window.writes)
    for name in ("Flavor profile", "Flavor", "Availability zone profile", "Availability zone", "Quota"):
        assert all(r["changed"] is False and r["api_calls"]["writes"] == 0 for r in results[name]), (name, results[name])


# -- 3. check mode, then the same for real ------------------------------------------------------------------------
def changes(world):
    return everything(world, fp2_data=SINGLE, azp2_data=ZONE_2,
                      flavor={"name": world.flavor, "description": "SINGLE topology", "enabled": False},
                      az={"name": world.az, "description": "rack one", "enabled": False},
                      quota={"project": world.project.name, "state": "absent"})


def test_check_mode_predicts_every_change_and_writes_nothing(world):
    defaults = world.get(f"/lbaas/quotas/{world.project.id}/default")["quota"]
    run, window, results = world.play(check=True, diff=True, **changes(world))
    assert_ok(run)
    assert window.writes == [], window.show(window.writes)
    fp, fp2 = results["Flavor profile"]
    assert fp["changed"] is False and fp2["changed"] is True
    assert fp2["diff"]["before"]["flavor_data"] == ACTIVE_STANDBY and fp2["diff"]["after"]["flavor_data"] == SINGLE
    assert one_of(results, "Flavor")["diff"]["after"]["enabled"] is False
    assert one_of(results, "Availability zone")["diff"]["before"]["description"] == "rack 1"
    assert [r["changed"] for r in results["Availability zone profile"]] == [False, True]
    assert one_of(results, "Quota")["changed"] is True
    assert one_of(results, "Quota")["diff"]["after"]["loadbalancer"] == defaults["loadbalancer"]
    assert json.loads(world.one(world.profiles(), world.fp2)["flavor_data"]) == ACTIVE_STANDBY
    assert world.one(world.flavors(), world.flavor)["enabled"] is True
    assert world.quota()["loadbalancer"] == 5


def test_updates_write_once_each_and_a_second_run_writes_only_what_differs(world):
    defaults = world.get(f"/lbaas/quotas/{world.project.id}/default")["quota"]
    run, window, results = world.play(**changes(world))
    assert_ok(run)
    assert results["Flavor profile"][1]["actions"] == [f"update flavor profile {world.fp2} (flavor_data)"]
    assert paths(window.writes) == sorted([
        "PUT /v2.0/lbaas/flavorprofiles/<id>", "PUT /v2.0/lbaas/flavors/<id>",
        "PUT /v2.0/lbaas/availabilityzoneprofiles/<id>", f"PUT /v2.0/lbaas/availabilityzones/{world.az}",
        "DELETE /v2.0/lbaas/quotas/<id>"]), window.show(window.writes)
    assert json.loads(world.one(world.profiles(), world.fp2)["flavor_data"]) == SINGLE
    flavor = world.one(world.flavors(), world.flavor)
    assert (flavor["description"], flavor["enabled"]) == ("SINGLE topology", False)
    zone = world.one(world.zones(), world.az)
    assert (zone["description"], zone["enabled"]) == ("rack one", False)
    assert json.loads(world.one(world.az_profiles(), world.azp2)["availability_zone_data"]) == ZONE_2
    have = world.quota()
    assert all(have[name] == defaults[name] for name in ("loadbalancer", "member", "pool", "l7rule"))

    # the same profiles and reset again (nothing to write: Octavia keeps the reset record,
    # its limits the defaults), the flavor and the zone enabled again (one write each)
    again = changes(world)
    again.update(flavors=[{"name": world.flavor, "enabled": True}], azs=[{"name": world.az, "enabled": True}])
    run, window, results = world.play(**again)
    assert_ok(run)
    assert paths(window.writes) == sorted(["PUT /v2.0/lbaas/flavors/<id>",
                                           f"PUT /v2.0/lbaas/availabilityzones/{world.az}"]), window.show(window.writes)
    assert one_of(results, "Quota")["changed"] is False
    assert world.one(world.flavors(), world.flavor)["enabled"] is True
    assert world.one(world.zones(), world.az)["enabled"] is True


# -- 4. bad input and refusals --------------------------------------------------------------------------------------------------------------
BAD_INPUTS = {
    "01": "flavor_data: topology not among the flavor capabilities of provider amphora",
    "02": "provider_name: provider no-such-provider is not enabled in Octavia",
    "03": "flavor_data",
    "04": "flavor_data is required to create flavor profile {prefix}-bad-04",
    "05": "flavor_data: is 5021 characters long as JSON; Octavia takes at most 4096",
    "06": "flavor_profile: flavor profile {prefix}-nowhere not found",
    "07": "Cannot change flavor_profile of flavor {flavor}",
    "08": "enabled",
    "09": "availability_zone_data: zone not among the availability zone capabilities of provider amphora",
    "10": "availability_zone_profile: availability zone profile {prefix}-nowhere not found",
    "11": "name: is 274 characters long; Octavia takes at most 255",
    "12": "loadbalancer: -2 is out of range -1..2000000000",
    "13": "Give at least one limit",
    "14": "pool: state absent resets every limit of the project",
    "15": "project: {prefix}-nobody not found",
    "16": "Cannot change flavor_data of flavor profile {fp}: 1 flavor uses it ({flavor})",
    "17": "Cannot delete flavor profile {fp}: 1 flavor uses it ({flavor})",
    "18": "Cannot change availability_zone_data of availability zone profile {azp}: 1 availability zone uses it ({az})",
    "19": "Cannot change availability_zone_profile of availability zone {az}",
}


def test_bad_inputs_fail_naming_the_option_and_write_nothing(world):
    before = (world.profiles(), world.flavors(), world.az_profiles(), world.zones(), world.quota())
    with Window(world.ids, paths=CATALOG) as window:
        run = run_playbook(BAD, extra_vars=world.extra(prefix=world.prefix, fp_name=world.fp, other_fp_name=world.fp2,
                                                       flavor_name=world.flavor, azp_name=world.azp,
                                                       other_azp_name=world.azp2, az_name=world.az,
                                                       project_name=world.project.name))
    results = {item["task"]["name"].split()[1]: item["hosts"]["localhost"] for play in run.plays for item in play["tasks"]}
    assert sorted(results) == sorted(BAD_INPUTS)
    for case, words in BAD_INPUTS.items():
        words = words.format(prefix=world.prefix, fp=world.fp, flavor=world.flavor, azp=world.azp, az=world.az)
        result = results[case]
        assert result.get("failed") is True, (case, result)
        assert words in result["msg"], (case, result["msg"])
        assert result.get("api_calls", {}).get("writes", 0) == 0, case
        assert result.get("changed") is not True, (case, result)
    assert window.writes == [], window.show(window.writes)
    assert (world.profiles(), world.flavors(), world.az_profiles(), world.zones(), world.quota()) == before


def test_a_flavor_and_a_zone_a_load_balancer_uses_are_not_deleted(world):
    flavor_id = world.one(world.flavors(), world.flavor)["id"]
    lb = world.cloud.load_balancer.create_load_balancer(name=f"{world.prefix}-lb", vip_subnet_id=world.subnet.id,
                                                        flavor_id=flavor_id, availability_zone=world.az)
    world.lb_id = lb.id
    active_lb(world.cloud, lb.id, timeout=300)
    run, window, results = world.play(azs=[{"name": world.az, "state": "absent"}],
                                      flavors=[{"name": world.flavor, "state": "absent"}])
    assert run.rc != 0
    message = one_of(results, "Delete availability zone")["msg"]
    assert f"Cannot delete availability zone {world.az}: 1 load balancer uses it ({world.prefix}-lb)" in message
    assert window.writes == [], window.show(window.writes)
    # the play stops at the first failure: the flavor on its own
    run, window, results = world.play(flavors=[{"name": world.flavor, "state": "absent"}])
    assert run.rc != 0
    message = one_of(results, "Delete flavor")["msg"]
    assert f"Cannot delete flavor {world.flavor}: 1 load balancer uses it ({world.prefix}-lb)" in message
    assert window.writes == [], window.show(window.writes)
    delete_lb(world.cloud, lb.id, timeout=180)
    world.lb_id = None


# -- 5. delete -------------------------------------------------------------------------------------------------------------------------------------
def test_delete_everything_then_nothing_to_delete(world):
    gone = {"azs": [{"name": world.az, "state": "absent"}], "flavors": [{"name": world.flavor, "state": "absent"}]}
    run, window, results = world.play(check=True, **gone)
    assert_ok(run)
    assert one_of(results, "Delete availability zone")["changed"] is True
    assert one_of(results, "Delete flavor")["changed"] is True
    assert window.writes == [] and world.one(world.flavors(), world.flavor)
    gone.update(fps=[{"name": name, "state": "absent"} for name in (world.fp, world.fp2)],
                azps=[{"name": name, "state": "absent"} for name in (world.azp, world.azp2)])
    run, window, results = world.play(diff=True, **gone)
    assert_ok(run)
    assert paths(window.writes) == sorted(
        ["DELETE /v2.0/lbaas/availabilityzones/" + world.az, "DELETE /v2.0/lbaas/flavors/<id>"]
        + ["DELETE /v2.0/lbaas/availabilityzoneprofiles/<id>"] * 2 + ["DELETE /v2.0/lbaas/flavorprofiles/<id>"] * 2), \
        window.show(window.writes)
    assert one_of(results, "Delete flavor")["diff"]["after"] == {}
    assert not world.profiles() and not world.az_profiles() and not world.flavors() and not world.zones()
    run, window, results = world.play(**gone)
    assert_ok(run)
    assert not any(r["changed"] for name in ("Delete flavor profile", "Delete flavor", "Delete availability zone profile",
                                             "Delete availability zone") for r in results[name])
    assert window.writes == [], window.show(window.writes)
