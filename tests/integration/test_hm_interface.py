"""Role octavia.lbaas.hm_interface on a real systemd container with real Open vSwitch
(userspace datapath) and a real Neutron port of the test cloud.

One container of our own (octavia-lbaas-hmtest, 10.242.0.31) is started with the test
bed's role `testbed_container` and removed at the end; the network, subnet and port are
created with a unique name and deleted at the end, also when a test fails. The tests run
in file order on the one container: converge, read-only runs in parallel (idempotence,
check mode, bad inputs), UDP through the bridge and the firewall, reboot and OVS restart,
and last the DHCP mode (the slowest part: a dnsmasq on the bridge, a third role run).
State is read with `podman exec`; only the peers of the UDP and DHCP tests (network
namespaces, which need CAP_SYS_ADMIN) are made with `podman exec --privileged`.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import re
import subprocess
import time
import uuid

import pytest

from playbook import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
ROLE = PLAYBOOKS / "hm_interface.yml"
INVENTORY = PLAYBOOKS / "hm_interface_inventory.ini"
CONTAINER = "octavia-lbaas-hmtest"
HOSTNAME = "hmtest"
CONTAINER_IP = "10.242.0.31"
IFACE = "o-hm0"
BRIDGE = "br-int"
UNIT = "octavia-hm-interface.service"
FIREWALL_UNIT = "octavia-hm-firewall.service"
STATE_FILES = ["/etc/octavia/hm-interface.env", "/etc/octavia/hm-interface.nft",
               f"/etc/systemd/system/{UNIT}", f"/etc/systemd/system/{FIREWALL_UNIT}",
               "/usr/local/sbin/octavia-hm-interface"]


# -- helpers -------------------------------------------------------------------------------
def sh(script, *, check=True, timeout=60, privileged=False):
    """Run a bash script in the container; returns stdout (stripped)."""
    cmd = ["podman", "exec"] + (["--privileged"] if privileged else []) + [
        CONTAINER, "bash", "-c", script]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{script!r} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def role(extra, *, check=False):
    return run_playbook(ROLE, "-i", str(INVENTORY), extra_vars=extra, check=check, timeout=600)


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def messages(run):
    return "\n".join(run.failed_messages())


def facts_of(run):
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"].endswith("Set the hm_interface facts"):
                return task["hosts"][CONTAINER]["ansible_facts"]
    raise AssertionError(f"no facts task in the run: {run.changed_tasks()}")


def unit_prop(unit, prop):
    return sh(f"systemctl show -p {prop} --value {unit}")


def link(iface=IFACE):
    """`ip -j addr show` of the interface: flags, MAC, MTU, addresses."""
    return json.loads(sh(f"ip -j addr show dev {iface}"))[0]


def ipv4(iface=IFACE):
    return [(a["local"], a["prefixlen"]) for a in link(iface)["addr_info"] if a["family"] == "inet"]


def routes(iface=IFACE):
    return json.loads(sh(f"ip -j -4 route show dev {iface}"))


def external_ids():
    raw = sh(f"ovs-vsctl get Interface {IFACE} external_ids")
    # ovs-vsctl prints the map as {key="value", ...}
    return dict(item.split("=", 1) for item in raw.strip("{}").replace('"', "").split(", "))


def snapshot():
    """What a run must not change: files, OVS row, addresses, MTU, unit start time."""
    files = sh("sha256sum " + " ".join(STATE_FILES))
    ovs = sh(f"ovs-vsctl get Interface {IFACE} external_ids mac mtu_request")
    return {"files": files, "ovs": ovs, "addr": ipv4(), "mtu": link()["mtu"],
            "started": unit_prop(UNIT, "ActiveEnterTimestamp"),
            "fw_started": unit_prop(FIREWALL_UNIT, "ActiveEnterTimestamp")}


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except AssertionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(1)


def make_peer(name, cidr_ip):
    """An OVS internal port on br-int moved into network namespace `name` with cidr_ip."""
    sh(f"""set -e
        ip netns del {name} 2>/dev/null || true
        ovs-vsctl --if-exists del-port {BRIDGE} {name}0
        ip netns add {name}
        ovs-vsctl add-port {BRIDGE} {name}0 -- set Interface {name}0 type=internal
        for i in $(seq 50); do [ -e /sys/class/net/{name}0 ] && break; sleep 0.1; done
        ip link set {name}0 netns {name}
        ip -n {name} addr add {cidr_ip} dev {name}0
        ip -n {name} link set lo up
        ip -n {name} link set {name}0 up""", privileged=True)


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def container():
    subprocess.run(["podman", "rm", "-f", CONTAINER], capture_output=True, check=False)
    run = run_playbook(PLAYBOOKS / "hm_interface_container.yml", extra_vars={
        "hm_test_container": CONTAINER, "hm_test_hostname": HOSTNAME, "hm_test_ip": CONTAINER_IP})
    try:
        assert_ok(run)
        yield CONTAINER
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "5", CONTAINER], capture_output=True,
                       check=False, timeout=120)


@pytest.fixture(scope="module")
def port(cloud, container):
    """A real health-manager port: network + subnet (no gateway) + port bound to the host."""
    name = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    cidr = f"172.30.{uuid.uuid4().int % 250 + 1}.0/24"
    created = []
    try:
        net = cloud.network.create_network(name=name)
        created.append(("network", net.id))
        subnet = cloud.network.create_subnet(network_id=net.id, name=name, ip_version=4,
                                             cidr=cidr, gateway_ip=None, enable_dhcp=False)
        created.append(("subnet", subnet.id))
        p = cloud.network.create_port(network_id=net.id, name=name,
                                      device_owner="Octavia:health-mgr",
                                      binding_host_id=HOSTNAME,
                                      fixed_ips=[{"subnet_id": subnet.id}])
        created.append(("port", p.id))
        ip = p.fixed_ips[0]["ip_address"]
        hosts = [str(h) for h in ipaddress.ip_network(cidr).hosts() if str(h) != ip]
        yield {"id": p.id, "mac": p.mac_address, "ip": ip, "cidr": cidr, "name": name,
               "peer_ip": hosts[-1], "dhcp_ip": hosts[-2]}
    finally:
        errors = []
        for kind, oid in reversed(created):
            try:
                getattr(cloud.network, f"delete_{kind}")(oid, ignore_missing=True)
            except Exception as exc:  # noqa: BLE001 - report every leftover
                errors.append(f"{kind} {oid}: {exc}")
        left = [f"{k} {o}" for k, o in created
                if getattr(cloud.network, f"find_{k}")(o, ignore_missing=True)]
        assert not errors and not left, (errors, left)


@pytest.fixture(scope="module")
def base_vars(port):
    """The inputs as the other roles publish them: the per-host fact health_manager_port and
    management_network_cidr (the role's defaults read them)."""
    return {"health_manager_port": {"id": port["id"], "mac_address": port["mac"],
                                    "ip_address": port["ip"]},
            "management_network_cidr": port["cidr"]}


@pytest.fixture(scope="module")
def converged(base_vars):
    run = role(base_vars)
    assert_ok(run)
    return run


BAD_INPUTS = {
    "malformed MAC": ({"hm_interface_mac": "fa:16:3e:zz:00:01"}, "hm_interface_mac must be"),
    "malformed IP": ({"hm_interface_ip": "172.30.1.300"}, "hm_interface_ip must be"),
    "IP outside CIDR": ({"hm_interface_ip": "192.0.2.7"},
                        "hm_interface_ip 192.0.2.7 is not inside hm_interface_cidr"),
    "missing port id": ({"hm_interface_port_id": ""}, "hm_interface_port_id must be"),
    "unknown address mode": ({"hm_interface_address_mode": "slaac"}, "hm_interface_address_mode"),
    "missing bridge": ({"hm_interface_bridge": "br-missing", "hm_interface_bridge_create": False},
                       f"bridge br-missing does not exist on host {CONTAINER}"),
}


@pytest.fixture(scope="module")
def readonly_runs(converged, base_vars):
    """Runs that must change nothing, all at once: the second run, check mode with another
    MTU, and every bad input. Returns (state before, state after, {name: run})."""
    before = snapshot()
    jobs = {"second": (base_vars, False), "check": ({**base_vars, "hm_interface_mtu": 1400}, True)}
    jobs.update({name: ({**base_vars, **case[0]}, False) for name, case in BAD_INPUTS.items()})
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(role, extra, check=check)
                   for name, (extra, check) in jobs.items()}
        runs = {name: f.result() for name, f in futures.items()}
    return before, snapshot(), runs


# -- tests ---------------------------------------------------------------------------------
def test_converge_wires_the_port(converged, port):
    assert converged.changed(CONTAINER) > 0
    assert facts_of(converged)["hm_interface_address"] == port["ip"]

    info = link()
    assert "UP" in info["flags"] and info["operstate"] in ("UP", "UNKNOWN")
    assert info["address"] == port["mac"]
    assert ipv4() == [(port["ip"], int(port["cidr"].split("/")[1]))]

    ids = external_ids()
    assert ids == {"iface-id": port["id"], "attached-mac": port["mac"],
                   "iface-status": "active", "skip_cleanup": "true"}
    assert sh(f"ovs-vsctl get Interface {IFACE} mac").strip('"') == port["mac"]
    assert sh(f"ovs-vsctl get Interface {IFACE} type") == "internal"
    assert sh(f"ovs-vsctl port-to-br {IFACE}") == BRIDGE
    assert sh(f"ovs-vsctl get Bridge {BRIDGE} datapath_type") == "netdev"

    # No routes but the subnet's own (kernel) route; never a default route via o-hm0.
    assert [(r["dst"], r.get("protocol")) for r in routes()] == [(port["cidr"], "kernel")]
    assert sh(f"ip -4 route show default dev {IFACE}") == ""
    assert f"dev {IFACE}" not in sh("ip -4 route show default")

    for unit in (UNIT, FIREWALL_UNIT):
        assert sh(f"systemctl is-enabled {unit}") == "enabled"
        assert sh(f"systemctl is-active {unit}") == "active"
    deps = {p: unit_prop(UNIT, p).split() for p in ("Requires", "After", "PartOf", "Before", "WantedBy")}
    assert {"openvswitch-switch.service", "ovs-vswitchd.service"} <= set(deps["Requires"])
    assert {"openvswitch-switch.service", "ovs-vswitchd.service"} <= set(deps["After"])
    assert deps["PartOf"] == ["ovs-vswitchd.service"]
    assert "octavia-health-manager.service" in deps["Before"]
    assert "multi-user.target" in deps["WantedBy"]
    env = sh("cat /etc/octavia/hm-interface.env")
    assert f"HM_PORT_ID={port['id']}" in env and "PASSWORD" not in env.upper()
    assert "table inet octavia_hm" in sh("nft list tables")


def test_second_run_changes_nothing(readonly_runs):
    before, after, runs = readonly_runs
    assert_ok(runs["second"])
    assert runs["second"].changed(CONTAINER) == 0, runs["second"].changed_tasks()
    assert before == after


def test_check_mode_changes_nothing(readonly_runs):
    before, after, runs = readonly_runs
    check = runs["check"]
    assert_ok(check)
    # Another MTU: the environment file would change (and the unit restart)...
    assert "Write the environment file of the unit" in " ".join(check.changed_tasks())
    # ...but nothing did.
    assert before == after
    assert link()["mtu"] == 1500


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_naming_the_variable(readonly_runs, case):
    before, after, runs = readonly_runs
    run = runs[case]
    assert run.rc != 0
    assert BAD_INPUTS[case][1] in messages(run), messages(run)
    assert run.changed(CONTAINER) == 0, run.changed_tasks()
    assert before == after


def test_udp_health_port_reachable_through_bridge_and_firewall(readonly_runs, port):
    """A peer in a network namespace on br-int sends to o-hm0's address: UDP 5555 arrives at
    a listener bound to that address; UDP 5556 is dropped by the role's nftables table."""
    prefix = port["cidr"].split("/")[1]
    make_peer("hmpeer", f"{port['peer_ip']}/{prefix}")
    listener = subprocess.Popen(
        ["podman", "exec", CONTAINER, "timeout", "30", "python3", "-c", f"""
import json, select, socket, time
socks = {{}}
for p in (5555, 5556):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(({port['ip']!r}, p))
    socks[s] = p
print("ready", flush=True)
got, deadline = {{}}, time.monotonic() + 8
while time.monotonic() < deadline and len(got) < 2:
    for s in select.select(list(socks), [], [], 0.5)[0]:
        data, peer = s.recvfrom(100)
        got[socks[s]] = [data.decode(), peer[0]]
print(json.dumps(got), flush=True)
"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "ready"
        sh(f"""ip netns exec hmpeer timeout 20 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10):
    for p in (5555, 5556):
        s.sendto(b"heartbeat", ("{port['ip']}", p))
    time.sleep(0.3)'""", privileged=True)
        out, err = listener.communicate(timeout=30)
    finally:
        listener.kill()
    got = json.loads(out.strip().splitlines()[-1])
    assert got.get("5555") == ["heartbeat", port["peer_ip"]], (out, err)
    assert "5556" not in got, "UDP 5556 passed the firewall table"
    drops = re.search(r"counter packets (\d+)", sh("nft list chain inet octavia_hm input"))
    assert drops and int(drops.group(1)) > 0, "the table's drop counter did not count UDP 5556"


def test_reboot_and_ovs_restart_bring_the_interface_back(readonly_runs, port):
    started = unit_prop(UNIT, "ActiveEnterTimestampMonotonic")
    pid1_start = sh("cut -d' ' -f22 /proc/1/stat")
    subprocess.run(["podman", "restart", "-t", "30", CONTAINER], check=True,
                   capture_output=True, timeout=120)
    sh("timeout 120 systemctl is-system-running --wait || true", timeout=150)
    assert sh("cut -d' ' -f22 /proc/1/stat") != pid1_start, "systemd did not restart"

    def back():
        assert sh(f"systemctl is-active {UNIT}") == "active"
        assert link()["address"] == port["mac"]
        assert ipv4() == [(port["ip"], int(port["cidr"].split("/")[1]))]
        return True
    wait_for(back, 60, "o-hm0 with its MAC and address after the restart")
    assert unit_prop(UNIT, "ActiveEnterTimestamp")
    assert sh(f"systemctl is-active {FIREWALL_UNIT}") == "active"
    assert "table inet octavia_hm" in sh("nft list tables")
    assert external_ids()["iface-id"] == port["id"]
    assert sh(f"ip -4 route show default dev {IFACE}") == ""
    after_boot = unit_prop(UNIT, "ActiveEnterTimestampMonotonic")
    assert after_boot != started

    # Restarting Open vSwitch re-creates the device without an address: the unit runs again.
    sh("systemctl restart openvswitch-switch", timeout=120)
    wait_for(back, 60, "o-hm0 with its address after `systemctl restart openvswitch-switch`")
    assert int(unit_prop(UNIT, "ActiveEnterTimestampMonotonic")) > int(after_boot)


def test_dhcp_mode_takes_no_route_and_no_dns(readonly_runs, base_vars, port):
    """Slowest part of the file (~1 min: dnsmasq-base install, a role run). dnsmasq in a
    namespace on br-int hands out the port's address and *forces* a router and a DNS server
    on the client; the interface must get the address and MTU, but no route and no DNS."""
    sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
       "dnsmasq-base >/dev/null", timeout=300)
    prefix = port["cidr"].split("/")[1]
    server = port["dhcp_ip"]
    make_peer("hmdhcp", f"{server}/{prefix}")
    net = ipaddress.ip_network(port["cidr"])
    sh(f"""ip netns exec hmdhcp dnsmasq --port=0 --interface=hmdhcp0 --bind-interfaces \
        --dhcp-range={net.network_address},static,{net.netmask},10m \
        --dhcp-host={port['mac']},{port['ip']} \
        --dhcp-option-force=3,{server} --dhcp-option-force=6,{server} \
        --dhcp-option-force=121,10.99.0.0/16,{server} \
        --log-dhcp --log-facility=/run/hm-dnsmasq.log \
        --pid-file=/run/hm-dnsmasq.pid --dhcp-leasefile=/run/hm-dnsmasq.leases""",
       privileged=True)
    resolv = sh("sha256sum /etc/resolv.conf")
    default_routes = sh("ip -4 route show default")
    try:
        run = role({**base_vars, "hm_interface_address_mode": "dhcp", "hm_interface_mtu": 1450})
        assert_ok(run)
        assert run.changed(CONTAINER) > 0
        assert facts_of(run)["hm_interface_address"] == port["ip"]
        addr = [a for a in link()["addr_info"] if a["family"] == "inet"]
        assert [(a["local"], a["prefixlen"]) for a in addr] == [(port["ip"], int(prefix))]
        assert addr[0]["valid_life_time"] < 4294967295, "the address is not from a lease"
        assert sh(f"systemctl is-active {UNIT}") == "active"
        assert sh("pgrep -a dhclient")
        assert link()["mtu"] == 1450
        assert sh(f"ovs-vsctl get Interface {IFACE} mtu_request") == "1450"
        log = sh("cat /run/hm-dnsmasq.log")
        assert f"DHCPACK(hmdhcp0) {port['ip']} {port['mac']}" in log, log
        assert "option:  3 router" in log, "the server did not send a router"
        # The router, the classless route and the DNS server were all ignored.
        assert [(r["dst"], r.get("protocol")) for r in routes()] == [(port["cidr"], "kernel")]
        assert sh(f"ip -4 route show default dev {IFACE}") == ""
        assert sh("ip -4 route show default") == default_routes
        assert sh("ip -4 route show 10.99.0.0/16") == ""
        assert sh("sha256sum /etc/resolv.conf") == resolv
        assert "udp sport 67 udp dport 68 accept" in sh("nft list table inet octavia_hm")
    finally:
        sh("kill $(cat /run/hm-dnsmasq.pid) 2>/dev/null || true", check=False)
