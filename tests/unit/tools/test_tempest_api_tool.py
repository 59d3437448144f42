"""tools/tempest_api.py (./run tempest): tempest.conf follows the deployment's facts, and
the summary counts what ran per API resource. The run itself is
tests/integration/test_tempest_api.py."""

from __future__ import annotations

import configparser
import pathlib
import re

import tempest_api  # tools/tempest_api.py (pytest.ini's pythonpath)

OCTAVIA_CONF = """
[api_settings]
enabled_provider_drivers = amphora:The Octavia Amphora driver.
default_provider_driver = amphora
[controller_worker]
loadbalancer_topology = SINGLE
amphora_driver = amphora_noop_driver
compute_driver = compute_noop_driver
network_driver = network_noop_driver
"""
CLOUD = {
    "auth_url": "http://192.0.2.10:5000/v3", "username": "admin", "password": "s3cret%x",
    "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default",
    "region": "RegionOne", "services": ["compute", "identity", "image", "load-balancer", "network"],
    "providers": {"amphora": "The Octavia Amphora driver."}, "zones": ["nova"],
}


def _octavia(text=OCTAVIA_CONF):
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    return tempest_api.octavia_facts(parser)


def _conf(cloud=None, octavia=None):
    cloud = CLOUD if cloud is None else cloud
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(tempest_api.render_conf(cloud, octavia or _octavia(), pathlib.Path("/ws")))
    return parser


def test_noop_deployment():
    conf = _conf()
    lb = conf["load_balancer"]
    assert conf["identity"]["uri_v3"] == "http://192.0.2.10:5000/v3"
    assert conf["auth"]["admin_password"] == "s3cret%x"
    assert conf["auth"]["create_isolated_networks"] == "false"
    assert conf["network"]["project_networks_reachable"] == "true"
    assert (lb["provider"], lb["enabled_provider_drivers"]) == ("amphora", "amphora:The Octavia Amphora driver.")
    assert (lb["test_with_noop"], lb["RBAC_test_type"], lb["availability_zone"]) == ("true", "keystone_default_roles", "nova")
    # no key manager in the catalog: no TLS termination tests, no Barbican
    assert conf["loadbalancer-feature-enabled"]["terminated_tls_enabled"] == "false"
    assert conf["loadbalancer-feature-enabled"]["not_implemented_is_error"] == "true"
    assert conf["service_available"]["barbican"] == "false"


def test_noop_drivers_run_tls_tests_only_with_the_noop_cert_manager():
    """The plugin's noop path sends random UUIDs as certificate refs: a real Barbican behind
    barbican_cert_manager refuses them, the noop cert manager takes them."""
    cloud = dict(CLOUD, services=CLOUD["services"] + ["key-manager"])
    with_barbican = _conf(cloud, _octavia(OCTAVIA_CONF + "[certificates]\ncert_manager = barbican_cert_manager\n"))
    assert with_barbican["loadbalancer-feature-enabled"]["terminated_tls_enabled"] == "false"
    assert with_barbican["service_available"]["barbican"] == "true"
    with_noop = _conf(CLOUD, _octavia(OCTAVIA_CONF + "[certificates]\ncert_manager = noop_cert_manager\n"))
    assert with_noop["loadbalancer-feature-enabled"]["terminated_tls_enabled"] == "true"


def test_real_drivers_key_manager_old_policy_defaults():
    octavia = _octavia(OCTAVIA_CONF.replace("noop", "real") + "[oslo_policy]\nenforce_new_defaults = False\n")
    cloud = dict(CLOUD, services=CLOUD["services"] + ["key-manager"], zones=["az1", "az2"],
                 auth_url="http://192.0.2.10:5000")
    conf = _conf(cloud, octavia)
    lb = conf["load_balancer"]
    assert conf["identity"]["uri_v3"] == "http://192.0.2.10:5000/v3"
    assert (lb["test_with_noop"], lb["RBAC_test_type"]) == ("false", "advanced")
    assert (lb["availability_zone"], lb["availability_zone2"]) == ("az1", "az2")
    assert "availability_zone3" not in lb   # real drivers: only the zones Nova has
    assert conf["auth"]["create_isolated_networks"] == "true"
    assert conf["loadbalancer-feature-enabled"]["terminated_tls_enabled"] == "true"
    # the plugin grants this user read access to the certificates it stores
    assert lb["octavia_svc_username"] == "octavia"
    renamed = _octavia(OCTAVIA_CONF + "[service_auth]\nusername = lbaas-svc\n")
    assert _conf(cloud, renamed)["load_balancer"]["octavia_svc_username"] == "lbaas-svc"


def test_noop_fills_three_zones_with_placeholders():
    lb = _conf(dict(CLOUD, zones=[]))["load_balancer"]
    assert [lb[f"availability_zone{n}"] for n in ("", "2", "3")] == ["az-noop-1", "az-noop-2", "az-noop-3"]
    lb = _conf()["load_balancer"]
    assert [lb[f"availability_zone{n}"] for n in ("", "2", "3")] == ["nova", "az-noop-2", "az-noop-3"]


def test_summary_per_resource_and_skip_reasons():
    base = "octavia_tempest_plugin.tests.api.v2."
    results = {
        base + "test_pool.PoolAPITest.test_a[id-1]": {"status": "success", "reason": ""},
        base + "test_pool.PoolAPITest.test_b[id-2]": {"status": "skip",
                                                      "reason": "Provider 'amphora' does not support "
                                                      "SOURCE_IP_PORT (1b4e28ba-2fa1-11d2-883f-0016d3cca427)"},
        base + "test_member.MemberAPITest1.test_c[id-3]": {"status": "fail", "reason": ""},
        "setUpClass (" + base + "test_l7rule.L7RuleAPITest)": {"status": "fail", "reason": ""},
    }
    summary = tempest_api.summarize(results)
    assert summary["totals"] == {"run": 4, "passed": 1, "skipped": 1, "failed": 2}
    assert summary["per_resource"]["pool"] == {"run": 2, "passed": 1, "skipped": 1, "failed": 0}
    assert summary["per_resource"]["L7 rule"]["failed"] == 1
    assert list(summary["skip_reasons"]) == ["Provider 'amphora' does not support SOURCE_IP_PORT (<id>)"]


def test_ci_subset_selects_each_api_module():
    ids = [f"octavia_tempest_plugin.tests.api.v2.{m}.X.test_y[id-1]" for m in tempest_api.RESOURCES
           if m not in ("test_listener", "test_pool", "test_member", "test_healthmonitor")]
    assert all(re.search(tempest_api.CI_REGEX, i) for i in ids)
    assert re.search(tempest_api.CI_REGEX, "octavia_tempest_plugin.tests.api.v2.test_listener."
                     "ListenerAPITest.test_http_listener_create[id-1]")
    assert not re.search(tempest_api.CI_REGEX, "octavia_tempest_plugin.tests.api.v2.test_listener."
                         "ListenerAPITest.test_http_listener_create_no_allowed_cidrs[id-1]")
