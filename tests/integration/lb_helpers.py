"""Waiting for and deleting load balancers from the tests' side (openstacksdk), shared by
the integration tests that make their own load balancers; and Octavia's database, for the
tests that must read or set what the API does not show."""

from __future__ import annotations

import contextlib
import time

import pymysql


def octavia_db(facts):
    """A connection (autocommit) to Octavia's database on the test cloud's MariaDB, as its
    administrator (testbed_facts)."""
    return pymysql.connect(host=facts["testbed_mariadb_host"], port=facts["testbed_mariadb_port"],
                           user=facts["testbed_mariadb_admin_user"],
                           password=facts["testbed_mariadb_admin_password"], database="octavia", autocommit=True)


def _direct(call):
    return call()


def settled_lb(cloud, lb_id, timeout=120, call=_direct):
    """The load balancer once its provisioning status is not PENDING_* any more.
    `call` wraps each API call (a test may retry refused connections with it)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lb = call(lambda: cloud.load_balancer.get_load_balancer(lb_id))
        if not lb.provisioning_status.startswith("PENDING_"):
            return lb
        time.sleep(0.5)
    raise AssertionError(f"load balancer {lb_id} still pending after {timeout} s")


def active_lb(cloud, lb_id, timeout=180):
    """The load balancer once it is ACTIVE; fails at once when it goes to ERROR."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lb = cloud.load_balancer.get_load_balancer(lb_id)
        if lb.provisioning_status == "ACTIVE":
            return lb
        assert lb.provisioning_status != "ERROR", f"load balancer {lb_id} went to ERROR"
        time.sleep(1)
    raise AssertionError(f"load balancer {lb_id} not ACTIVE after {timeout} s")


def delete_lb(cloud, lb_id, timeout=120, call=_direct):
    """Delete the load balancer with its children (cascade) once it is not PENDING_*, and
    wait until it is gone."""
    api = cloud.load_balancer
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lb = call(lambda: api.find_load_balancer(lb_id, ignore_missing=True))
        if lb is None or lb.provisioning_status == "DELETED":
            return
        if not lb.provisioning_status.startswith("PENDING_"):
            call(lambda: api.delete_load_balancer(lb_id, cascade=True, ignore_missing=True))
        time.sleep(1)
    raise AssertionError(f"load balancer {lb_id} not deleted after {timeout} s")


class Cleanup:
    """Runs every cleanup step even after one fails, and keeps what failed, so a test's
    teardown reports every leftover instead of stopping at the first."""

    def __init__(self):
        self.errors = []

    def attempt(self, what, func, *args, **kwargs):
        try:
            func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - report every leftover, go on
            self.errors.append(f"{what}: {exc}")


def delete_all(cloud, lb_ids, timeout):
    """Delete (cascade) every load balancer of `lb_ids`, each tried even after another
    failed; fails naming every one that could not be deleted."""
    cleanup = Cleanup()
    for lb_id in lb_ids:
        cleanup.attempt(f"delete load balancer {lb_id}", delete_lb, cloud, lb_id, timeout=timeout)
    assert not cleanup.errors, cleanup.errors


@contextlib.contextmanager
def vip_network(cloud, prefix, cidr):
    """A network and subnet of their own for the VIPs of a test's load balancers (named
    `prefix`-<time>), removed afterwards; yields the subnet."""
    name = f"{prefix}-{int(time.time())}"
    net = cloud.network.create_network(name=name)
    try:
        yield cloud.network.create_subnet(name=name, network_id=net.id, ip_version=4, cidr=cidr)
    finally:
        cloud.network.delete_network(net, ignore_missing=True)
