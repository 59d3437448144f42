"""Issue 13, item 6: a load balancer (and a VIP subnet) is looked up by name in one project
only, the caller's or the task's `project`. The test bed's credentials are admin, who sees
every project: before the fix a `state: absent` (with cascade) deleted another project's
load balancer of the same name, and a VIP subnet name matched another project's subnet.

Two projects: the caller's (admin) and a throwaway one made here, each with a load
balancer of the same name; Octavia's own answers (openstacksdk, as admin) are the proof."""

from __future__ import annotations

import uuid

import pytest

from lb_helpers import Cleanup, delete_lb, settled_lb
from playbook import ROOT, run_playbook

TREE = ROOT / "tests" / "integration" / "playbooks" / "lb_tree.yml"


def _lbs(cloud, name):
    return {lb.project_id: lb for lb in cloud.load_balancer.load_balancers(name=name)
            if lb.provisioning_status != "DELETED"}


def _result(run):
    for play in run.plays:
        for item in play["tasks"]:
            if item["task"]["name"] == "Load balancer":
                return item["hosts"]["localhost"]
    raise AssertionError(run.stdout[-2000:])


@pytest.fixture(scope="module")
def two_projects(cloud, testbed_facts):
    tag = uuid.uuid4().hex[:8]
    mine = cloud.current_project_id
    other = cloud.identity.create_project(name=f"lbaas-test-{tag}-other", domain_id="default")
    net = cloud.network.create_network(name=f"lbaas-test-{tag}-net")
    subnet = cloud.network.create_subnet(name=f"lbaas-test-{tag}-vip", network_id=net.id, ip_version=4,
                                         cidr="10.252.0.0/24")
    # a subnet only the other project has, under a name the caller's project does not use
    other_net = cloud.network.create_network(name=f"lbaas-test-{tag}-other-net", project_id=other.id)
    other_subnet = cloud.network.create_subnet(name=f"lbaas-test-{tag}-other-vip", network_id=other_net.id,
                                               ip_version=4, cidr="10.253.0.0/24", project_id=other.id)
    world = {"tag": tag, "mine": mine, "other": other, "subnet": subnet, "other_subnet": other_subnet,
             "name": f"lbaas-test-{tag}-same", "cloud_name": testbed_facts["testbed_cloud_name"]}
    yield world
    cleanup = Cleanup()
    for lb in _lbs(cloud, world["name"]).values():
        cleanup.attempt(f"load balancer {lb.id}", delete_lb, cloud, lb.id)
    for lb in cloud.load_balancer.load_balancers(name=f"lbaas-test-{tag}-foreign-subnet"):
        cleanup.attempt(f"load balancer {lb.id}", delete_lb, cloud, lb.id)
    cleanup.attempt("subnet", cloud.network.delete_subnet, subnet, ignore_missing=True)
    cleanup.attempt("network", cloud.network.delete_network, net, ignore_missing=True)
    cleanup.attempt("other subnet", cloud.network.delete_subnet, other_subnet, ignore_missing=True)
    cleanup.attempt("other network", cloud.network.delete_network, other_net, ignore_missing=True)
    cleanup.attempt("project", cloud.identity.delete_project, other, ignore_missing=True)
    assert not cleanup.errors, cleanup.errors


def _play(world, **lb):
    extra = {"cloud_name": world["cloud_name"], "lb_name": world["name"], "lb_timeout": 120}
    extra.update(lb)
    return run_playbook(TREE, extra_vars=extra)


def test_names_never_match_another_projects_load_balancer(cloud, two_projects):
    w = two_projects
    theirs = cloud.load_balancer.create_load_balancer(name=w["name"], vip_subnet_id=w["subnet"].id,
                                                      project_id=w["other"].id)
    settled_lb(cloud, theirs.id)

    # 1. only the other project has one: "absent" in mine finds nothing and deletes nothing
    gone = _result(_play(w, lb_state="absent"))
    assert gone.get("failed") is not True, gone.get("msg")
    assert gone["changed"] is False and gone["id"] is None
    assert settled_lb(cloud, theirs.id).provisioning_status == "ACTIVE"

    # 2. "present" in mine creates mine, and leaves theirs as it is
    made = _result(_play(w, lb_vip_subnet=w["subnet"].name, lb_description="mine"))
    assert made.get("failed") is not True, made.get("msg")
    assert made["changed"] is True and made["id"] != theirs.id
    found = _lbs(cloud, w["name"])
    assert set(found) == {w["mine"], w["other"].id}
    assert found[w["mine"]].id == made["id"]
    assert (found[w["other"].id].description or "") == ""

    # 3. "absent" with cascade in mine deletes mine only
    gone = _result(_play(w, lb_state="absent", lb_cascade=True))
    assert gone.get("failed") is not True, gone.get("msg")
    assert gone["changed"] is True and gone["id"] == made["id"]
    assert set(_lbs(cloud, w["name"])) == {w["other"].id}
    assert settled_lb(cloud, theirs.id).provisioning_status == "ACTIVE"

    # 4. naming the other project explicitly reaches theirs
    gone = _result(_play(w, lb_state="absent", lb_project=w["other"].name))
    assert gone.get("failed") is not True, gone.get("msg")
    assert gone["changed"] is True and gone["id"] == theirs.id
    assert _lbs(cloud, w["name"]) == {}


def test_vip_subnet_name_is_not_matched_in_another_project(cloud, two_projects):
    w = two_projects
    name = f"lbaas-test-{w['tag']}-foreign-subnet"
    run = run_playbook(TREE, extra_vars={"cloud_name": w["cloud_name"], "lb_name": name,
                                         "lb_vip_subnet": w["other_subnet"].name, "lb_timeout": 60})
    result = _result(run)
    assert result.get("failed") is True
    assert f"vip_subnet: subnet {w['other_subnet'].name} not found in project {w['mine']}" in result["msg"]
    assert result["changed"] is False
    assert list(cloud.load_balancer.load_balancers(name=name)) == []
