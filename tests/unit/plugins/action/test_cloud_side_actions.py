"""The action plugins of the cloud-side modules (plugins/action/*.py) and the keystone token
cache their direct execution shares (plugins/plugin_utils/direct_execution.py). Running the
tasks against the test cloud is tests/integration/test_direct_execution.py."""

from __future__ import annotations

import importlib
import os
import stat
from types import SimpleNamespace

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octavia.lbaas.plugins.module_utils import cloud
from ansible_collections.octavia.lbaas.plugins.modules import pki_certificates
from ansible_collections.octavia.lbaas.plugins.plugin_utils.direct_execution import (
    AuthCache,
    DirectExecutionAction,
    direct_module_class,
)

CLOUD_SIDE = ["keypair", "amphora_flavor", "amphora_image", "mgmt_network", "security_group",
              "health_manager_port", "health_manager_port_info", "service_identity"]


@pytest.mark.parametrize("name", CLOUD_SIDE)
def test_the_action_is_direct_execution(name):
    action = importlib.import_module("ansible_collections.octavia.lbaas.plugins.action.%s" % name)
    module = importlib.import_module("ansible_collections.octavia.lbaas.plugins.modules.%s" % name)
    assert issubclass(action.ActionModule, DirectExecutionAction)
    # the action swaps CloudModule's AnsibleModule: the module must be built on it
    assert any(isinstance(value, type) and issubclass(value, cloud.CloudModule) and value is not cloud.CloudModule
               for value in vars(module).values())


class Plugin:
    """keystoneauth's identity plugins keep their token as a JSON text (auth state)."""

    def __init__(self, state=None):
        self.state = state
        self.logins = 0

    def get_auth_state(self):
        return self.state

    def set_auth_state(self, state):
        self.state = state

    def login(self):
        self.logins += 1
        self.state = '{"auth_token": "token-%d"}' % self.logins


def connection(plugin):
    return SimpleNamespace(session=SimpleNamespace(auth=plugin))


ARGS = {"cloud": "devstack-admin", "auth": None, "interface": "public"}


def test_a_second_task_restores_the_first_ones_token(tmp_path):
    first = AuthCache(dict(ARGS), str(tmp_path))
    plugin = Plugin()
    first.restore(connection(plugin))
    assert plugin.state is None          # nothing kept yet: this task logs in
    plugin.login()
    first.save()
    kept = list(tmp_path.iterdir())
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    second = AuthCache(dict(ARGS), str(tmp_path))
    again = Plugin()
    second.restore(connection(again))
    assert again.state == '{"auth_token": "token-1"}' and again.logins == 0


def test_an_unchanged_token_is_not_written_again(tmp_path):
    first = AuthCache(dict(ARGS), str(tmp_path))
    plugin = Plugin()
    first.restore(connection(plugin))
    plugin.login()
    first.save()
    path = first.path
    os.utime(path, (0, 0))
    second = AuthCache(dict(ARGS), str(tmp_path))
    second.restore(connection(Plugin()))
    second.save()
    assert os.stat(path).st_mtime == 0
    assert len(list(tmp_path.iterdir())) == 1


def test_other_connection_options_or_environment_get_their_own_token(tmp_path, monkeypatch):
    paths = {AuthCache(dict(ARGS), str(tmp_path)).path,
             AuthCache(dict(ARGS, cloud="other"), str(tmp_path)).path,
             AuthCache(dict(ARGS, auth={"password": "secret"}), str(tmp_path)).path}
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", "/elsewhere/clouds.yaml")
    paths.add(AuthCache(dict(ARGS), str(tmp_path)).path)
    assert len(paths) == 4
    # the file name is a hash: no option value (a password) shows in it
    assert not any("secret" in p or "devstack" in p for p in paths)


def test_no_token_no_file_and_no_directory_no_error(tmp_path):
    cache = AuthCache(dict(ARGS), str(tmp_path))
    cache.restore(connection(Plugin()))
    cache.save()
    assert list(tmp_path.iterdir()) == []
    gone = AuthCache(dict(ARGS), str(tmp_path / "removed"))
    plugin = Plugin()
    gone.restore(connection(plugin))
    plugin.login()
    gone.save()                           # ansible-playbook removed its directory: nothing kept
    assert not (tmp_path / "removed").exists()


def test_a_connection_without_an_identity_plugin_is_left_alone(tmp_path):
    cache = AuthCache(dict(ARGS), str(tmp_path))
    conn = SimpleNamespace(session=SimpleNamespace(auth=object()))
    cache.restore(conn)
    cache.save()
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_token_means_a_new_login(tmp_path):
    cache = AuthCache(dict(ARGS), str(tmp_path))
    with open(cache.path, "w", encoding="utf-8") as stream:
        stream.write("not json")

    class Strict(Plugin):
        def set_auth_state(self, state):
            raise ValueError(state)

    plugin = Strict()
    cache.restore(connection(plugin))
    assert plugin.state is None and cache.restored is None


def test_cloud_module_restores_through_the_cache(monkeypatch):
    """CloudModule._connect hands each new connection to the cache direct execution set."""
    made = []

    class Cache:
        def restore(self, conn):
            made.append(conn)

    conn = connection(Plugin())
    monkeypatch.setattr(cloud.openstack, "connect", lambda **kwargs: conn)
    monkeypatch.setattr(cloud.CloudModule, "auth_cache", Cache())
    module = cloud.CloudModule.__new__(cloud.CloudModule)
    module.params = {"cloud": "devstack-admin", "interface": "public"}
    module.ansible = SimpleNamespace(fail_json=lambda **kw: pytest.fail(kw["msg"]))
    assert module._connect() is conn and made == [conn]


# --- modules on ansible's own AnsibleModule ------------------------------------------------

OWN_ANSIBLE_MODULE = ["pki_certificates", "rabbitmq_account"]


@pytest.mark.parametrize("name", OWN_ANSIBLE_MODULE)
def test_modules_on_ansibles_class_are_direct_execution_too(name):
    action = importlib.import_module("ansible_collections.octavia.lbaas.plugins.action.%s" % name)
    module = importlib.import_module("ansible_collections.octavia.lbaas.plugins.modules.%s" % name)
    assert issubclass(action.ActionModule, DirectExecutionAction)
    # direct_module_class swaps the module's own name for the class: it must be ansible's
    assert module.AnsibleModule is AnsibleModule


def test_a_module_on_ansibles_class_runs_in_process_and_gets_its_class_back(tmp_path):
    """pki_certificates' main() in this process: its arguments come from the action, its
    result is recorded instead of printed, the files are written, and the module's
    AnsibleModule name is ansible's class again afterwards."""
    cert, key = tmp_path / "ca.crt", tmp_path / "ca.key"
    args = {"certificates": [{"name": "ca", "cert_path": str(cert), "key_path": str(key), "key_type": "ECC",
                              "common_name": "test CA", "ca": True, "days": 2}],
            "_ansible_check_mode": False, "_ansible_tmpdir": str(tmp_path)}
    recorded = []
    with direct_module_class(pki_certificates, args, recorded):
        assert pki_certificates.AnsibleModule is not AnsibleModule
        with pytest.raises(SystemExit):
            pki_certificates.main()
    assert pki_certificates.AnsibleModule is AnsibleModule
    assert cloud.CloudModule.ansible_module_class is AnsibleModule
    assert len(recorded) == 1 and recorded[0]["changed"] is True, recorded
    assert cert.exists() and key.exists()
