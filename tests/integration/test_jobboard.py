"""amphorav2's jobboard (issue 15): Redis with Sentinel on the controllers (role
jobboard_redis), flows posted to the jobboard and their state in the persistence database.

Two drills, on Octavia's real drivers (a create flow with an amphora VM under QEMU lasts a
minute or more, long enough to kill the worker that runs it):

* the Redis master's redis-server stops: the Sentinels promote a replica, the workers
  follow them to it, a new load balancer reaches ACTIVE; the old master, started again,
  rejoins as a replica, and site.yml changes nothing (it does not demote the new master);
* the worker that claimed a create job is killed (SIGKILL) and kept down: its claim on the
  job expires (jobboard_expiration_time) and the other controller's worker resumes the flow
  from the persistence database; the load balancer reaches ACTIVE, marked so by that worker.

Skipped unless inventories/aio deploys the jobboard (jobboard_enabled: true; with the test
bed's two controllers a witness host is needed too, see docs/roles/jobboard_redis.md)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from controller_helpers import CONTROLLERS, on
from dataplane import wait_for
from lb_helpers import Cleanup, active_lb, delete_lb, vip_network
from playbook import ROOT, run_playbook

AIO = ROOT / "inventories" / "aio"
ENABLED = yaml.safe_load((AIO / "group_vars" / "all.yml").read_text()).get("jobboard_enabled", False) is True
MASTER_NAME = "octavia"
SENTINEL_PORT = 26379
REDIS_PORT = 6379
# a Sentinel declares the master down after down-after-milliseconds (5 s), then the quorum
# elects a leader that promotes a replica: seconds, not minutes
MAX_FAILOVER = 45
# real drivers: an amphora VM boots under QEMU's TCG
BUILD_TIMEOUT = 900
pytestmark = [
    pytest.mark.real_amphorae,
    pytest.mark.skipif(not ENABLED, reason="jobboard_enabled is not true in inventories/aio (no jobboard deployed)"),
]

# redis-cli in a controller, at the address and with the password of the configuration
# file there (the test never sees the password): $1 the file, $2 the port, then the command
CLI = ("file=$1 port=$2; shift 2; "
       "value() { awk -v key=$1 '$1 == key {gsub(/\"/, \"\", $2); print $2; exit}' $file; }; "
       "REDISCLI_AUTH=$(value requirepass) redis-cli --no-auth-warning -h $(value bind) -p $port \"$@\"")


def cli(controller, config, port, *command, check=True):
    proc = subprocess.run(["podman", "exec", controller, "bash", "-c", CLI, "cli", config, str(port), *command],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0 or not check, (command, proc.stdout, proc.stderr)
    return proc


def redis_role(controller):
    """"master" or "slave" (Redis's ROLE), or None when its Redis does not answer."""
    proc = cli(controller, "/etc/redis/redis.conf", REDIS_PORT, "ROLE", check=False)
    words = proc.stdout.split()
    return words[0] if proc.returncode == 0 and words and words[0] in ("master", "slave") else None


def sentinel_masters():
    """{controller}: the controllers whose Redis the answering Sentinels name as the master."""
    by_address = {}
    for controller in CONTROLLERS:
        bind = on(controller, "awk", "$1 == \"bind\" {print $2; exit}", "/etc/redis/redis.conf").strip()
        by_address[bind] = controller
    named = set()
    for controller in CONTROLLERS:
        proc = cli(controller, "/etc/redis/sentinel.conf", SENTINEL_PORT,
                   "SENTINEL", "get-master-addr-by-name", MASTER_NAME, check=False)
        if proc.returncode == 0 and proc.stdout.split():
            named.add(by_address.get(proc.stdout.split()[0], proc.stdout.split()[0]))
    return named


def master_controller():
    """The controller whose Redis every answering Sentinel names as the master."""
    named = sentinel_masters()
    assert len(named) == 1, f"the Sentinels disagree or none answers: {named}"
    return named.pop()


def journal_since(controller, unit, since):
    return on(controller, "journalctl", "-q", "-o", "cat", "-u", unit, "--since", f"@{int(since)}", "--no-pager")


@pytest.fixture(scope="module")
def vip_subnet(cloud):
    with vip_network(cloud, "lbaas-jobboard-drill", "10.252.0.0/24") as subnet:
        yield subnet


@pytest.fixture
def lbs(cloud):
    made = []
    yield made
    cleanup = Cleanup()
    for lb_id in made:
        cleanup.attempt(f"delete load balancer {lb_id}", delete_lb, cloud, lb_id, timeout=600)
    assert not cleanup.errors, cleanup.errors


def test_octavia_conf_points_at_the_sentinels():
    conf = on(CONTROLLERS[0], "cat", "/etc/octavia/octavia.conf")
    assert "jobboard_enabled = true" in conf
    assert "jobboard_backend_driver = redis_taskflow_driver" in conf
    assert f"jobboard_redis_sentinel = {MASTER_NAME}" in conf
    assert f"jobboard_backend_port = {SENTINEL_PORT}" in conf


def test_redis_refuses_a_client_without_password():
    controller = master_controller()
    bind = on(controller, "awk", "$1 == \"bind\" {print $2; exit}", "/etc/redis/redis.conf").strip()
    proc = subprocess.run(["podman", "exec", controller, "redis-cli", "-h", bind, "-p", str(REDIS_PORT), "SET", "probe", "1"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert "NOAUTH" in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)


def test_sentinel_promotes_a_replica_when_the_master_stops_and_octavia_keeps_building(cloud, vip_subnet, lbs):
    old = master_controller()
    on(old, "systemctl", "stop", "redis-server")
    try:
        # every answering Sentinel names one master, not the stopped one
        named, seconds = wait_for("a replica promoted by the Sentinels",
                                  lambda: (m := sentinel_masters()) and len(m) == 1 and old not in m and m,
                                  MAX_FAILOVER, interval=0.5)
        new = named.pop()
        assert redis_role(new) == "master"
        print(json.dumps({"sentinel_failover_seconds": round(seconds, 1), "old_master": old, "new_master": new}))

        lb = cloud.load_balancer.create_load_balancer(name=f"lbaas-jobboard-redis-{int(time.time())}",
                                                      vip_subnet_id=vip_subnet.id)
        lbs.append(lb.id)
        active_lb(cloud, lb.id, timeout=BUILD_TIMEOUT)
    finally:
        on(old, "systemctl", "start", "redis-server")
    wait_for("the old master back as a replica", lambda: redis_role(old) == "slave", 60, interval=1)
    assert master_controller() == new

    # the role must not demote the new master nor rewrite what Sentinel wrote
    run = run_playbook(ROOT / "playbooks" / "site.yml", "-i", str(AIO), timeout=1800)
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
    assert run.changed() == 0, run.changed_tasks()
    assert master_controller() == new
    assert redis_role(old) == "slave"


def test_a_worker_killed_mid_create_leaves_its_flow_to_the_other_worker(cloud, vip_subnet, lbs):
    since = time.time() - 1
    lb = cloud.load_balancer.create_load_balancer(name=f"lbaas-jobboard-worker-{int(time.time())}",
                                                  vip_subnet_id=vip_subnet.id)
    lbs.append(lb.id)
    marker = f"for load balancer {lb.id}"

    def claimer():
        # the worker that runs the flow logs its first database task ("Created Amphora <id>
        # in DB for load balancer <lb id>"); the booting VM keeps the flow going long after
        found = [c for c in CONTROLLERS if marker in journal_since(c, "octavia-worker", since)]
        return found[0] if len(found) == 1 else None

    victim, _seconds = wait_for("the worker that claimed the create job", claimer, 120, interval=1)
    survivor = next(c for c in CONTROLLERS if c != victim)
    assert cloud.load_balancer.get_load_balancer(lb.id).provisioning_status == "PENDING_CREATE"
    killed_at = time.time()
    # SIGKILL (no graceful stop), then keep it down so that only the other worker can resume
    on(victim, "systemctl", "kill", "--signal=SIGKILL", "octavia-worker")
    on(victim, "systemctl", "stop", "octavia-worker")
    try:
        active_lb(cloud, lb.id, timeout=BUILD_TIMEOUT)
        finished = journal_since(survivor, "octavia-worker", killed_at)
        assert f"Mark ACTIVE in DB for load balancer id: {lb.id}" in finished, finished[-3000:]
        print(json.dumps({"killed_worker": victim, "resumed_by": survivor,
                          "kill_to_active_seconds": round(time.time() - killed_at, 1)}))
    finally:
        on(victim, "systemctl", "start", "octavia-worker")
