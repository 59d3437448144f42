"""The load-balancer API behind a VIP (role api_vip, issue 15) on the test bed's two
controllers, and the controller-loss drill.

The catalog sends clients to the VIP; keepalived keeps it on controller-1 (the first of
api_vip_hosts) while that runs; haproxy on the holder spreads requests over both
octavia-api processes that answer /healthcheck. The drill stops the whole container that
holds the VIP (`podman stop`: systemd, Octavia, keepalived, haproxy, OVS all go), while a
client polls the API through the VIP; the API must answer again through the other
controller within seconds, and a new load balancer must reach ACTIVE there (its worker
takes the job from RabbitMQ). Then the container starts again: it takes the VIP back
(keepalived preempts for the higher priority) and a site.yml run changes nothing on it.
The outages the poller saw are printed for docs/ha.md."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from controller_helpers import CONTROLLERS, on
from dataplane import wait_for
from deployment import NOOP_VARS
from lb_helpers import active_lb, delete_lb, vip_network
from playbook import ROOT, run_playbook
from tls_proxy import make_ca

AIO = ROOT / "inventories" / "aio"
VIP = yaml.safe_load((AIO / "group_vars" / "all.yml").read_text())["api_vip_address"]
PORT = 9876
TLS_PORT = yaml.safe_load((AIO / "group_vars" / "all.yml").read_text())["api_vip_tls_port"]
URL = f"http://{VIP}:{PORT}/"
# What an outage may cost: keepalived's backup takes over after ~3 missed adverts (1 s
# apart) plus its own start-up of the VRRP state; haproxy already listens (transparent).
MAX_OUTAGE = 15
pytestmark = pytest.mark.skipif(not VIP, reason="api_vip_address is empty in inventories/aio (the VIP is off)")


def holders():
    """The controllers that have the VIP on an interface (exactly one when all is well)."""
    found = []
    for name in CONTROLLERS:
        proc = subprocess.run(["podman", "exec", name, "ip", "-4", "-o", "addr", "show"], capture_output=True,
                              text=True, check=False, timeout=60)
        if proc.returncode == 0 and f" {VIP}/" in proc.stdout:
            found.append(name)
    return found


def haproxy_servers(controller):
    """{server: status} of haproxy's octavia_api backend on the controller (stats socket)."""
    script = ("import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/haproxy/admin.sock'); "
              "s.sendall(b'show stat\\n'); data = b''\n"
              "while True:\n    chunk = s.recv(65536)\n    if not chunk: break\n    data += chunk\n"
              "print(data.decode())")
    text = on(controller, "python3", "-c", script)
    header, *rows = [line for line in text.splitlines() if line.strip()]
    names = header.lstrip("# ").split(",")
    out = {}
    for row in rows:
        item = dict(zip(names, row.split(",")))
        if item.get("pxname") == "octavia_api" and item.get("svname") not in ("FRONTEND", "BACKEND"):
            out[item["svname"]] = item
    return out


def api_answers(timeout=2.0):
    try:
        with urllib.request.urlopen(URL, timeout=timeout) as answer:
            return answer.status == 200 and b"v2" in answer.read()
    except (urllib.error.URLError, OSError):
        return False


class Poller(threading.Thread):
    """GET the API's root through the VIP every 0.2 s; remembers when it failed."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.samples.append((time.monotonic(), api_answers()))
            time.sleep(0.2)

    def outages(self):
        """[(start, seconds)] of each run of failed samples."""
        out, start = [], None
        for stamp, ok in self.samples:
            if not ok and start is None:
                start = stamp
            elif ok and start is not None:
                out.append((start, stamp - start))
                start = None
        if start is not None:
            out.append((start, self.samples[-1][0] - start))
        return out


@pytest.fixture(scope="module")
def vip_subnet(cloud):
    with vip_network(cloud, "lbaas-vip-drill", "10.253.0.0/24") as subnet:
        yield subnet


def test_the_catalog_points_at_the_vip_and_haproxy_sees_both_apis(cloud):
    endpoint = cloud.endpoint_for("load-balancer")
    assert endpoint.startswith(f"http://{VIP}:{PORT}"), endpoint
    assert holders() == [CONTROLLERS[0]]
    for controller in CONTROLLERS:
        servers = haproxy_servers(controller)
        assert sorted(servers) == sorted(CONTROLLERS), servers
        assert all(item["status"] == "UP" for item in servers.values()), servers
    # requests through the VIP reach both APIs (round robin on the holder's haproxy)
    before = {name: int(item["stot"]) for name, item in haproxy_servers(CONTROLLERS[0]).items()}
    for _attempt in range(6):
        assert api_answers()
    after = {name: int(item["stot"]) for name, item in haproxy_servers(CONTROLLERS[0]).items()}
    assert all(after[name] > before[name] for name in CONTROLLERS), (before, after)


def test_losing_the_vip_holder_keeps_the_api_answering_and_it_rejoins_unchanged(cloud, vip_subnet):
    first, second = CONTROLLERS
    poller = Poller()
    poller.start()
    time.sleep(1)
    stopped_at = time.monotonic()
    try:
        subprocess.run(["podman", "stop", "-t", "30", first], check=True, capture_output=True, timeout=120)
        wait_for("the VIP on the other controller", lambda: holders() == [second], 30, interval=0.5)
        wait_for("the API through the VIP", api_answers, 30, interval=0.5)
        failover = time.monotonic() - stopped_at

        # a new load balancer, while one controller is gone: the other worker builds it
        lb = cloud.load_balancer.create_load_balancer(name=f"lbaas-vip-drill-{int(time.time())}",
                                                      vip_subnet_id=vip_subnet.id)
        try:
            active_lb(cloud, lb.id, timeout=120)
        finally:
            delete_lb(cloud, lb.id)
    finally:
        subprocess.run(["podman", "start", first], check=True, capture_output=True, timeout=120)
    on(first, "bash", "-c", "timeout 120 systemctl is-system-running --wait || true")
    wait_for("the VIP back on the first controller", lambda: holders() == [first], 60, interval=0.5)
    wait_for("both APIs up in haproxy",
             lambda: all(item["status"] == "UP" for item in haproxy_servers(first).values()), 60, interval=0.5)
    poller.done.set()
    poller.join()
    outages = [(round(start - stopped_at, 1), round(seconds, 1)) for start, seconds in poller.outages()]
    print(json.dumps({"failover_seconds": round(failover, 1), "outages_after_stop": outages}))
    assert all(seconds <= MAX_OUTAGE for _start, seconds in outages), outages

    run = run_playbook(ROOT / "playbooks" / "site.yml", "-i", str(AIO), "-e", f"@{NOOP_VARS}", timeout=1800)
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
    assert run.changed() == 0, run.changed_tasks()


def test_a_limit_that_leaves_a_controller_out_is_refused_before_any_change():
    # without controller-1's facts, the database role would drop its account and identity
    # would point the endpoints at its name (seen on the test bed on 2026-12-07)
    run = run_playbook(ROOT / "playbooks" / "site.yml", "-i", str(AIO), "-e", f"@{NOOP_VARS}",
                       "--limit", f"{CONTROLLERS[1]},localhost", timeout=600)
    assert run.rc != 0
    assert any(f"{CONTROLLERS[0]} has no facts" in message for message in run.failed_messages()), \
        run.failed_messages()
    assert run.changed() == 0, run.changed_tasks()


def public_endpoint(cloud):
    service = next(cloud.identity.services(type="load-balancer"))
    (endpoint,) = list(cloud.identity.endpoints(service_id=service.id, interface="public"))
    return endpoint.url


def test_tls_at_the_vip_then_off_again(cloud, tmp_path):
    """api_vip_tls_*: haproxy terminates TLS on the VIP's TLS port with the given
    certificate, the public endpoint becomes https, octavia-api's links follow the client's
    scheme (X-Forwarded-Proto, proxy header parsing), plain HTTP stays for the internal
    endpoint; a re-run changes nothing; without the variables it is all undone."""
    ca = make_ca(tmp_path, address=VIP)
    tls_vars = ["-e", f"api_vip_tls_cert_file={tmp_path / 'server.pem'}",
                "-e", f"api_vip_tls_key_file={tmp_path / 'server.key'}"]
    site = ROOT / "playbooks" / "site.yml"
    try:
        # with --diff: the PEM holds the private key, and no diff may show it
        run = run_playbook(site, "-i", str(AIO), "-e", f"@{NOOP_VARS}", *tls_vars, diff=True, timeout=1800)
        assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
        key_lines = [line for line in (tmp_path / "server.key").read_text().splitlines() if "-----" not in line]
        leaked = [line for line in key_lines if line in run.stdout or line in run.stderr]
        assert not leaked, "the TLS key appears in site.yml's --diff output"
        assert public_endpoint(cloud) == f"https://{VIP}:{TLS_PORT}"
        context = ssl.create_default_context(cafile=str(ca))
        wait_for("the TLS listener", lambda: _get(f"https://{VIP}:{TLS_PORT}/", context) is not None, 30, interval=0.5)
        # the version document's links name the scheme and port the client used
        assert f"https://{VIP}:{TLS_PORT}/v2" in _get(f"https://{VIP}:{TLS_PORT}/", context)
        assert f"http://{VIP}:{PORT}/v2" in _get(URL)
        # an authenticated call over TLS
        listing = _get(f"https://{VIP}:{TLS_PORT}/v2/lbaas/loadbalancers", context,
                       headers={"X-Auth-Token": cloud.auth_token})
        assert '"loadbalancers"' in listing
        # a client that does not trust the CA is refused
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"https://{VIP}:{TLS_PORT}/", timeout=5)

        again = run_playbook(site, "-i", str(AIO), "-e", f"@{NOOP_VARS}", *tls_vars, timeout=1800)
        assert again.rc == 0 and again.changed() == 0, again.changed_tasks()
    finally:
        off = run_playbook(site, "-i", str(AIO), "-e", f"@{NOOP_VARS}", timeout=1800)
    assert off.rc == 0, off.failed_messages() or off.stderr[-3000:]
    assert public_endpoint(cloud) == f"http://{VIP}:{PORT}"
    for controller in CONTROLLERS:
        assert on(controller, "bash", "-c", "test -e /etc/haproxy/octavia-api.pem && echo yes || echo no").strip() == "no"
    wait_for("the TLS listener gone", lambda: _get(f"https://{VIP}:{TLS_PORT}/", ssl.create_default_context(
        cafile=str(ca))) is None, 30, interval=0.5)


def _get(url, context=None, headers=None):
    """The body of a GET, or None when nothing answers there."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as answer:
            return answer.read().decode()
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError):
        return None
