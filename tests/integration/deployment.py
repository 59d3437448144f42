"""Which Octavia drivers the test bed's controllers run, and switching between them.

The all-in-one inventory deploys the real drivers (Nova compute, the amphora REST driver,
allowed-address-pairs networking): every load balancer boots amphora VMs under QEMU's TCG,
about a minute each on our 2 cores. Most integration tests exercise the API, the modules
and the controllers, not the data plane, and build dozens of load balancers: they run on
Octavia's noop drivers (inventories/aio/noop-drivers.yml), which take a second each. The
conftest runs every noop test first and every module marked ``real_amphorae`` last, and
switches before a module's own fixtures run, so a session switches at most twice, each switch being one site.yml run that changes only the
driver lines of octavia.conf (and restarts the services that read them).
"""

from __future__ import annotations

import subprocess

from playbook import ROOT, run_playbook

CONTROLLER = "octavia-lbaas-controller-1"
NOOP_VARS = ROOT / "inventories" / "aio" / "noop-drivers.yml"
MODES = ("noop", "real")


def drivers_in_use(controller=CONTROLLER):
    """"noop" or "real", from the amphora_driver line of the controller's octavia.conf
    (None when Octavia is not deployed there)."""
    proc = subprocess.run(["podman", "exec", controller, "sed", "-n",
                           r"s/^amphora_driver *= *//p", "/etc/octavia/octavia.conf"],
                          capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return "noop" if "noop" in proc.stdout else "real"


def ensure_drivers(mode):
    """Deploy `mode`'s drivers with site.yml unless the controllers already run them (or
    run no Octavia at all: deploying it is site.yml's and molecule's job, not a fixture's)."""
    assert mode in MODES, mode
    if drivers_in_use() in (None, mode):
        return
    args = ["-i", str(ROOT / "inventories" / "aio")]
    if mode == "noop":
        args += ["-e", f"@{NOOP_VARS}"]
    run = run_playbook(ROOT / "playbooks" / "site.yml", *args, timeout=1800)
    assert run.rc == 0, (f"site.yml could not switch the controllers to the {mode} drivers:\n"
                         + "\n".join(run.failed_messages()) + run.stderr[-2000:])
    assert drivers_in_use() == mode
