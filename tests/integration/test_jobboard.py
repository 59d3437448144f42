"""amphorav2's jobboard (issue 15), on Octavia's noop drivers: Redis with Sentinel on the
controllers and the witness (role jobboard_redis), and what the workers do when the Redis
master is lost.

* octavia.conf's [task_flow] points at the Sentinels; Redis refuses a client without the
  password;
* the Redis master's redis-server stops: the Sentinels promote the replica, the workers
  follow them to it and a new load balancer still reaches ACTIVE (its flow is a job on the
  new master); the old master, started again, rejoins as a replica; site.yml then changes
  nothing (it neither demotes the new master nor rewrites what Sentinel wrote).

The noop drivers are enough here: the flow goes through the jobboard the same way, in a
second instead of a VM's boot. The drill that needs a long flow (a worker killed in the
middle of one) is in test_jobboard_worker_loss.py, on the real drivers.

Skipped unless inventories/aio deploys the jobboard (jobboard_enabled: true; with the test
bed's two controllers the witness container is the third Sentinel, docs/roles/jobboard_redis.md)."""

from __future__ import annotations

import json
import subprocess
import time

import pymysql
import pytest

from controller_helpers import CONTROLLERS, on
from dataplane import wait_for
from deployment import NOOP_VARS
from jobboard_helpers import AIO, ENABLED, MASTER_NAME, REDIS_PORT, SENTINEL_PORT, SKIP_REASON, WITNESSES, cli, master_controller, redis_role, sentinel_masters
from lb_helpers import active_lb, vip_network
from playbook import ROOT, run_playbook

# a Sentinel declares the master down after down-after-milliseconds (5 s), then the quorum
# elects a leader that promotes a replica: seconds, not minutes
MAX_FAILOVER = 45
# prints the head revision(s) of taskflow's persistence migrations in the venv argv[1]
HEADS = """
import glob, re, sys
revs, downs = set(), set()
for path in glob.glob(sys.argv[1] + "/lib/python3*/site-packages/taskflow/persistence/backends/sqlalchemy/alembic/versions/*.py"):
    text = open(path).read()
    revs.update(re.findall(r"^revision\\s*=\\s*.([0-9a-f]+)", text, re.M))
    for line in re.findall(r"^down_revision\\s*=(.*)$", text, re.M):
        downs.update(re.findall(r"[0-9a-f]{8,}", line))
print(" ".join(sorted(revs - downs)))
"""
pytestmark = pytest.mark.skipif(not ENABLED, reason=SKIP_REASON)


@pytest.fixture(scope="module")
def vip_subnet(cloud):
    with vip_network(cloud, "lbaas-jobboard-redis", "10.252.0.0/24") as subnet:
        yield subnet


def test_octavia_conf_points_at_the_sentinels():
    conf = on(CONTROLLERS[0], "cat", "/etc/octavia/octavia.conf")
    assert "jobboard_enabled = true" in conf
    assert "jobboard_backend_driver = redis_taskflow_driver" in conf
    assert f"jobboard_redis_sentinel = {MASTER_NAME}" in conf
    assert f"jobboard_backend_port = {SENTINEL_PORT}" in conf


def test_the_persistence_database_has_taskflows_schema_at_its_head(testbed_facts):
    """The jobboard's flows keep their state there: without taskflow's tables every job
    fails in the worker that takes it (the controller role runs upgrade_persistence)."""
    # the head of the migrations of the taskflow the controllers run
    heads = on(CONTROLLERS[0], "python3", "-c", HEADS, "/opt/octavia").split()
    assert len(heads) == 1, heads
    conn = pymysql.connect(host=testbed_facts["testbed_mariadb_host"], user=testbed_facts["testbed_mariadb_admin_user"],
                           password=testbed_facts["testbed_mariadb_admin_password"], database="octavia_persistence")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            tables = {row[0] for row in cur.fetchall()}
            cur.execute("SELECT version_num FROM alembic_version")
            current = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    assert {"logbooks", "flowdetails", "atomdetails"} <= tables, tables
    assert current == heads


def test_three_sentinels_agree_on_one_master_with_one_replica():
    assert WITNESSES, "the test bed's inventory names no witness (octavia_jobboard_witnesses)"
    master = master_controller()
    replicas = [c for c in CONTROLLERS if c != master]
    assert redis_role(master) == "master"
    assert [redis_role(c) for c in replicas] == ["slave"] * len(replicas)
    # every Sentinel knows the other two (a majority of three survives the loss of any one)
    for host in CONTROLLERS + WITNESSES:
        others = cli(host, "/etc/redis/sentinel.conf", SENTINEL_PORT, "SENTINEL", "sentinels", MASTER_NAME).stdout
        assert others.count("runid") == 2, (host, others)


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
        started = time.monotonic()
        lb = cloud.load_balancer.create_load_balancer(name=f"lbaas-jobboard-redis-{int(time.time())}",
                                                      vip_subnet_id=vip_subnet.id)
        lbs.append(lb.id)
        active_lb(cloud, lb.id, timeout=120)
        print(json.dumps({"sentinel_failover_seconds": round(seconds, 1), "old_master": old, "new_master": new,
                          "create_to_active_on_new_master_seconds": round(time.monotonic() - started, 1)}))
    finally:
        on(old, "systemctl", "start", "redis-server")
    wait_for("the old master back as a replica", lambda: redis_role(old) == "slave", 60, interval=1)
    assert master_controller() == new

    # the role must not demote the new master nor rewrite what Sentinel wrote
    run = run_playbook(ROOT / "playbooks" / "site.yml", "-i", str(AIO), "-e", f"@{NOOP_VARS}", timeout=1800)
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
    assert run.changed() == 0, run.changed_tasks()
    assert master_controller() == new
    assert redis_role(old) == "slave"
