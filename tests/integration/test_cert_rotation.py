"""playbooks/rotate_certificates.yml on the deployed test bed (inventories/aio).

The tests run in file order on the real deployment: the PKI of the aio inventory on this
host, the two controller containers and the Octavia they run. They

1. renew the controllers' client certificate and roll a new server CA in one run, and
   check the PKI, the files every controller got, that every Octavia service that reads
   them restarted while the API kept running, and that a second run changes nothing;
2. check the dual trust with `openssl verify` against the bundle a controller uses: a
   certificate signed by the old server CA and one signed by the new one are accepted;
   Octavia's own certificate generator, run on a controller with its octavia.conf, signs
   with the new CA; a load balancer still goes ACTIVE;
3. refuse to drop the old CA while an amphora (of a load balancer made before the roll)
   may hold a certificate it signed, naming it; then drop it: the old-CA certificate is
   rejected, the new one accepted, and a second run changes nothing.

The deployment stays consistent at every step (a later site.yml run changes nothing: the
PKI role and the controller role render what the rotation installed). Amphorae are
Octavia's noop ones on this test bed (no VM): their certificates are made and recorded
(cert_expiration) by the real worker, but no agent holds them; the TLS checks use
`openssl verify` on the controllers' own trust bundle instead.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
import time
import uuid

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from controller_helpers import CONTROLLERS, PKI_USERS, invocations, on
from lb_helpers import active_lb, delete_lb
from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "playbooks" / "rotate_certificates.yml"
INVENTORY = ROOT / "inventories" / "aio"
CERTS = "/etc/octavia/certs"
# The aio inventory keeps its PKI in the machine's state directory (group_vars/all.yml).
STATE = pathlib.Path(os.environ.get("XDG_STATE_HOME") or pathlib.Path.home() / ".local" / "state")
PKI = STATE / "octavia-lbaas" / "aio" / "pki"

GENERATE = """
import sys
from octavia.common import config
config.init(['--config-file', '/etc/octavia/octavia.conf'])
from octavia.certificates.generator import local
pair = local.LocalCertGenerator.generate_cert_key_pair(cn=sys.argv[1], validity=3600)
cert = pair.certificate
sys.stdout.write(cert.decode() if isinstance(cert, bytes) else cert)
"""


# -- helpers -----------------------------------------------------------------------------------
def rotate(*args, **extra):
    return run_playbook(PLAYBOOK, "-i", str(INVENTORY), *args, extra_vars=extra or None, timeout=900)


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def pem_certs(text):
    return x509.load_pem_x509_certificates(text.encode() if isinstance(text, str) else text)


def load_cert(path):
    return x509.load_pem_x509_certificate(pathlib.Path(path).read_bytes())


def ski(cert):
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def aki(cert):
    return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier


def sign_leaf(ca_dir: pathlib.Path, passphrase: str, name: str) -> bytes:
    """A server certificate like Octavia's, signed by the issuing CA in ca_dir."""
    ca = load_cert(ca_dir / "issuing.crt")
    ca_key = serialization.load_pem_private_key((ca_dir / "issuing.key").read_bytes(), passphrase.encode())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def openssl_verify(bundle: bytes, cert: bytes, tmp: pathlib.Path) -> bool:
    name = uuid.uuid4().hex
    (tmp / f"{name}.ca").write_bytes(bundle)
    (tmp / f"{name}.pem").write_bytes(cert)
    proc = subprocess.run(["openssl", "verify", "-CAfile", str(tmp / f"{name}.ca"), str(tmp / f"{name}.pem")],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0


def passphrases(name="passphrases.yml"):
    return yaml.safe_load((PKI / "secrets" / name).read_text())


class World:
    """What the tests of this file share (they run in order)."""

    def __init__(self, cloud, tmp):
        self.cloud = cloud
        self.tmp = tmp
        self.prefix = f"lbaas-certs-{uuid.uuid4().hex[:8]}"
        self.lbs = {}            # "before" / "after" the roll -> load balancer ID
        self.before = {}         # state before the roll
        self.leaves = {}         # "old" / "new" / "octavia" -> PEM
        self.restarts = {}

    def create_lb(self, label):
        lb = self.cloud.load_balancer.create_load_balancer(name=f"{self.prefix}-{label}",
                                                           vip_subnet_id=self.subnet.id)
        self.lbs[label] = lb.id
        return active_lb(self.cloud, lb.id)

    def amphorae(self, label):
        return [a["id"] for a in self.cloud.load_balancer.get(
            "/octavia/amphorae", params={"loadbalancer_id": self.lbs[label]}).json()["amphorae"]]


@pytest.fixture(scope="module")
def world(cloud, tmp_path_factory):
    if not (PKI / "server_ca" / "issuing.crt").is_file():
        pytest.fail(f"{PKI} holds no PKI: deploy the test bed first (./run main)")
    w = World(cloud, tmp_path_factory.mktemp("certs"))
    w.network = cloud.network.create_network(name=f"{w.prefix}-net")
    w.subnet = cloud.network.create_subnet(name=f"{w.prefix}-vip", network_id=w.network.id, ip_version=4,
                                           cidr="10.252.0.0/24")
    yield w
    for lb_id in w.lbs.values():
        delete_lb(cloud, lb_id, timeout=180)
    cloud.network.delete_subnet(w.subnet, ignore_missing=True)
    cloud.network.delete_network(w.network, ignore_missing=True)
    # an interrupted run must not leave the test bed in a roll: finish it
    if (PKI / "server_ca_old").exists():
        assert_ok(rotate(drop_old_server_ca=True, drop_old_server_ca_force=True))


# -- 0. the pki role's roll alone, in a directory of its own (no test bed) -------------------------
PKI_PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "pki.yml"
FAST = {"pki_ca_key_size": 2048}


def pki_role(pki_dir, **extra):
    run = run_playbook(PKI_PLAYBOOK, extra_vars={"pki_dir": str(pki_dir), **FAST, **extra}, timeout=600)
    return run


def test_pki_roll_numbers_each_ca_and_an_interrupted_roll_completes(tmp_path):
    pki_dir = tmp_path / "pki"
    assert_ok(pki_role(pki_dir))
    first = load_cert(pki_dir / "server_ca" / "issuing.crt")
    assert first.subject.rfc4514_string() == "CN=Octavia server issuing CA"
    # a run interrupted right after the rename: the next run, even without the flag, makes
    # the new CA (with new passphrases, not the old keys' ones) and the trust bundle
    stored = passphrases_in(pki_dir)
    (pki_dir / "secrets" / "server_ca_old_passphrases.yml").write_text(yaml.safe_dump(
        {k: stored[k] for k in ("server_ca_root", "server_ca_issuing")}))
    (pki_dir / "server_ca").rename(pki_dir / "server_ca_old")
    run = pki_role(pki_dir)
    assert_ok(run)
    second = load_cert(pki_dir / "server_ca" / "issuing.crt")
    assert second.subject.rfc4514_string() == "CN=Octavia server issuing CA 2"
    assert load_cert(pki_dir / "server_ca" / "root.crt").subject.rfc4514_string() == "CN=Octavia server root CA 2"
    assert passphrases_in(pki_dir)["server_ca_issuing"] != stored["server_ca_issuing"]
    serialization.load_pem_private_key((pki_dir / "server_ca" / "issuing.key").read_bytes(),
                                       passphrases_in(pki_dir)["server_ca_issuing"].encode())
    assert len(pem_certs((pki_dir / "server_ca_trust.pem").read_bytes())) == 4
    assert pki_role(pki_dir, pki_roll_server_ca=True).changed() == 0      # a roll is in progress
    # drop, roll again: the third CA is numbered 3, and the old one is the second
    assert_ok(pki_role(pki_dir, pki_drop_old_server_ca=True))
    assert not (pki_dir / "server_ca_trust.pem").exists()
    assert_ok(pki_role(pki_dir, pki_roll_server_ca=True))
    assert load_cert(pki_dir / "server_ca" / "issuing.crt").subject.rfc4514_string() == "CN=Octavia server issuing CA 3"
    assert load_cert(pki_dir / "server_ca_old" / "issuing.crt") == second
    assert pki_role(pki_dir).changed() == 0


def test_roll_and_drop_together_are_refused_before_anything_changes(tmp_path):
    run = pki_role(tmp_path / "pki", pki_roll_server_ca=True, pki_drop_old_server_ca=True)
    assert run.rc != 0
    assert "cannot be combined with pki_drop_old_server_ca" in " ".join(run.failed_messages())
    assert not (tmp_path / "pki").exists()
    run = rotate(rotate_server_ca=True, drop_old_server_ca=True)
    assert run.rc != 0
    assert "never set together" in " ".join(run.failed_messages())
    assert run.changed() == 0


def passphrases_in(pki_dir):
    return yaml.safe_load((pki_dir / "secrets" / "passphrases.yml").read_text())


# -- 1. renew the client certificate and roll the server CA --------------------------------------
def test_roll_renews_client_cert_and_server_ca(world):
    if (PKI / "server_ca_old").exists():        # left by an interrupted earlier run
        assert_ok(rotate(drop_old_server_ca=True, drop_old_server_ca_force=True))
    b = world.before
    b["client"] = load_cert(PKI / "client" / "client.crt")
    b["issuing"] = (PKI / "server_ca" / "issuing.crt").read_bytes()
    b["client_ca"] = {p.name: p.read_bytes() for p in (PKI / "client_ca").iterdir()}
    b["invocations"] = {c: invocations(c) for c in CONTROLLERS}
    world.leaves["old"] = sign_leaf(PKI / "server_ca", passphrases()["server_ca_issuing"], "amphora-old-ca")
    world.create_lb("before")

    started = time.monotonic()
    run = rotate(rotate_server_ca=True, rotate_client_cert_min_age_hours=0)
    print(f"\nroll run (client certificate + server CA, 2 controllers): {time.monotonic() - started:.0f} s")
    assert_ok(run)
    assert run.changed() > 0

    # the client certificate is new (new key too), from the same client CA, which is untouched
    client = load_cert(PKI / "client" / "client.crt")
    assert client.serial_number != b["client"].serial_number
    assert client.not_valid_before_utc > b["client"].not_valid_before_utc
    assert client.public_key().public_numbers() != b["client"].public_key().public_numbers()
    assert client.issuer == b["client"].issuer and aki(client) == aki(b["client"])
    assert {p.name: p.read_bytes() for p in (PKI / "client_ca").iterdir()} == b["client_ca"]
    # the old server CA is kept as it was; the new one has new keys and its own names
    assert (PKI / "server_ca_old" / "issuing.crt").read_bytes() == b["issuing"]
    old_ca = load_cert(PKI / "server_ca_old" / "issuing.crt")
    new_ca = load_cert(PKI / "server_ca" / "issuing.crt")
    assert ski(new_ca) != ski(old_ca) and new_ca.subject != old_ca.subject
    assert (PKI / "server_ca_old" / "switched_at").is_file()
    old_pass = passphrases("server_ca_old_passphrases.yml")
    new_pass = passphrases()
    assert old_pass["server_ca_issuing"] != new_pass["server_ca_issuing"]

    trust = (PKI / "server_ca_trust.pem").read_bytes()
    assert [ski(c) for c in pem_certs(trust)] == [
        ski(c) for c in pem_certs((PKI / "server_ca" / "chain.pem").read_bytes())
        + pem_certs((PKI / "server_ca_old" / "chain.pem").read_bytes())]
    for controller in CONTROLLERS:
        # every controller got the new client certificate, the two-CA bundle and the new signing CA
        bundle = on(controller, "cat", f"{CERTS}/client.cert-and-key.pem")
        assert pem_certs(bundle)[0] == client
        assert on(controller, "cat", f"{CERTS}/server_ca-chain.cert.pem").encode() == trust
        assert pem_certs(on(controller, "cat", f"{CERTS}/server_ca.cert.pem"))[0] == new_ca
        conf = on(controller, "cat", "/etc/octavia/octavia.conf")
        assert f"ca_private_key_passphrase = {new_pass['server_ca_issuing']}\n" in conf
        # the services that read the PKI restarted; the API did not
        now = invocations(controller)
        assert all(now[s] != b["invocations"][controller][s] for s in PKI_USERS), (controller, now)
        assert now["octavia-api"] == b["invocations"][controller]["octavia-api"], (controller, now)
        world.restarts[controller] = now
    # no secret in what ansible-playbook printed
    output = run.stderr + str(run.plays)
    for secret in list(new_pass.values()) + list(old_pass.values()):
        assert secret not in output


def test_second_roll_run_changes_nothing(world):
    run = rotate(rotate_server_ca=True, rotate_client_cert_min_age_hours=24)
    assert_ok(run)
    assert run.changed() == 0, run.changed_tasks()
    for controller in CONTROLLERS:
        assert invocations(controller) == world.restarts[controller]


# -- 2. both CAs are trusted; Octavia signs with the new one -----------------------------------------
def test_controllers_trust_both_server_cas(world):
    world.leaves["new"] = sign_leaf(PKI / "server_ca", passphrases()["server_ca_issuing"], "amphora-new-ca")
    bundle = on(CONTROLLERS[1], "cat", f"{CERTS}/server_ca-chain.cert.pem").encode()
    assert openssl_verify(bundle, world.leaves["old"], world.tmp)
    assert openssl_verify(bundle, world.leaves["new"], world.tmp)
    # the new CA's chain alone does not accept the old CA's certificate (the check can fail)
    assert not openssl_verify((PKI / "server_ca" / "chain.pem").read_bytes(), world.leaves["old"], world.tmp)


def test_octavia_signs_with_the_new_server_ca(world):
    new_ca = load_cert(PKI / "server_ca" / "issuing.crt")
    for controller in CONTROLLERS:
        pem = on(controller, "/opt/octavia/bin/python", "-c", GENERATE, f"{world.prefix}-amphora")
        cert = pem_certs(pem)[0]
        assert cert.issuer == new_ca.subject
        cert.verify_directly_issued_by(new_ca)
        bundle = on(controller, "cat", f"{CERTS}/server_ca-chain.cert.pem").encode()
        assert openssl_verify(bundle, pem.encode(), world.tmp)
        assert not openssl_verify((PKI / "server_ca_old" / "chain.pem").read_bytes(), pem.encode(), world.tmp)
        world.leaves["octavia"] = pem.encode()
    # the worker signs an amphora certificate for a new load balancer: it goes ACTIVE
    world.create_lb("after")


# -- 3. drop the old server CA -----------------------------------------------------------------------
def test_drop_is_refused_while_an_amphora_may_hold_an_old_certificate(world):
    before = world.amphorae("before")
    after = world.amphorae("after")
    assert before and after
    run = rotate(drop_old_server_ca=True)
    assert run.rc != 0
    message = " ".join(run.failed_messages())
    assert "Not dropping the old server CA" in message
    assert all(a in message for a in before), message
    assert not any(a in message for a in after), message
    # nothing changed: still in the roll
    assert (PKI / "server_ca_old").is_dir()
    assert run.changed() == 0, run.changed_tasks()


def test_drop_old_server_ca(world):
    delete_lb(world.cloud, world.lbs.pop("before"), timeout=180)
    run = rotate(drop_old_server_ca=True)
    if run.rc != 0:
        # other tests' load balancers, made before the roll, may hold amphorae of the old CA:
        # they are named; ours is gone, the one made after the roll is not among them
        message = " ".join(run.failed_messages())
        assert "Not dropping the old server CA" in message
        assert not any(a in message for a in world.amphorae("after")), message
        run = rotate(drop_old_server_ca=True, drop_old_server_ca_force=True)
    assert_ok(run)
    assert not (PKI / "server_ca_old").exists()
    assert not (PKI / "server_ca_trust.pem").exists()
    assert not (PKI / "secrets" / "server_ca_old_passphrases.yml").exists()
    chain = (PKI / "server_ca" / "chain.pem").read_bytes()
    for controller in CONTROLLERS:
        bundle = on(controller, "cat", f"{CERTS}/server_ca-chain.cert.pem").encode()
        assert bundle == chain
        assert not openssl_verify(bundle, world.leaves["old"], world.tmp)
        assert openssl_verify(bundle, world.leaves["new"], world.tmp)
        assert openssl_verify(bundle, world.leaves["octavia"], world.tmp)
        # the trust bundle changed: the services that read it restarted, the API did not
        now = invocations(controller)
        assert all(now[s] != world.restarts[controller][s] for s in PKI_USERS), (controller, now)
        assert now["octavia-api"] == world.restarts[controller]["octavia-api"], (controller, now)
        world.restarts[controller] = now
    # a load balancer still goes ACTIVE
    world.create_lb("dropped")


def test_second_drop_run_changes_nothing(world):
    run = rotate(drop_old_server_ca=True)
    assert_ok(run)
    assert run.changed() == 0, run.changed_tasks()
    for controller in CONTROLLERS:
        assert invocations(controller) == world.restarts[controller]
