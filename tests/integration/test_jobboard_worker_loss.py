"""amphorav2's jobboard (issue 15): a worker killed in the middle of a create flow, on
Octavia's real drivers (an amphora VM boots under QEMU's TCG: the flow lasts a minute or
more, long enough to kill the worker that runs it).

The worker that claimed the create job is killed (SIGKILL) and kept down: its claim on the
job expires (jobboard_expiration_time) and the other controller's worker resumes the flow
from the persistence database; the load balancer reaches ACTIVE, marked so by that worker,
and no PENDING_* is left behind.

Skipped unless inventories/aio deploys the jobboard (jobboard_enabled: true)."""

from __future__ import annotations

import json
import time

import pytest

from controller_helpers import CONTROLLERS, on
from dataplane import wait_for
from jobboard_helpers import ENABLED, SKIP_REASON, journal_since
from lb_helpers import active_lb, vip_network

# real drivers: an amphora VM boots under QEMU's TCG, and the resumed flow may boot another
BUILD_TIMEOUT = 900
pytestmark = [
    pytest.mark.real_amphorae,
    pytest.mark.skipif(not ENABLED, reason=SKIP_REASON),
]


@pytest.fixture(scope="module")
def vip_subnet(cloud):
    with vip_network(cloud, "lbaas-jobboard-worker", "10.252.1.0/24") as subnet:
        yield subnet


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
