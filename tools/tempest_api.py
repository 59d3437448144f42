"""Octavia's own API test suite (tempest + octavia-tempest-plugin) against the deployment.

    ./run tempest [REGEX]          default REGEX: octavia_tempest_plugin.tests.api
    ./run tempest --config-only    only (re)write tempest.conf and print it
    ./run tempest --list [REGEX]   list the tests REGEX selects, run none

1. tempest and the plugin, pinned by requirements/tempest.in and frozen with their
   dependencies in requirements/tempest.txt, go into a venv of their own,
   ~/.cache/octavia-lbaas/tempest-<sha256 of both files>; a second run finds it and installs
   nothing.
2. tempest.conf is written from the deployment, never by hand: Keystone's URL and the admin
   credentials from clouds.yaml (OS_CLIENT_CONFIG_FILE, which ./run points at the test bed's);
   the catalog (load-balancer endpoint, whether a key manager exists: without one the
   TERMINATED_HTTPS tests are skipped); Nova's availability zones; and the controller's
   octavia.conf (read with podman exec: the enabled providers and the default one, the
   drivers, the topology, the policy mode, the certificate manager (on the noop drivers the
   TLS tests need noop_cert_manager), the service user the plugin grants its certificates to). It goes into a workspace in the state dir,
   ~/.local/state/octavia-lbaas/tempest, never into the checkout.
3. tempest runs REGEX serially (concurrency 1: the machine has 2 cores, and the controllers
   are on it too), then a summary per API resource and every skip reason with its count is
   printed and written to results.json in the workspace. Exit status 1 when a test failed
   or none ran.

Environment: TEMPEST_CLOUD (cloud in clouds.yaml, default: the test bed's), OCTAVIA_CONTROLLER
(container whose octavia.conf is read, default octavia-lbaas-controller-1), TEMPEST_CONCURRENCY
(default 1). docs/conformance.md has the results and the reason of every skip.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUIREMENTS = (ROOT / "requirements" / "tempest.in", ROOT / "requirements" / "tempest.txt")
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "octavia-lbaas"
STATE = pathlib.Path(os.environ.get("XDG_STATE_HOME", pathlib.Path.home() / ".local" / "state")) / "octavia-lbaas"
WORKSPACE = pathlib.Path(os.environ.get("TEMPEST_WORKSPACE", STATE / "tempest"))
TESTBED_STATE = STATE / "testbed"
DEFAULT_REGEX = "octavia_tempest_plugin.tests.api"
# The CI subset (tests/integration/test_tempest_api.py): every test of the small modules, and
# create/list/show/update/delete of one protocol and algorithm in the big ones (members: the
# class with show/update/batch update/delete, each of which creates members); 68 tests that
# touch every API resource the plugin tests, in about 6.5 minutes on the noop drivers (most of
# it Keystone: each of the 15 test classes makes and deletes 7 projects and users).
CI_REGEX = (
    r"octavia_tempest_plugin\.tests\.api\.v2\.("
    r"test_(amphora|availability_zone|availability_zone_capabilities|availability_zone_profile|flavor"
    r"|flavor_capabilities|flavor_profile|l7policy|l7rule|load_balancer|provider)\."
    r"|test_listener\.\w+\.test_http_listener_(create|list|show|update|delete)\["
    r"|test_pool\.\w+\.test_HTTP_RR_pool_(with_listener_create|list|show|update|delete)\["
    r"|test_member\.MemberAPITest2\.test_HTTP_RR_member_(show|update|batch_update|delete)\["
    r"|test_healthmonitor\.\w+\.test_RR_HTTP_healthmonitor_(create|list|show|update|delete)\[)"
)
CONTROLLER = os.environ.get("OCTAVIA_CONTROLLER", "octavia-lbaas-controller-1")

# Test module of the plugin -> the API resource it exercises (docs/conformance.md).
RESOURCES = {
    "test_load_balancer": "load balancer",
    "test_listener": "listener",
    "test_pool": "pool",
    "test_member": "member",
    "test_healthmonitor": "health monitor",
    "test_l7policy": "L7 policy",
    "test_l7rule": "L7 rule",
    "test_amphora": "amphora",
    "test_flavor": "flavor",
    "test_flavor_profile": "flavor profile",
    "test_flavor_capabilities": "provider (flavor capabilities)",
    "test_availability_zone": "availability zone",
    "test_availability_zone_profile": "availability zone profile",
    "test_availability_zone_capabilities": "provider (AZ capabilities)",
    "test_provider": "provider",
}

# Run in the tempest venv: the last stestr run as JSON {test id: {status, reason, seconds}}.
SUBUNIT_TO_JSON = r"""
import json, sys
import subunit, testtools
out = {}
def on_test(test):
    reason = test["details"].get("reason")
    start, stop = (test["timestamps"] + [None, None])[:2]
    out[test["id"]] = {"status": test["status"],
                       "reason": reason.as_text() if reason is not None else "",
                       "seconds": round((stop - start).total_seconds(), 2) if start and stop else None}
result = testtools.StreamToDict(on_test)
result.startTestRun()
subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(result)
result.stopTestRun()
json.dump(out, sys.stdout)
"""


def log(msg):
    print(f"\033[1m==> {msg}\033[0m", file=sys.stderr, flush=True)


# --- 1. the venv -------------------------------------------------------------------------

def venv_dir():
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in REQUIREMENTS)).hexdigest()[:16]
    return CACHE / f"tempest-{digest}"


def ensure_venv():
    venv = venv_dir()
    stamp = venv / ".installed"
    if stamp.exists():
        return venv
    log(f"venv: installing tempest and octavia-tempest-plugin (pinned) into {venv}")
    for old in CACHE.glob("tempest-*"):   # venvs of earlier pins
        if old != venv:
            shutil.rmtree(old, ignore_errors=True)
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable if sys.base_prefix == sys.prefix else "python3", "-m", "venv",
                        str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["-c", str(REQUIREMENTS[1]), "-r", str(REQUIREMENTS[0])], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "check", "-q"], check=True, stdout=subprocess.DEVNULL)
    stamp.touch()
    return venv


# --- 2. the facts of the deployment and tempest.conf ---------------------------------------

def read_octavia_conf(controller=CONTROLLER):
    """The controller's octavia.conf, parsed (oslo.config's format is INI)."""
    proc = subprocess.run(["podman", "exec", controller, "cat", "/etc/octavia/octavia.conf"],
                          capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        sys.exit(f"cannot read /etc/octavia/octavia.conf on {controller}: {proc.stderr.strip()}\n"
                 "Is Octavia deployed (playbooks/site.yml)? OCTAVIA_CONTROLLER names the container.")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(proc.stdout)
    return parser


def _bool(value, default):
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def octavia_facts(conf):
    def get(section, key, default=None):
        return conf.get(section, key, fallback=default)

    drivers = {key: get("controller_worker", f"{key}_driver", "")
               for key in ("amphora", "compute", "network")}
    return {
        "enabled_provider_drivers": get("api_settings", "enabled_provider_drivers",
                                        "amphora:The Octavia Amphora driver."),
        "default_provider": get("api_settings", "default_provider_driver", "amphora"),
        "drivers": drivers,
        "noop": drivers["network"] == "network_noop_driver",
        "topology": get("controller_worker", "loadbalancer_topology", "SINGLE"),
        # oslo.policy >= 4.4 (Octavia 19 has 6.0) enforces the new defaults unless told not
        # to; it has no enforce_scope option any more (scope is always checked).
        "enforce_new_defaults": _bool(get("oslo_policy", "enforce_new_defaults"), True),
        "enforce_scope": _bool(get("oslo_policy", "enforce_scope"), True),
        "policy_file": get("oslo_policy", "policy_file"),
        # the user Octavia reads Barbican as: the plugin grants it read access (an ACL) to
        # every certificate it stores, as a tenant would
        "service_user": get("service_auth", "username", "octavia"),
        "cert_manager": get("certificates", "cert_manager", "barbican_cert_manager"),
    }


def cloud_facts(cloud_name):
    """Keystone, the catalog, Octavia's providers and Nova's AZs, as a client of the cloud."""
    import openstack

    conn = openstack.connect(cloud=cloud_name)
    try:
        conn.authorize()
    except Exception as exc:  # noqa: BLE001 (any failure here means: not reachable)
        sys.exit(f"Keystone at {conn.config.auth.get('auth_url')} does not answer: {exc}")
    services = {entry["type"] for entry in conn.service_catalog}
    if "load-balancer" not in services:
        sys.exit("the catalog has no load-balancer endpoint: Octavia is not deployed")
    providers = conn.load_balancer.get("/lbaas/providers").json()["providers"]
    zones = []
    if "compute" in services:
        zones = sorted(z.name for z in conn.compute.availability_zones()
                       if z.state.get("available") and z.name != "internal")
    auth = conn.config.auth
    facts = {
        "auth_url": auth["auth_url"], "username": auth["username"], "password": auth["password"],
        "project_name": auth["project_name"],
        "user_domain_name": auth.get("user_domain_name", "Default"),
        "project_domain_name": auth.get("project_domain_name", "Default"),
        "region": conn.config.region_name or "RegionOne",
        "services": sorted(services), "providers": {p["name"]: p["description"] for p in providers},
        "zones": zones,
    }
    conn.close()
    return facts


def render_conf(cloud, octavia, workspace):
    """tempest.conf for this deployment (a pure function of the facts, unit-tested)."""
    services = set(cloud["services"])
    key_manager = "key-manager" in services
    noop = octavia["noop"]
    # TERMINATED_HTTPS: with the noop drivers the plugin sends random UUIDs as certificate
    # references, which only Octavia's noop_cert_manager accepts (Barbican rightly finds no
    # such secret); with the real drivers it stores real certificates in Barbican.
    terminated_tls = octavia["cert_manager"] == "noop_cert_manager" if noop else key_manager
    zones = list(cloud["zones"])[:3]
    if noop:
        # The noop compute driver never asks Nova: any name is a valid compute zone, and the
        # AZ (profile) list and update tests need three.
        zones += [f"az-noop-{n}" for n in range(len(zones) + 1, 4)]
    rbac = "keystone_default_roles" if octavia["enforce_new_defaults"] else "advanced"
    auth_url = cloud["auth_url"].rstrip("/")
    uri_v3 = auth_url if auth_url.endswith("/v3") else auth_url + "/v3"
    interval = 0.5 if noop else 5
    lines = [
        "# Written by tools/tempest_api.py (./run tempest) from the deployment; rewritten on every run.",
        "[DEFAULT]",
        f"log_file = {workspace / 'tempest.log'}",
        "use_stderr = false",
        "",
        "[oslo_concurrency]",
        f"lock_path = {workspace / 'lock'}",
        "",
        "[auth]",
        "use_dynamic_credentials = true",
        f"admin_username = {cloud['username']}",
        f"admin_password = {cloud['password']}",
        f"admin_project_name = {cloud['project_name']}",
        f"admin_domain_name = {cloud['user_domain_name']}",
        f"default_credentials_domain_name = {cloud['project_domain_name']}",
        # noop drivers never touch Neutron: no network/router per test project
        f"create_isolated_networks = {str(not noop).lower()}",
        "",
        "[identity]",
        "auth_version = v3",
        f"uri_v3 = {uri_v3}",
        f"region = {cloud['region']}",
        "v3_endpoint_type = public",
        "",
        "[identity-feature-enabled]",
        "api_v2 = false",
        "api_v3 = true",
        "",
        "[service_available]",
        "load_balancer = true",
        f"nova = {str('compute' in services).lower()}",
        f"glance = {str('image' in services).lower()}",
        f"neutron = {str('network' in services).lower()}",
        f"barbican = {str(key_manager).lower()}",
        "cinder = false",
        "swift = false",
        "",
        "[network]",
        # The plugin skips every class unless the VIPs are reachable one way or the other;
        # with noop drivers nothing is reached, with real ones tempest runs on the host
        # that routes to the tenant networks.
        "project_networks_reachable = true",
        "",
        "[enforce_scope]",
        f"octavia = {str(octavia['enforce_scope']).lower()}",
        "",
        "[load_balancer]",
        f"region = {cloud['region']}",
        f"provider = {octavia['default_provider']}",
        f"enabled_provider_drivers = {octavia['enabled_provider_drivers']}",
        f"loadbalancer_topology = {octavia['topology']}",
        f"RBAC_test_type = {rbac}",
        f"octavia_svc_username = {octavia['service_user']}",
        f"test_with_noop = {str(noop).lower()}",
        "test_with_ipv6 = true",
        f"build_interval = {interval}",
        f"check_interval = {interval}",
        f"lb_build_interval = {interval}",
        # only logs each test user's roles, a dozen Keystone calls per test class
        "log_user_roles = false",
    ]
    for index, zone in enumerate(zones):
        lines.append(f"availability_zone{index + 1 if index else ''} = {zone}")
    lines += [
        "",
        "[loadbalancer-feature-enabled]",
        # The plugin's default (a 501 is a failure) is kept: only its own SOURCE_IP_PORT
        # special case turns the amphora provider's 501 into a skip.
        "not_implemented_is_error = true",
        f"terminated_tls_enabled = {str(terminated_tls).lower()}",
        "log_offload_enabled = false",
        "",
    ]
    return "\n".join(lines)


def write_workspace(venv, conf_text):
    (WORKSPACE / "etc").mkdir(parents=True, exist_ok=True)
    (WORKSPACE / "lock").mkdir(exist_ok=True)
    WORKSPACE.chmod(0o700)
    conf = WORKSPACE / "etc" / "tempest.conf"
    conf.write_text(conf_text)
    conf.chmod(0o600)   # it holds the admin password
    site = next((venv / "lib").glob("python3*/site-packages"))
    (WORKSPACE / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={site / 'tempest' / 'test_discover'}\ntop_dir={site}\n"
        "group_regex=([^\\.]*\\.)*\n")
    if not (WORKSPACE / ".stestr").is_dir():
        subprocess.run([str(venv / "bin" / "stestr"), "init"], cwd=WORKSPACE, check=True,
                       stdout=subprocess.DEVNULL)
    return conf


# --- 3. run and summarize -----------------------------------------------------------------

def tempest(venv, *args, **kwargs):
    env = dict(os.environ, TEMPEST_CONFIG_DIR=str(WORKSPACE / "etc"), TEMPEST_CONFIG="tempest.conf")
    env.pop("OS_CLIENT_CONFIG_FILE", None)
    return subprocess.run([str(venv / "bin" / "tempest"), *args], cwd=WORKSPACE, env=env, check=False,
                          **kwargs)


def resource_of(test_id):
    match = re.search(r"\.tests\.api\.v2\.(test_\w+)\.", test_id)
    return RESOURCES.get(match.group(1), match.group(1)) if match else "other"


def normalize_reason(reason):
    reason = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", reason)
    return " ".join(reason.split())[:300]


def summarize(results):
    """Counts per resource and skip reasons; results: {test id: {status, reason, seconds}}."""
    per = {}
    reasons = {}
    totals = {"run": 0, "passed": 0, "skipped": 0, "failed": 0}
    for test_id, res in sorted(results.items()):
        status = {"success": "passed", "skip": "skipped", "xfail": "passed"}.get(res["status"], "failed")
        row = per.setdefault(resource_of(test_id), {"run": 0, "passed": 0, "skipped": 0, "failed": 0})
        for bucket in (row, totals):
            bucket["run"] += 1
            bucket[status] += 1
        if status == "skipped":
            key = normalize_reason(res["reason"])
            reasons.setdefault(key, []).append(test_id)
    return {"totals": totals, "per_resource": per, "skip_reasons": reasons}


def print_summary(summary, failed_ids, seconds):
    print("\nresource                          run  pass  skip  fail")
    for name, row in sorted(summary["per_resource"].items()):
        print(f"{name:32} {row['run']:4} {row['passed']:5} {row['skipped']:5} {row['failed']:5}")
    t = summary["totals"]
    print(f"{'total':32} {t['run']:4} {t['passed']:5} {t['skipped']:5} {t['failed']:5}")
    if summary["skip_reasons"]:
        print("\nskip reasons (count: reason)")
        for reason, ids in sorted(summary["skip_reasons"].items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(ids):4}: {reason}")
    for test_id in failed_ids:
        print(f"FAILED {test_id}")
    print(f"\ntempest: {t['run']} tests in {seconds:.0f} s; results in {WORKSPACE / 'results.json'}")
    print(f"{t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run tempest", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("regex", nargs="?", default=DEFAULT_REGEX,
                        help=f"tests to run (default {DEFAULT_REGEX}; 'ci': the CI subset)")
    parser.add_argument("--config-only", action="store_true", help="write tempest.conf and print it")
    parser.add_argument("--list", action="store_true", help="list the tests the regex selects")
    args = parser.parse_args(argv)
    if args.regex == "ci":
        args.regex = CI_REGEX

    venv = ensure_venv()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(TESTBED_STATE / "clouds.yaml"))
    cloud_name = os.environ.get("TEMPEST_CLOUD", "testbed")
    octavia = octavia_facts(read_octavia_conf())
    cloud = cloud_facts(cloud_name)
    conf = write_workspace(venv, render_conf(cloud, octavia, WORKSPACE))
    if set(cloud["providers"]) != {p.split(":", 1)[0] for p in octavia["enabled_provider_drivers"].split(",")}:
        log(f"warning: the API lists providers {sorted(cloud['providers'])}, octavia.conf enables "
            f"{octavia['enabled_provider_drivers']}")
    log(f"tempest.conf: {conf} (Octavia drivers: {'noop' if octavia['noop'] else 'real'}, "
        f"provider {octavia['default_provider']}, AZs {cloud['zones'] or 'none'}, "
        f"key manager {'yes' if 'key-manager' in cloud['services'] else 'no'})")
    if args.config_only:
        print(re.sub(r"(?m)^(admin_password = ).*$", r"\1<hidden>", conf.read_text()))
        return 0
    if args.list:
        return tempest(venv, "run", "--list-tests", "--regex", args.regex).returncode

    concurrency = os.environ.get("TEMPEST_CONCURRENCY", "1")
    if (WORKSPACE / "tempest.log").exists():   # one run's log each (oslo.log appends)
        (WORKSPACE / "tempest.log").replace(WORKSPACE / "tempest.log.1")
    log(f"tempest run --regex '{args.regex}' --concurrency {concurrency}")
    started = time.monotonic()
    rc = tempest(venv, "run", "--regex", args.regex, "--concurrency", concurrency).returncode
    seconds = time.monotonic() - started
    stream = subprocess.run([str(venv / "bin" / "stestr"), "last", "--subunit"], cwd=WORKSPACE,
                            capture_output=True, check=False)
    parsed = subprocess.run([str(venv / "bin" / "python"), "-c", SUBUNIT_TO_JSON], input=stream.stdout,
                            capture_output=True, check=True)
    results = json.loads(parsed.stdout or b"{}")
    summary = summarize(results)
    failed_ids = sorted(t for t, r in results.items() if r["status"] not in ("success", "skip", "xfail"))
    (WORKSPACE / "results.json").write_text(json.dumps(
        {"regex": args.regex, "seconds": round(seconds), "tempest_rc": rc, **summary, "tests": results},
        indent=1))
    print_summary(summary, failed_ids, seconds)
    return 0 if rc == 0 and summary["totals"]["run"] and not summary["totals"]["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
