"""Commands in the test bed's controller containers and the state of their Octavia
services, shared by the tests that check what the controller role restarts."""

from __future__ import annotations

import subprocess

CONTROLLERS = ["octavia-lbaas-controller-1", "octavia-lbaas-controller-2"]
# the services that read the certificate files and the CA key's passphrase (restarted when
# one changes), and the API, which reads none of them and keeps running through a rotation
PKI_USERS = ["octavia-worker", "octavia-health-manager", "octavia-housekeeping"]
SERVICES = ["octavia-api"] + PKI_USERS


def on(controller, *argv, stdin=None):
    """Run argv in the controller container; its stdout (the command must succeed)."""
    proc = subprocess.run(["podman", "exec", "-i", controller, *argv], input=stdin,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, (argv, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.stdout


def invocations(controller):
    """Each service's systemd InvocationID: a new one on every (re)start."""
    return {s: on(controller, "systemctl", "show", "-p", "InvocationID", "--value", s).strip()
            for s in SERVICES}
