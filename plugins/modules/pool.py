#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: pool
short_description: Manage a pool of an Octavia load balancer, with its members and health monitor
description:
  - Creates, updates or deletes one pool, found by O(name) in its load balancer.
  - "O(members), when given, is the pool's member set: every difference (new, changed and removed members) is applied
    with one batch update (C(PUT /v2/lbaas/pools/{id}/members))."
  - O(healthmonitor), when given, creates or updates the pool's health monitor.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
  additive_only:
    description:
      - Keep members that O(members) does not list.
    type: bool
    default: false
  admin_state_up:
    description:
      - "The administrative state of the pool; C(false) takes it out of service."
    type: bool
  allow_empty:
    description:
      - "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task
        fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident."
    type: bool
    default: false
  alpn_protocols:
    description:
      - ALPN protocols towards the members, in order of preference.
    type: list
    elements: str
    choices: [h2, http/1.1, http/1.0]
  ca_tls_container_ref:
    description:
      - Key manager URI of the CA that signs the members' certificates.
    type: str
  crl_container_ref:
    description:
      - Key manager URI of the revocation list for the members' certificates.
    type: str
  description:
    description:
      - Description of the pool.
    type: str
  healthmonitor:
    description:
      - The health monitor of the pool (created or updated).
    type: dict
    suboptions:
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
      probe_timeout:
        description:
          - "Seconds a probe waits for an answer (Octavia's C(timeout)); not more than C(delay)."
          - Required to create the health monitor.
        type: int
      tags:
        description:
          - Tags of the health monitor. The list is the complete set (order does not matter).
        type: list
        elements: str
      type:
        description:
          - "Type of probe. UDP and SCTP pools take UDP-CONNECT, SCTP, TCP or HTTP; other pools take HTTP, HTTPS,
            PING, TCP or TLS-HELLO."
          - This attribute cannot be updated.
          - Required to create the health monitor.
        type: str
        choices: [HTTP, HTTPS, PING, TCP, TLS-HELLO, UDP-CONNECT, SCTP]
      url_path:
        description:
          - Path requested by HTTP and HTTPS probes.
        type: str
  lb_algorithm:
    description:
      - Load balancing algorithm. Required to create a pool.
      - Required to create the pool.
    type: str
    choices: [ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP, SOURCE_IP_PORT]
  listener:
    description:
      - "Make the pool the default pool of this listener: C(PROTOCOL:PORT) (for example C(HTTP:80)), a listener name
        or an ID."
    type: str
  loadbalancer:
    description:
      - Load balancer (name or ID) the pool belongs to.
    type: str
    required: true
  members:
    description:
      - "Members of the pool, matched on address and protocol_port; all changes are one batch update. Members not
        listed are deleted unless O(additive_only)."
    type: list
    elements: dict
    suboptions:
      address:
        description:
          - IP address of the member. With C(protocol_port) it identifies the member in its pool.
          - This attribute cannot be updated.
        type: str
        required: true
      admin_state_up:
        description:
          - "The administrative state of the member; C(false) takes it out of service."
        type: bool
      backup:
        description:
          - A backup member only gets traffic when all others are down.
        type: bool
      monitor_address:
        description:
          - Address the health monitor probes instead of the member's C(address).
        type: str
      monitor_port:
        description:
          - Port the health monitor probes instead of the member's C(protocol_port).
        type: int
      name:
        description:
          - Name of the member.
        type: str
      protocol_port:
        description:
          - Port of the member.
          - This attribute cannot be updated.
        type: int
        required: true
      subnet_id:
        description:
          - ID of the subnet the member is reached on.
          - This attribute cannot be updated.
        type: str
      tags:
        description:
          - Tags of the member. The list is the complete set (order does not matter).
        type: list
        elements: str
      weight:
        description:
          - Relative share of the traffic (0 drains the member).
        type: int
  name:
    description:
      - "Name of the pool; it identifies the pool in its load balancer."
    type: str
    required: true
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  protocol:
    description:
      - Protocol used to talk to the members.
      - This attribute cannot be updated.
    type: str
    choices: [HTTP, HTTPS, TCP, UDP, SCTP, PROXY, PROXYV2]
  session_persistence:
    description:
      - "Session persistence. Give C({}) (no type) to remove it."
    type: dict
    suboptions:
      cookie_name:
        description:
          - Cookie name, for C(APP_COOKIE).
        type: str
      persistence_granularity:
        description:
          - Netmask of the source address, for UDP and SCTP pools.
        type: str
      persistence_timeout:
        description:
          - Timeout in seconds, for UDP and SCTP pools.
        type: int
      type:
        description:
          - "Persistence type; omit it to remove session persistence."
        type: str
        choices: [SOURCE_IP, HTTP_COOKIE, APP_COOKIE]
  state:
    description:
      - "V(present) creates or updates the %s, V(absent) deletes it."
    type: str
    default: "present"
    choices: [present, absent]
  tags:
    description:
      - Tags of the pool. The list is the complete set (order does not matter).
    type: list
    elements: str
  tls_ciphers:
    description:
      - OpenSSL cipher string towards the members.
    type: str
  tls_container_ref:
    description:
      - Key manager URI of the client certificate presented to members.
    type: str
  tls_enabled:
    description:
      - Use TLS towards the members.
    type: bool
  tls_versions:
    description:
      - TLS versions towards the members.
    type: list
    elements: str
    choices: [SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
"""

EXAMPLES = r"""
- name: A pool with its member set and health monitor
  octavia.lbaas.pool:
    loadbalancer: web
    name: web
    protocol: HTTP
    lb_algorithm: ROUND_ROBIN
    listener: HTTP:80              # make it the listener's default pool
    session_persistence:
      type: APP_COOKIE
      cookie_name: session
    members:
      - {address: 192.0.2.11, protocol_port: 8080}
      - {address: 192.0.2.12, protocol_port: 8080, weight: 5}
      - {address: 192.0.2.13, protocol_port: 8080, backup: true}
    healthmonitor:
      type: HTTP
      delay: 5
      probe_timeout: 3
      max_retries: 3

- name: Add members, keep the others
  octavia.lbaas.pool:
    loadbalancer: web
    name: web
    protocol: HTTP
    additive_only: true
    members:
      - {address: 192.0.2.50, protocol_port: 8080}

- name: Remove session persistence
  octavia.lbaas.pool:
    loadbalancer: web
    name: web
    protocol: HTTP
    session_persistence: {}
"""

RETURN = r"""
pool:
  description: The pool as Octavia returns it (with C(members) and C(healthmonitor) as objects when the task
    manages them).
  returned: always (null when absent)
  type: dict
  sample: {"id": "3c5c0c21-9d51-4a3e-8d1b-2a4f1c6d7e80", "name": "web", "protocol": "HTTP",
           "lb_algorithm": "ROUND_ROBIN", "provisioning_status": "ACTIVE"}

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
    ALLOW_EMPTY_OPTION,
    CHILD_EXTRA,
    POOL,
    PROJECT_OPTION,
    STATE_OPTION,
    LbaasModule,
    ModuleError,
    Op,
    Planner,
    Ref,
    Validator,
    check_algorithms,
    desire,
    healthmonitor_option,
    label,
    members_option,
    object_options,
    public,
)


class PoolModule(LbaasModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str", required=True),
        **object_options("pool", required=("name",)),
        listener=dict(type="str"),
        members=members_option(),
        additive_only=dict(type="bool", default=False),
        healthmonitor=healthmonitor_option(),
        allow_empty=dict(ALLOW_EMPTY_OPTION),
        state=STATE_OPTION,
    )
    module_kwargs = dict(required_if=[("state", "present", ("protocol",))])

    def validate(self):
        if self.params["state"] == "present":
            self.want = desire("pool", self.params, extra=CHILD_EXTRA["pool"])

    def run(self):
        p = self.params
        present = p["state"] == "present"
        lb = self.find_loadbalancer(p["loadbalancer"], required=present)
        current = self.current_of(lb) if lb else None
        have = current.find_pool(p["name"]) if current else None
        if not present:
            if have is not None:
                self.before, self.after = public(POOL.view(have)), {}
                self.execute([Op("delete", "pool", label("pool", have), "DELETE", "/lbaas/pools/%s" % have["id"])],
                             lb["id"], lb.get("provisioning_status"))
            self.finish(changed=have is not None, pool=have, id=have["id"] if have else None)
            return
        want = self.want
        checks = Validator()
        check_algorithms(checks, lb.get("provider"), [want])
        checks.raise_if_any()
        planner = Planner(current)
        listener = current.find_listener(p["listener"]) if p["listener"] else None
        if p["listener"] and listener is None:
            raise ModuleError("listener: %s not found in load balancer %s" % (p["listener"], p["loadbalancer"]))
        if listener is not None:
            planner.v.pool_for_listener(listener["protocol"], want["protocol"], "listener", want["name"])
            planner.v.raise_if_any()
        # a new pool can be made the listener's default pool by its create call, if the
        # listener has none; otherwise the listener is pointed at it with an update
        attach_on_create = listener is not None and have is None and not listener.get("default_pool_id")
        before, after = planner.pool(want, have, listener_id=listener["id"] if attach_on_create else None)
        if listener is not None and not attach_on_create and listener.get("default_pool_id") != (have or {}).get("id"):
            target = Ref("pool", want["name"]) if have is None else have["id"]
            planner.add("listener", Op("update", "listener", label("listener", listener), "PUT",
                                       "/lbaas/listeners/%s" % listener["id"], {"listener": {"default_pool_id": target}},
                                       changes={"default_pool": (current.pool_names().get(listener.get("default_pool_id")),
                                                                 want["name"])}))
        self.before, self.after = before or {}, after
        ops = planner.plan()
        self.execute(ops, lb["id"], lb.get("provisioning_status"), ids=planner.ids)
        pool_id = self.ids.get(("pool", want["name"])) or (have or {}).get("id")
        pool = have
        if ops and not self.check_mode and pool_id:
            pool = self.api.get("/lbaas/pools/%s" % pool_id)["pool"]
            current = self.current_of(lb)
        if pool is not None and not (self.check_mode and have is None):
            pool = dict(pool)
            reads = [lambda: current.members(pool) if want.get("members") is not None else None,
                     lambda: current.healthmonitor(pool) if want.get("healthmonitor") is not None else None]
            members, monitor = self.api.parallel(*reads)
            if want.get("members") is not None:
                pool["members"] = members
            if want.get("healthmonitor") is not None:
                pool["healthmonitor"] = monitor
            if ops:
                self.fail_on_error(lb["id"], (label("pool", pool), pool),
                                   *[(label("member", m, label("pool", pool)), m) for m in members or []],
                                   (label("health_monitor", monitor or {}, label("pool", pool)), monitor))
        self.finish(changed=bool(ops), pool=pool, id=pool_id, plan=[op.as_dict() for op in ops])


def main():
    PoolModule()()


if __name__ == "__main__":
    main()
