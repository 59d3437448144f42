"""Which tasks run inside Ansible's worker (plugins/plugin_utils/direct_execution.py).

Only the decision is tested here, on stand-ins for the task, connection and play context
Ansible would hand the action (the decision reads a few attributes of each). Running a
task each way against the real test cloud is tests/integration/test_direct_execution.py."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from ansible_collections.octavia.lbaas.plugins.plugin_utils import direct_execution
from ansible_collections.octavia.lbaas.plugins.plugin_utils.direct_execution import DirectExecutionAction


class IdentityTemplar:
    def template(self, value):
        return value


def action(transport="local", become=False, async_val=0, delegate_to=None):
    plugin = DirectExecutionAction.__new__(DirectExecutionAction)
    plugin._task = SimpleNamespace(action="octavia.lbaas.loadbalancer", delegate_to=delegate_to,
                                   async_val=async_val)
    plugin._connection = SimpleNamespace(transport=transport)
    plugin._play_context = SimpleNamespace(become=become)
    plugin._templar = IdentityTemplar()
    return plugin


OWN = {"ansible_python_interpreter": sys.executable}


def test_a_local_task_under_ansibles_python_runs_directly():
    assert action()._not_direct(dict(OWN)) is None


@pytest.mark.parametrize("value", [False, "false", "no", 0])
def test_the_switch_turns_it_off(value):
    assert "octavia_lbaas_direct_execution is false" in action()._not_direct(dict(OWN, octavia_lbaas_direct_execution=value))


@pytest.mark.parametrize("plugin, reason", [
    (action(transport="ssh"), "the connection is not local"),
    (action(transport="podman_pipelined"), "the connection is not local"),
    (action(async_val=30), "async"),
    (action(become=True), "become"),
])
def test_what_needs_a_module_process(plugin, reason):
    assert plugin._not_direct(dict(OWN)) == reason


@pytest.mark.parametrize("interpreter", [None, "/usr/bin/python3", sys.executable + "3.99", "auto_silent"])
def test_only_the_interpreter_running_ansible(interpreter):
    task_vars = {} if interpreter is None else {"ansible_python_interpreter": interpreter}
    assert "is not Ansible's own Python" in action()._not_direct(task_vars)


def test_a_delegated_task_is_judged_by_the_delegated_hosts_variables():
    delegated = {"ansible_delegated_vars": {"localhost": dict(OWN)},
                 "ansible_python_interpreter": "/usr/bin/python3"}
    assert action(delegate_to="localhost")._not_direct(delegated) is None
    delegated["ansible_delegated_vars"]["localhost"]["octavia_lbaas_direct_execution"] = False
    assert action(delegate_to="localhost")._not_direct(delegated) is not None


def test_an_ansible_core_without_the_result_hook_gets_a_module_process(monkeypatch):
    class OldAnsibleModule:  # what ansible-core 2.19.0 had: no _record_module_result
        pass
    monkeypatch.setattr(direct_execution, "AnsibleModule", OldAnsibleModule)
    assert "2.19.1" in action()._not_direct(dict(OWN))


def test_every_load_balancer_module_has_the_action():
    """The thirteen load-balancer modules, the catalog modules (flavors, availability
    zones, quotas, providers), the cloud-side modules the deployment roles call, and only
    modules built on CloudModule or on ansible's AnsibleModule by that name (the action
    swaps the class)."""
    import pathlib
    root = pathlib.Path(direct_execution.__file__).parents[1]
    # config_files' action renders templates on the deploy host; its module runs on the target
    actions = sorted(p.stem for p in (root / "action").glob("*.py") if p.stem != "config_files")
    assert actions == sorted(["loadbalancer", "listener", "pool", "member", "health_monitor", "l7policy", "l7rule",
                              "loadbalancer_info", "listener_info", "pool_info", "member_info",
                              "health_monitor_info", "l7policy_info", "flavor_profile", "flavor",
                              "availability_zone_profile", "availability_zone", "quota", "provider_info",
                              "flavor_info", "availability_zone_info"] + CLOUD_SIDE + OWN_CLASS)
    for name in actions:
        source = (root / "modules" / f"{name}.py").read_text()
        engine = any("ansible_collections.octavia.lbaas.plugins.module_utils.%s" % base in source
                     for base in ("lbaas_module", "lbaas_catalog"))
        assert (engine or (name in CLOUD_SIDE and "(CloudModule):" in source)
                or (name in OWN_CLASS and "from ansible.module_utils.basic import AnsibleModule" in source)), name


# the modules of the deployment roles (playbooks/site.yml) that talk to the cloud
CLOUD_SIDE = ["keypair", "amphora_flavor", "amphora_image", "mgmt_network", "security_group",
              "health_manager_port", "health_manager_port_info", "service_identity"]
# the deploy host's modules without a cloud connection, on ansible's own AnsibleModule
OWN_CLASS = ["pki_certificates", "rabbitmq_account"]


def test_every_cloud_module_of_the_deployment_roles_has_the_action():
    import pathlib
    import re
    root = pathlib.Path(direct_execution.__file__).parents[1]
    called = set()
    for path in (root.parent / "roles").glob("*/tasks/*.yml"):
        called |= set(re.findall(r"^\s*-?\s*octavia\.lbaas\.([a-z_]+):\s*$", path.read_text(), re.M))
    cloud_side = {name for name in called if "(CloudModule):" in (root / "modules" / f"{name}.py").read_text()}
    assert sorted(cloud_side) == sorted(CLOUD_SIDE)
