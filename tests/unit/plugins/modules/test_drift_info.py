"""The drift audit's comparison (module_utils/drift.py), without a cloud, and the module
drift_info end to end against canned API answers (a stand-in for the five list calls:
what Octavia, Neutron and Nova really answer is tested in
tests/integration/test_audit.py)."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.octavia.lbaas.plugins.module_utils import drift
from ansible_collections.octavia.lbaas.plugins.modules import drift_info

from doc_checks import compare_options as _compare
from fake_octavia import FakeResponse

NOW = 1_800_000_000.0            # 2027-01-15T08:00:00Z
OLD = "2027-01-15T07:00:00Z"     # an hour before NOW
NEW = "2027-01-15T07:59:30Z"     # 30 s before NOW

LB1, LB2, LB3, LB_GONE = ("11111111-1111-4111-8111-%012d" % i for i in range(1, 5))
AMP1, AMP2, AMP3, AMP_GONE = ("22222222-2222-4222-8222-%012d" % i for i in range(1, 5))


def lb(ident, vip_port, status="ACTIVE", name=None):
    return {"id": ident, "name": name or "lb-%s" % ident[-1], "project_id": "p1", "provisioning_status": status,
            "operating_status": "ONLINE", "vip_port_id": vip_port, "vip_address": "203.0.113.%s" % ident[-1]}


def amp(ident, lb_id, compute="srv-1", vrrp="port-vrrp-1", ip="172.31.0.11", status="ALLOCATED", role="MASTER",
        ha=None):
    return {"id": ident, "loadbalancer_id": lb_id, "compute_id": compute, "vrrp_port_id": vrrp, "ha_port_id": ha,
            "lb_network_ip": ip, "status": status, "role": role}


def port(ident, name="", owner="", device_id="", ips=(), created=OLD):
    return {"id": ident, "name": name, "device_owner": owner, "device_id": device_id, "network_id": "net-1",
            "project_id": "p1", "fixed_ips": [{"subnet_id": "s1", "ip_address": ip} for ip in ips],
            "status": "DOWN", "created_at": created}


def sg(ident, name, created=OLD):
    return {"id": ident, "name": name, "project_id": "svc", "description": "", "created_at": created}


def consistent():
    """A cloud where everything agrees: two load balancers, an ACTIVE_STANDBY pair,
    their ports, servers and VIP security groups, a health-manager port."""
    return {
        "loadbalancers": [lb(LB1, "vip-1"), lb(LB2, "vip-2")],
        "amphorae": [amp(AMP1, LB1, "srv-1", "vrrp-1", "172.31.0.11", ha="vip-1"),
                     amp(AMP2, LB1, "srv-2", "vrrp-2", "172.31.0.12", role="BACKUP", ha="vip-1"),
                     amp(AMP3, LB2, "srv-3", "vrrp-3", "fd00::0:3", role="STANDALONE")],
        "ports": [port("vip-1", "octavia-lb-" + LB1, "Octavia", "lb-" + LB1, ["203.0.113.1"]),
                  port("vip-2", "octavia-lb-" + LB2, "Octavia", "lb-" + LB2, ["203.0.113.2"]),
                  port("vrrp-1", "octavia-lb-vrrp-" + AMP1, "compute:nova", "srv-1", ["203.0.113.21"]),
                  port("vrrp-2", "octavia-lb-vrrp-" + AMP2, "compute:nova", "srv-2", ["203.0.113.22"]),
                  port("vrrp-3", "octavia-lb-vrrp-" + AMP3, "Octavia", "srv-3", ["203.0.113.23"]),
                  port("mgmt-1", "", "compute:nova", "srv-1", ["172.31.0.11"]),
                  port("mgmt-2", "", "compute:nova", "srv-2", ["172.31.0.12"]),
                  port("mgmt-3", "", "compute:nova", "srv-3", ["fd00::3"]),
                  port("hm-1", "octavia-health-manager-ctl1-listen-port", "Octavia:health-mgr", "", ["172.31.0.2"]),
                  port("other", "web-1", "compute:nova", "srv-9", ["10.0.0.5"])],
        "security_groups": [sg("sg-1", "lb-" + LB1), sg("sg-2", "lb-" + LB2), sg("sg-3", "default"),
                            sg("sg-4", "lb-mgmt-sec-grp")],
        "servers": [{"id": "srv-%d" % i, "name": "amphora-%d" % i} for i in (1, 2, 3, 9)],
    }


def ids(items):
    return sorted(item["id"] for item in items)


# -- the comparison -------------------------------------------------------------------------
def test_a_consistent_cloud_has_no_drift():
    result = drift.audit(consistent(), now=NOW, grace_period=300)
    assert result["drift"] is False
    assert result["summary"] == {key: 0 for key, _title in drift.CHECKS.values()} | {"total": 0}
    assert result["not_judged"] == []
    assert result["checks"] == list(drift.CHECKS)


def test_every_kind_of_drift_is_found_and_counted():
    data = consistent()
    data["ports"] = [p for p in data["ports"] if p["id"] not in ("vip-2", "vrrp-1", "mgmt-2")]
    data["servers"] = [s for s in data["servers"] if s["id"] != "srv-3"]
    data["ports"].append(port("leak-1", "", "Octavia", "", ["203.0.113.99"]))                  # owner only
    data["ports"].append(port("leak-2", "octavia-lb-" + LB_GONE, "Octavia", "lb-" + LB_GONE))  # LB gone
    data["ports"].append(port("leak-3", "octavia-lb-vrrp-" + AMP_GONE, "compute:nova", "x"))  # name only
    data["security_groups"].append(sg("sg-gone", "lb-" + LB_GONE))
    result = drift.audit(data, now=NOW, grace_period=300)
    assert result["drift"] is True
    assert ids(result["loadbalancers_missing_vip_port"]) == [LB2]
    assert result["loadbalancers_missing_vip_port"][0]["vip_port_id"] == "vip-2"
    assert ids(result["amphorae_missing_compute"]) == [AMP3]
    assert ids(result["amphorae_missing_vrrp_port"]) == [AMP1]
    assert ids(result["amphorae_missing_management_port"]) == [AMP2]
    assert ids(result["orphan_ports"]) == ["leak-1", "leak-2", "leak-3"]
    reasons = {p["id"]: p["reason"] for p in result["orphan_ports"]}
    assert reasons["leak-1"] == "no load balancer or amphora references it"
    assert reasons["leak-2"] == "named after loadbalancer %s, which does not exist" % LB_GONE
    assert reasons["leak-3"] == "named after amphora %s, which does not exist" % AMP_GONE
    assert result["orphan_ports"][0]["ip_addresses"] == ["203.0.113.99"]
    assert result["orphan_security_groups"] == [
        {"id": "sg-gone", "name": "lb-" + LB_GONE, "project_id": "svc", "loadbalancer_id": LB_GONE,
         "created_at": OLD}]
    assert result["summary"]["total"] == 8


def test_a_port_named_after_a_live_load_balancer_that_uses_another_port_is_an_orphan():
    data = consistent()
    data["ports"].append(port("second-vip", "octavia-lb-" + LB1, "Octavia", "lb-" + LB1))
    data["ports"].append(port("second-vrrp", "octavia-lb-vrrp-" + AMP1, "Octavia", ""))
    result = drift.audit(data, checks=["orphan_ports"], now=NOW)
    reasons = {p["id"]: p["reason"] for p in result["orphan_ports"]}
    assert reasons == {
        "second-vip": "named after load balancer %s, whose VIP port is another one (vip-1)" % LB1,
        "second-vrrp": "named after amphora %s, whose VRRP port is another one (vrrp-1)" % AMP1}


def test_health_manager_ports_are_not_orphans_unless_asked():
    data = consistent()
    assert drift.audit(data, checks=["orphan_ports"], now=NOW)["orphan_ports"] == []
    found = drift.audit(data, checks=["orphan_ports"], now=NOW, ignore_device_owners=[])["orphan_ports"]
    assert ids(found) == ["hm-1"]


def test_non_octavia_ports_and_groups_are_never_candidates():
    data = consistent()
    data["ports"].append(port("nova-port", "lb-web", "compute:nova", "srv-9"))
    data["ports"].append(port("router", "", "network:router_interface", "r1"))
    data["security_groups"].append(sg("sg-web", "lb-web"))               # not lb-<UUID>
    data["security_groups"].append(sg("sg-upper", "LB-" + LB_GONE))      # Octavia writes lb-
    assert drift.audit(data, now=NOW)["drift"] is False


def test_the_ha_port_of_an_amphora_counts_as_referenced():
    data = consistent()
    data["loadbalancers"][0]["vip_port_id"] = "vip-new"   # the LB moved on, its pair still holds vip-1
    data["ports"].append(port("vip-new", "", "Octavia", "lb-" + LB1))
    assert drift.audit(data, checks=["orphan_ports"], now=NOW)["orphan_ports"] == []


def test_objects_octavia_is_working_on_are_skipped_with_the_reason():
    data = consistent()
    data["loadbalancers"].append(lb(LB3, "vip-3", status="PENDING_CREATE"))          # port not there yet
    data["amphorae"].append(amp(AMP_GONE, LB3, "srv-new", "vrrp-new", "172.31.0.40", status="BOOTING"))
    data["ports"].append(port("vrrp-early", "octavia-lb-vrrp-" + AMP_GONE, "Octavia", ""))  # not recorded yet
    result = drift.audit(data, now=NOW)
    assert result["drift"] is False
    assert sorted((s["kind"], s["id"]) for s in result["not_judged"]) == [
        ("amphora", AMP_GONE), ("loadbalancer", LB3), ("port", "vrrp-early")]
    reasons = {s["id"]: s["reason"] for s in result["not_judged"]}
    assert reasons[LB3] == "Octavia is working on it (PENDING_CREATE)"
    assert reasons[AMP_GONE] == "Octavia is working on it (BOOTING)"
    assert reasons["vrrp-early"] == "Octavia is working on its amphora %s (BOOTING)" % AMP_GONE


def test_deleted_objects_count_as_absent():
    data = consistent()
    data["loadbalancers"].append(lb(LB3, "vip-gone", status="DELETED"))
    data["amphorae"].append(amp(AMP_GONE, LB3, "srv-gone", "vrrp-gone", "172.31.0.99", status="DELETED"))
    data["security_groups"].append(sg("sg-3-left", "lb-" + LB3))
    result = drift.audit(data, now=NOW)
    assert result["summary"]["total"] == 1
    assert ids(result["orphan_security_groups"]) == ["sg-3-left"]


def test_young_orphans_wait_for_the_grace_period():
    data = consistent()
    data["ports"].append(port("young", "", "Octavia", "", created=NEW))
    data["security_groups"].append(sg("sg-young", "lb-" + LB_GONE, created=NEW))
    waiting = drift.audit(data, now=NOW, grace_period=60)
    assert waiting["drift"] is False
    assert {s["id"]: s["reason"] for s in waiting["not_judged"]} == {
        "young": "created 30 s ago, within grace_period", "sg-young": "created 30 s ago, within grace_period"}
    reported = drift.audit(data, now=NOW, grace_period=0)
    assert ids(reported["orphan_ports"]) == ["young"] and ids(reported["orphan_security_groups"]) == ["sg-young"]
    assert drift.audit(data, now=NOW, grace_period=29)["summary"]["total"] == 2


def test_grace_period_zero_judges_everything_even_with_a_skewed_clock():
    data = consistent()
    data["ports"].append(port("future", "", "Octavia", "", created="2027-01-15T08:05:00Z"))   # 5 min after NOW
    assert ids(drift.audit(data, now=NOW, grace_period=0)["orphan_ports"]) == ["future"]
    assert drift.audit(data, now=NOW, grace_period=1)["not_judged"][0]["reason"] == (
        "created 0 s ago, within grace_period")


def test_ignored_ids_are_listed_not_reported():
    data = consistent()
    data["ports"] = [p for p in data["ports"] if p["id"] != "vip-2"]
    data["ports"].append(port("known", "", "Octavia", ""))
    result = drift.audit(data, now=NOW, ignore_ids=[LB2, "known"])
    assert result["drift"] is False
    assert sorted(s["id"] for s in result["not_judged"]) == sorted([LB2, "known"])


def test_limits_to_some_load_balancers_leave_the_orphan_checks_global():
    data = consistent()
    data["ports"] = [p for p in data["ports"] if p["id"] not in ("vip-2", "vrrp-3")]
    data["ports"].append(port("leak", "", "Octavia", ""))
    only_lb1 = drift.audit(data, lb_ids={LB1}, now=NOW)
    assert only_lb1["summary"]["total"] == 1 and ids(only_lb1["orphan_ports"]) == ["leak"]
    only_lb2 = drift.audit(data, lb_ids={LB2}, now=NOW)
    assert ids(only_lb2["loadbalancers_missing_vip_port"]) == [LB2]
    assert ids(only_lb2["amphorae_missing_vrrp_port"]) == [AMP3]


def test_only_the_chosen_checks_run_and_appear():
    data = consistent()
    data["servers"] = []
    result = drift.audit(data, checks=["orphan_security_groups", "loadbalancer_vip_ports"], now=NOW)
    assert set(result) == {"orphan_security_groups", "loadbalancers_missing_vip_port", "summary", "drift",
                           "not_judged", "checks"}
    assert result["drift"] is False   # no server is missing for these checks


def test_management_addresses_compare_in_canonical_form():
    data = consistent()   # amphora 3 says fd00::0:3, its port fd00::3
    assert drift.audit(data, checks=["amphora_management_ports"], now=NOW)["drift"] is False


@pytest.mark.parametrize("checks, lb_filter, sources", [
    (list(drift.CHECKS), False, list(drift.SOURCES)),
    (["loadbalancer_vip_ports"], False, ["loadbalancers", "ports"]),
    (["amphora_computes"], False, ["amphorae", "servers"]),
    (["amphora_computes"], True, ["loadbalancers", "amphorae", "servers"]),
    (["orphan_security_groups"], True, ["loadbalancers", "security_groups"]),
    (["orphan_ports", "orphan_security_groups"], False, ["loadbalancers", "amphorae", "ports", "security_groups"]),
])
def test_each_check_reads_only_what_it_needs(checks, lb_filter, sources):
    assert drift.sources_for(checks, lb_filter) == sources


def test_select_load_balancers_by_name_or_id():
    lbs = [lb(LB1, "v1", name="web"), lb(LB2, "v2", name="twin"), lb(LB3, "v3", name="twin"),
           lb(LB_GONE, "v4", name="gone", status="DELETED")]
    assert drift.select_loadbalancers(lbs, ["web", LB2]) == ({LB1, LB2}, [])
    found, errors = drift.select_loadbalancers(lbs, ["twin", "gone", "nope"])
    assert found == set()
    assert errors == ["loadbalancers: 2 load balancers are named twin (IDs %s, %s); give the ID" % (LB2, LB3),
                      "loadbalancers: no load balancer gone", "loadbalancers: no load balancer nope"]


@pytest.mark.parametrize("given, fragment", [
    ({"checks": []}, "checks: must not be empty"),
    ({"checks": ["orphan_ports", "orphan_ports"]}, "checks: orphan_ports listed more than once"),
    ({"loadbalancers": ["web", " "]}, "loadbalancers: entries must be non-empty strings"),
    ({"ignore_ids": [""]}, "ignore_ids: entries must be non-empty strings"),
    ({"grace_period": -1}, "grace_period: must be 0 or more seconds, got -1"),
])
def test_bad_input_names_the_option(given, fragment):
    errors = drift.check_params(given)
    assert len(errors) == 1 and fragment in errors[0], errors


def test_good_input_has_no_errors():
    assert drift.check_params({"checks": None, "loadbalancers": None, "grace_period": 0, "ignore_ids": [],
                               "ignore_device_owners": ["Octavia:health-mgr"]}) == []


@pytest.mark.parametrize("text, expected", [
    ("2027-01-15T07:00:00Z", NOW - 3600), ("2027-01-15T07:00:00", NOW - 3600),
    ("2027-01-15T08:00:00+01:00", NOW - 3600), (None, None), ("yesterday", None),
])
def test_parse_time(text, expected):
    assert drift.parse_time(text) == expected


def test_report_lines_name_each_finding_and_what_was_skipped():
    data = consistent()
    data["ports"] = [p for p in data["ports"] if p["id"] != "vip-2"]
    data["ports"].append(port("young", "", "Octavia", "", created=NEW))
    result = drift.audit(data, now=NOW, grace_period=60)
    lines = drift.report_lines(result, cloud="prod", inspected={"loadbalancers": 2, "ports": 10})
    assert lines[0] == "# Octavia drift audit of cloud prod: 1 finding(s)"
    assert lines[1:5] == ["", "Inspected: 2 loadbalancers, 10 ports", "", "Findings per check: loadbalancer_vip_ports 1, "
                          "amphora_computes 0, amphora_vrrp_ports 0, amphora_management_ports 0, orphan_ports 0, "
                          "orphan_security_groups 0"]
    assert "## Load balancers whose VIP port is missing in Neutron (1)" in lines
    assert "- lb-2 (%s): ACTIVE, VIP port vip-2 (address 203.0.113.2) is not in Neutron" % LB2 in lines
    assert "- port young: created 30 s ago, within grace_period" in lines
    data["servers"] = []
    lines = drift.report_lines(drift.audit(data, checks=["amphora_computes"], now=NOW))
    assert "- amphora %s (ALLOCATED STANDALONE of load balancer %s): server srv-3 is not in Nova" % (AMP3, LB2) in lines
    assert drift.report_lines(drift.audit(consistent(), now=NOW))[0] == "# Octavia drift audit: no drift"


# -- the module, against canned list answers -------------------------------------------------
class CannedCloud:
    """Answers the five list calls from `data`, ports in two pages (Neutron's
    pagination links), and records each call."""

    PATHS = {("load_balancer", "/lbaas/loadbalancers"): "loadbalancers",
             ("load_balancer", "/octavia/amphorae"): "amphorae",
             ("network", "/ports"): "ports", ("network", "/security-groups"): "security_groups",
             ("compute", "/servers"): "servers"}

    def __init__(self, data):
        self.data = data
        self.calls = []

    def proxy(self, service):
        cloud = self

        class Proxy:
            def request(self, url, method, json=None, params=None, **kwargs):  # noqa: ARG002
                cloud.calls.append((service, method, url, params))
                if url == "next-ports":
                    return FakeResponse(200, {"ports": cloud.data["ports"][1:]})
                plural = cloud.PATHS[(service, url)]
                items = cloud.data[plural]
                if plural == "ports":
                    return FakeResponse(200, {"ports": items[:1],
                                              "ports_links": [{"rel": "next", "href": "next-ports"}]})
                return FakeResponse(200, {plural: items})
        return Proxy()

    @property
    def load_balancer(self):
        return self.proxy("load_balancer")

    @property
    def network(self):
        return self.proxy("network")

    @property
    def compute(self):
        return self.proxy("compute")


@pytest.fixture
def fake():
    data = consistent()
    data["ports"] = [p for p in data["ports"] if p["id"] != "vip-2"]
    data["ports"].append(port("leak", "", "Octavia", ""))
    return CannedCloud(data)


def test_the_module_reads_each_type_once_and_reports(run_module, fake):
    result = run_module(drift_info, {"cloud": "c1", "grace_period": 0})
    assert result["changed"] is False and result["drift"] is True
    assert result["summary"]["total"] == 2
    assert ids(result["loadbalancers_missing_vip_port"]) == [LB2]
    assert ids(result["orphan_ports"]) == ["leak"]
    assert result["inspected"] == {"loadbalancers": 2, "amphorae": 3, "ports": 10, "security_groups": 4,
                                   "servers": 4}
    assert result["api_calls"] == {"writes": 0, "reads": 6}   # five lists, the ports in two pages
    assert all(call[1] == "GET" for call in fake.calls)
    params = {(call[0], call[2]): call[3] for call in fake.calls}
    assert params[("network", "/ports")]["fields"] == list(drift.PORT_FIELDS)
    assert params[("compute", "/servers")] == {"all_tenants": "True"}
    assert result["report"][0] == "# Octavia drift audit of cloud c1: 2 finding(s)"


def test_the_module_reads_only_what_its_checks_need(run_module, fake):
    result = run_module(drift_info, {"cloud": "c1", "checks": ["orphan_security_groups"]})
    assert result["drift"] is False
    assert sorted(call[2] for call in fake.calls) == ["/lbaas/loadbalancers", "/security-groups"]


def test_the_module_refuses_bad_input_before_any_call(run_module, fake):
    result = run_module(drift_info, {"cloud": "c1", "grace_period": -5, "checks": []}, expect_fail=True)
    assert result["msg"] == ("checks: must not be empty (leave it out to run every check: %s); grace_period: "
                             "must be 0 or more seconds, got -5" % ", ".join(drift.CHECKS))
    assert fake.calls == []


def test_an_unknown_load_balancer_fails_naming_it(run_module, fake):
    result = run_module(drift_info, {"cloud": "c1", "loadbalancers": ["nope"]}, expect_fail=True)
    assert result["msg"] == "loadbalancers: no load balancer nope"


def test_the_module_runs_the_same_in_check_mode(run_module, fake):
    result = run_module(drift_info, {"cloud": "c1", "grace_period": 0}, check=True)
    assert result["summary"]["total"] == 2


# -- the documentation --------------------------------------------------------------------------
def test_documentation_matches_the_argument_spec():
    doc = yaml.safe_load(drift_info.DOCUMENTATION)
    assert doc["module"] == "drift_info"
    assert _compare(doc["options"], drift_info.DriftInfoModule.argument_spec) == []
    assert doc["options"]["checks"]["choices"] == list(drift.CHECKS)


def test_examples_use_known_options_and_return_documents_every_key():
    known = set(drift_info.DriftInfoModule.argument_spec) | {"cloud", "auth"}
    for task in yaml.safe_load(drift_info.EXAMPLES):
        if "octavia.lbaas.drift_info" in task:
            assert set(task["octavia.lbaas.drift_info"]) <= known
    returned = yaml.safe_load(drift_info.RETURN)
    keys = {key for key, _title in drift.CHECKS.values()}
    keys |= {"summary", "drift", "not_judged", "checks", "inspected", "report", "elapsed", "api_calls"}
    assert set(returned) == keys
