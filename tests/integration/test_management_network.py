"""octavia.lbaas.management_network and octavia.lbaas.health_manager_ports (with the
modules mgmt_network, security_group, health_manager_port, health_manager_port_info)
against the real test cloud: check mode, converge, exact attributes and rules (checked
with openstacksdk), idempotence, --diff, updates, ports of removed controllers, IPv6,
state=absent, and bad input that must fail naming the variable and leave nothing behind.

Every name starts with one prefix per run; everything with that prefix is deleted at the
end (also when a test fails), and the module checks that it is gone. The tests of this
file build on each other (one network for all), in file order."""

from __future__ import annotations

import ipaddress
import pathlib
import time
import uuid

import openstack
import pytest
import yaml

from playbook import ROOT
from playbook import run_playbook as _run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
NETWORK_PLAY = PLAYBOOKS / "management_network.yml"
PORTS_PLAY = PLAYBOOKS / "health_manager_ports.yml"
ABSENT_PLAY = PLAYBOOKS / "management_network_absent.yml"
CIDR = "172.31.240.0/22"
CIDR6 = "fd00:0:0:4242::/64"
POOL = [{"start": "172.31.240.10", "end": "172.31.243.200"}]
DEFAULT_EGRESS = {("egress", "IPv4", None, None, None, None, None),
                  ("egress", "IPv6", None, None, None, None, None)}


# -- helpers -------------------------------------------------------------------------------
CLOUDS_YAML = {}


def run_playbook(*args, **kwargs):
    """run_playbook with this file's private copy of clouds.yaml (see `clouds_yaml`)."""
    kwargs.setdefault("env", {})["OS_CLIENT_CONFIG_FILE"] = CLOUDS_YAML["path"]
    return _run_playbook(*args, **kwargs)


def task_result(run, name, host="localhost"):
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ", 1)[-1] == name and host in task["hosts"]:
                return task["hosts"][host]
    raise AssertionError(f"task {name!r} not in the run: {run.changed_tasks()}")


def messages(run):
    """Failed tasks' messages, those of failed loop items included."""
    out = []
    for play in run.plays:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                if res.get("failed") and not res.get("ignore_errors"):
                    out.append(f"{host}: {task['task']['name']}: {res.get('msg', '')}")
                    out += [f"  item: {r.get('msg')}" for r in res.get("results", [])
                            if r.get("failed")]
    return out


def ok(run):
    assert run.rc == 0, messages(run) or run.stderr[-3000:]
    return run


def failed(run, *words):
    """The run failed with one message that names every word."""
    assert run.rc != 0, "the run should have failed"
    found = messages(run)
    assert any(all(w in m for w in words) for m in found), found
    return found


def rule_set(cloud, group_id):
    return {(r.direction, r.ether_type, r.protocol, r.port_range_min, r.port_range_max,
             r.remote_ip_prefix, r.remote_group_id)
            for r in cloud.network.security_group_rules(security_group_id=group_id)}


def leftovers(cloud, prefix):
    """Every network, port and security group this run created (any project)."""
    nets = [n for n in cloud.network.networks() if n.name.startswith(prefix)]
    ports = [p for p in cloud.network.ports() if prefix in (p.name or "")]
    groups = [g for g in cloud.network.security_groups() if g.name.startswith(prefix)]
    return nets, ports, groups


def purge(cloud, prefix):
    nets, ports, groups = leftovers(cloud, prefix)
    errors = []
    for port in ports:
        errors += attempt(cloud.network.delete_port, port)
    for net in nets:
        for port in cloud.network.ports(network_id=net.id):
            errors += attempt(cloud.network.delete_port, port)
        errors += attempt(cloud.network.delete_network, net)
    for group in groups:
        errors += attempt(cloud.network.delete_security_group, group)
    return errors


def attempt(func, obj):
    try:
        func(obj, ignore_missing=True)
    except openstack.exceptions.SDKException as exc:  # report, keep cleaning
        return [f"{obj.id}: {exc}"]
    return []


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def clouds_yaml(testbed_facts, tmp_path_factory):
    """A private copy of the test bed's clouds.yaml: another session re-running the test
    bed's bring-up rewrites the original, and a module reading it at that moment fails
    with "Cloud testbed was not found"."""
    source = pathlib.Path(testbed_facts["testbed_clouds_yaml"])
    name = testbed_facts["testbed_cloud_name"]
    for _attempt in range(60):
        try:
            text = source.read_text()
            if name in (yaml.safe_load(text) or {}).get("clouds", {}):
                break
        except (OSError, yaml.YAMLError):
            pass
        time.sleep(1)
    else:
        pytest.fail(f"{source} has no cloud {name}")
    path = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
    path.write_text(text)
    path.chmod(0o600)
    CLOUDS_YAML["path"] = str(path)
    yield path
    CLOUDS_YAML.clear()


@pytest.fixture(scope="module")
def prefix(cloud):
    """One prefix for every object of this file; all of it is gone afterwards."""
    name = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    yield name
    errors = purge(cloud, name)
    assert not errors, errors
    assert leftovers(cloud, name) == ([], [], []), f"objects of {name} are left"


@pytest.fixture(scope="module")
def net_vars(prefix):
    return {
        "management_network_cloud": "testbed",
        "management_network_name": f"{prefix}-net",
        "management_network_subnet_name": f"{prefix}-subnet",
        "management_network_ipv6_subnet_name": f"{prefix}-subnet-v6",
        "management_network_secgroup_name": f"{prefix}-mgmt-sg",
        "management_network_health_secgroup_name": f"{prefix}-hm-sg",
        "management_network_cidr": CIDR,
        "management_network_allocation_pools": POOL,
        "management_network_ipv6": True,
        "management_network_ipv6_cidr": CIDR6,
        "management_network_ssh_access": True,
    }


@pytest.fixture(scope="module")
def state():
    """What earlier tests of this file learnt (facts of the network role)."""
    return {}


def inventory(tmp_path, hosts):
    path = tmp_path / "inventory.yml"
    lines = ["octavia_controllers:", "  hosts:"]
    lines += [f"    {h}: {{ansible_connection: local}}" for h in hosts]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# -- management_network --------------------------------------------------------------------
def test_network_check_mode_creates_nothing(cloud, prefix, net_vars):
    run = ok(run_playbook(NETWORK_PLAY, extra_vars=net_vars, check=True))
    assert run.changed() > 0, "check mode must report the changes it would make"
    facts = task_result(run, "Set the management_network facts")["ansible_facts"]
    assert facts["management_network_id"] == "" and facts["management_network_secgroup_id"] == ""
    assert leftovers(cloud, prefix) == ([], [], [])


def test_network_converges_exactly(cloud, net_vars, state):
    run = ok(run_playbook(NETWORK_PLAY, extra_vars=net_vars))
    assert run.changed() > 0
    facts = task_result(run, "Set the management_network facts")["ansible_facts"]
    state.update(facts)

    net = cloud.network.get_network(facts["management_network_id"])
    assert net.name == net_vars["management_network_name"]
    assert net.is_port_security_enabled is True
    assert net.project_id == cloud.identity.find_project("service").id
    assert facts["management_network_project_id"] == net.project_id

    subnet = cloud.network.get_subnet(facts["management_network_subnet_id"])
    assert subnet.network_id == net.id and subnet.cidr == CIDR
    assert subnet.gateway_ip is None, "no gateway by default"
    assert subnet.is_dhcp_enabled is False, "DHCP off by default"
    assert subnet.allocation_pools == POOL
    assert facts["management_network_cidr"] == CIDR

    v6 = cloud.network.get_subnet(facts["management_network_ipv6_subnet_id"])
    assert v6.network_id == net.id and v6.ip_version == 6
    assert ipaddress.ip_network(v6.cidr) == ipaddress.ip_network(CIDR6)
    assert (v6.ipv6_address_mode, v6.ipv6_ra_mode) == ("slaac", "slaac")
    assert v6.gateway_ip is None
    assert facts["management_network_ipv6_cidr"] == v6.cidr

    amp = cloud.network.get_security_group(facts["management_network_secgroup_id"])
    assert amp.name == net_vars["management_network_secgroup_name"]
    assert amp.project_id == net.project_id
    assert rule_set(cloud, amp.id) == DEFAULT_EGRESS | {
        ("ingress", "IPv4", "icmp", None, None, CIDR, None),
        ("ingress", "IPv4", "tcp", 9443, 9443, CIDR, None),
        ("ingress", "IPv4", "tcp", 22, 22, CIDR, None),
        ("ingress", "IPv6", "ipv6-icmp", None, None, v6.cidr, None),
        ("ingress", "IPv6", "tcp", 9443, 9443, v6.cidr, None),
        ("ingress", "IPv6", "tcp", 22, 22, v6.cidr, None),
    }
    hm = cloud.network.get_security_group(facts["management_network_health_secgroup_id"])
    assert hm.name == net_vars["management_network_health_secgroup_name"]
    assert rule_set(cloud, hm.id) == DEFAULT_EGRESS | {
        ("ingress", "IPv4", "udp", 5555, 5555, CIDR, None),
        ("ingress", "IPv6", "udp", 5555, 5555, v6.cidr, None),
    }


def test_network_second_run_changes_nothing(net_vars, state):
    assert state, "needs test_network_converges_exactly"
    run = ok(run_playbook(NETWORK_PLAY, extra_vars=net_vars))
    assert run.changed() == 0, run.changed_tasks()
    facts = task_result(run, "Set the management_network facts")["ansible_facts"]
    assert facts == state


def test_network_update_with_diff(cloud, net_vars, state):
    """Pools and SSH access change in place; --diff shows before and after."""
    assert state, "needs test_network_converges_exactly"
    new_pool = [{"start": "172.31.240.20", "end": "172.31.241.250"}]
    changed = dict(net_vars, management_network_allocation_pools=new_pool,
                   management_network_ssh_access=False)
    run = ok(run_playbook(NETWORK_PLAY, extra_vars=changed, diff=True))
    net_diff = task_result(run, "Ensure the management network and its subnets")["diff"]
    assert net_diff["before"]["subnet"]["allocation_pools"] == POOL
    assert net_diff["after"]["subnet"]["allocation_pools"] == new_pool
    groups = task_result(run, "Ensure the security groups and exactly their rules")
    amp_diff = groups["results"][0]["diff"]
    ssh = [r for r in amp_diff["before"]["rules"] if r["port_range_min"] == 22]
    assert len(ssh) == 2 and not [r for r in amp_diff["after"]["rules"]
                                  if r["port_range_min"] == 22]
    assert not groups["results"][1]["changed"]

    subnet = cloud.network.get_subnet(state["management_network_subnet_id"])
    assert subnet.allocation_pools == new_pool
    assert not [r for r in rule_set(cloud, state["management_network_secgroup_id"])
                if r[3] == 22]


def test_network_refuses_to_change_the_cidr(cloud, net_vars, state):
    assert state, "needs test_network_converges_exactly"
    run = run_playbook(NETWORK_PLAY, extra_vars=dict(
        net_vars, management_network_cidr="172.31.248.0/24",
        management_network_allocation_pools=[]))
    failed(run, "management_network_cidr", "172.31.248.0/24", "cannot change")
    assert cloud.network.get_subnet(state["management_network_subnet_id"]).cidr == CIDR


@pytest.mark.parametrize("bad, words", [
    ({"management_network_cidr": "172.31.0.0/33"}, ["management_network_cidr", "not a valid"]),
    ({"management_network_cidr": "not-a-cidr"}, ["management_network_cidr"]),
    ({"management_network_allocation_pools": [{"start": "10.9.0.1", "end": "10.9.0.9"}]},
     ["management_network_allocation_pools[0]", "not inside"]),
    ({"management_network_ipv6_cidr": "172.31.9.0/24"}, ["management_network_ipv6_cidr"]),
], ids=["cidr-prefix", "cidr-syntax", "pool-outside", "ipv6-cidr-is-v4"])
def test_network_bad_input_fails_and_creates_nothing(cloud, prefix, net_vars, bad, words):
    bad_vars = dict(net_vars, management_network_name=f"{prefix}-bad",
                    management_network_secgroup_name=f"{prefix}-bad-sg",
                    management_network_health_secgroup_name=f"{prefix}-bad-hm-sg", **bad)
    failed(run_playbook(NETWORK_PLAY, extra_vars=bad_vars), *words)
    nets, _ports, groups = leftovers(cloud, f"{prefix}-bad")
    assert nets == [] and groups == []


# -- health_manager_ports ------------------------------------------------------------------
def port_vars(state, **extra):
    out = {
        "health_manager_ports_cloud": "testbed",
        "health_manager_ports_network": state["management_network_id"],
        "health_manager_ports_subnet": state["management_network_subnet_id"],
        "health_manager_ports_security_groups": [state["management_network_health_secgroup_id"]],
    }
    out.update(extra)
    return out


def test_ports_check_mode_creates_nothing(cloud, prefix, state, tmp_path):
    assert state, "needs test_network_converges_exactly"
    hosts = [f"{prefix}-ctl-a", f"{prefix}-ctl-b"]
    run = ok(run_playbook(PORTS_PLAY, "-i", inventory(tmp_path, hosts),
                          extra_vars=port_vars(state), check=True))
    assert run.changed() > 0
    assert leftovers(cloud, prefix)[1] == []


def test_ports_converge_exactly_and_idempotently(cloud, prefix, state, tmp_path):
    assert state, "needs test_network_converges_exactly"
    hosts = [f"{prefix}-ctl-b", f"{prefix}-ctl-a"]   # the list order is the output order
    inv = inventory(tmp_path, hosts)
    run = ok(run_playbook(PORTS_PLAY, "-i", inv, extra_vars=port_vars(state)))
    assert run.changed() > 0
    facts = task_result(run, "Set the health_manager_ports facts")["ansible_facts"]
    by_host = facts["health_manager_ports_by_host"]
    assert set(by_host) == set(hosts)

    addresses = []
    for host in hosts:
        mine = by_host[host]
        port = cloud.network.get_port(mine["id"])
        assert port.name == f"octavia-health-manager-{host}-listen-port" == mine["name"]
        assert port.network_id == state["management_network_id"]
        assert port.device_owner == "Octavia:health-mgr"
        assert port.binding_host_id == host
        assert port.security_group_ids == [state["management_network_health_secgroup_id"]]
        assert port.is_admin_state_up is True
        assert port.mac_address == mine["mac_address"]
        on_subnet = [f["ip_address"] for f in port.fixed_ips
                     if f["subnet_id"] == state["management_network_subnet_id"]]
        assert on_subnet == [mine["ip_address"]]
        assert ipaddress.ip_address(mine["ip_address"]) in ipaddress.ip_network(CIDR)
        addresses.append(mine["ip_address"])
        # each controller reads its own port
        own = task_result(run, "Show health_manager_ports_port", host)["msg"]
        assert own["id"] == port.id and own["mac_address"] == port.mac_address
        assert own["ip_address"] == mine["ip_address"]
    assert facts["health_manager_ports_controller_ip_port_list"] == \
        ", ".join(f"{ip}:5555" for ip in addresses)

    again = ok(run_playbook(PORTS_PLAY, "-i", inv, extra_vars=port_vars(state)))
    assert again.changed() == 0, again.changed_tasks()
    assert task_result(again, "Set the health_manager_ports facts")["ansible_facts"] == facts
    state["ports"] = by_host


def test_removed_controller_keeps_its_port_until_purged(cloud, prefix, state, tmp_path):
    """Dropping ctl-b from the list reports its port and keeps it; with purge it goes.
    The purge run also adds ctl-c on the IPv6 subnet (bracketed in the ip:port list)."""
    assert state.get("ports"), "needs test_ports_converge_exactly_and_idempotently"
    a, b, c = (f"{prefix}-ctl-{x}" for x in "abc")
    run = ok(run_playbook(PORTS_PLAY, "-i", inventory(tmp_path, [a]),
                          extra_vars=port_vars(state, health_manager_ports_hosts=[a])))
    assert run.changed() == 0, run.changed_tasks()
    report = task_result(run, "Report the ports of removed controllers")["msg"]
    assert f"octavia-health-manager-{b}-listen-port" in report
    assert cloud.network.find_port(state["ports"][b]["id"]) is not None

    run = ok(run_playbook(PORTS_PLAY, "-i", inventory(tmp_path, [c]), diff=True,
                          extra_vars=port_vars(
                              state, health_manager_ports_hosts=[c],
                              health_manager_ports_subnet=state["management_network_ipv6_subnet_id"],
                              health_manager_ports_purge=True)))
    assert run.changed() > 0
    for host in (a, b):
        assert cloud.network.find_port(state["ports"][host]["id"]) is None, host
    deleted = task_result(run, "Delete the ports of removed controllers")["results"]
    assert all(r["diff"]["before"] and r["diff"]["after"] == {} for r in deleted)
    facts = task_result(run, "Set the health_manager_ports facts")["ansible_facts"]
    port_c = facts["health_manager_ports_by_host"][c]
    assert ipaddress.ip_address(port_c["ip_address"]).version == 6
    assert facts["health_manager_ports_controller_ip_port_list"] == \
        f"[{port_c['ip_address']}]:5555"
    state["ports"] = {c: port_c}


def test_ports_duplicate_controllers_fail_before_anything(cloud, prefix, state, tmp_path):
    assert state, "needs test_network_converges_exactly"
    hosts = [f"{prefix}-dup", f"{prefix}-DUP".upper()]
    run = run_playbook(PORTS_PLAY, "-i", inventory(tmp_path, [hosts[0]]),
                       extra_vars=port_vars(state, health_manager_ports_hosts=hosts))
    failed(run, "health_manager_ports_hosts", "more than once")
    assert not [p for p in leftovers(cloud, prefix)[1] if "dup" in p.name.lower()]


def test_ports_unknown_network_fails_before_anything(cloud, prefix, state, tmp_path):
    assert state, "needs test_network_converges_exactly"
    host = f"{prefix}-lost"
    run = run_playbook(PORTS_PLAY, "-i", inventory(tmp_path, [host]),
                       extra_vars=port_vars(state, health_manager_ports_network=f"{prefix}-nonet",
                                            health_manager_ports_subnet=""))
    failed(run, "health_manager_ports_network", f"{prefix}-nonet")
    assert not [p for p in leftovers(cloud, prefix)[1] if host in p.name]


def test_ports_unknown_security_group_fails_before_anything(cloud, prefix, state, tmp_path):
    """Every port task checks the groups before it writes: no host gets a port."""
    assert state, "needs test_network_converges_exactly"
    hosts = [f"{prefix}-nosg-a", f"{prefix}-nosg-b"]
    run = run_playbook(PORTS_PLAY, "-i", inventory(tmp_path, hosts),
                       extra_vars=port_vars(state, health_manager_ports_hosts=hosts,
                                            health_manager_ports_security_groups=[
                                                f"{prefix}-missing-sg"]))
    failed(run, "health_manager_ports_security_groups[0]", f"{prefix}-missing-sg")
    assert not [p for p in leftovers(cloud, prefix)[1] if "-nosg-" in p.name]


# -- state: absent -------------------------------------------------------------------------
def test_absent_deletes_everything(cloud, prefix, net_vars, state):
    """The modules with state=absent: port, groups, network (with its subnets)."""
    assert state.get("ports"), "needs the port tests"
    absent = {
        "absent_cloud": "testbed",
        "absent_network": net_vars["management_network_name"],
        "absent_hosts": list(state["ports"]),
        "absent_groups": [net_vars["management_network_secgroup_name"],
                          net_vars["management_network_health_secgroup_name"]],
    }
    run = ok(run_playbook(ABSENT_PLAY, extra_vars=absent, diff=True))
    assert run.changed() > 0
    before = task_result(run, "Delete the network")["diff"]["before"]
    assert {s["id"] for s in before["subnets"]} == {
        state["management_network_subnet_id"], state["management_network_ipv6_subnet_id"]}
    assert leftovers(cloud, prefix) == ([], [], [])
