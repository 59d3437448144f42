"""Issue 13, item 3: values in octavia.conf are written so that oslo.config reads them back
as given. oslo.config interpolates `$name`, so a `$` in a password became another
option's value (or a failure); a line break ended the value and injected a new option.
Now `$` is written `$$` and a line break fails the rendering, naming the option.

The controller role's real template is rendered by Ansible; the file is read back by the
real oslo.config of Octavia's venv on a controller container (copied to its /tmp and
removed; the controller's own configuration is not touched)."""

from __future__ import annotations

import json
import subprocess
import uuid

from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "oslo_render.yml"
CONTROLLER = "octavia-lbaas-controller-1"
READER = """
import json, sys
from oslo_config import cfg
conf = cfg.ConfigOpts()
conf.register_opts([cfg.StrOpt("transport_url")])
conf.register_opts([cfg.StrOpt("password")], group="service_auth")
conf.register_opts([cfg.StrOpt("connection")], group="database")
conf.register_opts([cfg.StrOpt("heartbeat_key")], group="health_manager")
conf.register_opts([cfg.StrOpt("ca_private_key_passphrase")], group="certificates")
conf.register_opts([cfg.StrOpt("default_listener_ciphers"), cfg.BoolOpt("debug")], group="api_settings")
conf.register_opts([cfg.BoolOpt("injected", default=False)], group="service_auth")
conf(args=[], default_config_files=[sys.argv[1]])
print(json.dumps({"password": conf.service_auth.password, "transport_url": conf.transport_url,
                  "connection": conf.database.connection, "heartbeat_key": conf.health_manager.heartbeat_key,
                  "passphrase": conf.certificates.ca_private_key_passphrase,
                  "override": conf.api_settings.default_listener_ciphers,
                  "injected": conf.service_auth.injected}))
"""


def _values(**override):
    values = {"controller_keystone_password": "pa$word${debug}$$x",
              "controller_transport_url": "rabbit://octavia:p%24ss@10.0.0.1:5672/",
              "controller_database_url": "mysql+pymysql://octavia:a$b@10.0.0.2/octavia",
              "controller_heartbeat_key": "$heartbeat", "controller_ca_key_passphrase": "pass$phrase",
              "controller_server_certs_key_passphrase": "pass$phrase",
              "controller_keystone_url": "http://keystone.example:5000"}
    values.update(override)
    values["controller_config_overrides"] = {"api_settings": {"default_listener_ciphers": "ECDHE$AES"}}
    return values


def read_back(path):
    remote = f"/tmp/oslo-values-{uuid.uuid4().hex[:8]}.conf"
    subprocess.run(["podman", "cp", str(path), f"{CONTROLLER}:{remote}"], check=True)
    try:
        proc = subprocess.run(["podman", "exec", "-i", CONTROLLER, "/opt/octavia/bin/python", "-", remote],
                              input=READER, capture_output=True, text=True, check=False, timeout=60)
    finally:
        subprocess.run(["podman", "exec", CONTROLLER, "rm", "-f", remote], check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_dollar_signs_are_read_back_as_given(tmp_path):
    out = tmp_path / "octavia.conf"
    values = _values()
    run = run_playbook(PLAYBOOK, extra_vars=dict(values, out=str(out)))
    assert run.rc == 0, run.failed_messages() or run.stderr[-2000:]
    assert read_back(out) == {"password": values["controller_keystone_password"],
                              "transport_url": values["controller_transport_url"],
                              "connection": values["controller_database_url"],
                              "heartbeat_key": values["controller_heartbeat_key"],
                              "passphrase": values["controller_ca_key_passphrase"], "override": "ECDHE$AES",
                              "injected": False}


def test_a_line_break_fails_naming_the_option_and_writes_nothing(tmp_path):
    out = tmp_path / "octavia.conf"
    bad = _values(controller_keystone_password="secret\ninjected = true")
    run = run_playbook(PLAYBOOK, extra_vars=dict(bad, out=str(out)))
    assert run.rc != 0
    # no_log hides the task's message; the rendering failed before the file was written
    assert not out.exists()
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                           "import sys; sys.path.insert(0, 'plugins/filter'); import oslo; "
                           "oslo.oslo_value('a\\nb', 'controller_keystone_password')"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert "controller_keystone_password has a line break" in proc.stderr
    assert "a\\nb" not in proc.stderr
