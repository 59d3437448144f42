#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Audit Octavia against Neutron and Nova: dangling references and orphans (read-only)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drift_info
short_description: Find drift between Octavia and Neutron/Nova (dangling references, orphans)
description:
  - Reads Octavia's load balancers and amphorae (admin API C(/v2/octavia/amphorae)),
    Neutron's ports and security groups and Nova's servers, one list call per resource
    type, side by side, and reports where they disagree. Needs admin credentials (every
    project's objects are read). Writes nothing.
  - "V(loadbalancer_vip_ports): load balancers whose VIP port (C(vip_port_id)) is not in
    Neutron."
  - "V(amphora_computes): amphorae (not DELETED) whose compute server (C(compute_id)) is
    not in Nova."
  - "V(amphora_vrrp_ports): amphorae whose VRRP port (C(vrrp_port_id)) is not in Neutron."
  - "V(amphora_management_ports): amphorae whose management address (C(lb_network_ip)) is
    the address of no Neutron port."
  - "V(orphan_ports): ports Octavia made (owner starting with C(Octavia), or named
    C(octavia-lb-<LB ID>) or C(octavia-lb-vrrp-<amphora ID>)) that no load balancer (VIP
    port) and no amphora (VRRP or HA port) references. Ports whose owner is in
    O(ignore_device_owners) (by default the controllers' health-manager ports) are not
    candidates."
  - "V(orphan_security_groups): security groups named C(lb-<LB ID>) (the VIP security
    group Octavia makes per load balancer) whose load balancer does not exist."
  - "Objects Octavia is working on are not judged: load balancers in C(PENDING_*) and
    amphorae C(BOOTING) or C(PENDING_*) (their ports or server may not exist yet, or not any
    more), nor ports and security groups younger than O(grace_period). They are listed in
    RV(not_judged) with the reason, as are objects in O(ignore_ids)."
  - "With Octavia's noop network and compute drivers (test beds), the VIP port, VRRP port,
    server and management address of every load balancer and amphora are invented IDs and
    addresses: every one of them is reported. Limit O(checks) (for example to the two
    orphan checks) on such deployments."
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud, octavia.lbaas.lb_attributes.INFO]
options:
  checks:
    description:
      - The checks to run (see the description). Only the resource types they need are
        read.
      - When not given, every check runs.
    type: list
    elements: str
    choices: [loadbalancer_vip_ports, amphora_computes, amphora_vrrp_ports, amphora_management_ports,
              orphan_ports, orphan_security_groups]
  loadbalancers:
    description:
      - Load balancers (names or IDs) to which the load-balancer and amphora checks are
        limited (their amphorae for the amphora checks). An unknown or ambiguous name fails
        the task.
      - The orphan checks always look at the whole cloud.
    type: list
    elements: str
  grace_period:
    description:
      - Ports and security groups created less than this many seconds ago are not reported
        as orphans (Octavia makes them before it records their owner).
    type: int
    default: 300
  ignore_ids:
    description:
      - IDs of load balancers, amphorae, ports and security groups never reported (known
        exceptions). They are listed in RV(not_judged).
    type: list
    elements: str
    default: []
  ignore_device_owners:
    description:
      - Ports with one of these C(device_owner) values are never orphan candidates.
    type: list
    elements: str
    default: ["Octavia:health-mgr"]
notes:
  - Reads run side by side but are not one snapshot. An object created or deleted during
    the few seconds of the task can be reported once; run the task again before acting on
    a finding.
"""

EXAMPLES = r"""
- name: Audit the whole cloud
  octavia.lbaas.drift_info:
    cloud: mycloud
  register: audit

- name: Stop when something drifted
  ansible.builtin.assert:
    that: not audit.drift
    fail_msg: "{{ audit.report | join('\n') }}"

- name: Only orphans (a deployment with Octavia's noop drivers)
  octavia.lbaas.drift_info:
    cloud: mycloud
    checks: [orphan_ports, orphan_security_groups]
    grace_period: 0

- name: The load balancers web and api, and their amphorae
  octavia.lbaas.drift_info:
    cloud: mycloud
    checks: [loadbalancer_vip_ports, amphora_computes, amphora_vrrp_ports]
    loadbalancers: [web, api]
"""

RETURN = r"""
drift:
  description: Whether any check found something.
  returned: always
  type: bool
  sample: true
summary:
  description: The number of findings of each check that ran, and C(total).
  returned: always
  type: dict
  sample: {"loadbalancers_missing_vip_port": 1, "amphorae_missing_compute": 0, "amphorae_missing_vrrp_port": 0,
           "amphorae_missing_management_port": 0, "orphan_ports": 2, "orphan_security_groups": 1, "total": 4}
checks:
  description: The checks that ran.
  returned: always
  type: list
  elements: str
  sample: ["loadbalancer_vip_ports", "orphan_ports"]
loadbalancers_missing_vip_port:
  description: Load balancers whose VIP port is not in Neutron.
  returned: when V(loadbalancer_vip_ports) ran
  type: list
  elements: dict
  contains:
    id: {description: Load balancer ID., type: str}
    name: {description: Its name., type: str}
    project_id: {description: Its project., type: str}
    provisioning_status: {description: Its provisioning status., type: str}
    operating_status: {description: Its operating status., type: str}
    vip_port_id: {description: The missing port., type: str}
    vip_address: {description: Its VIP address., type: str}
  sample: [{"id": "c17bdc40-efc6-4747-84b3-067e0df441f2", "name": "web", "provisioning_status": "ACTIVE",
            "operating_status": "ONLINE", "project_id": "0a5b3c1e9f8d4c2ab6e7d8f9a0b1c2d3",
            "vip_port_id": "5d2e7c1a-3b4f-4a6e-9c8d-7e6f5a4b3c2d", "vip_address": "203.0.113.10"}]
amphorae_missing_compute:
  description:
    - Amphorae whose compute server is not in Nova (C(id), C(loadbalancer_id), C(compute_id),
      C(status), C(role), C(lb_network_ip), C(vrrp_port_id), C(ha_port_id)).
  returned: when V(amphora_computes) ran
  type: list
  elements: dict
  sample: [{"id": "370629b9-1404-46f4-9e14-affe47026eae", "loadbalancer_id": "c17bdc40-efc6-4747-84b3-067e0df441f2",
            "compute_id": "9a1b2c3d-4e5f-4a6b-8c7d-6e5f4a3b2c1d", "status": "ALLOCATED", "role": "MASTER",
            "lb_network_ip": "172.31.0.23", "vrrp_port_id": "4c3b2a19-0f8e-4d7c-b6a5-948372615a0b",
            "ha_port_id": "5d2e7c1a-3b4f-4a6e-9c8d-7e6f5a4b3c2d"}]
amphorae_missing_vrrp_port:
  description: Amphorae whose VRRP port is not in Neutron (same fields as RV(amphorae_missing_compute)).
  returned: when V(amphora_vrrp_ports) ran
  type: list
  elements: dict
  sample: []
amphorae_missing_management_port:
  description:
    - Amphorae whose C(lb_network_ip) is the address of no Neutron port (same fields as
      RV(amphorae_missing_compute)).
  returned: when V(amphora_management_ports) ran
  type: list
  elements: dict
  sample: []
orphan_ports:
  description: Octavia-made ports that nothing in Octavia references.
  returned: when V(orphan_ports) ran
  type: list
  elements: dict
  contains:
    id: {description: Port ID., type: str}
    name: {description: Its name., type: str}
    device_owner: {description: Its owner., type: str}
    device_id: {description: Its device., type: str}
    network_id: {description: Its network., type: str}
    project_id: {description: Its project., type: str}
    ip_addresses: {description: Its fixed addresses., type: list, elements: str}
    status: {description: Neutron's port status., type: str}
    created_at: {description: When Neutron created it., type: str}
    reason:
      description: Why it is an orphan; for a port named after a load balancer or amphora, what became of that.
      type: str
  sample: [{"id": "0e4f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "name": "octavia-lb-2b1c6f0e-7d8a-4b9c-a0d1-e2f3a4b5c6d7",
            "device_owner": "Octavia", "device_id": "lb-2b1c6f0e-7d8a-4b9c-a0d1-e2f3a4b5c6d7",
            "network_id": "b7e3c1d2-5f6a-4b8c-9d0e-1f2a3b4c5d6e", "project_id": "0a5b3c1e9f8d4c2ab6e7d8f9a0b1c2d3",
            "ip_addresses": ["203.0.113.17"], "status": "DOWN", "created_at": "2026-11-30T09:12:44Z",
            "reason": "named after loadbalancer 2b1c6f0e-7d8a-4b9c-a0d1-e2f3a4b5c6d7, which does not exist"}]
orphan_security_groups:
  description: Security groups named C(lb-<LB ID>) whose load balancer does not exist.
  returned: when V(orphan_security_groups) ran
  type: list
  elements: dict
  contains:
    id: {description: Security group ID., type: str}
    name: {description: Its name., type: str}
    project_id: {description: Its project., type: str}
    loadbalancer_id: {description: The load balancer its name refers to., type: str}
    created_at: {description: When Neutron created it., type: str}
  sample: [{"id": "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b", "name": "lb-2b1c6f0e-7d8a-4b9c-a0d1-e2f3a4b5c6d7",
            "project_id": "f00aac56bc2f4e8d8ddfdf1ad934b94b", "loadbalancer_id": "2b1c6f0e-7d8a-4b9c-a0d1-e2f3a4b5c6d7",
            "created_at": "2026-11-30T09:12:51Z"}]
not_judged:
  description:
    - Objects not judged, with the reason (Octavia is working on them, younger than
      O(grace_period), or in O(ignore_ids)); C(kind) is V(loadbalancer), V(amphora), V(port)
      or V(security_group).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "port", "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "name": "octavia-lb-vrrp-3706...",
            "reason": "created 12 s ago, within grace_period"}]
inspected:
  description: How many objects of each resource type the task read (only the types its checks need).
  returned: always
  type: dict
  sample: {"loadbalancers": 12, "amphorae": 14, "ports": 230, "security_groups": 41, "servers": 14}
report:
  description: The findings as readable lines (Markdown), for C(ansible.builtin.debug) or a report file.
  returned: always
  type: list
  elements: str
  sample: ["# Octavia drift audit of cloud mycloud: 1 finding(s)", "", "Inspected: 12 loadbalancers, 230 ports", "",
           "Findings per check: loadbalancer_vip_ports 1", "", "## Load balancers whose VIP port is missing in Neutron (1)",
           "- web (c17bdc40-efc6-4747-84b3-067e0df441f2): ACTIVE, VIP port 5d2e7c1a-... (address 203.0.113.10) is not in Neutron"]
elapsed:
  description: Seconds the reads and the comparison took.
  returned: always
  type: float
  sample: 0.42
api_calls:
  description: API calls the task made (all reads; one per resource type, more only when a list has several pages).
  returned: always
  type: dict
  sample: {"writes": 0, "reads": 5}
"""

import time

from ansible_collections.octavia.lbaas.plugins.module_utils import drift
from ansible_collections.octavia.lbaas.plugins.module_utils.amphora import AMPHORAE
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_module import LbaasInfoModule

# resource type -> (service, path, plural key, query, what to say when it fails)
READS = {
    "loadbalancers": ("load_balancer", "/lbaas/loadbalancers", "loadbalancers", None, "Octavia's load balancers"),
    "amphorae": ("load_balancer", AMPHORAE, "amphorae", None, "Octavia's amphorae (admin API)"),
    "ports": ("network", "/ports", "ports", {"fields": list(drift.PORT_FIELDS)}, "Neutron's ports"),
    "security_groups": ("network", "/security-groups", "security_groups",
                        {"fields": list(drift.SECURITY_GROUP_FIELDS)}, "Neutron's security groups"),
    "servers": ("compute", "/servers", "servers", {"all_tenants": "True"}, "Nova's servers (all projects)"),
}


class DriftInfoModule(LbaasInfoModule):
    argument_spec = dict(
        checks=dict(type="list", elements="str", choices=list(drift.CHECKS)),
        loadbalancers=dict(type="list", elements="str"),
        grace_period=dict(type="int", default=300),
        ignore_ids=dict(type="list", elements="str", default=[]),
        ignore_device_owners=dict(type="list", elements="str", default=list(drift.DEFAULT_IGNORED_OWNERS)),
    )

    def validate(self):
        errors = drift.check_params(self.params)
        if errors:
            raise ModuleError("; ".join(errors))

    def reader(self, source):
        service, path, plural, query, what = READS[source]

        def read():
            try:
                return self.api.list(path, plural, dict(query) if query else None, service=service)
            except ModuleError as exc:
                raise ModuleError("Could not read %s: %s" % (what, exc.msg), **exc.extra) from exc
        return read

    def run(self):
        p = self.params
        started = time.monotonic()
        checks = p["checks"] or list(drift.CHECKS)
        sources = drift.sources_for(checks, bool(p["loadbalancers"]))
        api = self.api
        for source in sources:  # make each service's proxy before the reader threads race to it
            getattr(self.conn, READS[source][0])
        lists = dict(zip(sources, api.parallel(*[self.reader(s) for s in sources])))
        lb_ids = None
        if p["loadbalancers"]:
            lb_ids, errors = drift.select_loadbalancers(lists["loadbalancers"], p["loadbalancers"])
            if errors:
                raise ModuleError("; ".join(errors), api_calls=api.calls())
        result = drift.audit(lists, checks=checks, lb_ids=lb_ids, now=time.time(), grace_period=p["grace_period"],
                             ignore_ids=p["ignore_ids"], ignore_device_owners=p["ignore_device_owners"])
        inspected = {source: len(items) for source, items in lists.items()}
        cloud = p["cloud"] if isinstance(p["cloud"], str) else None
        result["inspected"] = inspected
        result["report"] = drift.report_lines(result, cloud=cloud, inspected=inspected)
        result["elapsed"] = round(time.monotonic() - started, 3)
        self.finish(**result)


def main():
    DriftInfoModule()()


if __name__ == "__main__":
    main()
