"""Certificates given as PEM text (issue 16, deliver 3): the listener, pool and
loadbalancer modules store them in the key manager and send the secret's ref, reusing a
secret with the same content (no new secret, no write on a re-run). Barbican is
tests/unit/fake_barbican.py, an in-memory stand-in (the unit tests cannot reach one);
tests/integration/test_tls_termination.py runs the same against the real one."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import tls_material
from ansible_collections.octavia.lbaas.plugins.modules import listener, loadbalancer, pool

from fake_barbican import ENDPOINT, FakeBarbican
from lbaas_data import SUBNET, build
from pem_data import encrypted, material, pem

A, B, C = "a.example.test", "b.example.test", "c.example.test"
REF = "https://barbican.example.com/v1/secrets/given"


@pytest.fixture
def barbican(fake):
    fake.barbican = FakeBarbican()
    return fake.barbican


def lb(**extra):
    return dict({"name": "web", "vip_subnet": SUBNET}, **extra)


def https(**extra):
    return dict({"loadbalancer": "web", "protocol": "TERMINATED_HTTPS", "protocol_port": 443}, **extra)


def tls_pool(**extra):
    return dict({"loadbalancer": "web", "name": "backend", "protocol": "HTTPS", "lb_algorithm": "ROUND_ROBIN",
                 "tls_enabled": True}, **extra)


def the_listener(fake):
    return next(li for li in fake.listeners.values() if li["protocol_port"] == 443)


def secret_names(barbican, refs):
    return [barbican.secrets_by_ref[ref].name for ref in refs]


def test_listener_with_pem_certificates_then_a_rerun_writes_nothing(run_module, fake, barbican):
    build(fake, lb())
    m = material()
    args = https(default_tls_certificate=m.bundle(A, intermediates=pem(m.intermediate)),
                 sni_certificates=[m.bundle(B), m.bundle(C)])
    created = run_module(listener, args)
    assert created["changed"] and len(barbican.creates()) == 3
    li = the_listener(fake)
    assert li["default_tls_container_ref"].startswith(ENDPOINT)
    assert created["listener"]["default_tls_container_ref"] == li["default_tls_container_ref"]
    names = secret_names(barbican, [li["default_tls_container_ref"]] + li["sni_container_refs"])
    assert all(name.startswith("octavia-lbaas-cert-") for name in names) and len(set(names)) == 3
    assert created["api_calls"]["key_manager"] == {"reads": 3, "writes": 3}
    assert "(new Barbican secret" not in json.dumps(fake.log)      # Octavia only ever gets real refs
    assert sum("store secret octavia-lbaas-cert-" in action for action in created["actions"]) == 3
    # the same PEMs again: the secrets are found by name, nothing is written anywhere
    fake.log.clear()
    barbican.log.clear()
    again = run_module(listener, args)
    assert not again["changed"] and fake.writes() == [] and barbican.creates() == []
    assert again["actions"] == [] and again["api_calls"]["writes"] == 0
    assert again["api_calls"]["key_manager"] == {"reads": 3, "writes": 0}
    assert len(barbican.secrets_by_ref) == 3


def test_check_mode_stores_nothing_and_shows_a_placeholder(run_module, fake, barbican):
    build(fake, lb())
    args = https(default_tls_certificate=material().bundle(A))
    checked = run_module(listener, args, check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and barbican.creates() == []
    name = tls_material.secret_name("bundle", tls_material.check("bundle", material().bundle(A), "x"))
    assert checked["diff"]["after"]["default_tls_container_ref"] == (
        "(new Barbican secret %s: its ref is known once it is stored)" % name)
    assert checked["actions"][0] == "store secret %s in Barbican (default_tls_certificate)" % name
    real = run_module(listener, args, diff=True)
    assert real["actions"] == checked["actions"]
    assert real["diff"]["after"]["default_tls_container_ref"] == the_listener(fake)["default_tls_container_ref"]


def test_a_new_sni_certificate_replaces_only_its_ref(run_module, fake, barbican):
    build(fake, lb())
    m = material()
    run_module(listener, https(default_tls_certificate=m.bundle(A), sni_certificates=[m.bundle(A), m.bundle(B)]))
    assert len(barbican.creates()) == 2       # the same certificate twice: one secret
    before = copy.deepcopy(the_listener(fake))
    fake.log.clear()
    barbican.log.clear()
    changed = run_module(listener, https(default_tls_certificate=m.bundle(A), sni_certificates=[m.bundle(A), m.bundle(C)]))
    assert changed["changed"] and len(barbican.creates()) == 1
    puts = [body for method, _path, body in fake.writes() if method == "PUT"]
    assert len(puts) == 1 and list(puts[0]["listener"]) == ["sni_container_refs"]
    after = the_listener(fake)
    assert after["default_tls_container_ref"] == before["default_tls_container_ref"]
    kept = set(before["sni_container_refs"]) & set(after["sni_container_refs"])
    assert kept == {before["default_tls_container_ref"]} and len(after["sni_container_refs"]) == 2


def test_client_ca_and_crl_as_pem(run_module, fake, barbican):
    build(fake, lb())
    m = material()
    args = https(default_tls_certificate=m.bundle(A), client_authentication="MANDATORY",
                 client_ca_certificate=pem(m.ca), client_crl=pem(m.crl))
    run_module(listener, args)
    li = the_listener(fake)
    assert secret_names(barbican, [li["client_ca_tls_container_ref"]])[0].startswith("octavia-lbaas-ca-")
    assert secret_names(barbican, [li["client_crl_container_ref"]])[0].startswith("octavia-lbaas-crl-")
    fake.log.clear()
    assert not run_module(listener, args)["changed"] and fake.writes() == []


def test_pool_reencryption_with_a_pem_ca(run_module, fake, barbican):
    build(fake, lb())
    m = material()
    args = tls_pool(ca_certificate=pem(m.ca), tls_certificate=m.bundle(A), crl=pem(m.crl))
    created = run_module(pool, args)
    p = created["pool"]
    assert created["changed"] and len(barbican.creates()) == 3
    assert secret_names(barbican, [p["ca_tls_container_ref"]])[0].startswith("octavia-lbaas-ca-")
    assert p["tls_container_ref"] and p["crl_container_ref"]
    fake.log.clear()
    barbican.log.clear()
    again = run_module(pool, args)
    assert not again["changed"] and fake.writes() == [] and barbican.creates() == []


def test_loadbalancer_tree_creates_with_the_refs_in_one_post(run_module, fake, barbican):
    m = material()
    args = lb(listeners=[{"protocol": "TERMINATED_HTTPS", "protocol_port": 443, "default_pool": "backend",
                          "default_tls_certificate": m.bundle(A)}],
              pools=[{"name": "backend", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"},
                     {"name": "reencrypt", "protocol": "HTTPS", "lb_algorithm": "ROUND_ROBIN", "tls_enabled": True,
                      "ca_certificate": pem(m.ca)}])
    created = run_module(loadbalancer, args)
    posts = [body for method, path, body in fake.writes() if method == "POST"]
    assert len(posts) == 1 and len(barbican.creates()) == 2
    body = posts[0]["loadbalancer"]
    assert "(new Barbican secret" not in json.dumps(body)
    assert body["listeners"][0]["default_tls_container_ref"] in barbican.secrets_by_ref
    assert {p["name"]: p.get("ca_tls_container_ref") for p in body["pools"]}["reencrypt"] in barbican.secrets_by_ref
    assert created["changed"]
    fake.log.clear()
    barbican.log.clear()
    again = run_module(loadbalancer, args)
    assert not again["changed"] and fake.writes() == [] and barbican.creates() == []


M = material()


def key_material_in(text):
    """Does `text` hold a line of any test key (PEM, plain)?"""
    return any(line in text for key in M.keys.values() for line in pem(key).splitlines()[1:-1])


BAD = [
    (listener, https(default_tls_certificate=M.bundle(A, private_key=pem(M.keys[B]))),
     "default_tls_certificate.private_key does not match default_tls_certificate.certificate"),
    (listener, https(default_tls_certificate={"certificate": "junk", "private_key": pem(M.keys[A])}),
     "default_tls_certificate.certificate is not a PEM certificate"),
    (listener, https(sni_certificates=[M.bundle(A), M.bundle(B, private_key=pem(M.keys[A]))]),
     "sni_certificates[1].private_key does not match"),
    (listener, https(default_tls_certificate=M.bundle(A), default_tls_container_ref=REF),
     "default_tls_certificate: give default_tls_certificate or default_tls_container_ref, not both"),
    (listener, https(sni_certificates=[M.bundle(A)], sni_container_refs=[REF]),
     "sni_certificates: give sni_certificates or sni_container_refs, not both"),
    (listener, https(default_tls_container_ref=REF, client_ca_certificate=pem(M.ca), client_ca_tls_container_ref=REF),
     "client_ca_certificate: give client_ca_certificate or client_ca_tls_container_ref, not both"),
    (listener, https(default_tls_certificate=M.bundle(A), client_ca_certificate="junk"),
     "client_ca_certificate is not a PEM certificate"),
    (listener, https(default_tls_certificate=M.bundle(A), client_ca_certificate=pem(M.other_ca), client_crl=pem(M.crl)),
     "client_crl: is not signed by client_ca_certificate"),
    (listener, https(default_tls_certificate=M.bundle(A), client_crl=pem(M.crl)),
     "client_crl: a revocation list needs client_ca_tls_container_ref or client_ca_certificate"),
    (listener, dict(https(default_tls_certificate=M.bundle(A)), protocol="HTTP", protocol_port=80),
     "default_tls_certificate: certificates are only allowed on TERMINATED_HTTPS listeners, not HTTP"),
    (listener, https(), "a TERMINATED_HTTPS listener needs a certificate"),
    (listener, https(default_tls_certificate=M.bundle(A, private_key=encrypted(M.keys[A], "pw"))),
     "default_tls_certificate.private_key is encrypted: give its passphrase"),
    (pool, tls_pool(ca_certificate=pem(M.crl)), "ca_certificate is not a PEM certificate"),
    (pool, tls_pool(crl=pem(M.crl)), "crl: a revocation list needs ca_tls_container_ref or ca_certificate"),
    (pool, tls_pool(ca_certificate=pem(M.ca), ca_tls_container_ref=REF), "give ca_certificate or ca_tls_container_ref"),
    (pool, tls_pool(tls_certificate={"certificate": pem(M.certs[A]), "private_key": "junk"}),
     "tls_certificate.private_key is not a PEM private key"),
    (pool, dict(tls_pool(ca_certificate=pem(M.ca)), protocol="UDP"), "ca_certificate: UDP pools do not support TLS"),
    (loadbalancer, lb(listeners=[{"protocol": "HTTP", "protocol_port": 80, "sni_certificates": [M.bundle(A)]}]),
     "listeners[0].sni_certificates: certificates are only allowed on TERMINATED_HTTPS listeners"),
    (loadbalancer, lb(pools=[{"name": "p", "protocol": "HTTPS", "lb_algorithm": "ROUND_ROBIN",
                              "tls_certificate": M.bundle(A, private_key=pem(M.keys[C]))}]),
     "pools[0].tls_certificate.private_key does not match pools[0].tls_certificate.certificate"),
]


@pytest.mark.parametrize("module, args, words", BAD, ids=[b[2][:60] for b in BAD])
def test_bad_input_fails_before_any_call(run_module, fake, barbican, module, args, words):
    failed = run_module(module, args, expect_fail=True)
    assert words in failed["msg"]
    assert fake.log == [] and barbican.log == []
    assert not key_material_in(json.dumps(failed))


def test_no_key_manager_in_the_catalog(run_module, fake):
    build(fake, lb())
    failed = run_module(listener, https(default_tls_certificate=material().bundle(A)), expect_fail=True)
    assert failed["msg"] == ("default_tls_certificate: this cloud has no key-manager (Barbican) in its catalog: "
                             "give default_tls_container_ref instead")
    assert fake.writes() == []


def test_a_refused_secret_stops_before_octavia(run_module, fake, barbican):
    build(fake, lb())

    class Forbidden(Exception):
        status_code = 403

    barbican.failures.append(Forbidden("403 Forbidden: secret creation attempt not allowed"))
    failed = run_module(listener, https(default_tls_certificate=material().bundle(A)), expect_fail=True)
    assert "default_tls_certificate: the key manager did not store secret octavia-lbaas-cert-" in failed["msg"]
    assert "not allowed" in failed["msg"] and fake.writes() == [] and not failed["changed"]


def test_an_existing_secret_with_that_content_is_reused(run_module, fake, barbican):
    build(fake, lb())
    value = tls_material.check("bundle", material().bundle(A), "x")
    name = tls_material.secret_name("bundle", value)
    made = barbican.create_secret(**tls_material.secret("bundle", value, name))
    barbican.log.clear()
    run_module(listener, https(default_tls_certificate=material().bundle(A)))
    assert barbican.creates() == [] and the_listener(fake)["default_tls_container_ref"] == made.secret_ref


def _no_log_paths(spec, path=""):
    out = {}
    for name, opt in spec.items():
        full = "%s.%s" % (path, name) if path else name
        if "no_log" in opt:
            out[full] = opt["no_log"]
        out.update(_no_log_paths(opt.get("options") or {}, full))
    return out


def test_private_keys_and_passphrases_are_no_log():
    marked = {}
    for module in (listener, pool, loadbalancer):
        cls = next(c for c in vars(module).values() if isinstance(c, type) and c.__module__ == module.__name__)
        marked.update({"%s:%s" % (module.__name__.rsplit(".", 1)[-1], k): v
                       for k, v in _no_log_paths(cls.argument_spec).items() if k.endswith(("private_key", "passphrase"))})
    for where in ("listener:default_tls_certificate", "listener:sni_certificates", "pool:tls_certificate",
                  "loadbalancer:listeners.default_tls_certificate", "loadbalancer:listeners.sni_certificates",
                  "loadbalancer:pools.tls_certificate"):
        assert marked["%s.private_key" % where] is True and marked["%s.passphrase" % where] is True


def test_the_key_is_in_no_result(run_module, fake, barbican):
    build(fake, lb())
    m = material()
    key = encrypted(m.keys[A], "pw-for-the-key")
    args = https(default_tls_certificate=m.bundle(A, private_key=key, passphrase="pw-for-the-key"))
    results = [run_module(listener, args, check=True, diff=True), run_module(listener, args, diff=True),
               run_module(listener, args, diff=True)]
    text = json.dumps(results)
    assert not key_material_in(text) and "pw-for-the-key" not in text and key.splitlines()[1] not in text
    assert not key_material_in(json.dumps(fake.log))


def test_without_cryptography_the_task_fails_before_any_call(run_module, fake, barbican, monkeypatch):
    monkeypatch.setattr(tls_material, "HAS_CRYPTOGRAPHY", False)
    failed = run_module(listener, https(default_tls_certificate=material().bundle(A)), expect_fail=True)
    assert "cryptography" in failed["msg"] and fake.log == [] and barbican.log == []


def test_one_lookup_per_certificate(run_module, fake, barbican):
    build(fake, lb())
    m = material()
    args = https(default_tls_certificate=m.bundle(A), sni_certificates=[m.bundle(A), m.bundle(B)])
    assert run_module(listener, args)["api_calls"]["key_manager"] == {"reads": 2, "writes": 2}
    assert run_module(listener, args)["api_calls"]["key_manager"] == {"reads": 2, "writes": 0}


def test_check_mode_of_a_new_tree_stores_nothing(run_module, fake, barbican):
    args = lb(listeners=[{"protocol": "TERMINATED_HTTPS", "protocol_port": 443,
                          "default_tls_certificate": material().bundle(A)}])
    checked = run_module(loadbalancer, args, check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and barbican.creates() == []
    assert checked["actions"][0].startswith("store secret octavia-lbaas-cert-")
    assert checked["diff"]["after"]["listeners"][0]["default_tls_container_ref"].startswith("(new Barbican secret ")
    real = run_module(loadbalancer, args)
    assert real["actions"] == checked["actions"] and len(barbican.creates()) == 1
