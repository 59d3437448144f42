"""The data plane of the test bed from the tests' side: commands in its containers, tenant
hosts (network namespaces on real Neutron ports in the compute container, see
docs/testbed.md), HTTP through a VIP, the QEMU processes of amphora VMs, and waiting."""

from __future__ import annotations

import subprocess
import time

COMPUTE = "octavia-lbaas-compute"


def podman_exec(container, *argv, check=True, timeout=120):
    """Run argv in a test-bed container; the finished process (it must succeed with check)."""
    proc = subprocess.run(["podman", "exec", container, *argv], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{container}: {argv} exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


def compute(*argv, check=True, timeout=120):
    """Run argv in the compute container."""
    return podman_exec(COMPUTE, *argv, check=check, timeout=timeout)


def http_get(client, url):
    """The body a GET from the tenant host `client` receives (None on any failure)."""
    proc = compute("testbed-host", "get", client, url, check=False, timeout=30)
    return proc.stdout.strip() if proc.returncode == 0 else None


def answers(client, url, count):
    return [http_get(client, url) for _attempt in range(count)]


def wait_for(what, predicate, timeout, interval=1.0):
    """predicate()'s first truthy value within timeout seconds, and the seconds it took."""
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def qemu_pid(server_id):
    """PID of the QEMU process that runs the Nova server (its libvirt domain has the
    server's UUID)."""
    name = compute("virsh", "-c", "qemu:///system", "domname", server_id).stdout.strip()
    return int(compute("cat", f"/run/libvirt/qemu/{name}.pid").stdout.strip())


def kill_qemu(server_id):
    """Kill the VM's QEMU process (SIGKILL: the amphora stops mid-flight, as on a host crash)."""
    pid = qemu_pid(server_id)
    compute("kill", "-9", str(pid))
    return pid


def host_rss_mib(pid):
    """Resident memory of a process in the compute container, in MiB."""
    out = compute("sed", "-n", r"s/^VmRSS:\s*\([0-9]*\) kB/\1/p", f"/proc/{pid}/status").stdout
    return int(out.strip()) / 1024
