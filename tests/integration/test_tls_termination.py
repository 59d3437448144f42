"""Issue 16, deliver 3, against the real Octavia and Barbican of the test cloud (no-op
drivers; Octavia's API reads the certificates from Barbican itself): TERMINATED_HTTPS
listeners whose certificates are given as PEM text, which the listener module stores in
Barbican (one PKCS#12 secret per certificate, named after a hash of its content) and
reuses on later runs; the same with refs the test stores itself; a pool that
re-encrypts towards its members with a CA given as PEM; a bad PEM refused before any
write. Octavia's request log counts the writes, Barbican's listing the secrets.

Skipped when the catalog has no key-manager. The throwaway CA and certificates are made
here; cleanup deletes the load balancer and every secret the tests made (those the
modules made are told apart by name and by not existing before the test). The tests run
in file order and build on each other."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest

from lb_helpers import Cleanup, active_lb, delete_lb
from octavia_api_log import Window
from pem_material import Material, pem_of
from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "lb_tls.yml"
MODULE_SECRETS = "octavia-lbaas-"
API_VERSION = re.compile(r"^/v2(\.0)?")


# -- the world the tests share ----------------------------------------------------------------------------------------
class World:
    def __init__(self, cloud, cloud_name, tmp):
        self.cloud = cloud
        self.cloud_name = cloud_name
        self.tmp = tmp
        self.prefix = f"lbaas-tls-{uuid.uuid4().hex[:8]}"
        self.lb_name = f"{self.prefix}-lb"
        self.lb_id = None
        self.network = self.subnet = None
        self.pem = Material()
        self.before = self.module_secrets()   # the module's secrets that are not ours
        self.secrets = set()                  # refs of the secrets the tests made (directly or through a module)

    def module_secrets(self):
        """{ref: name} of the secrets named like the modules name theirs."""
        return {s.secret_ref: s.name for s in self.cloud.key_manager.secrets()
                if (s.name or "").startswith(MODULE_SECRETS)}

    def new_module_secrets(self):
        found = {ref: name for ref, name in self.module_secrets().items() if ref not in self.before}
        self.secrets |= set(found)
        return found

    def ids(self):
        found = {self.prefix, self.lb_name}
        if self.lb_id:
            found.add(self.lb_id)
            api = self.cloud.load_balancer
            for collection in ("listeners", "pools"):
                found |= {obj["id"] for obj in api.get(f"/lbaas/{collection}", params={"loadbalancer_id": self.lb_id})
                          .json()[collection]}
        return found

    def play(self, check=False, diff=False, **variables):
        """Run the playbook; the variables (PEM text among them) go in a file, not on the command line."""
        extra = {"cloud_name": self.cloud_name, "lb_name": self.lb_name, "vip_subnet": self.subnet.id}
        extra.update(variables)
        path = self.tmp / f"vars-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(extra))
        with Window(self.ids) as window:
            run = run_playbook(PLAYBOOK, "-e", f"@{path}", check=check, diff=diff)
            results = {item["task"]["name"]: item["hosts"]["localhost"] for p in run.plays for item in p["tasks"]}
            if self.lb_id is None and not check and results.get("Load balancer", {}).get("id"):
                self.lb_id = results["Load balancer"]["id"]
        path.unlink()
        return run, window, results

    def store(self, payload, name):
        """A secret stored by the test itself, as octavia-tempest-plugin stores its own."""
        made = self.cloud.key_manager.create_secret(
            name=name, payload=base64.b64encode(payload).decode(), payload_content_type="application/octet-stream",
            payload_content_encoding="base64", secret_type="opaque")
        self.secrets.add(made.secret_ref)
        return made.secret_ref

    def secret(self, ref):
        return self.cloud.key_manager.get_secret(ref.rsplit("/", 1)[-1])

    def listener(self, port):
        found = [li for li in self.cloud.load_balancer.get("/lbaas/listeners", params={"loadbalancer_id": self.lb_id})
                 .json()["listeners"] if li["protocol_port"] == port]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture(scope="module")
def world(cloud, testbed_facts, tmp_path_factory):
    if not cloud.has_service("key-manager"):
        pytest.skip("the test cloud's catalog has no key-manager (Barbican): PEM certificates cannot be stored, "
                    "and Octavia cannot read TLS certificates at all")
    w = World(cloud, testbed_facts["testbed_cloud_name"], tmp_path_factory.mktemp("tls"))
    cleanup = Cleanup()
    try:
        w.network = cloud.network.create_network(name=f"{w.prefix}-net")
        w.subnet = cloud.network.create_subnet(name=f"{w.prefix}-vip", network_id=w.network.id, ip_version=4,
                                               cidr="10.252.0.0/24")
        yield w
    finally:
        if w.lb_id:
            cleanup.attempt("load balancer", delete_lb, cloud, w.lb_id, timeout=180)
        w.new_module_secrets()
        for ref in sorted(w.secrets):
            cleanup.attempt(f"secret {ref}", cloud.key_manager.delete_secret, ref.rsplit("/", 1)[-1], ignore_missing=True)
        if w.subnet is not None:
            cleanup.attempt("subnet", cloud.network.delete_subnet, w.subnet, ignore_missing=True)
        if w.network is not None:
            cleanup.attempt("network", cloud.network.delete_network, w.network, ignore_missing=True)
        assert not cleanup.errors, cleanup.errors


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def octavia_writes(window):
    """The window's writes as "METHOD /lbaas/...", without the API version and the query."""
    return sorted("%s %s" % (r.method, API_VERSION.sub("", r.path.split("?")[0])) for r in window.writes)


A, B = "a.example.test", "b.example.test"


def pem_listener(world, b_issue=0):
    return {"port": 443, "default_tls_certificate": world.pem.bundle(A),
            "sni_certificates": [world.pem.bundle(A), world.pem.bundle(B, b_issue)]}


# -- PEM certificates stored by the module -------------------------------------------------------------------------
def test_listener_with_pem_certificates(world):
    run, window, results = world.play(listener=pem_listener(world))
    assert_ok(run)
    task = results["Listener"]
    assert task["changed"] is True
    # the same certificate as default and SNI: one secret; b: another
    new = world.new_module_secrets()
    assert len(new) == 2 and all(name.startswith("octavia-lbaas-cert-") for name in new.values()), new
    assert sum(action.startswith("store secret octavia-lbaas-cert-") for action in task["actions"]) == 2
    assert task["api_calls"]["key_manager"]["writes"] == 2
    active_lb(world.cloud, world.lb_id)
    li = world.listener(443)
    assert li["protocol"] == "TERMINATED_HTTPS" and li["provisioning_status"] == "ACTIVE"
    refs = [li["default_tls_container_ref"]] + li["sni_container_refs"]
    assert set(refs) == set(new) and len(li["sni_container_refs"]) == 2
    assert task["listener"]["default_tls_container_ref"] == li["default_tls_container_ref"]
    for ref in refs:
        assert world.secret(ref).name.startswith("octavia-lbaas-cert-")
    # the write that made the listener; the load balancer's create came before it
    assert "POST /lbaas/listeners" in octavia_writes(window), window.show()


def test_rerun_writes_nothing_and_stores_no_secret(world):
    before = world.listener(443)
    run, window, results = world.play(listener=pem_listener(world))
    assert_ok(run)
    task = results["Listener"]
    assert task["changed"] is False and task["actions"] == [] and task["api_calls"]["writes"] == 0, task
    assert task["api_calls"]["key_manager"] == {"reads": 2, "writes": 0}
    assert window.writes == [], window.show()
    assert world.new_module_secrets().keys() == {before["default_tls_container_ref"], *before["sni_container_refs"]}
    assert world.listener(443)["sni_container_refs"] == before["sni_container_refs"]


def test_check_mode_of_another_sni_certificate_stores_nothing(world):
    known = set(world.new_module_secrets())
    run, window, results = world.play(check=True, diff=True, listener=pem_listener(world, b_issue=1))
    assert_ok(run)
    task = results["Listener"]
    assert task["changed"] is True and window.writes == [], window.show()
    assert set(world.new_module_secrets()) == known
    assert any("(new Barbican secret octavia-lbaas-cert-" in ref for ref in task["diff"]["after"]["sni_container_refs"])
    assert "PRIVATE KEY" not in json.dumps(task)


def test_another_sni_certificate_replaces_only_its_ref(world):
    before = world.listener(443)
    known = set(world.new_module_secrets())
    run, window, results = world.play(listener=pem_listener(world, b_issue=1))
    assert_ok(run)
    assert results["Listener"]["changed"] is True
    added = set(world.new_module_secrets()) - known
    assert len(added) == 1
    assert octavia_writes(window) == [f"PUT /lbaas/listeners/{before['id']}"], window.show()
    active_lb(world.cloud, world.lb_id)
    after = world.listener(443)
    assert after["provisioning_status"] == "ACTIVE"
    assert after["default_tls_container_ref"] == before["default_tls_container_ref"]
    assert set(after["sni_container_refs"]) == {before["default_tls_container_ref"]} | added


# -- refs the test stores itself --------------------------------------------------------------------------------------
def test_listener_with_refs_stored_by_the_test(world):
    default = world.store(world.pem.pkcs12(A, issue=2), f"{world.prefix}-a")
    sni = world.store(world.pem.pkcs12(B, issue=2), f"{world.prefix}-b")
    listener = {"port": 8443, "default_tls_container_ref": default, "sni_container_refs": [default, sni]}
    run, _window, results = world.play(listener=listener)
    assert_ok(run)
    assert results["Listener"]["changed"] is True
    assert "key_manager" not in results["Listener"]["api_calls"]
    active_lb(world.cloud, world.lb_id)
    li = world.listener(8443)
    assert li["provisioning_status"] == "ACTIVE" and li["default_tls_container_ref"] == default
    assert sorted(li["sni_container_refs"]) == sorted([default, sni])
    run, window, results = world.play(listener=listener)
    assert_ok(run)
    assert results["Listener"]["changed"] is False and window.writes == [], window.show()


# -- a pool that re-encrypts towards its members ------------------------------------------------------------------------
def test_pool_with_a_pem_ca(world):
    pool = {"name": f"{world.prefix}-reencrypt", "ca_certificate": pem_of(world.pem.ca)}
    run, _window, results = world.play(pool=pool)
    assert_ok(run)
    task = results["Pool"]
    assert task["changed"] is True and task["pool"]["tls_enabled"] is True
    ref = task["pool"]["ca_tls_container_ref"]
    assert world.secret(ref).name.startswith("octavia-lbaas-ca-") and ref in world.new_module_secrets()
    active_lb(world.cloud, world.lb_id)
    found = world.cloud.load_balancer.get(f"/lbaas/pools/{task['pool']['id']}").json()["pool"]
    assert found["provisioning_status"] == "ACTIVE" and found["ca_tls_container_ref"] == ref
    run, window, results = world.play(pool=pool)
    assert_ok(run)
    assert results["Pool"]["changed"] is False and window.writes == [], window.show()


# -- bad input ------------------------------------------------------------------------------------------------------------
def test_bad_pem_fails_naming_the_option_with_nothing_made(world):
    known = set(world.new_module_secrets())
    bad = dict(world.pem.bundle(A, issue=3), certificate="-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----")
    run, window, results = world.play(listener={"port": 9443, "default_tls_certificate": bad})
    assert run.rc != 0
    assert "default_tls_certificate.certificate is not a PEM certificate" in results["Listener"]["msg"]
    assert window.writes == [], window.show()
    assert set(world.new_module_secrets()) == known
    assert not [li for li in world.cloud.load_balancer.get("/lbaas/listeners", params={"loadbalancer_id": world.lb_id})
                .json()["listeners"] if li["protocol_port"] == 9443]
