"""Reboot drill, last (it restarts a controller): o-hm0 comes back before the health
manager starts, and every service is active again."""

from __future__ import annotations

import subprocess
import time

import testinfra

from test_controllers import SERVICES

NAME = "octavia-lbaas-controller-2"


def monotonic_start(host, unit):
    return int(host.check_output(f"systemctl show -p ActiveEnterTimestampMonotonic --value {unit}"))


def test_reboot_brings_o_hm0_back_before_health_manager():
    subprocess.run(["podman", "restart", "--time", "20", NAME], check=True, capture_output=True)
    host = testinfra.get_host("podman://" + NAME)
    deadline = time.time() + 180
    state = ""
    while time.time() < deadline:
        state = host.run("systemctl is-system-running").stdout.strip()
        if state in ("running", "degraded") and all(host.service(s).is_running for s in SERVICES):
            break
        time.sleep(2)
    for service in SERVICES:
        assert host.service(service).is_running, host.run(f"journalctl -b -u {service} -n 20 --no-pager").stdout
    assert host.run("ip -4 addr show dev o-hm0").stdout.count("inet ") == 1
    assert monotonic_start(host, "octavia-hm-interface") <= monotonic_start(host, "octavia-health-manager")
