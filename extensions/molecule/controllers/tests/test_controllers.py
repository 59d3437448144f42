"""Issue 4: what site.yml must leave on every controller, checked on the real hosts."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import hm_port, octavia_conf

SERVICES = ["octavia-api", "octavia-worker", "octavia-health-manager", "octavia-housekeeping"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_active_and_enabled(controller, service):
    svc = controller.service(service)
    assert svc.is_running, controller.run(f"journalctl -u {service} -n 20 --no-pager").stdout
    assert svc.is_enabled


def test_o_hm0_matches_the_neutron_port(controller, cloud):
    port = hm_port(cloud, controller)
    link = json.loads(controller.check_output("ip -j addr show dev o-hm0"))[0]
    assert "UP" in link["flags"]
    assert link["address"] == port.mac_address
    addresses = [a["local"] for a in link["addr_info"] if a["family"] == "inet"]
    assert addresses == [port.fixed_ips[0]["ip_address"]]
    ext = controller.check_output("ovs-vsctl get Interface o-hm0 external_ids")
    assert f'iface-id="{port.id}"' in ext
    assert f'attached-mac="{port.mac_address}"' in ext
    assert "iface-status=active" in ext
    assert 'skip_cleanup="true"' in ext or "skip_cleanup=true" in ext


def test_no_default_route_via_o_hm0(controller):
    routes = controller.check_output("ip -4 route show default")
    assert "o-hm0" not in routes
    assert "dev eth0" in routes, routes


def test_conf_lists_every_controller_and_binds_o_hm0(controller, cloud, controllers):
    conf = octavia_conf(controller)
    wanted = sorted(f"{hm_port(cloud, h).fixed_ips[0]['ip_address']}:5555" for h in controllers.values())
    listed = sorted(x.strip() for x in conf["health_manager"]["controller_ip_port_list"].split(","))
    assert listed == wanted
    assert conf["health_manager"]["bind_ip"] == hm_port(cloud, controller).fixed_ips[0]["ip_address"]


def test_heartbeat_key_is_generated_and_shared(controllers):
    keys = {octavia_conf(h)["health_manager"]["heartbeat_key"] for h in controllers.values()}
    assert len(keys) == 1
    key = keys.pop()
    assert key != "insecure" and len(key) >= 32


@pytest.mark.parametrize("path,mode,owner", [
    ("/etc/octavia/certs/server_ca.key.pem", 0o600, "octavia"),
    ("/etc/octavia/certs/client.cert-and-key.pem", 0o600, "octavia"),
    ("/etc/octavia/certs/server_ca.cert.pem", 0o644, "root"),
    ("/etc/octavia/certs/server_ca-chain.cert.pem", 0o644, "root"),
    ("/etc/octavia/certs/client_ca.cert.pem", 0o644, "root"),
    ("/etc/octavia/octavia.conf", 0o640, "root"),
])
def test_certificate_and_config_modes(controller, path, mode, owner):
    f = controller.file(path)
    assert f.exists
    assert f.mode == mode, oct(f.mode)
    assert f.user == owner
    assert f.group == "octavia"


def test_health_manager_listens_on_o_hm0(controller, cloud):
    ip = hm_port(cloud, controller).fixed_ips[0]["ip_address"]
    sockets = controller.check_output("ss -lunH")
    assert f"{ip}:5555" in sockets


def test_udp_5555_reachable_from_a_peer_on_the_bridge(controller, cloud):
    """A peer in a network namespace with an internal port on br-int sends a datagram to
    o-hm0:5555; the health manager receives it (it logs the unsigned packet it rejects)."""
    port = hm_port(cloud, controller)
    ip = port.fixed_ips[0]["ip_address"]
    subnet = cloud.network.get_subnet(port.fixed_ips[0]["subnet_id"])
    prefix = subnet.cidr.split("/")[1]
    peer_ip = subnet.allocation_pools[0]["end"]
    since = controller.check_output("date '+%Y-%m-%d %H:%M:%S'")
    script = f"""
set -e
ip netns add hmpeer 2>/dev/null || true
ovs-vsctl --may-exist add-port br-int hmpeer0 -- set Interface hmpeer0 type=internal
for i in $(seq 50); do ip link show hmpeer0 >/dev/null 2>&1 && break; sleep 0.1; done
ip link set hmpeer0 netns hmpeer 2>/dev/null || true
ip netns exec hmpeer ip addr replace {peer_ip}/{prefix} dev hmpeer0
ip netns exec hmpeer ip link set hmpeer0 up
ip netns exec hmpeer ip link set lo up
for i in 1 2 3; do
  ip netns exec hmpeer python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'not-a-heartbeat', ('{ip}', 5555))"
  sleep 1
done
"""
    name = controller.backend.name
    try:
        # network namespaces need CAP_SYS_ADMIN, which the controllers do not have
        out = subprocess.run(["podman", "exec", "--privileged", name, "bash", "-c", script],
                             capture_output=True, text=True, check=False, timeout=120)
        assert out.returncode == 0, out.stderr
        deadline = time.time() + 20
        log = ""
        while time.time() < deadline:
            log = controller.run(f"journalctl -u octavia-health-manager --since '{since}' --no-pager -o cat").stdout
            if peer_ip in log:
                break
            time.sleep(1)
        assert peer_ip in log, log[-2000:]
    finally:
        subprocess.run(["podman", "exec", "--privileged", name, "bash", "-c",
                        "ip netns del hmpeer; ovs-vsctl --if-exists del-port br-int hmpeer0"],
                       capture_output=True, check=False)
