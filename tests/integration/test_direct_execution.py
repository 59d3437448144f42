"""Direct execution (plugins/plugin_utils/direct_execution.py): a load-balancer task that
runs on the controller runs inside Ansible's worker; any other task runs as a module
process. Both paths must give the same result, and the tests must see which one ran.

Which path ran is read from the disk, not from the module: with ANSIBLE_KEEP_REMOTE_FILES
a module process leaves its AnsiballZ_<module>.py in the remote temporary directory (the
local one here), direct execution writes no file at all. Everything runs against the test
cloud's real Octavia and Keystone."""

from __future__ import annotations

import json
import pathlib
import re
import uuid

import pytest

from lb_helpers import delete_lb
from playbook import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
TREE = PLAYBOOKS / "lb_tree.yml"
ENV_LOOP = PLAYBOOKS / "direct_env_loop.yml"
SECRET = PLAYBOOKS / "direct_secret.yml"
ASYNC = PLAYBOOKS / "direct_async.yml"
# ansible-playbook runs under its shebang's interpreter (.venv/bin/python3)
ANSIBLE_PYTHON = (ROOT / ".venv" / "bin" / "ansible-playbook").read_text().splitlines()[0][2:].strip()


def small_tree():
    return {
        "listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": "web"}],
        "pools": [{"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                   "members": [{"address": "10.0.7.1", "protocol_port": 80},
                               {"address": "10.0.7.2", "protocol_port": 80}],
                   "healthmonitor": {"type": "HTTP", "delay": 5, "probe_timeout": 3, "max_retries": 2,
                                     "url_path": "/health"}}],
    }


class Runner:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def run(self, playbook, direct, extra_vars, **kwargs):
        """One ansible-playbook run; returns (run, how many module processes it started)."""
        self.count += 1
        remote_tmp = self.tmp_path / f"remote-{self.count}"
        remote_tmp.mkdir()
        env = {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(remote_tmp)}
        env.update(kwargs.pop("env", {}))
        extra = dict(extra_vars, octavia_lbaas_direct_execution=direct)
        run = run_playbook(playbook, extra_vars=extra, env=env, **kwargs)
        return run, len(list(remote_tmp.rglob("AnsiballZ_*.py")))


@pytest.fixture(scope="module")
def small_lb(cloud, testbed_facts):
    """A load balancer with one listener, pool, monitor and two members, made by the module."""
    prefix = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    network = cloud.network.create_network(name=f"{prefix}-net")
    subnet = cloud.network.create_subnet(name=f"{prefix}-vip", network_id=network.id, ip_version=4,
                                         cidr="10.247.0.0/24")
    tree = small_tree()
    names = {"cloud_name": testbed_facts["testbed_cloud_name"], "lb_name": f"{prefix}-lb",
             "lb_vip_subnet": subnet.name, "lb_listeners": tree["listeners"], "lb_pools": tree["pools"]}
    try:
        created = run_playbook(TREE, extra_vars=names)
        assert created.rc == 0 and created.changed() == 1, created.failed_messages()
        yield names
    finally:
        for lb in cloud.load_balancer.load_balancers(name=names["lb_name"]):
            delete_lb(cloud, lb.id)
        cloud.network.delete_network(network, ignore_missing=True)


def same_result(one, other):
    """The task results of two runs, compared whole (but for the request IDs services
    put in their error messages: each call has its own)."""
    def normal(run):
        return json.loads(re.sub(r"req-[0-9a-f-]{36}", "req-ID", json.dumps(run.results())))
    assert normal(one) == normal(other)


@pytest.mark.parametrize("check", [False, True], ids=["run", "check-diff"])
def test_no_op_gives_one_result_either_way(small_lb, tmp_path, check):
    runner = Runner(tmp_path)
    direct, direct_processes = runner.run(TREE, True, small_lb, check=check, diff=check)
    process, process_processes = runner.run(TREE, False, small_lb, check=check, diff=check)
    assert (direct_processes, process_processes) == (0, 1)
    assert direct.rc == process.rc == 0
    assert direct.changed() == process.changed() == 0
    same_result(direct, process)
    assert direct.results()[0]["loadbalancer"]["listeners"][0]["protocol_port"] == 80
    if check:
        assert direct.results()[0]["diff"]["before"] == direct.results()[0]["diff"]["after"]


def test_a_change_in_check_mode_gives_one_result_either_way(small_lb, tmp_path, cloud):
    runner = Runner(tmp_path)
    wanted = dict(small_lb, lb_description="changed by check mode")
    direct, direct_processes = runner.run(TREE, True, wanted, check=True, diff=True)
    process, process_processes = runner.run(TREE, False, wanted, check=True, diff=True)
    assert (direct_processes, process_processes) == (0, 1)
    assert direct.changed() == process.changed() == 1
    same_result(direct, process)
    assert direct.results()[0]["diff"]["after"]["description"] == "changed by check mode"
    (lb,) = cloud.load_balancer.load_balancers(name=small_lb["lb_name"])
    assert lb.description == ""


def test_warnings_reach_the_result_either_way(small_lb, tmp_path):
    """A module's warning (failover asked for a load balancer that does not exist yet;
    check mode, so nothing is created) is in the task's result on both paths."""
    runner = Runner(tmp_path)
    wanted = dict(small_lb, lb_name=small_lb["lb_name"] + "-new", lb_failover=True)
    direct, direct_processes = runner.run(TREE, True, wanted, check=True)
    process, process_processes = runner.run(TREE, False, wanted, check=True)
    assert (direct_processes, process_processes) == (0, 1)
    for run in (direct, process):
        assert run.results()[0]["warnings"] == ["failover: the load balancer is new, there is nothing to fail over"]
    same_result(direct, process)


def test_a_real_change_runs_directly(small_lb, tmp_path, cloud):
    runner = Runner(tmp_path)
    changed, processes = runner.run(TREE, True, dict(small_lb, lb_description="written in the worker"))
    assert processes == 0 and changed.rc == 0 and changed.changed() == 1, changed.failed_messages()
    (lb,) = cloud.load_balancer.load_balancers(name=small_lb["lb_name"])
    assert lb.description == "written in the worker"
    back, processes = runner.run(TREE, True, dict(small_lb, lb_description=""))
    assert processes == 0 and back.changed() == 1


def test_another_interpreter_gets_a_module_process(small_lb, tmp_path):
    """The same venv under another name is another interpreter as far as this check
    knows: only the very interpreter running Ansible is run in."""
    other = pathlib.Path(ANSIBLE_PYTHON).with_name("python")
    assert other.exists() and str(other) != ANSIBLE_PYTHON
    runner = Runner(tmp_path)
    run, processes = runner.run(TREE, True, dict(small_lb, ansible_python_interpreter=str(other)))
    assert processes == 1
    assert run.rc == 0 and run.changed() == 0


def test_async_gets_a_module_process(small_lb, tmp_path):
    runner = Runner(tmp_path)
    run, processes = runner.run(ASYNC, True, small_lb)
    assert processes >= 1
    assert run.rc == 0, run.failed_messages()
    assert run.results()[0]["loadbalancers"][0]["name"] == small_lb["lb_name"]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "process"])
def test_environment_applies_item_by_item(small_lb, tmp_path, testbed_facts, direct):
    """No OS_CLIENT_CONFIG_FILE in ansible-playbook's environment: each item gets its
    clouds.yaml from the task's `environment`; a missing one fails that item only."""
    runner = Runner(tmp_path)
    good = testbed_facts["testbed_clouds_yaml"]
    run, processes = runner.run(ENV_LOOP, direct, dict(small_lb, clouds_files=[good, "/nonexistent/clouds.yaml", good]),
                                unset=["OS_CLIENT_CONFIG_FILE", "OS_CLOUD"])
    # a module process per item (a loop keeps one temporary directory: one file is left)
    assert (processes == 0) == direct
    items = run.results()[0]["results"]
    assert [bool(item.get("failed")) for item in items] == [False, True, False], [i.get("msg") for i in items]
    assert items[0]["loadbalancers"][0]["name"] == small_lb["lb_name"]
    assert "testbed" in items[1]["msg"]


def test_failures_are_the_same_and_secrets_stay_masked(small_lb, tmp_path):
    runner = Runner(tmp_path)
    password = f"wrong-{uuid.uuid4().hex}"
    auth = {"auth_url": "http://10.242.0.10:5000/v3", "username": "admin", "password": password,
            "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}
    extra = dict(small_lb, wrong_auth=auth)
    direct, direct_processes = runner.run(SECRET, True, extra)
    process, process_processes = runner.run(SECRET, False, extra)
    assert (direct_processes, process_processes) == (0, 2)
    for run in (direct, process):
        refused, port = run.results()
        assert refused["failed"] and ("401" in refused["msg"] or "nauthorized" in refused["msg"]), refused["msg"]
        assert refused["invocation"]["module_args"]["auth"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        assert port["failed"] and "protocol_port" in port["msg"], port["msg"]
        assert password not in run.stdout and password not in run.stderr
    same_result(direct, process)
