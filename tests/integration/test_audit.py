"""playbooks/audit.yml (octavia.lbaas.drift_info) against the deployed Octavia and the
test cloud's real Neutron and Nova API.

The test bed runs Octavia with the noop network and compute drivers: they never call
Neutron or Nova, and invent the IDs of VIP ports, VRRP ports and servers. So every load
balancer other tests create here is drift from Neutron's and Nova's point of view, and the
assertions below are only about this file's own objects, never about totals.

What the file makes (names start with a unique prefix, except the two "lb-<ID>" security
groups, whose descriptions do; all deleted at the end, also on failure):

* a Neutron network and subnet, and Octavia-owned ports on it (device_owner "Octavia");
* load balancers "ok" and "gone" on that subnet. Octavia's API refuses a given
  ``vip_port_id`` with the noop network driver (its invented port has no address on the
  subnet), so the test records a real port as each one's VIP port in Octavia's database
  (table ``vip``), which is what the real network driver records; then it deletes the
  "gone" one's port from Neutron;
* for the "ok" load balancer's amphora, the test writes into Octavia's database what a
  real compute and network driver would have recorded: a real port as its VRRP port, that
  port's address as its management address (lb_network_ip), and a Nova server as its
  compute_id. The test cloud's Nova (API only) makes the server record, which stays in
  BUILD; that is enough to exist. Nova cannot delete it completely without Placement
  (the API answers 500 after removing it from its listing), so the cleanup removes the
  two rows Nova's API database keeps of it;
* the "gone" load balancer's amphora keeps what the noop drivers invented: its server and
  VRRP port really are missing;
* an Octavia-owned port no load balancer references, a security group "lb-<random UUID>"
  (no such load balancer), and the security group "lb-<ID of ok>" (consistent).

Each object that is drift must be reported, each consistent one must not be."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from lb_helpers import Cleanup, delete_lb, octavia_db, settled_lb
from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "playbooks" / "audit.yml"
INVENTORY = ROOT / "inventories" / "aio"
COMPARE_TASK = "Compare Octavia with Neutron and Nova"


class World:
    def __init__(self, cloud, facts):
        self.cloud = cloud
        self.facts = facts
        self.prefix = f"lbaas-audit-{uuid.uuid4().hex[:8]}"
        self.network = self.subnet = self.server = self.gone_vip = None
        self.last_seconds = None   # wall time of the last playbook run
        self.ports = {}            # role -> port
        self.groups = {}           # role -> security group
        self.lbs = {}              # role -> load balancer ID
        self.amps = {}             # role -> amphora ID
        self.db = octavia_db(facts)

    def sql(self, query, *args):
        with self.db.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def port(self, role, **kwargs):
        self.ports[role] = self.cloud.network.create_port(name=f"{self.prefix}-{role}", network_id=self.network.id,
                                                          **kwargs)
        return self.ports[role]

    def wait_lb(self, lb_id, timeout=120):
        return settled_lb(self.cloud, lb_id, timeout)

    def amphora_of(self, lb_id):
        body = self.cloud.load_balancer.get("/octavia/amphorae", params={"loadbalancer_id": lb_id}).json()
        amps = [a for a in body["amphorae"] if a["status"] != "DELETED" and a["loadbalancer_id"] == lb_id]
        assert len(amps) == 1, amps   # the test bed's default topology is SINGLE
        return amps[0]

    def try_server(self):
        """A Nova server record, if the test cloud's Nova API can make one (it has no
        conductor or compute: the server stays in BUILD, which is enough to exist)."""
        compute = self.cloud.compute
        # not the flavors and images other tests make (and delete) meanwhile
        flavor = next((f for f in compute.flavors() if not f.name.startswith("lbaas-")), None)
        image = next((i for i in self.cloud.image.images(status="active") if not (i.name or "").startswith("lbaas-")),
                     None)
        if flavor is None or image is None:
            return None
        try:
            return compute.create_server(name=f"{self.prefix}-amphora", flavor_id=flavor.id, image_id=image.id,
                                         networks="none")
        except Exception:  # noqa: BLE001 - a Nova that cannot make one is a fact of this cloud
            return None

    def play(self, *args, **extra):
        extra.setdefault("audit_grace_period", 0)
        started = time.monotonic()
        run = run_playbook(PLAYBOOK, "-i", str(INVENTORY), *args, extra_vars=extra)
        self.last_seconds = time.monotonic() - started
        return run

    def cleanup(self):
        cleanup = Cleanup()
        attempt = cleanup.attempt

        for role, lb_id in self.lbs.items():
            attempt(f"load balancer {role}", self.delete_lb, lb_id)
        if self.server is not None:
            attempt("server", self.delete_server)
        for role, group in self.groups.items():
            attempt(f"security group {role}", self.cloud.network.delete_security_group, group.id, ignore_missing=True)
        for role, port in self.ports.items():
            attempt(f"port {role}", self.cloud.network.delete_port, port.id, ignore_missing=True)
        if self.subnet is not None:
            attempt("subnet", self.cloud.network.delete_subnet, self.subnet.id, ignore_missing=True)
        if self.network is not None:
            attempt("network", self.cloud.network.delete_network, self.network.id, ignore_missing=True)
        self.db.close()
        return cleanup.errors

    def delete_server(self):
        try:
            self.cloud.compute.delete_server(self.server.id, ignore_missing=True)
        except Exception:  # noqa: BLE001 - see the module docstring: no Placement in the test cloud
            if self.cloud.compute.find_server(self.server.id, ignore_missing=True) is not None:
                raise
        for table in ("request_specs", "instance_mappings"):
            self.sql(f"DELETE FROM nova_api.{table} WHERE instance_uuid=%s", self.server.id)

    def delete_lb(self, lb_id, timeout=120):
        delete_lb(self.cloud, lb_id, timeout)

    def leftovers(self):
        net = self.cloud.network
        left = [f"load balancer {r}" for r, i in self.lbs.items()
                if (lb := self.cloud.load_balancer.find_load_balancer(i, ignore_missing=True))
                and lb.provisioning_status != "DELETED"]
        left += [f"port {p.name}" for p in net.ports() if (p.name or "").startswith(self.prefix)]
        left += [f"security group {g.name}" for g in self.groups.values()
                 if net.find_security_group(g.id, ignore_missing=True)]
        left += [f"network {n.name}" for n in net.networks() if (n.name or "").startswith(self.prefix)]
        if self.server is not None and self.cloud.compute.find_server(self.server.id, ignore_missing=True):
            left.append("server")
        return left


@pytest.fixture(scope="module")
def world(cloud, testbed_facts):
    w = World(cloud, testbed_facts)
    try:
        net, lb_api = cloud.network, cloud.load_balancer
        w.network = net.create_network(name=f"{w.prefix}-net")
        w.subnet = net.create_subnet(name=f"{w.prefix}-subnet", network_id=w.network.id, ip_version=4,
                                     cidr="10.251.%d.0/24" % (uuid.uuid4().int % 250))
        # ports as Octavia's real network driver makes them (owner "Octavia")
        for role in ("vip-ok", "vip-gone", "vrrp-ok", "orphan"):
            w.port(role, device_owner="Octavia")
        w.port("mgmt-ok", device_owner="compute:nova")   # the amphora's management NIC, Nova's
        for role in ("ok", "gone"):
            w.lbs[role] = lb_api.create_load_balancer(name=f"{w.prefix}-{role}", vip_subnet_id=w.subnet.id).id
        for role in ("ok", "gone"):
            assert w.wait_lb(w.lbs[role]).provisioning_status == "ACTIVE"
            w.amps[role] = w.amphora_of(w.lbs[role])["id"]
            # the VIP port a real network driver would have made and recorded
            w.sql("UPDATE vip SET port_id=%s WHERE load_balancer_id=%s", w.ports[f"vip-{role}"].id, w.lbs[role])
            assert lb_api.get_load_balancer(w.lbs[role]).vip_port_id == w.ports[f"vip-{role}"].id
        w.gone_vip = w.ports["vip-gone"].id
        net.delete_port(w.ports.pop("vip-gone"))
        # what real drivers would have recorded for the "ok" amphora (see the module docstring)
        w.server = w.try_server()
        mgmt_ip = w.ports["mgmt-ok"].fixed_ips[0]["ip_address"]
        w.sql("UPDATE amphora SET vrrp_port_id=%s, lb_network_ip=%s WHERE id=%s",
              w.ports["vrrp-ok"].id, mgmt_ip, w.amps["ok"])
        if w.server is not None:
            w.sql("UPDATE amphora SET compute_id=%s WHERE id=%s", w.server.id, w.amps["ok"])
        w.groups["orphan"] = net.create_security_group(name=f"lb-{uuid.uuid4()}", description=f"{w.prefix} orphan")
        w.groups["ok"] = net.create_security_group(name=f"lb-{w.lbs['ok']}", description=f"{w.prefix} ok")
        yield w
    finally:
        errors = w.cleanup()
        left = w.leftovers()
        assert not errors, errors
        assert not left, f"left behind: {left}"


def task_result(run, name=COMPARE_TASK):
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"] == name:
                return task["hosts"]["localhost"]
    raise AssertionError(f"task {name!r} not in the run: {run.failed_messages() or run.stderr[-2000:]}")


def found(result, key):
    return {item["id"] for item in result[key]}


def test_every_deliberate_orphan_is_reported_and_consistent_objects_are_not(world, tmp_path):
    report = tmp_path / "audit.json"
    run = world.play(audit_fail_on_drift=False, audit_report_file=str(report))
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
    res = task_result(run)
    assert res["changed"] is False and res["drift"] is True
    assert res["checks"] == ["loadbalancer_vip_ports", "amphora_computes", "amphora_vrrp_ports",
                             "amphora_management_ports", "orphan_ports", "orphan_security_groups"]
    # one list call per resource type, nothing written
    assert res["api_calls"] == {"writes": 0, "reads": 5}, res["api_calls"]

    ok, gone = world.lbs["ok"], world.lbs["gone"]
    lbs = {item["id"]: item for item in res["loadbalancers_missing_vip_port"]}
    assert gone in lbs and lbs[gone]["vip_port_id"] == world.gone_vip
    assert ok not in lbs

    amp_ok, amp_gone = world.amps["ok"], world.amps["gone"]
    assert amp_gone in found(res, "amphorae_missing_compute")       # the noop driver's invented server
    assert amp_gone in found(res, "amphorae_missing_vrrp_port")     # and VRRP port
    assert amp_ok not in found(res, "amphorae_missing_vrrp_port")
    assert amp_ok not in found(res, "amphorae_missing_management_port")
    if world.server is not None:
        assert amp_ok not in found(res, "amphorae_missing_compute")
    else:
        assert amp_ok in found(res, "amphorae_missing_compute")

    orphans = {item["id"]: item for item in res["orphan_ports"]}
    orphan = world.ports["orphan"]
    assert orphan.id in orphans
    assert orphans[orphan.id]["reason"] == "no load balancer or amphora references it"
    assert orphans[orphan.id]["name"] == f"{world.prefix}-orphan"
    assert orphans[orphan.id]["device_owner"] == "Octavia"
    for role in ("vip-ok", "vrrp-ok", "mgmt-ok"):
        assert world.ports[role].id not in orphans, role

    groups = {item["id"]: item for item in res["orphan_security_groups"]}
    assert world.groups["orphan"].id in groups
    assert groups[world.groups["orphan"].id]["loadbalancer_id"] == world.groups["orphan"].name[3:]
    assert world.groups["ok"].id not in groups

    # the readable report names them, and the JSON file holds the same result
    text = "\n".join(res["report"])
    for ident in (gone, amp_gone, orphan.id, world.groups["orphan"].id):
        assert ident in text
    written = json.loads(report.read_text())
    assert written["summary"] == res["summary"] and written["orphan_ports"] == res["orphan_ports"]
    assert "invocation" not in written
    print(f"\naudit.yml, every check, whole test cloud: {world.last_seconds:.1f} s wall, module {res['elapsed']} s, "
          f"inspected {res['inspected']}")


def test_drift_fails_the_play_and_young_orphans_wait_for_the_grace_period(world, tmp_path):
    report = tmp_path / "audit.md"
    run = world.play(audit_grace_period=3600, audit_report_file=str(report))
    assert run.rc != 0
    messages = run.failed_messages()
    assert len(messages) == 1 and "Fail on drift" in messages[0], messages
    assert "Octavia and Neutron/Nova disagree" in messages[0]
    res = task_result(run)
    assert world.lbs["gone"] in found(res, "loadbalancers_missing_vip_port")   # no grace for a missing port
    skipped = {item["id"]: item["reason"] for item in res["not_judged"]}
    for obj in (world.ports["orphan"], world.groups["orphan"]):
        assert obj.id not in found(res, "orphan_ports") | found(res, "orphan_security_groups")
        assert skipped[obj.id].endswith("within grace_period")
    markdown = report.read_text()
    assert markdown.startswith("# Octavia drift audit of cloud ")
    assert "## Load balancers whose VIP port is missing in Neutron" in markdown and world.lbs["gone"] in markdown


def test_no_drift_passes_in_check_mode_and_reads_only_what_the_checks_need(world):
    checks = ["loadbalancer_vip_ports", "amphora_vrrp_ports", "amphora_management_ports"]
    if world.server is not None:
        checks.append("amphora_computes")
    run = world.play("--check", audit_checks=checks, audit_loadbalancers=[f"{world.prefix}-ok"])
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
    res = task_result(run)
    assert res["drift"] is False and res["summary"]["total"] == 0
    assert res["report"][0].endswith(": no drift")
    expected = {"loadbalancers", "amphorae", "ports"} | ({"servers"} if world.server is not None else set())
    assert set(res["inspected"]) == expected
    assert res["api_calls"] == {"writes": 0, "reads": len(expected)}


def test_bad_input_fails_before_the_module_runs(world):
    run = world.play(audit_checks="orphan_ports")
    assert run.rc != 0
    messages = run.failed_messages()
    assert len(messages) == 1 and "Check the audit's own inputs" in messages[0], messages
    run = world.play(audit_checks=["no_such_check"])
    assert run.rc != 0
    assert any("no_such_check" in m and COMPARE_TASK in m for m in run.failed_messages()), run.failed_messages()
