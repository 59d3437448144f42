"""Every bad input is caught before any API call, with a message naming the field."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_validate
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.modules import listener, loadbalancer, member, pool

from lbaas_data import tree


def _l80(t):
    return t["listeners"][0]


def _policy(t):
    return t["listeners"][0]["l7policies"][0]


def _rule(t):
    return t["listeners"][0]["l7policies"][0]["rules"][0]


def _web(t):
    return t["pools"][0]


def _member(t):
    return t["pools"][0]["members"][0]


def _hm(t):
    return t["pools"][0]["healthmonitor"]


def _set(getter, **values):
    def change(t):
        getter(t).update(values)
    return change


def _udp_pool_and_listener(t):
    t["pools"].append({"name": "dns", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"})
    t["listeners"].append({"protocol": "UDP", "protocol_port": 53, "default_pool": "dns"})


def _udp_pool_with(monitor):
    def change(t):
        t["pools"].append({"name": "dns", "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN", "healthmonitor": monitor})
    return change


def _redirect_to_udp(t):
    t["pools"].append({"name": "dns", "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN"})
    _policy(t)["redirect_pool"] = "dns"


def _inline_unnamed(t):
    t["listeners"][2]["default_pool"] = {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}


def _defined_twice(t):
    t["listeners"][2]["default_pool"] = {"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}


def _dup_member(t):
    _web(t)["members"].append(dict(_member(t)))


def _dup_listener(t):
    t["listeners"].append({"protocol": "TCP", "protocol_port": 80})


def _dup_pool(t):
    t["pools"].append({"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"})


def _dup_policy(t):
    t["listeners"][0]["l7policies"][1]["name"] = "api"


def _too_many_rules(t):
    _policy(t)["rules"] = [{"type": "PATH", "compare_type": "EQUAL_TO", "value": "/%d" % i} for i in range(51)]


def _drop(getter, key):
    def change(t):
        getter(t).pop(key)
    return change


# (id, change of the reference tree, the field path the message must name)
BAD = [
    ("listener-port-high", _set(_l80, protocol_port=70000), "listeners[0].protocol_port"),
    ("listener-port-zero", _set(_l80, protocol_port=0), "listeners[0].protocol_port"),
    ("member-port", _set(_member, protocol_port=65536), "pools[0].members[0].protocol_port"),
    ("monitor-port", _set(_member, monitor_port=-1), "pools[0].members[0].monitor_port"),
    ("listener-protocol-enum", _set(_l80, protocol="HTTP2"), "listeners[0].protocol"),
    ("listener-protocol-pool-only", _set(_l80, protocol="PROXY"), "listeners[0].protocol"),
    ("pool-protocol-listener-only", _set(_web, protocol="TERMINATED_HTTPS"), "pools[0].protocol"),
    ("lb-algorithm", _set(_web, lb_algorithm="RANDOM"), "pools[0].lb_algorithm"),
    ("hm-type", _set(_hm, type="ICMP"), "pools[0].healthmonitor.type"),
    ("l7-action", _set(_policy, action="DROP"), "listeners[0].l7policies[0].action"),
    ("l7-rule-type", _set(_rule, type="QUERY_STRING"), "listeners[0].l7policies[0].rules[0].type"),
    ("l7-compare-type", _set(_rule, compare_type="LIKE"), "listeners[0].l7policies[0].rules[0].compare_type"),
    ("http-pool-on-udp-listener", _udp_pool_and_listener, "listeners[3].default_pool"),
    ("udp-pool-as-http-redirect", _redirect_to_udp, "listeners[0].l7policies[0].redirect_pool"),
    ("https-hm-on-udp-pool", _udp_pool_with({"type": "HTTPS", "delay": 5, "probe_timeout": 3, "max_retries": 3}),
     "pools[3].healthmonitor.type"),
    ("udp-hm-on-http-pool", _set(_hm, type="UDP-CONNECT", url_path=None), "pools[0].healthmonitor.type"),
    ("member-address", _set(_member, address="web01.example.com"), "pools[0].members[0].address"),
    ("monitor-address", _set(_member, monitor_address="10.0.0"), "pools[0].members[0].monitor_address"),
    ("terminated-https-without-cert", _set(_l80, protocol="TERMINATED_HTTPS"), "listeners[0].default_tls_container_ref"),
    ("cert-on-http-listener", _set(_l80, default_tls_container_ref="https://kms/c/1"), "listeners[0].default_tls_container_ref"),
    ("duplicate-listener-port", _dup_listener, "listeners[3]"),
    ("duplicate-member", _dup_member, "pools[0].members[10]"),
    ("duplicate-pool-name", _dup_pool, "pools[3]"),
    ("pool-defined-twice", _defined_twice, "listeners[2].default_pool"),
    ("inline-pool-without-name", _inline_unnamed, "listeners[2].default_pool.name"),
    ("undefined-pool", _set(_l80, default_pool="nope"), "listeners[0].default_pool"),
    ("member-weight", _set(_member, weight=300), "pools[0].members[0].weight"),
    ("hm-max-retries", _set(_hm, max_retries=11), "pools[0].healthmonitor.max_retries"),
    ("hm-url-path-on-tcp", _set(lambda t: t["pools"][2]["healthmonitor"], url_path="/"), "pools[2].healthmonitor.url_path"),
    ("hm-expected-codes", _set(_hm, expected_codes="2xx"), "pools[0].healthmonitor.expected_codes"),
    ("hm-url-path-relative", _set(_hm, url_path="health"), "pools[0].healthmonitor.url_path"),
    ("hm-domain-without-version", _set(_hm, domain_name="www.example.com"), "pools[0].healthmonitor.http_version"),
    ("hm-timeout-over-delay", _set(_hm, probe_timeout=10), "pools[0].healthmonitor.probe_timeout"),
    ("redirect-url-missing", _set(_policy, action="REDIRECT_TO_URL"), "listeners[0].l7policies[0].redirect_url"),
    ("reject-with-pool", _set(_policy, action="REJECT"), "listeners[0].l7policies[0].redirect_pool"),
    ("redirect-url-scheme", _set(lambda t: t["listeners"][0]["l7policies"][1], redirect_url="ftp://x.example"),
     "listeners[0].l7policies[1].redirect_url"),
    ("redirect-code", _set(lambda t: t["listeners"][0]["l7policies"][1], redirect_http_code=305),
     "listeners[0].l7policies[1].redirect_http_code"),
    ("header-rule-without-key", _drop(lambda t: t["listeners"][0]["l7policies"][1]["rules"][0], "rule_key"),
     "listeners[0].l7policies[1].rules[0].rule_key"),
    ("file-type-starts-with", _set(_rule, type="FILE_TYPE"), "listeners[0].l7policies[0].rules[0].compare_type"),
    ("bad-regex", _set(_rule, compare_type="REGEX", value="(["), "listeners[0].l7policies[0].rules[0].value"),
    ("ssl-has-cert-value", _set(_rule, type="SSL_CONN_HAS_CERT", compare_type="EQUAL_TO", value="yes"),
     "listeners[0].l7policies[0].rules[0].value"),
    ("too-many-rules", _too_many_rules, "listeners[0].l7policies[0].rules"),
    ("duplicate-policy-name", _dup_policy, "listeners[0].l7policies[1]"),
    ("tree-policy-without-name", _drop(_policy, "name"), "listeners[0].l7policies[0].name"),
    ("policy-position", _set(_policy, position=0), "listeners[0].l7policies[0].position"),
    ("headers-on-tcp-listener", _set(lambda t: t["listeners"][2], insert_headers={"X-Forwarded-For": True}),
     "listeners[2].insert_headers"),
    ("ssl-header-on-http", _set(_l80, insert_headers={"X-SSL-Client-DN": True}), "listeners[0].insert_headers"),
    ("client-auth-without-ca", _set(_l80, client_authentication="MANDATORY"), "listeners[0].client_ca_tls_container_ref"),
    ("app-cookie-without-name", _set(_web, session_persistence={"type": "APP_COOKIE"}), "pools[0].session_persistence.cookie_name"),
    ("cookie-persistence-on-udp", lambda t: t["pools"].append({"name": "dns", "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN",
                                                               "session_persistence": {"type": "HTTP_COOKIE"}}),
     "pools[3].session_persistence.type"),
    ("connection-limit", _set(_l80, connection_limit=-5), "listeners[0].connection_limit"),
    ("timeout-negative", _set(_l80, timeout_client_data=-1), "listeners[0].timeout_client_data"),
    ("allowed-cidr", _set(_l80, allowed_cidrs=["10.0.0.0/33"]), "listeners[0].allowed_cidrs[0]"),
    ("tls-version", _set(_l80, tls_versions=["TLSv9"]), "listeners[0].tls_versions[0]"),
    ("vip-address", lambda t: t.update(vip_address="192.0.2"), "vip_address"),
    ("vip-address-without-subnet", lambda t: t.update(vip_address="192.0.2.9", vip_subnet=None), "vip_address"),
    ("unknown-key", _set(_l80, protocol_prot=80), "listeners[0].protocol_prot"),
    ("missing-port", _drop(_l80, "protocol_port"), "listeners[0].protocol_port"),
    ("missing-lb-algorithm", _drop(_web, "lb_algorithm"), "pools[0].lb_algorithm"),
    ("prometheus-with-pool", _set(lambda t: t["listeners"][1], protocol="PROMETHEUS"), "listeners[1].default_pool"),
    ("member-subnet-not-id", _set(_member, subnet_id="private"), "pools[0].members[0].subnet_id"),
    ("port-not-a-number", _set(_l80, protocol_port="http"), "listeners[0].protocol_port"),
    ("bool-not-a-bool", _set(_web, admin_state_up="maybe"), "pools[0].admin_state_up"),
]


@pytest.mark.parametrize("change, field", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_tree_input_names_the_field(change, field):
    params = tree()
    change(params)
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire_tree(params)
    assert field + ":" in err.value.msg, err.value.msg
    assert err.value.extra["errors"]


def test_enough_distinct_cases():
    assert len(BAD) >= 25
    assert len({case[2] for case in BAD}) >= 25


def test_the_reference_tree_is_valid():
    desired = lbaas_validate.desire_tree(tree())
    assert [p["name"] for p in desired["pools"]] == ["web", "api", "tcp"]


@pytest.mark.parametrize("change, field", [
    (_set(lambda t: t["listeners"][0]["l7policies"][1], redirect_url="ftp://x.example"),
     "listeners[0].l7policies[1].redirect_url"),
    (_inline_unnamed, "listeners[2].default_pool.name"),
])
def test_one_message_per_problem(change, field):
    """A rejected value is not reported a second time as missing."""
    params = tree()
    change(params)
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire_tree(params)
    assert err.value.extra["errors"] == [e for e in err.value.extra["errors"] if e.startswith(field + ":")]
    assert len(err.value.extra["errors"]) == 1, err.value.msg


def test_all_problems_reported_at_once():
    params = tree()
    params["listeners"][0]["protocol_port"] = 0
    params["pools"][0]["lb_algorithm"] = "RANDOM"
    params["pools"][1]["members"][0]["address"] = "x"
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire_tree(params)
    assert "3 problems" in err.value.msg
    assert len(err.value.extra["errors"]) == 3


@pytest.mark.parametrize("kind, params, field", [
    ("listener", {"protocol": "UDP", "protocol_port": 53, "insert_headers": {"X-Forwarded-For": True}}, "insert_headers"),
    ("listener", {"protocol": "HTTP", "protocol_port": 80, "hsts_preload": True}, "hsts_max_age"),
    ("pool", {"name": "p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
              "session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 30}}, "session_persistence"),
    ("pool", {"name": "p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "crl_container_ref": "x"}, "crl_container_ref"),
    ("health_monitor", {"type": "PING", "http_method": "GET"}, "http_method"),
    ("health_monitor", {"type": "HTTP", "http_version": 1.0, "domain_name": "a.example"}, "http_version"),
    ("l7policy", {"name": "x", "action": "REDIRECT_PREFIX"}, "redirect_prefix"),
    ("l7policy", {"name": "x", "action": "REDIRECT_TO_POOL", "redirect_pool": "p", "redirect_http_code": 301},
     "redirect_http_code"),
    ("l7rule", {"type": "COOKIE", "compare_type": "EQUAL_TO", "rule_key": "bad key", "value": "v"}, "rule_key"),
    ("l7rule", {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "ok"}, "value"),
    ("l7rule", {"type": "SSL_DN_FIELD", "compare_type": "EQUAL_TO", "value": "x"}, "rule_key"),
])
def test_bad_single_object_input(kind, params, field):
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire(kind, params)
    assert field in err.value.msg


def test_bad_member_list():
    with pytest.raises(ModuleError) as err:
        lbaas_validate.desire_members([{"address": "2001:db8::1", "protocol_port": 80}, {"address": "2001:DB8:0::1", "protocol_port": 80}])
    assert "members[1]" in err.value.msg and "duplicate" in err.value.msg


@pytest.mark.parametrize("module, args, field", [
    (loadbalancer, dict(tree(), pools=[dict(tree()["pools"][0], lb_algorithm="RANDOM")]), "lb_algorithm"),
    (loadbalancer, {"name": "web", "vip_subnet": "s", "listeners": [{"protocol": "HTTP", "protocol_port": 99999}]},
     "protocol_port"),
    (listener, {"loadbalancer": "web", "protocol": "TERMINATED_HTTPS", "protocol_port": 443}, "default_tls_container_ref"),
    (pool, {"loadbalancer": "web", "name": "p", "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN",
            "healthmonitor": {"type": "PING", "delay": 5, "probe_timeout": 3, "max_retries": 3}}, "healthmonitor.type"),
    (member, {"loadbalancer": "web", "pool": "p", "address": "not-an-ip", "protocol_port": 80}, "address"),
])
def test_modules_fail_before_any_api_call(run_module, fake, module, args, field):
    result = run_module(module, args, expect_fail=True)
    assert field in result["msg"]
    assert fake.log == []
    assert result.get("api_calls", {"writes": 0, "reads": 0}) == {"writes": 0, "reads": 0}
