"""Issue 13: inputs Octavia 19 refuses (octavia/api/v2/types/*.py, octavia/common/validate.py,
the amphora provider driver) or that would be silently wrong are refused before any API
call, each with a message naming the field. Every case here was accepted before."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_validate, lbaas_vip
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.modules import listener, loadbalancer, member, pool

from lbaas_data import tree


def _l80(t):
    return t["listeners"][0]


def _path_rule(t):
    return t["listeners"][0]["l7policies"][0]["rules"][0]


def _header_rule(t):
    return t["listeners"][0]["l7policies"][1]["rules"][0]


def _web(t):
    return t["pools"][0]


def _set(getter, **values):
    def change(t):
        getter(t).update(values)
    return change


def _udp_pool(**sp):
    def change(t):
        t["pools"].append({"name": "dns", "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": sp})
    return change


TREE_CASES = [
    ("lb-name-256", lambda t: t.update(name="n" * 256), "name", "256 characters"),
    ("lb-name-empty", lambda t: t.update(name=""), "name", "must not be empty"),
    ("lb-name-blank", lambda t: t.update(name="   "), "name", "must not be empty"),
    ("lb-description-256", lambda t: t.update(description="d" * 256), "description", "at most 255"),
    ("pool-name-empty", _set(_web, name=""), "pools[0].name", "must not be empty"),
    ("pool-tag-256", _set(_web, tags=["t" * 256]), "pools[0].tags[0]", "at most 255"),
    ("listener-name-256", _set(_l80, name="l" * 256), "listeners[0].name", "at most 255"),
    ("insert-header-value-256", _set(_l80, insert_headers={"X-Forwarded-For": "x" * 256}),
     "listeners[0].insert_headers.X-Forwarded-For", "at most 255"),
    ("hsts-on-http", _set(_l80, hsts_max_age=31536000), "listeners[0].hsts_max_age", "only for TERMINATED_HTTPS"),
    ("hsts-preload-on-http", _set(_l80, hsts_max_age=None, hsts_preload=True), "listeners[0].hsts_preload",
     "only for TERMINATED_HTTPS"),
    ("tls-versions-on-http", _set(_l80, tls_versions=["TLSv1.2"]), "listeners[0].tls_versions", "only TERMINATED_HTTPS"),
    ("path-value-space", _set(_path_rule, value="/my api"), "listeners[0].l7policies[0].rules[0].value",
     "double quotes"),
    ("header-value-space", _set(_header_rule, value="a b"), "listeners[0].l7policies[1].rules[0].value",
     "double quotes"),
    ("cookie-value-space", _set(_header_rule, type="COOKIE", rule_key="session", value="a b"),
     "listeners[0].l7policies[1].rules[0].value", "cookie value"),
    ("cookie-value-semicolon", _set(_header_rule, type="COOKIE", rule_key="session", value="a;b"),
     "listeners[0].l7policies[1].rules[0].value", "cookie value"),
    ("rule-value-256", _set(_path_rule, value="/" + "a" * 255), "listeners[0].l7policies[0].rules[0].value",
     "at most 255"),
    ("cookie-name-space", _set(_web, session_persistence={"type": "APP_COOKIE", "cookie_name": "my cookie"}),
     "pools[0].session_persistence.cookie_name", "not a cookie name"),
    ("cookie-name-comma", _set(_web, session_persistence={"type": "APP_COOKIE", "cookie_name": "a,b"}),
     "pools[0].session_persistence.cookie_name", "not a cookie name"),
    ("granularity-not-netmask", _udp_pool(type="SOURCE_IP", persistence_granularity="/24"),
     "pools[3].session_persistence.persistence_granularity", "netmask"),
    ("pool-ciphers-space", _set(_web, tls_enabled=True, tls_ciphers="ECDHE-RSA-AES128-GCM-SHA256: AES256-SHA"),
     "pools[0].tls_ciphers", "no spaces"),
    ("pool-ciphers-newline", _set(_web, tls_enabled=True, tls_ciphers="AES256-SHA\nbind *:22"),
     "pools[0].tls_ciphers", "no spaces"),
    ("pool-ciphers-2049", _set(_web, tls_enabled=True, tls_ciphers="A" * 2049), "pools[0].tls_ciphers", "at most 2048"),
    ("pool-alpn-empty", _set(_web, tls_enabled=True, alpn_protocols=[]), "pools[0].alpn_protocols", "empty list"),
    ("pool-tls-versions-empty", _set(_web, tls_enabled=True, tls_versions=[]), "pools[0].tls_versions", "empty list"),
    ("monitor-domain", _set(lambda t: t["pools"][0]["healthmonitor"], http_version=1.1, domain_name="bad name"),
     "pools[0].healthmonitor.domain_name", "not a domain name"),
    ("redirect-url-control-char", _set(lambda t: t["listeners"][0]["l7policies"][1],
                                       redirect_url="https://www.example.com/\x01"),
     "listeners[0].l7policies[1].redirect_url", "control characters"),
    ("l7-on-tcp-listener", _set(lambda t: t["listeners"][2], l7policies=[
        {"name": "x", "action": "REJECT", "rules": [{"type": "PATH", "compare_type": "EQUAL_TO", "value": "/"}]}]),
     "listeners[2].l7policies", "only work on HTTP and TERMINATED_HTTPS"),
    ("source-ip-port-on-amphora", lambda t: (t.update(provider="amphora"), _web(t).update(lb_algorithm="SOURCE_IP_PORT")),
     "pools[0].lb_algorithm", "amphora provider does not support SOURCE_IP_PORT"),
    ("source-ip-port-on-octavia", lambda t: (t.update(provider="octavia"), _web(t).update(lb_algorithm="SOURCE_IP_PORT")),
     "pools[0].lb_algorithm", "does not support SOURCE_IP_PORT"),
    ("empty-members", _set(_web, members=[]), "pools[0].members", "allow_empty"),
    ("empty-policies", _set(_l80, l7policies=[]), "listeners[0].l7policies", "allow_empty"),
    ("empty-rules", _set(lambda t: t["listeners"][0]["l7policies"][0], rules=[]),
     "listeners[0].l7policies[0].rules", "allow_empty"),
    ("empty-listeners", lambda t: t.update(listeners=[]), "listeners", "allow_empty"),
    ("empty-pools", lambda t: t.update(pools=[], listeners=[{"protocol": "TCP", "protocol_port": 1}]), "pools",
     "allow_empty"),
]


@pytest.mark.parametrize("change, field, words", [c[1:] for c in TREE_CASES], ids=[c[0] for c in TREE_CASES])
def test_tree_input_octavia_refuses_is_refused_naming_the_field(change, field, words):
    params = tree()
    change(params)
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire_tree(params)
    mine = [e for e in err.value.extra["errors"] if e.startswith(field + ":")]
    assert mine, err.value.msg
    assert any(words in e for e in mine), mine


@pytest.mark.parametrize("params", [
    dict(tree(), allow_empty=True, pools=[dict(tree()["pools"][0], members=[])] + tree()["pools"][1:]),
    dict(tree(), listeners=[], purge_listeners=False),
    dict(tree(), pools=[dict(tree()["pools"][0], members=[], additive_only=True)] + tree()["pools"][1:]),
    dict(tree(), provider="ovn", pools=[dict(p, lb_algorithm="SOURCE_IP_PORT") for p in tree()["pools"]]),
])
def test_what_stays_allowed(params):
    """An explicit allow_empty, an empty list that purges nothing, another provider's algorithm."""
    lbaas_validate.desire_tree(params)


def test_octavia_values_that_stay_valid():
    """The other side of each rule: values Octavia accepts are not refused."""
    params = tree()
    _path_rule(params)["value"] = '"/my api"'              # a quoted value may hold spaces
    _header_rule(params).update(type="COOKIE", rule_key="session", value="abc,def")
    _web(params).update(tls_enabled=True, tls_ciphers="ECDHE-RSA-AES128-GCM-SHA256:!aNULL", alpn_protocols=["h2"],
                        session_persistence={"type": "APP_COOKIE", "cookie_name": "JSESSIONID"})
    params["pools"][0]["healthmonitor"].update(http_version=1.1, domain_name="www.example.com")
    params["name"] = "n" * 255
    lbaas_validate.desire_tree(params)


@pytest.mark.parametrize("kind, params, field, words", [
    ("listener", {"protocol": "HTTP", "protocol_port": 80, "hsts_max_age": 0}, "hsts_max_age", "TERMINATED_HTTPS"),
    ("listener", {"protocol": "TERMINATED_HTTPS", "protocol_port": 443, "default_tls_container_ref": "https://k/1",
                  "tls_ciphers": "AES256 SHA"}, "tls_ciphers", "no spaces"),
    ("listener", {"protocol": "TERMINATED_HTTPS", "protocol_port": 443, "default_tls_container_ref": "https://k/1",
                  "alpn_protocols": []}, "alpn_protocols", "empty list"),
    ("listener", {"protocol": "TCP", "protocol_port": 80, "l7policies": []}, "l7policies", "allow_empty"),
    ("pool", {"name": "", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}, "name", "must not be empty"),
    ("pool", {"name": "p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": []}, "members", "allow_empty"),
    ("l7policy", {"name": "x", "action": "REJECT", "rules": []}, "rules", "allow_empty"),
    ("l7rule", {"type": "PATH", "compare_type": "CONTAINS", "value": "a b"}, "value", "double quotes"),
    ("l7rule", {"type": "HOST_NAME", "compare_type": "EQUAL_TO", "value": "www.example.com\t"}, "value", "double quotes"),
    ("l7rule", {"type": "FILE_TYPE", "compare_type": "EQUAL_TO", "value": "j pg"}, "value", "double quotes"),
])
def test_single_object_input_octavia_refuses(kind, params, field, words):
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire(kind, params)
    assert any(e.startswith(field + ":") and words in e for e in err.value.extra["errors"]), err.value.msg


def test_regex_values_are_not_held_to_header_characters():
    lbaas_validate.desire("l7rule", {"type": "PATH", "compare_type": "REGEX", "value": "^/a b"})


def test_cidrs_against_the_vip_version():
    v = lbaas_validate.Validator()
    listeners = [{"_path": "listeners[0]", "allowed_cidrs": ["2001:db8::/64", "10.0.0.0/8"]},
                 {"_path": "listeners[1]", "allowed_cidrs": ["192.0.2.0/24"]}]
    lbaas_vip.check_cidrs_for_vip(v, listeners, ["10.1.0.5"])
    assert v.errors == ["listeners[0].allowed_cidrs: 2001:db8::/64 is an IPv6 CIDR but the load balancer's VIP is IPv4"]
    v = lbaas_validate.Validator()
    lbaas_vip.check_cidrs_for_vip(v, [{"allowed_cidrs": ["10.0.0.0/8"]}], ["2001:db8::5"])
    assert v.errors == ["allowed_cidrs: 10.0.0.0/8 is an IPv4 CIDR but the load balancer's VIP is IPv6"]
    v = lbaas_validate.Validator()     # a load balancer with VIPs of both versions takes both
    lbaas_vip.check_cidrs_for_vip(v, listeners, lbaas_vip.vip_addresses(
        {"vip_address": "10.1.0.5", "additional_vips": [{"ip_address": "2001:db8::5"}]}))
    assert v.errors == []


@pytest.mark.parametrize("address, words", [
    ("10.9.0.5", "is not in the VIP subnet (10.1.0.0/24)"),
    ("10.1.0.0", "network address"),
    ("10.1.0.255", "broadcast address"),
    ("2001:db8::5", "is not in the VIP subnet"),
])
def test_vip_address_outside_the_subnet(address, words):
    v = lbaas_validate.Validator()
    lbaas_vip.check_vip_address(v, address, [{"cidr": "10.1.0.0/24"}])
    assert len(v.errors) == 1 and v.errors[0].startswith("vip_address: ") and words in v.errors[0], v.errors


def test_vip_address_inside_the_subnet():
    v = lbaas_validate.Validator()
    lbaas_vip.check_vip_address(v, "10.1.0.7", [{"cidr": "10.2.0.0/24"}, {"cidr": "10.1.0.0/24"}])
    assert v.errors == []


@pytest.mark.parametrize("module, args, field", [
    (loadbalancer, dict(tree(), name="x" * 256), "name"),
    (loadbalancer, dict(tree(), name=""), "name"),
    (pool, {"loadbalancer": "web", "name": "web", "protocol": "HTTP", "members": []}, "members"),
    (member, {"loadbalancer": "web", "pool": "web", "members": [], "additive_only": False}, "members"),
    (listener, {"loadbalancer": "web", "protocol": "HTTP", "protocol_port": 80, "hsts_max_age": 10}, "hsts_max_age"),
])
def test_modules_refuse_before_any_call_and_report_no_change(run_module, fake, module, args, field):
    """The module fails at validation: no API call (the in-memory Octavia saw none), and
    `changed` is false."""
    result = run_module(module, args, expect_fail=True)
    assert field + ":" in result["msg"]
    assert fake.log == []
    assert result.get("changed") is not True
