"""The controller role's restart handlers on a deployed controller (inventories/aio).

A change of code, octavia.conf or units restarts every Octavia service; a change of the
certificate files or the CA key's passphrase restarts only the services that read them
(worker, health manager, housekeeping) and leaves the API answering. When both happen in
one run, each service restarts once. The playbook notifies the handlers' topics the way
the role's tasks do (tests/integration/playbooks/controller_restarts.yml); systemd's
journal on the controller says what was started, and how often.
"""

from __future__ import annotations

import time

from controller_helpers import PKI_USERS, SERVICES, invocations, on
from playbook import ROOT, run_playbook

CONTROLLER = "octavia-lbaas-controller-2"


def journal(since, *matches):
    """[(epoch seconds, message)] of the journal entries matching `matches` since `since`."""
    out = []
    for line in on(CONTROLLER, "journalctl", "--since", "@%d" % since, "-o", "short-unix", *matches).splitlines():
        stamp, rest = (line.split(" ", 1) + [""])[:2]
        try:
            out.append((float(stamp), rest.split(": ", 1)[-1]))
        except ValueError:      # "-- No entries --"
            continue
    return out


def starts(entries, until=None):
    """{service: how many times systemd started it} among `entries` (before `until`)."""
    return {s: sum(1 for stamp, msg in entries if msg.startswith("Started %s.service" % s)
                   and (until is None or stamp < until)) for s in SERVICES}


def test_one_restart_each_when_both_change_and_api_untouched_on_certificate_change():
    before = invocations(CONTROLLER)
    since = int(time.time()) - 1
    time.sleep(1.1)     # journal --since has second resolution
    run = run_playbook(ROOT / "tests" / "integration" / "playbooks" / "controller_restarts.yml",
                       "-i", str(ROOT / "inventories" / "aio"), extra_vars={"target": CONTROLLER}, timeout=300)
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]
    # what ran: the full restart for step 1 (the certificate restart skipped), the
    # certificate restart for step 2; octavia.conf kept its passphrase line
    assert run.changed_tasks() == [
        "Step 1: code or octavia.conf and a certificate changed in the same run",
        "octavia.lbaas.controller : Restart the Octavia services",
        "Step 2: only a certificate changed",
        "octavia.lbaas.controller : Restart the Octavia services that read the certificates",
    ], run.changed_tasks()
    after = invocations(CONTROLLER)
    units = journal(since, *[arg for s in SERVICES for arg in ("-u", s)])
    (end_of_step1,) = [stamp for stamp, msg in journal(since, "-t", "lbaas-test") if msg == "end of step 1"]
    # step 1 (both topics): every service once, the API included
    step1 = starts(units, until=end_of_step1)
    assert step1 == {s: 1 for s in SERVICES}, step1
    # both steps: the services that read the PKI twice, the API still once
    total = starts(units)
    assert total == {"octavia-api": 1, **{s: 2 for s in PKI_USERS}}, total
    assert all(after[s] != before[s] for s in SERVICES), (before, after)
    for service in SERVICES:
        assert on(CONTROLLER, "systemctl", "is-active", service).strip() == "active", service
