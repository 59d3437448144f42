"""End to end on the test bed (issue 6, part 3 and the health check of part 4): the real
amphora-agent of Octavia 19 as an amphora Octavia knows, the agent probe, heartbeats,
health-manager's failover, an o-hm0 outage, and playbooks/health_check.yml.

What is real: the deployed controllers (API, worker, health-manager, housekeeping, o-hm0 on
Open vSwitch), RabbitMQ, MariaDB, Neutron, and the amphora-agent (octavia 19.0.0 from the
test bed's wheelhouse, with haproxy, keepalived and ipvsadm from Debian), run by systemd in
a container with no network of its own. Its only link is an Open vSwitch internal port of
controller-2's br-int bound to a Neutron port on lb-mgmt-net, so whatever reaches it or
comes from it goes through controller-2's o-hm0. Its certificate is issued by Octavia's own
local certificate generator with the deployment's server CA (tests/testbed/fake_amphora.yml).

What is not: the deployment runs Octavia's noop compute, network and amphora drivers (no
Nova compute, no Neutron agents on the test cloud). So the load balancer's amphora record
is made by the real worker but no VM boots: the fake amphora takes over that record, and
the test bed role writes the fake amphora's address into the record's lb_network_ip (the
noop compute driver records 192.0.2.1). The failover that health-manager starts is
Octavia's real failover flow; with the noop drivers it replaces the record and boots
nothing. The test reads Octavia's database (amphora_health) directly: the API does not
show heartbeat times.

The tests run in file order on one fake amphora: probe, heartbeats, health check (healthy),
o-hm0 outages shorter than heartbeat_timeout, health check (broken: the agent stopped), and
last the failover of the silent amphora. Everything is removed at the end, also when a test
fails. Measured times go to .tmp/amphora_e2e_times.json and are printed (pytest -s).
"""

from __future__ import annotations

import configparser
import datetime
import ipaddress
import json
import re
import subprocess
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from keystoneauth1 import exceptions as ksa_exceptions

from dataplane import wait_for
from lb_helpers import delete_lb, octavia_db
from playbook import ROOT, run_playbook

INVENTORY = ROOT / "inventories" / "aio"
FAKE_AMPHORA = ROOT / "tests" / "testbed" / "fake_amphora.yml"
PLUG = ROOT / "tests" / "testbed" / "roles" / "testbed_fake_amphora" / "files" / "plug.sh"
PROBE = ROOT / "tests" / "integration" / "playbooks" / "amphora_e2e_probe.yml"
HEALTH_CHECK = ROOT / "playbooks" / "health_check.yml"
TIMES = ROOT / ".tmp" / "amphora_e2e_times.json"
CONTROLLERS = ["octavia-lbaas-controller-1", "octavia-lbaas-controller-2"]
CONTROLLER = CONTROLLERS[1]        # the fake amphora is plugged into this one's br-int


# -- helpers -------------------------------------------------------------------------------
def sh(container, script, *, check=True, timeout=120):
    proc = subprocess.run(["podman", "exec", container, "bash", "-c", script], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{container}: {script!r} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def task_results(run, suffix, host):
    """Per-item results of the task whose name ends with suffix, on host."""
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(suffix) and host in task["hosts"]:
                res = task["hosts"][host]
                return res.get("results", [res])
    raise AssertionError(f"no task {suffix!r} for {host} in the run")


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def issue(cn, ca, eku):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca[0].subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
            .sign(ca[1], hashes.SHA256()))
    return cert, key


def pem(cert=None, key=None):
    out = b""
    if cert is not None:
        out += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        out += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return out.decode()


class World:
    """The load balancer, its amphora played by the fake amphora, and what the tests measure."""

    def __init__(self, cloud, facts):
        self.cloud = cloud
        self.facts = facts
        self.prefix = f"lbaas-e2e-{uuid.uuid4().hex[:8]}"
        self.network = self.subnet = None
        self.lb_id = self.amp_id = None
        self.fake = None                   # the role's fact testbed_fake_amphora
        self.times = {}
        self.agent_stopped = None          # (monotonic, DB time) when the agent was stopped
        self.started = time.time()
        self.db = octavia_db(facts)
        conf = configparser.ConfigParser(interpolation=None, strict=False)
        conf.read_string(sh(CONTROLLER, "cat /etc/octavia/octavia.conf"))
        self.interval = conf.getint("health_manager", "heartbeat_interval")
        self.timeout = conf.getint("health_manager", "heartbeat_timeout")
        self.check_interval = conf.getint("health_manager", "health_check_interval")
        # The agent sends each heartbeat to the next controller of controller_ip_port_list in
        # turn (round robin). Each controller's br-int is its own island on the test bed, so
        # only CONTROLLER hears the fake amphora: one heartbeat per `period` seconds arrives.
        self.period = self.interval * len(conf.get("health_manager", "controller_ip_port_list").split(","))

    # -- Octavia's view ---------------------------------------------------------------------
    def sql(self, query, *args):
        with self.db.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def db_now(self):
        return self.sql("SELECT UTC_TIMESTAMP()")[0][0]

    def last_heartbeat(self, amp_id=None):
        """amphora_health.last_update of the amphora (UTC), or None: no heartbeat yet."""
        rows = self.sql("SELECT last_update FROM amphora_health WHERE amphora_id=%s", amp_id or self.amp_id)
        return rows[0][0] if rows else None

    def amp_status(self, amp_id=None):
        rows = self.sql("SELECT status FROM amphora WHERE id=%s", amp_id or self.amp_id)
        return rows[0][0] if rows else None

    @staticmethod
    def api(call, attempts=15):
        """An API read, again after a refused connection: other sessions restart the
        controllers' services now and then (certificate rotation)."""
        for attempt in range(attempts):
            try:
                return call()
            except ksa_exceptions.ConnectFailure:
                if attempt == attempts - 1:
                    raise
                time.sleep(2)
        raise AssertionError("unreachable")

    def lb_amphorae(self):
        body = self.api(lambda: self.cloud.load_balancer.get(
            "/octavia/amphorae", params={"loadbalancer_id": self.lb_id}).json())
        return [a for a in body["amphorae"] if a["status"] != "DELETED"]

    def lb(self):
        return self.api(lambda: self.cloud.load_balancer.get_load_balancer(self.lb_id))

    def create_lb(self, attempts=5):
        """Create the load balancer; other sessions restart the controllers' services now and
        then (certificate rotation), so a refused connection is retried, once it is sure
        that no load balancer was made."""
        api = self.cloud.load_balancer
        for attempt in range(attempts):
            try:
                return api.create_load_balancer(name=self.prefix, vip_subnet_id=self.subnet.id).id
            except ksa_exceptions.ConnectFailure:
                if attempt == attempts - 1:
                    raise
                time.sleep(5)
                made = list(api.load_balancers(name=self.prefix))
                if made:
                    return made[0].id
        raise AssertionError("unreachable")

    def wait_lb(self, timeout=120):
        """The load balancer's provisioning status once it is not PENDING_* any more."""
        def settled():
            status = self.lb().provisioning_status
            return None if status.startswith("PENDING_") else status
        return wait_for(f"load balancer {self.lb_id} settled", settled, timeout, 0.5)[0]

    def stale_logged(self, amp_id=None):
        """Lines of either health manager saying it found the amphora stale (since the start)."""
        found = []
        for ctrl in CONTROLLERS:
            found += sh(ctrl, f"journalctl -u octavia-health-manager --since @{int(self.started)} --no-pager "
                              f"-o short-unix | grep -F \"Stale amphora's id is: {amp_id or self.amp_id}\" || true"
                        ).splitlines()
        return found

    def hm_check_starts(self, ctrl):
        """When the health-check process of the controller's health manager started (epoch
        seconds, since the start of this file): it waits heartbeat_timeout before its first check."""
        lines = sh(ctrl, f"journalctl -u octavia-health-manager --since @{int(self.started)} --no-pager "
                         f"-o short-unix | grep -F 'Health manager check process starts' || true").splitlines()
        return [float(line.split()[0]) for line in lines]

    @staticmethod
    def wait_services(timeout=180):
        """Every controller's services active and its health manager listening."""
        def up():
            return all(sh(ctrl, "systemctl is-active octavia-api octavia-worker octavia-health-manager "
                                "octavia-housekeeping octavia-hm-interface >/dev/null && ss -Hulnp 'sport = :5555'",
                          check=False) for ctrl in CONTROLLERS)
        wait_for("the controllers' services", up, timeout, 2)

    # -- the fake amphora ----------------------------------------------------------------------
    def fake_amphora(self, state):
        return run_playbook(FAKE_AMPHORA, "-i", str(INVENTORY), timeout=900,
                            extra_vars={"testbed_fake_amphora_id": self.amp_id,
                                        "testbed_fake_amphora_controller": CONTROLLER,
                                        "testbed_fake_amphora_state": state})

    def in_amphora(self, script, check=True):
        return sh(self.fake["container"], script, check=check)

    def plug(self):
        """Plug the fake amphora into br-int again (its port dies with ovs-vswitchd)."""
        f = self.fake
        proc = subprocess.run(["bash", str(PLUG), CONTROLLER, f["bridge"], f["interface"], f["port_id"], f["mac"],
                               f"{f['address']}/{f['prefix']}", f["container"]],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr

    def health_check(self, **extra):
        return run_playbook(HEALTH_CHECK, "-i", str(INVENTORY), extra_vars=extra, timeout=600)

    def record(self, key, seconds):
        self.times[key] = round(seconds, 1)
        TIMES.parent.mkdir(exist_ok=True)
        TIMES.write_text(json.dumps(self.times, indent=2) + "\n")
        print(f"\n[amphora e2e] {key}: {seconds:.1f} s")

    # -- cleanup ---------------------------------------------------------------------------------
    def cleanup(self):
        errors = []
        if self.amp_id:
            run = self.fake_amphora("absent")
            if run.rc != 0:
                errors.append(f"fake amphora: {run.failed_messages() or run.stderr[-2000:]}")
        if self.lb_id:
            try:
                self.delete_lb()
            except Exception as exc:  # noqa: BLE001 - report every leftover, go on
                errors.append(f"load balancer: {exc}")
        for what, delete, obj in (("subnet", self.cloud.network.delete_subnet, self.subnet),
                                  ("network", self.cloud.network.delete_network, self.network)):
            if obj is not None:
                try:
                    delete(obj, ignore_missing=True)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{what}: {exc}")
        self.db.close()
        return errors

    def delete_lb(self, timeout=180):
        delete_lb(self.cloud, self.lb_id, timeout, call=self.api)


UPLINK = "eth1"   # the management underlay (tests/testbed/controllers.yml): joins the br-ints


@pytest.fixture(scope="module")
def world(cloud, testbed_facts):
    w = World(cloud, testbed_facts)
    # These tests count on CONTROLLER's br-int being an island: only its o-hm0 hears the
    # fake amphora. The test bed joins every br-int (and the compute node's lb-mgmt-net)
    # through the underlay: take CONTROLLER's uplink down for the module, up again after.
    uplink = sh(CONTROLLER, f"ovs-vsctl port-to-br {UPLINK} 2>/dev/null || true") == "br-int"
    try:
        if uplink:
            sh(CONTROLLER, f"ip link set dev {UPLINK} down")
        w.network = cloud.network.create_network(name=f"{w.prefix}-net")
        w.subnet = cloud.network.create_subnet(name=f"{w.prefix}-vip", network_id=w.network.id, ip_version=4,
                                               cidr="10.254.7.0/24")
        # No listener: an amphora reports its listeners in each heartbeat, and health-manager
        # ignores heartbeats whose listener count differs from the database's. The agent has
        # no haproxy configuration here, so its load balancer has none either.
        w.lb_id = w.create_lb()
        assert w.wait_lb() == "ACTIVE"
        (amp,) = w.lb_amphorae()
        w.amp_id = amp["id"]
        start = time.monotonic()
        run = w.fake_amphora("present")
        assert_ok(run)
        w.fake = task_results(run, "Set testbed_fake_amphora_result", "localhost")[0]["ansible_facts"]["testbed_fake_amphora_result"]
        w.record("fake amphora up (playbook)", time.monotonic() - start)
        yield w
    finally:
        errors = w.cleanup()
        if uplink:
            sh(CONTROLLER, f"ip link set dev {UPLINK} up")
        assert not errors, errors


# -- (a) the probe -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def probes(world):
    """One probe run on the controller (through o-hm0) with the good and the bad cases, and
    one from the deploy host (address looked up in the admin API, not reachable from there)."""
    other_ca = make_ca(f"{world.prefix} other CA")
    rogue_client = issue("rogue controller", other_ca, ExtendedKeyUsageOID.CLIENT_AUTH)
    bundle = sh(CONTROLLER, "cat /etc/octavia/certs/client.cert-and-key.pem")
    client_cert_only = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n", bundle, re.S).group(0)
    server_chain = sh(CONTROLLER, "cat /etc/octavia/certs/server_ca-chain.cert.pem") + "\n"
    other_key = pem(key=ec.generate_private_key(ec.SECP256R1()))
    subnet = ipaddress.ip_network(f"{world.fake['address']}/{world.fake['prefix']}", strict=False)
    used = {ip["ip_address"] for p in world.cloud.network.ports(network_id=world.cloud.network.find_network(
        "lb-mgmt-net").id) for ip in p.fixed_ips}
    unused = str(next(h for h in reversed(list(subnet.hosts())) if str(h) not in used))
    amp, addr = world.amp_id, world.fake["address"]
    other_amp = str(uuid.uuid4())
    scratch = f"/tmp/{world.prefix}-probe"      # made and removed by the playbook
    cases = {
        "ok": {"amphora_id": amp, "address": addr},
        "wrong server CA": {"amphora_id": amp, "address": addr, "server_ca": f"{scratch}/other_ca.pem"},
        "client cert of another CA": {"amphora_id": amp, "address": addr,
                                      "client_cert": f"{scratch}/rogue_client.pem"},
        "cert and key mismatch": {"amphora_id": amp, "address": addr, "client_cert": f"{scratch}/client.crt",
                                  "client_key": f"{scratch}/other.key"},
        "missing server CA file": {"amphora_id": amp, "address": addr, "server_ca": "/nonexistent/server_ca.pem"},
        "wrong amphora id": {"amphora_id": other_amp, "address": addr},
        "unreachable address": {"amphora_id": amp, "address": unused, "timeout": 3},
    }
    start = time.monotonic()
    run = run_playbook(PROBE, "-i", str(INVENTORY), extra_vars={
        "probe_host": CONTROLLER, "probe_dir": scratch,
        "probes": [dict(v, label=k) for k, v in cases.items()],
        "probe_files": {"other_ca.pem": pem(other_ca[0]), "rogue_client.pem": pem(*rogue_client),
                        "client.crt": client_cert_only, "other.key": other_key}})
    world.record("probe run, 7 cases on the controller (playbook)", time.monotonic() - start)
    on_controller = dict(zip(cases, task_results(run, "Probe the agent", CONTROLLER)))
    cloud_name = world.facts["testbed_cloud_name"]
    host_cases = {
        "looked up, from the deploy host": {"amphora_id": amp, "cloud": cloud_name, "timeout": 3,
                                            "client_cert": f"{scratch}/client.pem",
                                            "server_ca": f"{scratch}/server_ca.pem"},
        "no such amphora": {"amphora_id": other_amp, "cloud": cloud_name,
                            "client_cert": f"{scratch}/client.pem", "server_ca": f"{scratch}/server_ca.pem"},
    }
    run = run_playbook(PROBE, "-i", str(INVENTORY), extra_vars={
        "probe_host": "localhost", "probe_dir": scratch,
        "probes": [dict(v, label=k) for k, v in host_cases.items()],
        "probe_files": {"client.pem": bundle + "\n", "server_ca.pem": server_chain}})
    from_host = dict(zip(host_cases, task_results(run, "Probe the agent", "localhost")))
    return {"controller": on_controller, "host": from_host, "other_amp": other_amp, "unused": unused}


def test_the_probe_reaches_the_real_agent_through_o_hm0(world, probes):
    # the controller's only route to the amphora's address is its o-hm0
    assert f"dev {'o-hm0'}" in sh(CONTROLLER, f"ip route get {world.fake['address']}")
    ok = probes["controller"]["ok"]
    assert not ok.get("failed"), ok.get("msg")
    assert ok["changed"] is False
    assert ok["api_version"] == "1.0"
    assert ok["certificate"]["common_name"] == world.amp_id
    assert ok["certificate"]["dns_names"] == [world.amp_id]
    issuing_ca = x509.load_pem_x509_certificate(sh(CONTROLLER, "cat /etc/octavia/certs/server_ca.cert.pem").encode())
    assert ok["certificate"]["issuer"] == ",".join(
        f"{'CN' if a.oid == NameOID.COMMON_NAME else a.oid._name}={a.value}" for a in issuing_ca.subject)
    # the versions Debian's packages in the fake amphora's image report
    versions = ok["versions"]
    assert versions["api"] == "1.0"
    assert re.match(r"^2\.6\.", versions["haproxy"]), versions
    assert re.match(r"^(1:)?2\.", versions["keepalived"]), versions
    assert ok["info"]["hostname"] == f"amphora-{world.amp_id[:8]}"
    assert ok["details"]["haproxy_count"] == 0 and ok["details"]["listeners"] == []
    assert ok["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert ok["amphora"] == {"id": world.amp_id, "address": world.fake["address"], "port": 9443, "looked_up": False}


@pytest.mark.parametrize("case,expected", [
    ("wrong server CA", "presents a certificate that is not signed by the server CA chain"),
    ("client cert of another CA", "refused this host's client certificate"),
    ("cert and key mismatch", "agent_client_cert: the key does not belong to the certificate"),
    ("missing server CA file", "agent_server_ca: /nonexistent/server_ca.pem does not exist"),
    ("wrong amphora id", "presents a certificate that does not name amphora {other_amp}"),
    ("unreachable address", "{unused}:9443"),
])
def test_the_probe_rejects_with_a_clear_message(probes, case, expected):
    result = probes["controller"][case]
    assert result.get("failed") is True, result
    assert expected.format(**probes) in result["msg"], result["msg"]
    assert "versions" not in result
    if case == "unreachable address":
        assert re.search(r"no answer from the agent at \S+ within 3 s|no route to the agent", result["msg"]), result["msg"]


def test_the_probe_looks_the_address_up_and_names_unknown_amphorae(world, probes):
    looked_up = probes["host"]["looked up, from the deploy host"]
    # The deploy host is not on the management network: the address comes from the admin
    # API, and the agent is not reachable from here. Either nothing answers, or (on a
    # machine whose outbound connections go through a TLS-intercepting proxy, like ours)
    # something else answers and its certificate is refused: either way no answer counts.
    assert looked_up.get("failed") is True
    assert looked_up["amphora"]["looked_up"] is True
    assert looked_up["amphora"]["address"] == world.fake["address"]
    assert looked_up["amphora"]["loadbalancer_id"] == world.lb_id
    assert "versions" not in looked_up and "api_version" not in looked_up
    assert re.search(r"no answer from the agent|no route to the agent|cannot reach the agent|nothing listens at"
                     r"|presents a certificate that is not signed by the server CA chain", looked_up["msg"]), \
        looked_up["msg"]
    unknown = probes["host"]["no such amphora"]
    assert unknown.get("failed") is True
    assert f"amphora_id: amphora {probes['other_amp']} does not exist" in unknown["msg"]


# -- (b) heartbeats ------------------------------------------------------------------------------------
def test_heartbeats_reach_health_manager_and_update_amphora_health(world):
    first, waited = wait_for("first heartbeat in amphora_health", world.last_heartbeat,
                             3 * world.interval + 10)
    second, between = wait_for("next heartbeat", lambda: (h := world.last_heartbeat()) > first and h,
                               2 * world.interval + 5)
    gap = (second - first).total_seconds()
    world.record("heartbeat period seen in amphora_health", gap)
    # One heartbeat every heartbeat_interval, to each controller in turn: controller-1's
    # turns are lost here (its br-int is not connected), so amphora_health moves every
    # `period` seconds (a loaded health manager may also drop one it could not process
    # within heartbeat_interval).
    assert world.period - 1 <= gap <= 2 * world.period + 2
    # health-manager also sets the load balancer ONLINE from the heartbeat (the noop
    # amphorae of other load balancers never send one: theirs stay OFFLINE)
    assert world.lb().operating_status == "ONLINE"
    # the fake amphora has no network but its port on br-int: the heartbeats came in through o-hm0
    links = json.loads(world.in_amphora("ip -j link show"))
    assert sorted(link["ifname"] for link in links) == sorted(["lo", world.fake["interface"]])
    assert world.stale_logged() == []


# -- health check: healthy ------------------------------------------------------------------------------
def test_health_check_passes_with_the_fake_amphora(world):
    start = time.monotonic()
    run = world.health_check(health_check_loadbalancers=[world.lb_id], health_check_probe_from=[CONTROLLER])
    world.record("health_check.yml, healthy (playbook)", time.monotonic() - start)
    (report,) = task_results(run, "Put the report together", "localhost")
    report = report["ansible_facts"]["health_check_report"]
    if run.rc != 0 and any(re.search(r": unit \S+ is (?!active)|: no heartbeat listener", p) for p in report["problems"]):
        # another session restarts the controllers' services (certificate rotation): the
        # health check rightly says so; check again once they are up and listening
        world.record("(health check found services restarting, ran again)", 0)
        world.wait_services()
        run = world.health_check(health_check_loadbalancers=[world.lb_id], health_check_probe_from=[CONTROLLER])
        (report,) = task_results(run, "Put the report together", "localhost")
        report = report["ansible_facts"]["health_check_report"]
    assert_ok(run)
    assert report["status"] == "OK" and report["problems"] == [], report["problems"]
    (amp,) = report["amphorae"]
    assert (amp["amphora"], amp["probed_from"], amp["problem"]) == (world.amp_id, CONTROLLER, None)
    assert amp["versions"]["api"] == "1.0" and amp["versions"]["haproxy"]
    assert report["not_probed"] == []
    for name in CONTROLLERS:
        ctrl = report["controllers"][name]
        assert set(ctrl["services"].values()) == {"active"}, ctrl["services"]
        assert ctrl["o_hm0"]["up"] is True and ctrl["o_hm0"]["check"] == ["ok"]
        assert ctrl["heartbeat_listener"], ctrl
        assert {f["option"] for f in ctrl["certificates"]} == {
            "[haproxy_amphora] client_cert", "[haproxy_amphora] server_ca", "[controller_worker] client_ca",
            "[certificates] ca_certificate"}
    (lines,) = task_results(run, "Report", "localhost")
    assert lines["msg"][0].startswith("HEALTH CHECK: OK")


# -- (d) o-hm0 outages shorter than heartbeat_timeout ---------------------------------------------------
def test_health_manager_waits_for_o_hm0_at_boot(world):
    """The unit order that keeps health-manager from starting (and, after heartbeat_timeout,
    failing over every amphora it has not heard from) before o-hm0 is up."""
    after = sh(CONTROLLER, "systemctl show -p After --value octavia-health-manager.service").split()
    wants = sh(CONTROLLER, "systemctl show -p Wants --value octavia-health-manager.service").split()
    assert "octavia-hm-interface.service" in after and "octavia-hm-interface.service" in wants
    before = sh(CONTROLLER, "systemctl show -p Before --value octavia-hm-interface.service").split()
    assert "octavia-health-manager.service" in before
    part_of = sh(CONTROLLER, "systemctl show -p PartOf --value octavia-hm-interface.service").split()
    assert "ovs-vswitchd.service" in part_of


def _heartbeats_resume_without_failover(world, lost_since, back_at, label):
    """After o-hm0 came back at back_at (DB time): a heartbeat newer than that arrives and
    the amphora is the same, in service."""
    resumed, waited = wait_for(f"{label}: heartbeat after o-hm0 is back",
                               lambda: (h := world.last_heartbeat()) and h > back_at and h, world.period + 10)
    gap = (resumed - lost_since).total_seconds()
    world.record(f"{label}: heartbeat gap (last before to first after)", gap)
    assert gap < world.timeout
    assert world.amp_status() == "ALLOCATED"
    assert [a["id"] for a in world.lb_amphorae()] == [world.amp_id]
    assert world.stale_logged() == []
    assert sh(CONTROLLER, "/usr/local/sbin/octavia-hm-interface check") == "ok"


def test_o_hm0_outage_shorter_than_heartbeat_timeout_fails_nothing_over(world):
    # The outage starts right after a heartbeat arrived, so the gap between the last
    # heartbeat before and the first after is at most outage + period: keep it well below
    # heartbeat_timeout. (Cut at any moment, an outage below timeout - 2 * period never
    # fails over; one above timeout + health_check_interval always does.)
    outage = world.timeout - world.period - 15
    assert outage > 0, (world.timeout, world.period)
    seen = world.last_heartbeat()
    wait_for("a fresh heartbeat", lambda: world.last_heartbeat() > seen, world.period + 10, 0.3)
    # o-hm0 vanishes (as when its Open vSwitch port is deleted): the device and its address are gone
    sh(CONTROLLER, "ovs-vsctl del-port br-int o-hm0")
    lost = world.db_now()
    start = time.monotonic()
    assert sh(CONTROLLER, "ip link show o-hm0", check=False) == ""
    time.sleep(max(0.0, outage - (time.monotonic() - start)))
    # nothing arrived meanwhile: the heartbeats only ever came through o-hm0
    during = world.last_heartbeat()
    assert during <= lost + datetime.timedelta(seconds=1), (during, lost)
    # o-hm0 comes back by its unit
    unit_start = time.monotonic()
    sh(CONTROLLER, "systemctl restart octavia-hm-interface.service")
    world.record("octavia-hm-interface.service restart", time.monotonic() - unit_start)
    back = world.db_now()
    world.record("o-hm0 outage (port deleted until the unit restarted it)", time.monotonic() - start)
    _heartbeats_resume_without_failover(world, during, back, "o-hm0 port deleted")


def test_open_vswitch_restart_brings_o_hm0_back_and_fails_nothing_over(world):
    last_before = world.last_heartbeat()
    start = time.monotonic()
    sh(CONTROLLER, "systemctl restart openvswitch-switch.service")
    # PartOf=ovs-vswitchd.service: systemd restarts octavia-hm-interface.service with it
    wait_for("o-hm0 back after the Open vSwitch restart",
             lambda: sh(CONTROLLER, "/usr/local/sbin/octavia-hm-interface check", check=False) == "ok", 60, 0.5)
    world.record("Open vSwitch restart until o-hm0 is back (by its unit)", time.monotonic() - start)
    # Test bed only: the fake amphora's own port lives in the same ovs-vswitchd, so it died
    # too (a real amphora runs on a compute node). Plug it in again.
    world.plug()
    back = world.db_now()
    world.record("Open vSwitch restart until the fake amphora is plugged again", time.monotonic() - start)
    _heartbeats_resume_without_failover(world, last_before, back, "Open vSwitch restart")


# -- health check: broken ----------------------------------------------------------------------------------
def test_health_check_reports_a_stopped_agent_and_fails(world):
    world.in_amphora("systemctl stop amphora-agent.service")
    world.agent_stopped = (time.monotonic(), world.db_now())
    start = time.monotonic()
    run = world.health_check(health_check_loadbalancers=[world.lb_id, f"{world.prefix}-no-such-lb"],
                             health_check_probe_from=[CONTROLLER], health_check_cert_days=36500)
    world.record("health_check.yml, broken (playbook)", time.monotonic() - start)
    assert run.rc != 0
    (report,) = task_results(run, "Put the report together", "localhost")
    problems = report["ansible_facts"]["health_check_report"]["problems"]
    text = "\n".join(problems)
    assert re.search(rf"amphora {world.amp_id} \(load balancer {world.lb_id}\) probed from {CONTROLLER}: "
                     rf"nothing listens at {re.escape(world.fake['address'])}:9443", text), text
    assert f"health_check_loadbalancers: no load balancer {world.prefix}-no-such-lb" in text
    # every certificate is "about to expire" within 100 years: each controller names its files
    for name in CONTROLLERS:
        assert re.search(rf"^{name}: certificate .+ \(/etc/octavia/certs/client.cert-and-key.pem, "
                         r"\[haproxy_amphora\] client_cert\) expires in [\d.]+ days", text, re.M), text
    assert any("The health check found" in m for m in run.failed_messages())

    # report only: the same problems, no failure; without a scope the noop-driver deployment
    # probes nothing and says why
    run = world.health_check(health_check_fail=False)
    assert_ok(run)
    (report,) = task_results(run, "Put the report together", "localhost")
    report = report["ansible_facts"]["health_check_report"]
    assert report["amphorae"] == []
    (ours,) = [a for a in report["not_probed"] if a["amphora"] == world.amp_id]
    assert "amphora_noop_driver" in ours["reason"]


# -- (c) failover of the silent amphora ------------------------------------------------------------------
def test_health_manager_fails_the_silent_amphora_over_within_heartbeat_timeout(world):
    if world.agent_stopped is None:
        world.in_amphora("systemctl stop amphora-agent.service")
        world.agent_stopped = (time.monotonic(), world.db_now())
    stopped_mono, stopped_db = world.agent_stopped
    last = world.last_heartbeat()
    assert last <= stopped_db + datetime.timedelta(seconds=1)
    old = world.amp_id
    limit = 2 * world.timeout + world.interval + 60   # room for a health manager restart meanwhile

    def replaced():
        amps = world.lb_amphorae()
        return amps if amps and old not in [a["id"] for a in amps] else None

    amps = wait_for("the silent amphora replaced", replaced, limit - (time.monotonic() - stopped_mono))[0]
    replaced_db = world.db_now()
    since_last = (replaced_db - last).total_seconds()
    world.record("agent stopped until the amphora was replaced", time.monotonic() - stopped_mono)
    world.record("last heartbeat until the amphora was replaced", since_last)
    stale_lines = world.stale_logged(old)
    assert stale_lines, "health-manager did not log the stale amphora"
    stale_epoch = float(stale_lines[0].split()[0])
    last_epoch = last.replace(tzinfo=datetime.timezone.utc).timestamp()
    world.record("last heartbeat until health-manager found it stale", stale_epoch - last_epoch)
    # Not before heartbeat_timeout. And within it plus one health check interval, counted
    # from the last heartbeat, or from the start of a health manager's check process when
    # one (re)started since (it waits heartbeat_timeout before its first check; other
    # sessions restart the services when they rotate certificates).
    assert stale_epoch - last_epoch >= world.timeout - 1
    counted_from = min(max([last_epoch] + [t for t in world.hm_check_starts(ctrl) if t <= stale_epoch])
                       for ctrl in CONTROLLERS)
    if counted_from > last_epoch:
        world.record("(a health manager restarted meanwhile: counted from its start, s after the last heartbeat)",
                     counted_from - last_epoch)
    assert stale_epoch - counted_from <= world.timeout + world.check_interval + 2
    assert (replaced_db - last).total_seconds() - (stale_epoch - last_epoch) <= 30   # the failover flow itself
    # the record is replaced: the old one DELETED, a new one in service for the load balancer
    assert world.amp_status(old) == "DELETED"
    (new,) = amps
    assert new["id"] != old and new["role"] == "STANDALONE" and new["status"] == "ALLOCATED"
    assert world.wait_lb() == "ACTIVE"
