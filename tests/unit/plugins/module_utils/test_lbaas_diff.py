"""Normalization of the task's values and of Octavia's answers, and the field diff."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_plan, lbaas_specs, lbaas_state, lbaas_validate
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError


def test_values_are_normalized():
    listener = lbaas_validate.desire("listener", {
        "protocol": "terminated_https", "protocol_port": "80", "tags": ["b", "a", "b"],
        "default_tls_container_ref": "https://kms.example/v1/containers/1",
        "insert_headers": {"X-Forwarded-For": True, "X-Forwarded-Port": "false"},
        "tls_versions": ["tlsv1.3", "TLSv1.2"], "alpn_protocols": ["http/1.1", "H2"], "admin_state_up": "yes",
    })
    assert listener["protocol"] == "TERMINATED_HTTPS"
    assert listener["protocol_port"] == 80
    assert listener["tags"] == ["a", "b"]
    assert listener["insert_headers"] == {"X-Forwarded-For": "true", "X-Forwarded-Port": "false"}
    assert listener["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert listener["alpn_protocols"] == ["http/1.1", "h2"]      # order kept: it is a preference
    assert listener["admin_state_up"] is True


def test_addresses_are_normalized():
    member = lbaas_validate.desire("member", {"address": "2001:DB8:0:0::0A", "protocol_port": 80, "monitor_address": " 10.0.0.1"})
    assert member["address"] == "2001:db8::a"
    assert member["monitor_address"] == "10.0.0.1"
    assert lbaas_specs.MEMBER.view({"address": "2001:0db8::000a", "protocol_port": 80})["address"] == "2001:db8::a"


def test_unspecified_options_never_diff():
    have = lbaas_specs.LISTENER.view({"protocol": "HTTP", "protocol_port": 80, "connection_limit": 1000, "name": "x",
                                     "timeout_client_data": 1234, "tags": ["t"]})
    want = lbaas_validate.desire("listener", {"protocol": "HTTP", "protocol_port": 80})
    assert lbaas_state.diff_fields("listener", want, have) == {}


def test_octavia_defaults_fill_missing_values():
    have = lbaas_specs.LISTENER.view({"protocol": "HTTP", "protocol_port": 80, "allowed_cidrs": None, "name": None,
                                     "insert_headers": None, "connection_limit": None})
    want = lbaas_validate.desire("listener", {"protocol": "HTTP", "protocol_port": 80, "allowed_cidrs": [], "name": "",
                                 "insert_headers": {}, "connection_limit": -1})
    assert lbaas_state.diff_fields("listener", want, have) == {}


def test_type_dependent_defaults():
    http = lbaas_specs.HEALTH_MONITOR.view({"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3})
    assert (http["http_method"], http["url_path"], http["expected_codes"]) == ("GET", "/", "200")
    tcp = lbaas_specs.HEALTH_MONITOR.view({"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3})
    assert tcp["http_method"] is None and tcp["url_path"] is None
    assert lbaas_state.diff_fields("health_monitor", lbaas_validate.desire("health_monitor", {"type": "HTTP", "url_path": "/"}), http) == {}
    policy = lbaas_specs.L7POLICY.view({"action": "REDIRECT_TO_URL", "redirect_url": "https://a.example"})
    assert policy["redirect_http_code"] == 302


def test_field_diff_reports_current_and_wanted():
    have = lbaas_specs.POOL.view({"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "tags": ["a", "b"]})
    want = lbaas_validate.desire("pool", {"name": "web", "protocol": "HTTP", "lb_algorithm": "LEAST_CONNECTIONS",
                                 "tags": ["b", "a"], "description": "web servers"})
    assert lbaas_state.diff_fields("pool", want, have) == {
        "lb_algorithm": ("ROUND_ROBIN", "LEAST_CONNECTIONS"),
        "description": ("", "web servers"),
    }


def test_ordered_lists_diff_on_order():
    have = lbaas_specs.LISTENER.view({"protocol": "TERMINATED_HTTPS", "protocol_port": 443, "alpn_protocols": ["h2", "http/1.1"]})
    want = {"alpn_protocols": ["http/1.1", "h2"]}
    assert "alpn_protocols" in lbaas_state.diff_fields("listener", want, have)


def test_session_persistence_compares_given_keys_and_can_be_removed():
    have = lbaas_specs.POOL.view({"name": "p", "protocol": "UDP", "session_persistence": {
        "type": "SOURCE_IP", "cookie_name": None, "persistence_timeout": 360, "persistence_granularity": "255.255.255.255"}})
    same = lbaas_validate.desire("pool", {"name": "p", "protocol": "UDP", "session_persistence": {"type": "SOURCE_IP"}})
    assert lbaas_state.diff_fields("pool", same, have) == {}
    removal = lbaas_validate.desire("pool", {"name": "p", "protocol": "UDP", "session_persistence": {}})
    assert lbaas_state.diff_fields("pool", removal, have)["session_persistence"][1] is None


def test_dict_options_compare_whole():
    have = lbaas_specs.LISTENER.view({"protocol": "HTTP", "protocol_port": 80,
                                     "insert_headers": {"X-Forwarded-For": "true", "X-Forwarded-Port": "true"}})
    want = lbaas_validate.desire("listener", {"protocol": "HTTP", "protocol_port": 80, "insert_headers": {"X-Forwarded-For": True}})
    assert "insert_headers" in lbaas_state.diff_fields("listener", want, have)


@pytest.mark.parametrize("kind, have, want, field", [
    ("listener", {"protocol": "HTTP", "protocol_port": 80}, {"protocol": "HTTPS", "protocol_port": 80}, "protocol"),
    ("pool", {"name": "p", "protocol": "HTTP"}, {"name": "p", "protocol": "PROXY"}, "protocol"),
    ("member", {"address": "10.0.0.1", "protocol_port": 80, "subnet_id": "a" * 32},
     {"address": "10.0.0.1", "protocol_port": 80, "subnet_id": "b" * 32}, "subnet_id"),
    ("health_monitor", {"type": "HTTP"}, {"type": "TCP"}, "type"),
    ("loadbalancer", {"name": "web", "vip_subnet_id": "s1"}, {"name": "web", "vip_subnet": "s2"}, "vip_subnet"),
])
def test_non_updatable_change_is_refused(kind, have, want, field):
    view = lbaas_specs.SPECS[kind].view(have)
    changes = lbaas_state.diff_fields(kind, want, view)
    with pytest.raises(ModuleError) as err:
        lbaas_state.refuse_immutable(kind, "the object", changes)
    assert field in err.value.msg and "the object" in err.value.msg
    assert err.value.extra["immutable_fields"] == [field]


def test_updatable_changes_pass():
    view = lbaas_specs.LISTENER.view({"protocol": "HTTP", "protocol_port": 80})
    changes = lbaas_state.diff_fields("listener", {"connection_limit": 10, "protocol": "HTTP"}, view)
    lbaas_state.refuse_immutable("listener", "listener HTTP:80", changes)
    assert changes == {"connection_limit": (-1, 10)}


def test_bodies_use_api_names_and_skip_unset():
    hm = lbaas_validate.desire("health_monitor", {"type": "HTTP", "delay": 5, "probe_timeout": 3, "max_retries": 3})
    assert lbaas_specs.HEALTH_MONITOR.body(hm) == {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3}
    rule = lbaas_validate.desire("l7rule", {"type": "HEADER", "compare_type": "EQUAL_TO", "rule_key": "X-A", "value": "1"})
    assert lbaas_specs.L7RULE.body(rule) == {"type": "HEADER", "compare_type": "EQUAL_TO", "key": "X-A", "value": "1"}
    lb = lbaas_validate.desire_tree({"name": "web", "vip_subnet": "s"})["loadbalancer"]
    assert lbaas_specs.LOADBALANCER.body(lb) == {"name": "web", "vip_subnet_id": "s"}


def test_provider_alias():
    assert lbaas_plan._provider_alias("octavia", "amphora") == "amphora"
    assert lbaas_plan._provider_alias("ovn", "amphora") == "ovn"
