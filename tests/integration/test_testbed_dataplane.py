"""The test bed's data plane: real VMs and real packets (./run testbed up).

Nova (conductor, scheduler, placement, nova-compute with libvirt and QEMU's TCG) boots
the tiny test guest (Debian's kernel + a busybox initramfs, built offline by
testbed-tiny-image) on a VXLAN tenant network; Neutron's Open vSwitch agent (userspace
datapath) wires its port, the DHCP agent's dnsmasq gives it its address. Hosts made
with testbed-host (network namespaces on br-int, on real Neutron ports) talk HTTP and
UDP to each other and to the VM, and over the flat management physnet to the
controllers' o-hm0 when site.yml has plugged it.

Everything is created under a unique name and deleted in `finally`, also when a test
fails; the deletion is checked.
"""

from __future__ import annotations

import ipaddress
import pathlib
import time
import uuid

import pytest
from openstack.compute.v2.server import Server

from dataplane import podman_exec, wait_for

COMPUTE = "octavia-lbaas-compute"
CONTROLLERS = ["octavia-lbaas-controller-1", "octavia-lbaas-controller-2"]
HTTP_PORT = 8080
# what the tiny guest answers on (testbed-tiny-image)
GUEST_HTTP_PORT = 80
GUEST_UDP_PORT = 7777


# -- helpers -------------------------------------------------------------------------------
def host_tool(*args, check=True, timeout=120):
    """testbed-host in the compute container (its stdout)."""
    return podman_exec(COMPUTE, "testbed-host", *args, check=check, timeout=timeout).stdout


def host_port(cloud, network, subnet, name, compute_host, security_group, fixed_ip=None):
    """A Neutron port bound to the compute node, for testbed-host."""
    fixed = {"subnet_id": subnet.id}
    if fixed_ip:
        fixed["ip_address"] = fixed_ip
    return cloud.network.create_port(
        name=name, network_id=network.id, fixed_ips=[fixed], binding_host_id=compute_host,
        device_owner="compute:testbed-host", security_group_ids=[security_group.id])


def add_host(name, port, subnet):
    prefix = ipaddress.ip_network(subnet.cidr).prefixlen
    host_tool("add", name, port.id, port.mac_address, f"{port.fixed_ips[0]['ip_address']}/{prefix}")


def delete_all(cloud, created):
    """Delete in reverse creation order; every deletion is waited for and checked."""
    errors = []
    for kind, obj_id in reversed(created):
        try:
            if kind == "host":
                host_tool("del", obj_id, check=False)
                continue
            if kind == "server":
                cloud.compute.delete_server(obj_id, ignore_missing=True)
                cloud.compute.wait_for_delete(Server(id=obj_id), wait=180)
                continue
            if kind == "image":
                cloud.image.delete_image(obj_id, ignore_missing=True)
                assert cloud.image.find_image(obj_id) is None
                continue
            if kind == "flavor":
                cloud.compute.delete_flavor(obj_id, ignore_missing=True)
                continue
            getattr(cloud.network, f"delete_{kind}")(obj_id, ignore_missing=True)
            assert getattr(cloud.network, f"find_{kind}")(obj_id) is None, f"{kind} {obj_id} is still there"
        except Exception as exc:  # keep deleting the rest
            errors.append(f"{kind} {obj_id}: {exc}")
    assert not errors, errors


@pytest.fixture(scope="module")
def compute_host(testbed_facts):
    if "testbed_compute_host" not in testbed_facts:
        pytest.fail("the test bed has no compute container: bring it up again (./run testbed up)")
    return testbed_facts["testbed_compute_host"]


@pytest.fixture
def tenant(cloud, unique_name):
    """A VXLAN tenant network with DHCP, and a security group open to HTTP and UDP."""
    created = []
    try:
        net = cloud.network.create_network(name=unique_name)
        created.append(("network", net.id))
        assert net.provider_network_type == "vxlan"
        third = uuid.uuid4().int % 200 + 20
        subnet = cloud.network.create_subnet(
            name=unique_name, network_id=net.id, ip_version=4, cidr=f"10.199.{third}.0/24",
            gateway_ip=None, enable_dhcp=True)
        created.append(("subnet", subnet.id))
        sg = cloud.network.create_security_group(name=unique_name, description="data-plane test")
        created.append(("security_group", sg.id))
        for proto, port in (("tcp", GUEST_HTTP_PORT), ("udp", GUEST_UDP_PORT), ("tcp", HTTP_PORT),
                            ("udp", HTTP_PORT)):
            cloud.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol=proto,
                port_range_min=port, port_range_max=port, remote_ip_prefix=subnet.cidr)
        yield {"network": net, "subnet": subnet, "sg": sg, "created": created}
    finally:
        delete_all(cloud, created)


# -- the services ------------------------------------------------------------------------
def test_compute_services_and_agents_are_up(cloud, compute_host):
    # a container restarted a moment ago reports within a report interval or two
    def reporting():
        services = {s.binary: s for s in cloud.compute.services(host=compute_host)}
        agents = {a.binary: a for a in cloud.network.agents(host=compute_host)}
        hypervisors = [h for h in cloud.compute.hypervisors(details=True) if h.name == compute_host]
        ok = (services.get("nova-compute") is not None and services["nova-compute"].state == "up"
              and all(b in agents and agents[b].is_alive
                      for b in ("neutron-openvswitch-agent", "neutron-dhcp-agent"))
              and hypervisors and hypervisors[0].state == "up")
        return ok and agents
    agents, _waited = wait_for("nova-compute, both agents and the hypervisor to report up", reporting, timeout=120, interval=2)
    # the physnet of lb-mgmt-net and the userspace datapath, as the agent reports them
    conf = agents["neutron-openvswitch-agent"].configuration
    assert "mgmt" in conf["bridge_mappings"]
    assert conf["datapath_type"] == "netdev"
    # placement knows the node and its resources
    providers = list(cloud.placement.resource_providers(name=compute_host))
    assert providers, "no resource provider for the compute node in placement"
    inventory = {i.resource_class: i for i in cloud.placement.resource_provider_inventories(providers[0])}
    assert {"VCPU", "MEMORY_MB", "DISK_GB"} <= set(inventory)


# -- tenant hosts --------------------------------------------------------------------------
def test_two_hosts_talk_http_and_udp_through_br_int(cloud, tenant, compute_host, unique_name):
    created = tenant["created"]
    ports = []
    for side in ("a", "b"):
        port = host_port(cloud, tenant["network"], tenant["subnet"], f"{unique_name}-{side}",
                         compute_host, tenant["sg"])
        created.append(("port", port.id))
        add_host(f"{unique_name}-{side}", port, tenant["subnet"])
        created.append(("host", f"{unique_name}-{side}"))
        ports.append(port)
    host_tool("serve", f"{unique_name}-b", str(HTTP_PORT), f"backend {unique_name}-b")
    ip_b = ports[1].fixed_ips[0]["ip_address"]

    body = host_tool("get", f"{unique_name}-a", f"http://{ip_b}:{HTTP_PORT}/")
    assert body.strip() == f"backend {unique_name}-b"
    reply = host_tool("udp", f"{unique_name}-a", ip_b, str(HTTP_PORT), "ping")
    assert reply.strip() == f"backend {unique_name}-b"

    # the agent bound both ports: Neutron reports them ACTIVE on the compute node
    for port in ports:
        port, _waited = wait_for("port ACTIVE", lambda p=port: (q := cloud.network.get_port(p.id)).status == "ACTIVE" and q,
                                 timeout=60, interval=2)
        assert port.binding_host_id == compute_host
        assert port.binding_vif_type == "ovs"

    # the security group is enforced: b's server moved to a port the group does not open
    # (serve replaces the running one); it answers inside b, and nothing reaches it from a,
    # nor the old port
    host_tool("serve", f"{unique_name}-b", "9999", f"backend {unique_name}-b")
    assert host_tool("get", f"{unique_name}-b", "http://127.0.0.1:9999/").strip() == f"backend {unique_name}-b"
    for port_number in (9999, HTTP_PORT):
        probe = podman_exec(COMPUTE, "testbed-host", "get", f"{unique_name}-a",
                            f"http://{ip_b}:{port_number}/", "3", check=False)
        assert probe.returncode != 0, probe.stdout
    host_tool("stop", f"{unique_name}-b")


# -- a VM ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_image(cloud, testbed_facts):
    """The tiny guest in Glance: kernel, ramdisk and the disk image that points at both."""
    src = pathlib.Path(testbed_facts["testbed_tiny_image_dir"])
    for f in ("vmlinuz", "initrd.img", "disk.img"):
        assert (src / f).is_file(), f"{src / f} is missing: ./run testbed up builds it"
    name = f"lbaas-test-tiny-{uuid.uuid4().hex[:8]}"
    created = []
    try:
        kernel = cloud.image.create_image(name=f"{name}-kernel", filename=str(src / "vmlinuz"),
                                          disk_format="aki", container_format="aki", wait=True)
        created.append(("image", kernel.id))
        ramdisk = cloud.image.create_image(name=f"{name}-ramdisk", filename=str(src / "initrd.img"),
                                           disk_format="ari", container_format="ari", wait=True)
        created.append(("image", ramdisk.id))
        disk = cloud.image.create_image(
            name=name, filename=str(src / "disk.img"), disk_format="raw", container_format="bare",
            wait=True, kernel_id=kernel.id, ramdisk_id=ramdisk.id,
            os_command_line="console=ttyS0 quiet panic=-1")
        created.append(("image", disk.id))
        flavor = cloud.compute.create_flavor(name=name, ram=128, vcpus=1, disk=1, is_public=True)
        created.append(("flavor", flavor.id))
        yield {"image": disk, "flavor": flavor, "kernel": kernel, "ramdisk": ramdisk, "dir": src}
    finally:
        delete_all(cloud, created)


# slow_vm: a VM boot of its own (~25 s); in CI test_real_amphorae.py boots VMs through the
# same Nova, libvirt and Open vSwitch agent. Run it when the test bed itself is in doubt.
@pytest.mark.slow_vm
def test_vm_boots_gets_its_address_and_answers(cloud, tenant, tiny_image, compute_host, unique_name):
    created = tenant["created"]
    t0 = time.monotonic()
    server = cloud.compute.create_server(
        name=unique_name, image_id=tiny_image["image"].id, flavor_id=tiny_image["flavor"].id,
        networks=[{"uuid": tenant["network"].id}], security_groups=[{"name": tenant["sg"].name}])
    created.append(("server", server.id))
    try:
        server = cloud.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=300)
    except Exception:
        fault = cloud.compute.get_server(server.id).fault
        raise AssertionError(f"server {server.id} did not become ACTIVE: {fault}") from None
    active_s = time.monotonic() - t0
    print(f"\nserver ACTIVE after {active_s:.1f} s")
    assert server.compute_host == compute_host

    # a real QEMU process (TCG) in the compute container, libvirt's domain running
    domain = server.instance_name
    assert podman_exec(COMPUTE, "virsh", "domstate", domain).stdout.strip() == "running"
    qemu = podman_exec(COMPUTE, "pgrep", "-af", f"guest={domain}").stdout
    assert "qemu-system-x86_64" in qemu and "-accel tcg" in qemu, qemu

    port = next(iter(cloud.network.ports(device_id=server.id)))
    ip = port.fixed_ips[0]["ip_address"]
    # its lease, as the guest prints it on its serial console (nova's console log)
    wait_for("the DHCP lease on the console",
             lambda: f"TESTBED-TINY lease {ip}/" in (cloud.compute.get_server_console_output(server)["output"] or ""),
             timeout=240, interval=3)
    print(f"lease after {time.monotonic() - t0:.1f} s")
    # and dnsmasq's side: the DHCP agent's lease file of the network has its MAC
    leases = podman_exec(COMPUTE, "cat", f"/var/lib/neutron/dhcp/{tenant['network'].id}/leases",
                         check=False).stdout
    host_file = podman_exec(COMPUTE, "cat", f"/var/lib/neutron/dhcp/{tenant['network'].id}/host").stdout
    assert port.mac_address in host_file
    print("dnsmasq leases:", leases.strip() or "(dnsmasq keeps them in memory)")

    # a namespace host on the same network reaches the guest's HTTP server (TCP both ways
    # through the guest's virtio NIC, the QEMU tap and br-int)
    hp = host_port(cloud, tenant["network"], tenant["subnet"], f"{unique_name}-client", compute_host,
                   tenant["sg"])
    created.append(("port", hp.id))
    add_host(f"{unique_name}-client", hp, tenant["subnet"])
    created.append(("host", f"{unique_name}-client"))
    body, _waited = wait_for("the guest's HTTP answer", lambda: podman_exec(
        COMPUTE, "testbed-host", "get", f"{unique_name}-client", f"http://{ip}/", "5", check=False).stdout,
        timeout=60, interval=2)
    assert body.strip() == f"tiny-vm {port.mac_address}"
    # and UDP: a datagram to the guest, its answer back
    reply = host_tool("udp", f"{unique_name}-client", ip, str(GUEST_UDP_PORT), "ping")
    assert reply.strip() == f"tiny-vm {port.mac_address}"


# -- the management network and the controllers' o-hm0 -----------------------------------------
def hm_interface_env(controller):
    proc = podman_exec(controller, "cat", "/etc/octavia/hm-interface.env", check=False)
    if proc.returncode != 0:
        return None
    env = {}
    for line in proc.stdout.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip().strip('"')
    return env


CONTROLLER_CLIENT = """
import socket, sys
src, dst, tcp_port, udp_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection((dst, tcp_port), timeout=10, source_address=(src, 0))
s.sendall(b"GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
data = b""
while chunk := s.recv(4096):
    data += chunk
print(data.split(b"\\r\\n\\r\\n", 1)[1].decode().strip())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((src, 0))
u.settimeout(10)
u.sendto(b"heartbeat", (dst, udp_port))
print(u.recvfrom(2048)[0].decode().strip())
"""


def exchange_from_o_hm0(envs, address, tcp_port, udp_port, expect):
    """From each controller, out of o-hm0's own address: a TCP exchange (an HTTP GET) and a
    UDP one (a datagram and its answer). o-hm0's firewall lets the answers in as replies,
    like the amphora agent's answers to the worker."""
    for controller, env in envs.items():
        out = podman_exec(controller, "python3", "-c", CONTROLLER_CLIENT, env["HM_IP"], address,
                          str(tcp_port), str(udp_port), timeout=60).stdout.split("\n")
        assert out[:2] == [expect, expect], (controller, out)


@pytest.fixture
def management(cloud, testbed_facts):
    """lb-mgmt-net as site.yml made it, and the controllers whose o-hm0 is on it."""
    envs = {c: hm_interface_env(c) for c in CONTROLLERS}
    envs = {c: e for c, e in envs.items() if e and e.get("HM_PORT_ID")}
    if not envs:
        pytest.skip("site.yml has not plugged o-hm0 into any controller (no /etc/octavia/hm-interface.env)")
    ports = {c: cloud.network.find_port(e["HM_PORT_ID"], ignore_missing=True) for c, e in envs.items()}
    envs = {c: e for c, e in envs.items() if ports[c] is not None}
    if not envs:
        pytest.skip("the Neutron ports of the controllers' o-hm0 are gone (deleted since site.yml ran): "
                    "run site.yml again")
    hm_port = ports[next(iter(envs))]
    net = cloud.network.get_network(hm_port.network_id)
    physnet = testbed_facts["testbed_mgmt_physnet"]
    if net.provider_network_type != "flat" or net.provider_physical_network != physnet:
        pytest.skip(f"lb-mgmt-net ({net.name}) is {net.provider_network_type}/{net.provider_physical_network}, "
                    f"not flat on physnet {physnet}: it reaches no controller (set "
                    "management_network_provider_network_type/_physical_network in inventories/aio)")
    subnet = cloud.network.get_subnet(hm_port.fixed_ips[0]["subnet_id"])
    return {"envs": envs, "network": net, "subnet": subnet}


def test_management_host_exchanges_tcp_and_udp_with_o_hm0(cloud, management, compute_host, unique_name):
    net, subnet = management["network"], management["subnet"]
    created = []
    try:
        sg = cloud.network.create_security_group(name=unique_name, description="mgmt data-plane test")
        created.append(("security_group", sg.id))
        for proto in ("tcp", "udp"):
            cloud.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol=proto,
                port_range_min=HTTP_PORT, port_range_max=HTTP_PORT, remote_ip_prefix=subnet.cidr)
        port = host_port(cloud, net, subnet, unique_name, compute_host, sg)
        created.append(("port", port.id))
        name = f"{unique_name}-mgmt"
        add_host(name, port, subnet)
        created.append(("host", name))
        host_tool("serve", name, str(HTTP_PORT), f"mgmt {name}")
        exchange_from_o_hm0(management["envs"], port.fixed_ips[0]["ip_address"], HTTP_PORT, HTTP_PORT,
                            f"mgmt {name}")
    finally:
        delete_all(cloud, created)


# slow_vm: in CI the real amphorae do exactly this (static address on lb-mgmt-net, TCP 9443
# from the controllers, UDP 5555 heartbeats to o-hm0).
@pytest.mark.slow_vm
def test_vm_on_the_management_network_exchanges_tcp_and_udp_with_o_hm0(
        cloud, management, tiny_image, compute_host, unique_name):
    """What an amphora does: a VM on lb-mgmt-net (static address, no DHCP there, as amphorae
    get theirs from the config drive) and the controllers talk TCP and UDP through its
    virtio NIC, br-int, br-mgmt, the underlay and the controllers' br-int."""
    net, subnet = management["network"], management["subnet"]
    created = []
    try:
        sg = cloud.network.create_security_group(name=unique_name, description="mgmt VM test")
        created.append(("security_group", sg.id))
        for proto, number in (("tcp", GUEST_HTTP_PORT), ("udp", GUEST_UDP_PORT)):
            cloud.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol=proto,
                port_range_min=number, port_range_max=number, remote_ip_prefix=subnet.cidr)
        port = cloud.network.create_port(name=unique_name, network_id=net.id,
                                         fixed_ips=[{"subnet_id": subnet.id}], security_group_ids=[sg.id])
        created.append(("port", port.id))
        ip = port.fixed_ips[0]["ip_address"]
        prefix = ipaddress.ip_network(subnet.cidr).prefixlen
        # the tiny disk image again, with the address on the kernel command line
        image = cloud.image.create_image(
            name=unique_name, filename=str(tiny_image["dir"] / "disk.img"), disk_format="raw", container_format="bare",
            wait=True, kernel_id=tiny_image["kernel"].id, ramdisk_id=tiny_image["ramdisk"].id,
            os_command_line=f"console=ttyS0 quiet panic=-1 testbed_ip={ip}/{prefix}")
        created.append(("image", image.id))
        server = cloud.compute.create_server(name=unique_name, image_id=image.id,
                                             flavor_id=tiny_image["flavor"].id, networks=[{"port": port.id}])
        created.append(("server", server.id))
        cloud.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=300)
        wait_for("the guest's static address on the console",
                 lambda: f"TESTBED-TINY static {ip}/" in (cloud.compute.get_server_console_output(server)["output"] or ""),
                 timeout=240, interval=3)
        expect = f"tiny-vm {port.mac_address}"
        wait_for("the guest to answer o-hm0", lambda: _try_exchange(management["envs"], ip, expect), timeout=60, interval=2)
    finally:
        delete_all(cloud, created)


def _try_exchange(envs, ip, expect):
    try:
        exchange_from_o_hm0(envs, ip, GUEST_HTTP_PORT, GUEST_UDP_PORT, expect)
        return True
    except AssertionError:
        return False
