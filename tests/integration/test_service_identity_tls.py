"""Issue 13, item 5: service_identity checks the password over the task's own TLS settings.

Keystone is reached through a TLS proxy (its certificate signed by a CA made here, given as
the cloud's `cacert`). The password check used to drop the CA bundle: its login failed
verification, the module took that for a wrong password and reset it on every run."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest
import yaml

from playbook import ROOT, run_playbook
from tls_proxy import make_ca, tls_proxy

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "service_identity.yml"


@pytest.fixture
def tls_cloud(tmp_path, testbed_facts):
    clouds = yaml.safe_load((ROOT / ".testbed" / "clouds.yaml").read_text())
    entry = clouds["clouds"][testbed_facts["testbed_cloud_name"]]
    upstream = urllib.parse.urlsplit(entry["auth"]["auth_url"])
    ca = make_ca(tmp_path)
    server = tls_proxy(tmp_path, f"{upstream.scheme}://{upstream.netloc}")
    tls = dict(entry, cacert=str(ca), auth=dict(entry["auth"], auth_url=f"https://127.0.0.1:{server.server_address[1]}"
                                                                        f"{upstream.path}"))
    path = tmp_path / "clouds.yaml"
    # two clouds, as an operator's clouds.yaml has: a check that falls back on a default
    # cloud cannot pick up the TLS one's settings by chance
    path.write_text(yaml.safe_dump({"clouds": {"tls": tls, "plain": entry}}))
    path.chmod(0o600)
    yield {"file": str(path), "region": entry.get("region_name") or testbed_facts.get("testbed_region", "RegionOne")}
    server.shutdown()


def test_password_check_over_tls_changes_nothing_on_a_rerun(cloud, tls_cloud):
    name = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    extra = {"cloud_name": "tls", "si_user": name, "si_password": uuid.uuid4().hex, "si_region": tls_cloud["region"]}
    env = {"OS_CLIENT_CONFIG_FILE": tls_cloud["file"]}
    try:
        first = run_playbook(PLAYBOOK, extra_vars=extra, env=env)
        assert first.rc == 0, first.failed_messages() or first.stderr[-2000:]
        assert first.changed() == 1
        again = run_playbook(PLAYBOOK, extra_vars=extra, env=env)
        assert again.rc == 0, again.failed_messages()
        changes = again.plays[0]["tasks"][0]["hosts"]["localhost"].get("changes")
        assert again.changed() == 0, changes
    finally:
        user = cloud.identity.find_user(name, ignore_missing=True)
        if user:
            cloud.identity.delete_user(user)
        for service in cloud.identity.services(type=name):
            for endpoint in cloud.identity.endpoints(service_id=service.id):
                cloud.identity.delete_endpoint(endpoint)
            cloud.identity.delete_service(service)
