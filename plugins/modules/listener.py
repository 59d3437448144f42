#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: listener
short_description: Manage a listener of an Octavia load balancer
description:
  - Creates, updates or deletes one listener, found by O(protocol_port) and L4 protocol (TCP, UDP or SCTP) in its load
    balancer, and optionally its L7 policies.
  - "A change of O(protocol) or O(protocol_port) is refused before any write: delete and create the listener."
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
  admin_state_up:
    description:
      - "The administrative state of the listener; C(false) takes it out of service."
    type: bool
  allow_empty:
    description:
      - "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task
        fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident."
    type: bool
    default: false
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
      - Pool (name or ID, in the same load balancer) that receives requests no L7 policy redirects.
    type: str
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
      - "L7 policies of the listener, in evaluation order; each needs a name. When given, the listener has exactly
        these policies."
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
          - Pool (name or ID, in the same load balancer) for C(REDIRECT_TO_POOL).
        type: str
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
  loadbalancer:
    description:
      - Load balancer (name or ID) the listener belongs to.
    type: str
    required: true
  name:
    description:
      - Name of the listener.
    type: str
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  protocol:
    description:
      - Protocol the listener accepts.
      - This attribute cannot be updated.
    type: str
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
  state:
    description:
      - "V(present) creates or updates the %s, V(absent) deletes it."
    type: str
    default: "present"
    choices: [present, absent]
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
"""

EXAMPLES = r"""
- name: An HTTPS listener that terminates TLS
  octavia.lbaas.listener:
    loadbalancer: web
    protocol: TERMINATED_HTTPS
    protocol_port: 443
    default_tls_container_ref: https://barbican.example.com:9311/v1/containers/6f3c0c1b-0a9c-4d0f-9d5e-4f2a7b1c8e11
    default_pool: web
    insert_headers:
      X-Forwarded-For: true
      X-Forwarded-Proto: true
    timeout_client_data: 60000

- name: With its L7 policies (the listener then has exactly these)
  octavia.lbaas.listener:
    loadbalancer: web
    protocol: HTTP
    protocol_port: 80
    l7policies:
      - name: to-https
        action: REDIRECT_PREFIX
        redirect_prefix: https://www.example.com
        redirect_http_code: 301

- name: Remove the listener on port 8080
  octavia.lbaas.listener:
    loadbalancer: web
    protocol_port: 8080
    state: absent
"""

RETURN = r"""
listener:
  description: The listener as Octavia returns it (with C(l7policies) and their C(rules) as objects when the task
    manages them).
  returned: always (null when absent)
  type: dict
  sample: {"id": "0b9b2f0e-8d34-4d39-9fc7-5d3c2c1f5f11", "protocol": "HTTP", "protocol_port": 80,
           "provisioning_status": "ACTIVE", "default_pool_id": "3c5c0c21-9d51-4a3e-8d1b-2a4f1c6d7e80"}

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
    LISTENER,
    PROJECT_OPTION,
    STATE_OPTION,
    LbaasModule,
    Op,
    Planner,
    Validator,
    check_cidrs_for_vip,
    desire,
    l7policies_option,
    label,
    listener_key,
    object_options,
    public,
    vip_addresses,
)


class ListenerModule(LbaasModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str", required=True),
        **object_options("listener", required=("protocol_port",)),
        l7policies=l7policies_option(),
        allow_empty=dict(ALLOW_EMPTY_OPTION),
        state=STATE_OPTION,
    )
    module_kwargs = dict(required_if=[("state", "present", ("protocol",))])

    def validate(self):
        if self.params["state"] == "present":
            self.want = desire("listener", self.params)

    def run(self):
        p = self.params
        present = p["state"] == "present"
        lb = self.find_loadbalancer(p["loadbalancer"], required=present)
        if lb is None:
            self.finish(changed=False, listener=None, id=None)
            return
        current = self.current_of(lb)
        have = current.find_listener(protocol=p["protocol"], protocol_port=p["protocol_port"])
        if not present:
            if have is not None:
                self.before, self.after = public(LISTENER.view(have)), {}
                self.execute([Op("delete", "listener", label("listener", have), "DELETE", "/lbaas/listeners/%s" % have["id"])],
                             lb["id"], lb.get("provisioning_status"))
            self.finish(changed=have is not None, listener=have, id=have["id"] if have else None)
            return
        checks = Validator()
        check_cidrs_for_vip(checks, [self.want], vip_addresses(lb))
        checks.raise_if_any()
        planner = Planner(current)
        before, after = planner.listener(self.want, have)
        self.before, self.after = before or {}, after
        ops = planner.plan()
        self.execute(ops, lb["id"], lb.get("provisioning_status"), ids=planner.ids)
        listener = have
        listener_id = self.ids.get(("listener", listener_key(self.want))) or (have or {}).get("id")
        if ops and not self.check_mode and listener_id:
            listener = self.api.get("/lbaas/listeners/%s" % listener_id)["listener"]
            checked = [(label("listener", listener), listener)]
            if self.want.get("l7policies") is not None:
                fresh = self.current_of(lb)
                listener["l7policies"] = [dict(pol, rules=fresh.rules(pol)) for pol in fresh.l7policies(listener)]
                for pol in listener["l7policies"]:
                    checked.append((label("l7policy", pol, label("listener", listener)), pol))
                    checked += [(label("l7rule", rule), rule) for rule in pol["rules"]]
            self.fail_on_error(lb["id"], *checked)
        elif listener is not None and self.want.get("l7policies") is not None:
            listener = dict(listener, l7policies=[dict(pol, rules=current.rules(pol)) for pol in current.l7policies(listener)])
        self.finish(changed=bool(ops), listener=listener, id=listener_id, plan=[op.as_dict() for op in ops])


def main():
    ListenerModule()()


if __name__ == "__main__":
    main()
