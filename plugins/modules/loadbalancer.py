#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: loadbalancer
short_description: Manage an Octavia load balancer and its whole tree
description:
  - Creates, updates or deletes an Octavia load balancer, and, declaratively, its listeners, pools, members, health
    monitors, L7 policies and rules in one task.
  - A new load balancer is created with B(one) fully populated API call (Octavia's graph create) and one wait.
  - "On later runs the module reads the tree (a few GETs), diffs it against the task and writes only what differs:
    each object is matched by its natural key inside its parent (listener = L4 protocol + port, pool = name, member =
    address + port, L7 policy = name, rule = type + compare_type + key + value); all member changes of a pool are one
    batch update."
  - Options not given are left as they are. A change Octavia cannot make (for example a listener's protocol or the VIP
    subnet) fails before any write, naming the object and the field.
  - "Every write waits for the load balancer to leave C(PENDING_*), polling after 0.25 s and backing off to 2 s; 409
    (immutable) and 503 (busy) answers are retried with jittered backoff, all within O(timeout)."
notes:
  - "The result's RV(api_calls) counts Octavia and Neutron API calls; a re-run with nothing to change makes no write."
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
  admin_state_up:
    description:
      - "The administrative state of the load balancer; C(false) takes it out of service."
    type: bool
  allow_empty:
    description:
      - "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task
        fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident."
    type: bool
    default: false
  availability_zone:
    description:
      - Octavia availability zone (name).
      - This attribute cannot be updated.
    type: str
  cascade:
    description:
      - With O(state=absent), delete the load balancer with all its children in one call.
      - Without it, Octavia refuses to delete a load balancer that has children.
    type: bool
    default: true
  description:
    description:
      - Description of the load balancer.
    type: str
  failover:
    description:
      - Fail the load balancer over (rebuild its amphorae) after applying the rest of the task.
      - "An explicit action: every run with V(true) fails over (and reports a change)."
    type: bool
    default: false
  flavor:
    description:
      - Octavia flavor (name or ID).
      - This attribute cannot be updated.
    type: str
  listeners:
    description:
      - The listeners of the load balancer.
      - "When given, the list is complete: see O(purge_listeners) and O(pools[].additive_only)."
      - "Each listener is matched by O(listeners[].protocol_port) and its L4 protocol."
    type: list
    elements: dict
    suboptions:
      admin_state_up:
        description:
          - "The administrative state of the listener; C(false) takes it out of service."
        type: bool
      allowed_cidrs:
        description:
          - "Source CIDRs allowed to connect; empty means everyone."
        type: list
        elements: str
      alpn_protocols:
        description:
          - ALPN protocols to offer, in order of preference.
        type: list
        elements: str
        choices: [h2, http/1.1, http/1.0]
      client_authentication:
        description:
          - TLS client authentication mode.
        type: str
        choices: [NONE, OPTIONAL, MANDATORY]
      client_ca_tls_container_ref:
        description:
          - Key manager URI of the CA that signs client certificates.
        type: str
      client_crl_container_ref:
        description:
          - Key manager URI of the revocation list of client certificates.
        type: str
      connection_limit:
        description:
          - "Maximum number of connections; C(-1) means unlimited."
        type: int
      default_pool:
        description:
          - "The listener's default pool: a pool name (defined in O(pools), or existing in the load balancer), or a
            full pool definition with the keys of O(pools[]) (it is then defined here, once, and can be referred to by
            name elsewhere)."
        type: raw
      default_tls_container_ref:
        description:
          - Key manager URI of the certificate of a C(TERMINATED_HTTPS) listener.
        type: str
      description:
        description:
          - Description of the listener.
        type: str
      hsts_include_subdomains:
        description:
          - Adds C(includeSubDomains) to the HSTS header.
        type: bool
      hsts_max_age:
        description:
          - Enables HTTP Strict Transport Security with this max-age.
        type: int
      hsts_preload:
        description:
          - Adds C(preload) to the HSTS header.
        type: bool
      insert_headers:
        description:
          - "Headers to insert into requests to members, for example C({X-Forwarded-For: true}). Values are sent as
            strings."
        type: dict
      l7policies:
        description:
          - "L7 policies of the listener, in evaluation order (a policy without O(listeners[].l7policies[].position)
            gets its place in the list). When given, the listener has exactly these policies."
        type: list
        elements: dict
        suboptions:
          action:
            description:
              - What to do with a matching request.
              - Required to create the L7 policy.
            type: str
            choices: [REJECT, REDIRECT_TO_URL, REDIRECT_TO_POOL, REDIRECT_PREFIX]
          admin_state_up:
            description:
              - "The administrative state of the policy; C(false) takes it out of service."
            type: bool
          description:
            description:
              - Description of the policy.
            type: str
          name:
            description:
              - "Name of the policy; it identifies the policy in its listener."
            type: str
          position:
            description:
              - Position of the policy in the listener (1 is evaluated first).
            type: int
          redirect_http_code:
            description:
              - HTTP status of redirects (Octavia uses 302).
            type: int
            choices: [301, 302, 303, 307, 308]
          redirect_pool:
            description:
              - "Pool for C(REDIRECT_TO_POOL): a pool name, or a full pool definition with the keys of O(pools[])."
            type: raw
          redirect_prefix:
            description:
              - URL prefix for C(REDIRECT_PREFIX).
            type: str
          redirect_url:
            description:
              - URL for C(REDIRECT_TO_URL).
            type: str
          rules:
            description:
              - "Rules of the policy; when given, the policy has exactly these rules."
            type: list
            elements: dict
            suboptions:
              admin_state_up:
                description:
                  - "The administrative state of the rule; C(false) takes it out of service."
                type: bool
              compare_type:
                description:
                  - How the rule compares.
                type: str
                required: true
                choices: [REGEX, STARTS_WITH, ENDS_WITH, CONTAINS, EQUAL_TO]
              invert:
                description:
                  - Negate the rule.
                type: bool
              rule_key:
                description:
                  - Header name, cookie name or DN field the rule looks at (Octavia's C(key)).
                type: str
              tags:
                description:
                  - Tags of the rule. The list is the complete set (order does not matter).
                type: list
                elements: str
              type:
                description:
                  - What the rule looks at.
                type: str
                required: true
                choices: [HOST_NAME, PATH, FILE_TYPE, HEADER, COOKIE, SSL_CONN_HAS_CERT, SSL_VERIFY_RESULT, SSL_DN_FIELD]
              value:
                description:
                  - Value to compare with.
                type: str
                required: true
          tags:
            description:
              - Tags of the policy. The list is the complete set (order does not matter).
            type: list
            elements: str
      name:
        description:
          - Name of the listener.
        type: str
      protocol:
        description:
          - Protocol the listener accepts.
          - This attribute cannot be updated.
        type: str
        required: true
        choices: [HTTP, HTTPS, TCP, UDP, SCTP, TERMINATED_HTTPS, PROMETHEUS]
      protocol_port:
        description:
          - Port the listener listens on. With the L4 protocol, it identifies the listener in its load balancer.
          - This attribute cannot be updated.
        type: int
        required: true
      sni_container_refs:
        description:
          - Key manager URIs of additional (SNI) certificates.
        type: list
        elements: str
      tags:
        description:
          - Tags of the listener. The list is the complete set (order does not matter).
        type: list
        elements: str
      timeout_client_data:
        description:
          - Frontend client inactivity timeout, in milliseconds.
        type: int
      timeout_member_connect:
        description:
          - Backend member connection timeout, in milliseconds.
        type: int
      timeout_member_data:
        description:
          - Backend member inactivity timeout, in milliseconds.
        type: int
      timeout_tcp_inspect:
        description:
          - Time to wait for more TCP packets for content inspection, in milliseconds.
        type: int
      tls_ciphers:
        description:
          - OpenSSL cipher string of a C(TERMINATED_HTTPS) listener.
        type: str
      tls_versions:
        description:
          - TLS protocol versions of a C(TERMINATED_HTTPS) listener.
        type: list
        elements: str
        choices: [SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
  name:
    description:
      - "Name of the load balancer; a load balancer is found by name (or ID) in the project."
    type: str
    required: true
  pools:
    description:
      - The pools of the load balancer, matched by name.
      - Pools not listed are deleted when O(purge_pools) (and not used by a listed listener).
    type: list
    elements: dict
    suboptions:
      additive_only:
        description:
          - "Keep the pool's members that O(pools[].members) does not list."
        type: bool
        default: false
      admin_state_up:
        description:
          - "The administrative state of the pool; C(false) takes it out of service."
        type: bool
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
          - The health monitor of the pool.
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
      members:
        description:
          - "Members of the pool, matched on address and protocol_port. All changes of the pool's members are one
            batch update. Members not listed are deleted, unless O(pools[].additive_only)."
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
      protocol:
        description:
          - Protocol used to talk to the members.
          - This attribute cannot be updated.
        type: str
        required: true
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
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  provider:
    description:
      - Provider driver, for example C(amphora) or C(ovn). Octavia picks its default when not given.
      - This attribute cannot be updated.
    type: str
  purge_listeners:
    description:
      - Delete listeners that O(listeners) does not list. Only when O(listeners) is given.
    type: bool
    default: true
  purge_pools:
    description:
      - Delete pools that O(pools) does not list. Only when O(pools) is given.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates the load balancer and the tree the task gives, V(absent) deletes the load
        balancer (with everything in it when O(cascade)).
    type: str
    default: "present"
    choices: [present, absent]
  tags:
    description:
      - Tags of the load balancer. The list is the complete set (order does not matter).
    type: list
    elements: str
  vip_address:
    description:
      - Fixed VIP address on the VIP subnet (or network).
      - This attribute cannot be updated.
    type: str
  vip_network:
    description:
      - Network (name or ID) to allocate the VIP on, when no subnet is given.
      - This attribute cannot be updated.
    type: str
  vip_port:
    description:
      - An existing Neutron port (name or ID) to use as the VIP.
      - This attribute cannot be updated.
    type: str
  vip_subnet:
    description:
      - Subnet (name or ID) to allocate the VIP on.
      - This attribute cannot be updated.
    type: str
"""

EXAMPLES = r"""
- name: A load balancer with its whole tree, created in one API call
  octavia.lbaas.loadbalancer:
    cloud: mycloud
    name: web
    vip_subnet: public-subnet
    listeners:
      - protocol: HTTP
        protocol_port: 80
        default_pool: web
        insert_headers:
          X-Forwarded-For: true
        l7policies:
          - name: api
            action: REDIRECT_TO_POOL
            redirect_pool: api
            rules:
              - type: PATH
                compare_type: STARTS_WITH
                value: /api
      - protocol: TCP
        protocol_port: 9000
        default_pool:               # a pool defined inline, once
          name: tcp
          protocol: TCP
          lb_algorithm: SOURCE_IP
          members:
            - {address: 192.0.2.21, protocol_port: 9000}
    pools:
      - name: web
        protocol: HTTP
        lb_algorithm: ROUND_ROBIN
        members:
          - {address: 192.0.2.11, protocol_port: 8080}
          - {address: 192.0.2.12, protocol_port: 8080, weight: 5}
        healthmonitor:
          type: HTTP
          delay: 5
          probe_timeout: 3
          max_retries: 3
          url_path: /healthz
      - name: api
        protocol: HTTP
        lb_algorithm: LEAST_CONNECTIONS
        members:
          - {address: 192.0.2.31, protocol_port: 8080}

- name: Only touch the load balancer itself (listeners and pools are left alone)
  octavia.lbaas.loadbalancer:
    name: web
    description: front end
    tags: [prod]

- name: Fail the load balancer over (rebuild its amphorae)
  octavia.lbaas.loadbalancer:
    name: web
    failover: true

- name: Delete it with everything in it
  octavia.lbaas.loadbalancer:
    name: web
    state: absent
"""

RETURN = r"""
loadbalancer:
  description: The load balancer as Octavia returns it, with the children the task manages (or read) as objects
    in C(listeners) (with C(l7policies) and their C(rules)) and C(pools) (with C(members) and C(healthmonitor)).
  returned: always (null when absent)
  type: dict
  sample: {"id": "8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32", "name": "web", "provisioning_status": "ACTIVE",
           "vip_address": "192.0.2.100", "listeners": [], "pools": []}

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
    AMPHORA_LB_ALGORITHMS,
    LOADBALANCER,
    PROJECT_OPTION,
    STATE_OPTION,
    Current,
    LbaasModule,
    ModuleError,
    Op,
    Ref,
    Validator,
    check_algorithms,
    check_cidrs_for_vip,
    check_vip_address,
    desire_tree,
    graph_body,
    label,
    object_options,
    predict_tree,
    public,
    tree_options,
    tree_plan,
    vip_addresses,
)


class LoadBalancerModule(LbaasModule):
    argument_spec = dict(
        object_options("loadbalancer", required=("name",)),
        project=dict(PROJECT_OPTION),
        **tree_options(),
        purge_listeners=dict(type="bool", default=True),
        purge_pools=dict(type="bool", default=True),
        cascade=dict(type="bool", default=True),
        failover=dict(type="bool", default=False),
        allow_empty=dict(ALLOW_EMPTY_OPTION),
        state=STATE_OPTION,
    )

    def validate(self):
        self.desired = desire_tree(self.params) if self.params["state"] == "present" else None

    def run(self):
        p = self.params
        if p["state"] == "absent":
            return self.absent(self.find_loadbalancer(p["name"], required=False))
        desired = self.desired
        # the load balancer and the names of its VIP subnet, network, port and flavor: side by side
        lb, resolved = self.api.parallel(lambda: self.find_loadbalancer(p["name"], required=False), self.resolve_names)
        if lb is None:
            ops, current = self.create(desired, resolved), None
            self.before, self.after = {}, predict_tree(desired)
        else:
            checks = Validator()
            check_cidrs_for_vip(checks, desired.get("listeners"), vip_addresses(lb))
            check_algorithms(checks, lb.get("provider"), desired.get("pools"))
            checks.raise_if_any()
            current = Current(self.api, lb).prefetch(desired)
            ops, self.before, self.after = tree_plan(desired, current, p["purge_listeners"], p["purge_pools"], resolved)
        if p["failover"]:
            if lb is None:
                self.ansible.warn("failover: the load balancer is new, there is nothing to fail over")
            else:
                ops.append(Op("failover", "loadbalancer", label("loadbalancer", lb), "PUT",
                              ("/lbaas/loadbalancers/%s/failover", Ref("loadbalancer", None))))
        lb_id = lb["id"] if lb else None
        ids = {("loadbalancer", None): lb_id} if lb_id else {}
        final = self.execute(ops, lb_id, lb.get("provisioning_status") if lb else None, ids=ids)
        if lb is None and final is not None and self.created is not None:
            # Octavia answered the create with the whole tree; the flow that made the load
            # balancer ACTIVE made every child ACTIVE with it (or it would be in ERROR).
            tree = created_tree(self.created, final)
        elif ops and not self.check_mode and final is not None:
            after = Current(self.api, final).read_desired(desired)
            problems = after.problems()
            if problems:
                raise ModuleError("Octavia put %s in ERROR" % ", ".join(problems), loadbalancer=after.known_tree(),
                                  status_tree=self.api.status_tree(final["id"]))
            tree = after.known_tree()
        elif lb is None and self.created is not None:
            tree = self.created     # wait: false
        elif current is not None:
            tree = current.known_tree()
        else:
            tree = None
        if tree is None and self.ids.get(("loadbalancer", None)):
            tree = {"id": self.ids[("loadbalancer", None)], "name": p["name"]}
        self.finish(changed=bool(ops), loadbalancer=tree, id=(tree or {}).get("id"),
                    plan=[op.as_dict() for op in ops])
        return None

    def execute(self, ops, lb_id, lb_status=None, ids=None, wait=None):
        self.created = None
        return super().execute(ops, lb_id, lb_status, ids, wait)

    def _perform(self, op, ids, lb_id):
        result = super()._perform(op, ids, lb_id)
        if op.record == ("loadbalancer", None) and result:
            self.created = result.get("loadbalancer")
        return result

    def create(self, desired, resolved):
        if not any(resolved.get(k) for k in ("vip_subnet", "vip_network", "vip_port")):
            raise ModuleError("To create load balancer %s give vip_subnet, vip_network or vip_port" % self.params["name"])
        self.check_new(desired, resolved)
        body = graph_body(desired, resolved)
        inner = body["loadbalancer"]
        if self.params.get("project"):
            inner["project_id"] = self.api.project_id()   # an admin creating it for that project
        members = sum(len(pool.get("members") or []) for pool in inner.get("pools") or [])
        summary = "one fully populated create: %d listener(s), %d pool(s), %d member(s)" % (
            len(inner.get("listeners") or []), len(inner.get("pools") or []), members)
        lookup = ("/lbaas/loadbalancers", "loadbalancers", self.api.scoped({"name": self.params["name"]}), lambda lb: True)
        return [Op("create", "loadbalancer", label("loadbalancer", desired["loadbalancer"]), "POST", "/lbaas/loadbalancers",
                   body, record=("loadbalancer", None), resource="loadbalancer", summary=summary, lookup=lookup)]

    def check_new(self, desired, resolved):
        """What only the cloud can tell, for a new load balancer, before its create: the
        fixed VIP address against the VIP subnet, allowed_cidrs against the VIP's IP
        version, the algorithms against the provider. Reads only when those are given."""
        want = desired["loadbalancer"]
        listeners = desired.get("listeners") or []
        pools = desired.get("pools") or []
        checks = Validator()
        cidrs = any(li.get("allowed_cidrs") for li in listeners)
        if want.get("vip_address") or cidrs:
            subnets, addresses = [], []
            if resolved.get("vip_subnet"):
                subnet = self.api.neutron_object("subnet", resolved["vip_subnet"])
                subnets = [subnet] if subnet else []
            elif resolved.get("vip_network"):
                subnets = self.api.list("/subnets", "subnets", {"network_id": resolved["vip_network"]}, service="network")
            elif resolved.get("vip_port"):
                port = self.api.neutron_object("port", resolved["vip_port"]) or {}
                addresses = [ip.get("ip_address") for ip in port.get("fixed_ips") or []]
            if want.get("vip_address"):
                check_vip_address(checks, want["vip_address"], subnets)
                addresses = [want["vip_address"]]
            elif subnets:
                # Octavia picks an IPv4 subnet of a VIP network when there is one
                versions = {s.get("ip_version") for s in subnets}
                addresses = ["0.0.0.0" if 4 in versions else "::"]
            if cidrs:
                check_cidrs_for_vip(checks, listeners, addresses)
        provider = want.get("provider")
        if not provider and any(pool.get("lb_algorithm") not in AMPHORA_LB_ALGORITHMS + (None,) for pool in pools):
            provider = self.api.default_provider()
        check_algorithms(checks, provider, pools)
        checks.raise_if_any()

    def resolve_names(self):
        """VIP subnet/network/port and flavor given by name → IDs (IDs cost no call)."""
        want = self.desired["loadbalancer"]
        resolved = {}
        for option, resource in (("vip_subnet", "subnet"), ("vip_network", "network"), ("vip_port", "port")):
            if want.get(option):
                resolved[option] = self.api.find_neutron(resource, want[option], option)
        if want.get("flavor"):
            resolved["flavor"] = self.api.find_flavor(want["flavor"])
        return resolved

    def absent(self, lb):
        if lb is None:
            self.finish(changed=False, loadbalancer=None, id=None)
            return
        self.before, self.after = public(LOADBALANCER.view(lb)), {}
        cascade = self.params["cascade"]
        self.write("delete %s%s" % (label("loadbalancer", lb), " (cascade)" if cascade else ""), self.api.request,
                   "DELETE", "/lbaas/loadbalancers/%s" % lb["id"], params={"cascade": "true"} if cascade else None,
                   what="delete %s" % label("loadbalancer", lb), lb_id=lb["id"])
        if self.params["wait"] and not self.check_mode:
            self.api.wait_ready(lb["id"], "the deletion of %s" % label("loadbalancer", lb), gone_ok=True)
        self.finish(changed=True, loadbalancer=lb, id=lb["id"])


def created_tree(created, final):
    """The tree of the create answer with the load balancer as the last wait saw it and
    its children's provisioning status (they go ACTIVE with it)."""
    tree = dict(final)
    status = final.get("provisioning_status")

    def settled(obj):
        obj = dict(obj)
        if str(obj.get("provisioning_status", "")).startswith("PENDING_"):
            obj["provisioning_status"] = status
        return obj

    tree["listeners"] = []
    for listener in created.get("listeners") or []:
        item = settled(listener)
        if isinstance(item.get("l7policies"), list):
            item["l7policies"] = [
                dict(settled(policy), rules=[settled(r) for r in policy.get("rules") or [] if isinstance(r, dict)])
                for policy in item["l7policies"] if isinstance(policy, dict)]
        tree["listeners"].append(item)
    tree["pools"] = []
    for pool in created.get("pools") or []:
        item = settled(pool)
        if isinstance(item.get("members"), list):
            item["members"] = [settled(m) for m in item["members"] if isinstance(m, dict)]
        if isinstance(item.get("healthmonitor"), dict):
            item["healthmonitor"] = settled(item["healthmonitor"])
            item.setdefault("healthmonitor_id", item["healthmonitor"].get("id"))
        tree["pools"].append(item)
    return tree


def main():
    LoadBalancerModule()()


if __name__ == "__main__":
    main()
