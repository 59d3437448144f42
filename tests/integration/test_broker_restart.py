"""Drill (issue 15): the message broker restarts under a working control plane.

The test cloud's RabbitMQ (the broker site.yml points every controller at) is stopped
while a client creates a load balancer through the API, and started again a few seconds
later. octavia-api hands the create to the workers by an RPC cast; with the broker gone,
oslo.messaging keeps retrying the cast instead of failing it, so the client's request
must come back accepted once the broker is back. Every controller's worker must
reconnect by itself (it consumes its own queue on the broker again), load balancers
created afterwards must all reach ACTIVE, and so must the one accepted during the outage:
its message goes out as soon as the broker is back, possibly before any worker has
reconnected, and only a queue that outlived the restart (a quorum queue, which the
messaging role sets up: messaging_quorum_queues) keeps it. With Octavia's classic,
non-durable queues this create was lost (PENDING_CREATE for good; seen in CI on
2026-12-07). A load balancer left in PENDING_* is put into ERROR in the database and
deleted, so a failure leaves nothing behind. The seconds the stalled request waited are
printed for docs/ha.md.

Runs on the noop drivers (the drill is about the control plane's messaging)."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from controller_helpers import CONTROLLERS, on
from dataplane import wait_for
from lb_helpers import active_lb, delete_lb, octavia_db, settled_lb, vip_network

CLOUD_CONTAINER = "octavia-lbaas-cloud"
# how long the broker stays down while the create waits
OUTAGE = 8


def broker(action):
    subprocess.run(["podman", "exec", CLOUD_CONTAINER, "systemctl", action, "rabbitmq-server"],
                   check=True, capture_output=True, timeout=180)


def broker_answers():
    proc = subprocess.run(["podman", "exec", CLOUD_CONTAINER, "rabbitmq-diagnostics", "-q", "check_port_connectivity"],
                          capture_output=True, text=True, check=False, timeout=60)
    return proc.returncode == 0


# each worker consumes its own queue (octavia_provisioning_v2.<host>) besides the shared one
WORKER_QUEUES = "for v in $(rabbitmqctl list_vhosts -q); do rabbitmqctl list_queues -q -p \"$v\" name consumers type; done"


def workers_consuming():
    """{host: consumers} of each worker's own queue on the broker."""
    proc = subprocess.run(["podman", "exec", CLOUD_CONTAINER, "bash", "-c", WORKER_QUEUES],
                          capture_output=True, text=True, check=False, timeout=120)
    found = {}
    for line in proc.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0].startswith("octavia_provisioning_v2.") and fields[1].isdigit():
            found[fields[0].split(".", 1)[1]] = int(fields[1])
    return found


def topic_queue_types():
    """{queue: type} of Octavia's RPC topic queues (not the transient fanout ones)."""
    proc = subprocess.run(["podman", "exec", CLOUD_CONTAINER, "bash", "-c", WORKER_QUEUES],
                          capture_output=True, text=True, check=False, timeout=120)
    return {fields[0]: fields[2] for fields in (line.split("\t") for line in proc.stdout.splitlines())
            if len(fields) == 3 and fields[0].startswith("octavia_provisioning_v2") and "_fanout_" not in fields[0]}


def hostname(controller):
    return on(controller, "hostname", "-s").strip()


@pytest.fixture(scope="module")
def vip_subnet(cloud):
    with vip_network(cloud, "lbaas-broker-drill", "10.252.0.0/24") as subnet:
        yield subnet


def release(testbed_facts, lb_id):
    """Put a load balancer stuck in PENDING_* into ERROR in Octavia's database (what an
    operator does for a flow that will never finish), so it can be deleted."""
    db = octavia_db(testbed_facts)
    try:
        with db.cursor() as cursor:
            cursor.execute("UPDATE load_balancer SET provisioning_status = 'ERROR' "
                           "WHERE id = %s AND provisioning_status LIKE 'PENDING%%'", (lb_id,))
    finally:
        db.close()


def provisioning_status(cloud, lb_id, timeout):
    """The load balancer's provisioning status once it leaves PENDING_*, or PENDING_* after `timeout`."""
    try:
        return settled_lb(cloud, lb_id, timeout=timeout).provisioning_status
    except AssertionError:
        return cloud.load_balancer.get_load_balancer(lb_id).provisioning_status


def test_a_broker_restart_loses_no_request_and_the_workers_reconnect(cloud, vip_subnet, testbed_facts):
    made = []
    outcome = {}

    def create():
        start = time.monotonic()
        try:
            lb = cloud.load_balancer.create_load_balancer(name=f"lbaas-broker-drill-{int(time.time())}",
                                                          vip_subnet_id=vip_subnet.id)
            made.append(lb.id)
            outcome["lb"] = lb
        except Exception as exc:  # pylint: disable=broad-except  # reported by the assertion below
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - start

    types = topic_queue_types()
    assert types and set(types.values()) == {"quorum"}, f"Octavia's RPC queues are not all quorum queues: {types}"
    try:
        broker("stop")
        client = threading.Thread(target=create, daemon=True)
        client.start()
        time.sleep(OUTAGE)
        # the request is still waiting for the broker, not failed
        assert "error" not in outcome, outcome.get("error")
        broker("start")
        wait_for("RabbitMQ answering again", broker_answers, 120, interval=1)
        client.join(timeout=180)
        assert not client.is_alive(), "the create did not return within 180 s of the broker's return"
        assert "error" not in outcome, outcome.get("error")

        # every controller's worker found the broker again by itself: it consumes its own
        # queue again (the queue outlived the restart; the consumers are new connections)
        hosts = [hostname(controller) for controller in CONTROLLERS]
        wait_for("every worker consuming again",
                 lambda: all(workers_consuming().get(host, 0) >= 1 for host in hosts), 120, interval=2)
        # and work keeps flowing: new load balancers, more than one per worker on average
        after = [cloud.load_balancer.create_load_balancer(name=f"lbaas-broker-drill-after-{i}-{int(time.time())}",
                                                          vip_subnet_id=vip_subnet.id)
                 for i in range(2 * len(CONTROLLERS))]
        made += [lb.id for lb in after]
        for lb in after:
            active_lb(cloud, lb.id, timeout=180)
        # The create the API accepted while the broker was down: its cast was published
        # when the broker came back, into the quorum queue that outlived the restart.
        stalled = provisioning_status(cloud, outcome["lb"].id, timeout=180)
        print(json.dumps({"broker_down_seconds": OUTAGE, "create_waited_seconds": round(outcome["seconds"], 1),
                          "accepted_create_ended": stalled}))
        assert stalled == "ACTIVE", (
            f"the create accepted during the outage ended {stalled}: its message did not outlive the broker's restart "
            "(are Octavia's queues quorum queues? rabbitmqctl list_queues -p octavia name type)")
    finally:
        if not broker_answers():
            broker("start")
        for lb_id in made:
            if provisioning_status(cloud, lb_id, timeout=5).startswith("PENDING_"):
                release(testbed_facts, lb_id)
            delete_lb(cloud, lb_id, timeout=180)
