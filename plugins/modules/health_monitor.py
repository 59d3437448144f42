#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_monitor
short_description: Manage the health monitor of an Octavia pool
description:
  - Creates, updates or deletes the health monitor of a pool (a pool has at most one).
  - "The monitor type must suit the pool protocol: UDP and SCTP pools take C(UDP-CONNECT), C(SCTP), C(TCP) or C(HTTP);
    other pools take C(HTTP), C(HTTPS), C(PING), C(TCP) or C(TLS-HELLO)."
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
  admin_state_up:
    description:
      - "The administrative state of the health monitor; C(false) takes it out of service."
    type: bool
  delay:
    description:
      - Seconds between probes.
      - Required to create the health monitor.
    type: int
  domain_name:
    description:
      - Host header of HTTP 1.1 probes.
    type: str
  expected_codes:
    description:
      - "Status codes that mean healthy: C(200), C(200,202) or C(200-204)."
    type: str
  http_method:
    description:
      - HTTP method of HTTP and HTTPS probes.
    type: str
    choices: [GET, HEAD, POST, PUT, DELETE, TRACE, OPTIONS, CONNECT, PATCH]
  http_version:
    description:
      - HTTP version of the probes.
    type: float
    choices: [1.0, 1.1]
  loadbalancer:
    description:
      - "Load balancer (name or ID) of the pool; needed when O(pool) is a name."
    type: str
  max_retries:
    description:
      - Successful probes before a member is ONLINE.
      - Required to create the health monitor.
    type: int
  max_retries_down:
    description:
      - Failed probes before a member is ERROR.
    type: int
  name:
    description:
      - Name of the health monitor.
    type: str
  pool:
    description:
      - Pool (name or ID) the health monitor probes the members of.
    type: str
    required: true
  probe_timeout:
    description:
      - "Seconds a probe waits for an answer (Octavia's C(timeout)); not more than C(delay)."
      - Required to create the health monitor.
    type: int
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  state:
    description:
      - "V(present) creates or updates the %s, V(absent) deletes it."
    type: str
    default: "present"
    choices: [present, absent]
  tags:
    description:
      - Tags of the health monitor. The list is the complete set (order does not matter).
    type: list
    elements: str
  type:
    description:
      - "Type of probe. UDP and SCTP pools take UDP-CONNECT, SCTP, TCP or HTTP; other pools take HTTP, HTTPS, PING,
        TCP or TLS-HELLO."
      - This attribute cannot be updated.
      - Required to create the health monitor.
    type: str
    choices: [HTTP, HTTPS, PING, TCP, TLS-HELLO, UDP-CONNECT, SCTP]
  url_path:
    description:
      - Path requested by HTTP and HTTPS probes.
    type: str
"""

EXAMPLES = r"""
- name: HTTP health checks
  octavia.lbaas.health_monitor:
    loadbalancer: web
    pool: web
    type: HTTP
    delay: 5
    probe_timeout: 3
    max_retries: 3
    url_path: /healthz
    expected_codes: 200-204

- name: HTTP 1.1 probes with a Host header
  octavia.lbaas.health_monitor:
    loadbalancer: web
    pool: web
    type: HTTP
    http_version: 1.1
    domain_name: www.example.com

- name: No more health checks
  octavia.lbaas.health_monitor:
    loadbalancer: web
    pool: web
    state: absent
"""

RETURN = r"""
health_monitor:
  description: The health monitor as Octavia returns it.
  returned: always (null when absent)
  type: dict
  sample: {"id": "c3b1a2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d", "type": "HTTP", "delay": 5, "timeout": 3,
           "max_retries": 3, "url_path": "/healthz", "provisioning_status": "ACTIVE"}

id:
  description: ID of the object (null when it does not exist).
  returned: always
  type: str
  sample: 8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32

api_calls:
  description: Octavia and Neutron API calls the task made (Keystone not counted). A re-run with nothing to change has
    C(writes=0).
  returned: always
  type: dict
  sample: {"writes": 0, "reads": 10}
  contains:
    writes:
      description: POST, PUT and DELETE calls (retries included).
      type: int
    reads:
      description: GET calls, including the polls of the waits.
      type: int
actions:
  description: The writes the task made, or would make in check mode, in order.
  returned: always
  type: list
  elements: str
  sample: ["create load balancer web (one fully populated create: 3 listener(s), 3 pool(s), 30 member(s))"]

plan:
  description: The writes as data (what, which fields changed, the member lists of a batch update).
  returned: when state is present
  type: list
  elements: dict
  sample: [{"action": "batch-update", "kind": "member", "object": "members of pool web", "method": "PUT",
            "summary": "add 5, delete 5", "created": ["member 10.0.5.1:80"], "updated": [],
            "deleted": ["member 10.0.1.6:80"]}]
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas import (
    HEALTH_MONITOR,
    PROJECT_OPTION,
    STATE_OPTION,
    LbaasModule,
    Op,
    Planner,
    desire,
    label,
    object_options,
    public,
)


class HealthMonitorModule(LbaasModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        pool=dict(type="str", required=True),
        **object_options("health_monitor"),
        state=STATE_OPTION,
    )

    def validate(self):
        if self.params["state"] == "present":
            self.want = desire("health_monitor", self.params)

    def run(self):
        p = self.params
        present = p["state"] == "present"
        current, pool = self.lookup_pool(p["pool"], p["loadbalancer"], required=present)
        have = current.healthmonitor(pool) if pool else None
        if not present or pool is None:
            ops = []
            if have is not None:
                self.before, self.after = public(HEALTH_MONITOR.view(have)), {}
                ops = [Op("delete", "health_monitor", label("health_monitor", have, label("pool", pool)), "DELETE",
                          "/lbaas/healthmonitors/%s" % have["id"])]
                self.execute(ops, current.lb_id, current.lb.get("provisioning_status"))
            self.finish(changed=bool(ops), health_monitor=have, id=have["id"] if have else None)
            return
        planner = Planner(current)
        before, after = planner.healthmonitor(self.want, have, pool["id"], label("pool", pool), pool.get("protocol"))
        self.before, self.after = before or {}, after
        ops = planner.plan()
        self.execute(ops, current.lb_id, current.lb.get("provisioning_status"))
        hm = have
        if ops and not self.check_mode:
            fresh = self.api.get("/lbaas/pools/%s" % pool["id"])["pool"]
            hm = self.api.get("/lbaas/healthmonitors/%s" % fresh["healthmonitor_id"])["healthmonitor"]
            self.fail_on_error(current.lb_id, (label("health_monitor", hm, label("pool", pool)), hm))
        self.finish(changed=bool(ops), health_monitor=hm, id=(hm or {}).get("id"), plan=[op.as_dict() for op in ops])


def main():
    HealthMonitorModule()()


if __name__ == "__main__":
    main()
