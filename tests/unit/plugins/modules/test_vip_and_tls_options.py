"""Issue 16 item 3, on the in-memory Octavia (which applies Octavia's rules for these
options: tests/unit/fake_octavia_rules.py): the load balancer's vip_sg_ids,
vip_qos_policy_id and additional_vips, and the TLS options of listeners and pools.
Each family: create, update, no-op (no write), check mode with diff, and a bad input
refused before any API call."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.modules import listener, loadbalancer, pool

from lbaas_data import SUBNET, UUID_A, UUID_B, UUID_C, build

SUBNET_2 = "22222222-3333-4444-5555-666666666666"
REF = "https://barbican.example.com/v1/containers/%s"
CERT, SNI, CA, CRL = (REF % n for n in ("cert", "sni", "ca", "crl"))


def lb(**extra):
    return dict({"name": "web", "vip_subnet": SUBNET}, **extra)


def lb_body(fake, method):
    return [entry[2]["loadbalancer"] for entry in fake.writes() if entry[0] == method and entry[1].startswith("/lbaas/loadbalancers")]


def change_cycle(run_module, fake, module, args, changed_args):
    """Create, re-run (no write), then a change: check mode (diff, no write), real (one write), re-run."""
    created = run_module(module, args)
    assert created["changed"]
    fake.log.clear()
    assert not run_module(module, args)["changed"] and fake.writes() == []
    checked = run_module(module, changed_args, check=True, diff=True)
    assert checked["changed"] and fake.writes() == [] and checked["diff"]["before"] != checked["diff"]["after"]
    real = run_module(module, changed_args, diff=True)
    assert real["changed"] and real["actions"] == checked["actions"] and len(fake.writes()) == 1
    assert real["diff"]["after"] == checked["diff"]["after"]
    fake.log.clear()
    assert not run_module(module, changed_args)["changed"] and fake.writes() == []
    return checked


# -- the load balancer's VIP options --------------------------------------------------------

def test_vip_sg_ids_create_update_clear(run_module, fake):
    checked = change_cycle(run_module, fake, loadbalancer, lb(vip_sg_ids=[UUID_A]), lb(vip_sg_ids=[UUID_B, UUID_A]))
    assert checked["diff"]["before"]["vip_sg_ids"] == [UUID_A]
    assert sorted(checked["diff"]["after"]["vip_sg_ids"]) == sorted([UUID_A, UUID_B])
    lb_id = next(iter(fake.lbs))
    assert sorted(fake.lbs[lb_id]["vip_sg_ids"]) == sorted([UUID_A, UUID_B])
    fake.log.clear()
    cleared = run_module(loadbalancer, lb(vip_sg_ids=[]))
    assert cleared["changed"] and lb_body(fake, "PUT") == [{"vip_sg_ids": []}]
    assert fake.lbs[lb_id]["vip_sg_ids"] == []
    # the order does not matter, and leaving the option out changes nothing
    fake.log.clear()
    assert not run_module(loadbalancer, lb())["changed"] and fake.writes() == []


@pytest.mark.parametrize("args, words", [
    (lb(vip_sg_ids=["default"]), "vip_sg_ids[0]: 'default' is not an ID"),
    (lb(vip_sg_ids=[UUID_A], listeners=[{"protocol": "TCP", "protocol_port": 22, "allowed_cidrs": ["192.0.2.0/24"]}]),
     "listeners[0].allowed_cidrs: cannot be used with the load balancer's vip_sg_ids"),
])
def test_vip_sg_ids_bad_input_fails_before_any_call(run_module, fake, args, words):
    failed = run_module(loadbalancer, args, expect_fail=True)
    assert words in failed["msg"] and fake.log == []


def test_vip_sg_ids_refuse_allowed_cidrs_of_the_listener_module(run_module, fake):
    lb_id = build(fake, lb(vip_sg_ids=[UUID_A]))
    failed = run_module(listener, {"loadbalancer": "web", "protocol": "TCP", "protocol_port": 22,
                                   "allowed_cidrs": ["192.0.2.0/24"]}, expect_fail=True)
    assert "allowed_cidrs: cannot be used with the load balancer's vip_sg_ids (%s)" % UUID_A in failed["msg"]
    assert fake.writes() == []
    # and the other way round: SGs for a load balancer whose kept listener has allowed_cidrs
    fake.lbs[lb_id]["vip_sg_ids"] = []
    run_module(listener, {"loadbalancer": "web", "protocol": "TCP", "protocol_port": 22, "allowed_cidrs": ["192.0.2.0/24"]})
    fake.log.clear()
    failed = run_module(loadbalancer, lb(vip_sg_ids=[UUID_A]), expect_fail=True)
    assert "listener TCP:22.allowed_cidrs: cannot be used with the load balancer's vip_sg_ids" in failed["msg"]
    assert fake.writes() == []


def test_vip_qos_policy_create_update_remove(run_module, fake):
    checked = change_cycle(run_module, fake, loadbalancer, lb(vip_qos_policy_id=UUID_A), lb(vip_qos_policy_id=UUID_B))
    assert (checked["diff"]["before"]["vip_qos_policy_id"],
            checked["diff"]["after"]["vip_qos_policy_id"]) == (UUID_A, UUID_B)
    lb_id = next(iter(fake.lbs))
    fake.log.clear()
    removed = run_module(loadbalancer, lb(vip_qos_policy_id=""), check=True, diff=True)
    assert removed["changed"] and fake.writes() == []
    removed = run_module(loadbalancer, lb(vip_qos_policy_id=""))
    assert removed["changed"] and lb_body(fake, "PUT") == [{"vip_qos_policy_id": None}]   # Octavia removes it with null
    assert fake.lbs[lb_id]["vip_qos_policy_id"] is None
    fake.log.clear()
    assert not run_module(loadbalancer, lb(vip_qos_policy_id=""))["changed"] and fake.writes() == []


def test_vip_qos_policy_bad_input_fails_before_any_call(run_module, fake):
    failed = run_module(loadbalancer, lb(vip_qos_policy_id="gold"), expect_fail=True)
    assert "vip_qos_policy_id: 'gold' is not an ID" in failed["msg"] and fake.log == []


def test_additional_vips_are_create_only(run_module, fake):
    args = lb(additional_vips=[{"subnet_id": SUBNET_2}])
    checked = run_module(loadbalancer, args, check=True, diff=True)
    assert checked["changed"] and fake.writes() == []
    assert checked["diff"]["after"]["additional_vips"] == [{"subnet_id": SUBNET_2, "ip_address": None}]
    created = run_module(loadbalancer, args)
    assert created["changed"] and lb_body(fake, "POST")[0]["additional_vips"] == [{"subnet_id": SUBNET_2}]
    fake.log.clear()
    # Octavia picked the address: a task that names none is satisfied, one that names it too
    assert not run_module(loadbalancer, args)["changed"] and fake.writes() == []
    picked = fake.lbs[created["id"]]["additional_vips"][0]["ip_address"]
    assert not run_module(loadbalancer, lb(additional_vips=[{"subnet_id": SUBNET_2, "ip_address": picked}]))["changed"]
    refused = run_module(loadbalancer, lb(additional_vips=[{"subnet_id": SUBNET_2, "ip_address": "198.51.100.99"}]),
                         expect_fail=True)
    assert "Cannot change additional_vips of load balancer web" in refused["msg"]
    assert "delete the load balancer and create it again" in refused["msg"] and fake.writes() == []


@pytest.mark.parametrize("vips, words", [
    ([{"subnet_id": SUBNET_2}, {"subnet_id": SUBNET_2}], "additional_vips[1].subnet_id: subnet %s is already used by "
                                                         "additional_vips[0].subnet_id" % SUBNET_2),
    ([{"subnet_id": SUBNET}], "is already used by vip_subnet"),
    ([{"ip_address": "198.51.100.5"}], "missing required arguments: subnet_id found in additional_vips"),
    ([{"subnet_id": SUBNET_2, "ip_address": "not-an-ip"}], "additional_vips[0].ip_address: 'not-an-ip' is not an IP"),
    ([{"subnet_id": SUBNET_2, "port": 1}], "Unsupported parameters for (basic.py) module: additional_vips.port"),
])
def test_additional_vips_bad_input_fails_before_any_call(run_module, fake, vips, words):
    failed = run_module(loadbalancer, lb(additional_vips=vips), expect_fail=True)
    assert words in failed["msg"] and fake.log == []


# -- listener TLS ---------------------------------------------------------------------------

def https_listener(**extra):
    return dict({"loadbalancer": "web", "protocol": "TERMINATED_HTTPS", "protocol_port": 443,
                 "default_tls_container_ref": CERT}, **extra)


def test_listener_tls_options_create_update_noop(run_module, fake):
    build(fake)
    args = https_listener(sni_container_refs=[SNI], client_authentication="OPTIONAL", client_ca_tls_container_ref=CA,
                          tls_versions=["TLSv1.2", "TLSv1.3"], tls_ciphers="ECDHE-RSA-AES256-GCM-SHA384",
                          alpn_protocols=["h2", "http/1.1"], hsts_max_age=31536000)
    changed = dict(args, client_authentication="MANDATORY", client_crl_container_ref=CRL, tls_versions=["TLSv1.3"],
                   alpn_protocols=["http/1.1", "h2"], hsts_include_subdomains=True, hsts_preload=True)
    checked = change_cycle(run_module, fake, listener, args, changed)
    assert sorted(checked["plan"][0]["changes"]) == ["alpn_protocols", "client_authentication", "client_crl_container_ref",
                                                     "hsts_include_subdomains", "hsts_preload", "tls_versions"]
    stored = next(li for li in fake.listeners.values() if li["protocol_port"] == 443)
    assert stored["alpn_protocols"] == ["http/1.1", "h2"] and stored["client_crl_container_ref"] == CRL


@pytest.mark.parametrize("args, words", [
    (https_listener(default_tls_container_ref=None), "a TERMINATED_HTTPS listener needs a certificate"),
    (dict(https_listener(), protocol="HTTP", protocol_port=8443), "certificates are only allowed on TERMINATED_HTTPS"),
    (https_listener(client_authentication="MANDATORY"), "client_authentication MANDATORY needs a client CA"),
    (https_listener(client_crl_container_ref=CRL), "a revocation list needs client_ca_tls_container_ref"),
    (https_listener(client_authentication="SOMETIMES"), "client_authentication must be one of: NONE, OPTIONAL, MANDATORY, got: SOMETIMES"),
    (https_listener(tls_versions=["TLSv1.4"]), "tls_versions must be one or more of: SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3. Got no match for: TLSv1.4"),
    (https_listener(tls_versions=[]), "tls_versions: must not be an empty list"),
    (https_listener(alpn_protocols=["spdy/3"]), "alpn_protocols must be one or more of: h2, http/1.1, http/1.0. Got no match for: spdy/3"),
    (https_listener(tls_ciphers="AES 256"), "tls_ciphers: 'AES 256' is not an OpenSSL cipher string"),
    (https_listener(hsts_preload=True), "hsts_include_subdomains and hsts_preload need hsts_max_age"),
    ({"loadbalancer": "web", "protocol": "HTTP", "protocol_port": 8443, "hsts_max_age": 10},
     "HSTS is only for TERMINATED_HTTPS listeners, not HTTP"),
    ({"loadbalancer": "web", "protocol": "HTTP", "protocol_port": 8443, "client_ca_tls_container_ref": CA},
     "client_ca_tls_container_ref: certificates are only allowed on TERMINATED_HTTPS listeners"),
])
def test_listener_tls_bad_input_fails_before_any_call(run_module, fake, args, words):
    failed = run_module(listener, args, expect_fail=True)
    assert words in failed["msg"] and fake.log == []


def test_the_fake_refuses_what_octavia_refuses(fake):
    """The fake is strict, so a module that let these through would fail its test."""
    lb_id = build(fake, lb(vip_sg_ids=[UUID_C]))
    proxy = fake.load_balancer
    cases = [
        ("/lbaas/listeners", {"listener": {"loadbalancer_id": lb_id, "protocol": "TERMINATED_HTTPS", "protocol_port": 443}},
         "must be provided for TERMINATED_HTTPS"),
        ("/lbaas/listeners", {"listener": {"loadbalancer_id": lb_id, "protocol": "TCP", "protocol_port": 22,
                                           "allowed_cidrs": ["192.0.2.0/24"]}}, "custom VIP Security Groups"),
        ("/lbaas/pools", {"pool": {"loadbalancer_id": lb_id, "name": "x", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                                   "crl_container_ref": CRL}}, "CA certificate reference is required"),
        ("/lbaas/pools", {"pool": {"loadbalancer_id": lb_id, "name": "x", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                                   "tls_enabled": True, "tls_versions": ["TLSv9"]}}, "Invalid TLS versions"),
    ]
    for path, body, words in cases:
        answer = proxy.request(path, "POST", json=body)
        assert answer.status_code == 400 and words in answer.text, (path, answer.text)
    answer = proxy.request("/lbaas/loadbalancers/%s" % lb_id, "PUT", json={"loadbalancer": {"vip_qos_policy_id": ""}})
    assert answer.status_code == 400
    answer = proxy.request("/lbaas/loadbalancers/%s" % lb_id, "PUT",
                           json={"loadbalancer": {"additional_vips": [{"subnet_id": SUBNET_2}]}})
    assert answer.status_code == 400


# -- pool TLS -------------------------------------------------------------------------------

def tls_pool(**extra):
    return dict({"loadbalancer": "web", "name": "backend-tls", "protocol": "HTTPS", "lb_algorithm": "ROUND_ROBIN",
                 "tls_enabled": True}, **extra)


def test_pool_tls_options_create_update_noop(run_module, fake):
    build(fake)
    args = tls_pool(tls_container_ref=CERT, ca_tls_container_ref=CA, tls_versions=["TLSv1.2"],
                    tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256", alpn_protocols=["http/1.1"])
    changed = dict(args, crl_container_ref=CRL, tls_versions=["TLSv1.2", "TLSv1.3"], alpn_protocols=["h2", "http/1.1"],
                   tls_ciphers="ECDHE-ECDSA-AES256-GCM-SHA384")
    checked = change_cycle(run_module, fake, pool, args, changed)
    assert checked["diff"]["before"]["tls_versions"] == ["TLSv1.2"]
    assert checked["diff"]["after"]["crl_container_ref"] == CRL
    stored = next(p for p in fake.pools.values() if p["name"] == "backend-tls")
    assert stored["alpn_protocols"] == ["h2", "http/1.1"] and stored["crl_container_ref"] == CRL
    fake.log.clear()
    off = run_module(pool, dict(changed, tls_enabled=False))
    assert off["changed"] and fake.writes()[0][2] == {"pool": {"tls_enabled": False}}


@pytest.mark.parametrize("extra, words", [
    ({"crl_container_ref": CRL}, "crl_container_ref: a revocation list needs ca_tls_container_ref"),
    ({"tls_versions": ["TLSv2"]}, "tls_versions must be one or more of: SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3. Got no match for: TLSv2"),
    ({"alpn_protocols": []}, "alpn_protocols: must not be an empty list"),
    ({"alpn_protocols": ["h3"]}, "alpn_protocols must be one or more of: h2, http/1.1, http/1.0. Got no match for: h3"),
    ({"tls_ciphers": "A B"}, "tls_ciphers: 'A B' is not an OpenSSL cipher string"),
    ({"protocol": "UDP", "name": "dns"}, "tls_enabled: UDP pools do not support TLS"),
])
def test_pool_tls_bad_input_fails_before_any_call(run_module, fake, extra, words):
    failed = run_module(pool, tls_pool(**extra), expect_fail=True)
    assert words in failed["msg"] and fake.log == []
