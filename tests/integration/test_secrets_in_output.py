"""Issue 13, item 1: no secret of the test bed appears in what an operator sees with
`--diff -vvv`: site.yml (every role, in check mode, with a change that makes the
controller role render a different octavia.conf) and the load-balancer modules with the
whole clouds.yaml entry (password included) as `cloud`, failures included.

The secrets are read from where the test bed and the aio inventory keep them: the admin
password (clouds.yaml), the MariaDB and RabbitMQ admin passwords (testbed.yml), the
generated service passwords, heartbeat key and passphrases (aio/secrets, aio/pki/secrets)
and every private key under aio/ (a line of its base64 body)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import uuid

import pytest
import yaml

from playbook import ROOT

STATE = (ROOT / ".testbed").resolve()
AIO = STATE.parent / "aio"
PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "secrets_modules.yml"


def _values(data, secret=False):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _values(value, secret or any(w in str(key).lower() for w in ("password", "passphrase", "secret")))
    elif isinstance(data, list):
        for value in data:
            yield from _values(value, secret)
    elif secret and isinstance(data, str) and len(data) >= 8:
        yield data


def collect_secrets():
    found = {}
    for name in ("clouds.yaml", "testbed.yml"):
        for value in _values(yaml.safe_load((STATE / name).read_text())):
            found.setdefault(value, name)
    for path in sorted((AIO / "secrets").glob("*")):
        found[path.read_text().strip()] = f"aio/secrets/{path.name}"
    for path in sorted((AIO / "pki" / "secrets").glob("*")):
        for value in _values(yaml.safe_load(path.read_text()), secret=True):
            found[value] = f"aio/pki/secrets/{path.name}"
    for path in sorted(AIO.rglob("*")):
        if path.is_file() and path.stat().st_size < 20000:
            text = path.read_text(errors="replace")
            if "PRIVATE KEY-----" in text:
                body = [line for line in text.splitlines() if line and not line.startswith("-----")
                        and ":" not in line]
                found[body[len(body) // 2]] = f"private key {path.relative_to(AIO)}"
    return {k: v for k, v in found.items() if len(k) >= 8}


def run(args, extra_env=None, timeout=900):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}")
    env.update(extra_env or {})
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout, check=False)
    return proc, proc.stdout + proc.stderr


def leaks(output, secrets):
    return sorted({where for secret, where in secrets.items() if secret in output})


@pytest.fixture(scope="module")
def secrets():
    found = collect_secrets()
    wanted = {"clouds.yaml", "aio/secrets/keystone_octavia", "aio/secrets/heartbeat_key",
              "aio/secrets/rabbitmq_octavia", "aio/secrets/database_octavia"}
    assert wanted <= set(found.values()), sorted(set(found.values()))
    assert any(v.startswith("private key") for v in found.values())
    return found


def test_site_yml_with_diff_and_vvv_prints_no_secret(secrets):
    """Check mode changes nothing on the shared controllers; controller_debug flipped
    makes the controller role's octavia.conf differ, so its diff would be printed."""
    proc, output = run(["-i", "inventories/aio", "playbooks/site.yml", "--check", "--diff", "-vvv",
                        "-e", "controller_debug=true"])
    assert "Render octavia.conf" in output, output[-3000:]
    assert leaks(output, secrets) == []
    assert proc.returncode == 0, output[-3000:]


def test_modules_with_diff_and_vvv_print_no_secret(secrets, cloud, testbed_facts):
    clouds = yaml.safe_load((STATE / "clouds.yaml").read_text())
    entry = clouds["clouds"][testbed_facts["testbed_cloud_name"]]
    name = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    net = cloud.network.create_network(name=f"{name}-net")
    try:
        subnet = cloud.network.create_subnet(name=f"{name}-vip", network_id=net.id, ip_version=4,
                                             cidr="10.254.0.0/24")
        extra = {"cloud_entry": entry, "lb_name": name, "subnet": subnet.name}
        extra_file = pathlib.Path(f"/tmp/{name}.yml")
        extra_file.write_text(yaml.safe_dump(extra))
        extra_file.chmod(0o600)
        try:
            proc, output = run([str(PLAYBOOK), "--check", "--diff", "-vvv", "-e", f"@{extra_file}"])
        finally:
            extra_file.unlink()
        assert "Invalid credentials" in output or "401" in output, output[-3000:]
        assert "Loadbalancer (would be created)" in output
        assert leaks(output, secrets) == []
        assert proc.returncode == 0, output[-3000:]
    finally:
        cloud.network.delete_network(net, ignore_missing=True)
