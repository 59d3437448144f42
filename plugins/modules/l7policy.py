#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: l7policy
short_description: Manage an L7 policy of an Octavia listener
description:
  - Creates, updates or deletes one L7 policy, found by O(name) (or O(position) for a policy without a name) in its
    listener, and optionally its rules.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
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
  allow_empty:
    description:
      - "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task
        fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident."
    type: bool
    default: false
  description:
    description:
      - Description of the policy.
    type: str
  listener:
    description:
      - "Listener of the policy: C(PROTOCOL:PORT) (for example C(HTTP:80)), a name or an ID."
    type: str
    required: true
  loadbalancer:
    description:
      - "Load balancer (name or ID) of the listener; needed unless O(listener) is an ID."
    type: str
  name:
    description:
      - "Name of the policy; it identifies the policy in its listener."
    type: str
  position:
    description:
      - Position of the policy in the listener (1 is evaluated first).
    type: int
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
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
  state:
    description:
      - "V(present) creates or updates the %s, V(absent) deletes it."
    type: str
    default: "present"
    choices: [present, absent]
  tags:
    description:
      - Tags of the policy. The list is the complete set (order does not matter).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Send /api to the api pool
  octavia.lbaas.l7policy:
    loadbalancer: web
    listener: HTTP:80
    name: api
    action: REDIRECT_TO_POOL
    redirect_pool: api
    position: 1
    rules:
      - type: PATH
        compare_type: STARTS_WITH
        value: /api

- name: Reject requests without a session cookie
  octavia.lbaas.l7policy:
    loadbalancer: web
    listener: HTTP:80
    name: need-session
    action: REJECT
    rules:
      - type: COOKIE
        compare_type: REGEX
        rule_key: session
        value: ".+"
        invert: true
"""

RETURN = r"""
l7policy:
  description: The L7 policy as Octavia returns it (with C(rules) as objects when the task manages them).
  returned: always (null when absent)
  type: dict
  sample: {"id": "e7c1d0a2-3b4c-4d5e-8f90-a1b2c3d4e5f6", "name": "api", "action": "REDIRECT_TO_POOL",
           "position": 1, "provisioning_status": "ACTIVE"}

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
    L7POLICY,
    PROJECT_OPTION,
    STATE_OPTION,
    LbaasModule,
    ModuleError,
    Op,
    Planner,
    desire,
    label,
    object_options,
    public,
    rules_option,
)


class L7PolicyModule(LbaasModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        listener=dict(type="str", required=True),
        **object_options("l7policy"),
        rules=rules_option(),
        allow_empty=dict(ALLOW_EMPTY_OPTION),
        state=STATE_OPTION,
    )
    module_kwargs = dict(required_one_of=[("name", "position")])

    def validate(self):
        if self.params["state"] == "present":
            self.want = desire("l7policy", self.params)

    def run(self):
        p = self.params
        present = p["state"] == "present"
        current, listener = self.lookup_listener(p["listener"], p["loadbalancer"], required=present)
        have = None
        if listener is not None:
            have = current.find_l7policy(listener, p["name"]) if p["name"] else current.find_l7policy(listener, position=p["position"])
        parent = label("listener", listener) if listener else None
        if not present or listener is None:
            ops = []
            if have is not None:
                self.before, self.after = public(L7POLICY.view(have)), {}
                ops = [Op("delete", "l7policy", label("l7policy", have, parent), "DELETE", "/lbaas/l7policies/%s" % have["id"])]
                self.execute(ops, current.lb_id, current.lb.get("provisioning_status"))
            self.finish(changed=bool(ops), l7policy=have, id=have["id"] if have else None)
            return
        self.clamp_position(len(current.l7policies(listener)), have)
        planner = Planner(current)
        before, after = planner.l7policy(self.want, have, listener["id"], parent, listener_protocol=listener.get("protocol"))
        self.before, self.after = before or {}, after
        ops = planner.plan()
        self.execute(ops, current.lb_id, current.lb.get("provisioning_status"), ids=planner.ids)
        policy = have
        key = ("l7policy", (str(listener["id"]), self.want.get("name") or self.want.get("position")))
        policy_id = self.ids.get(key) or (have or {}).get("id")
        if ops and not self.check_mode and policy_id:
            policy = self.api.get("/lbaas/l7policies/%s" % policy_id)["l7policy"]
            current = self.current_of(current.lb)
        if policy is not None and self.want.get("rules") is not None and not (self.check_mode and have is None):
            policy = dict(policy, rules=current.rules(policy))
        if ops and policy is not None:
            self.fail_on_error(current.lb_id, (label("l7policy", policy, parent), policy),
                               *[(label("l7rule", rule, parent), rule) for rule in policy.get("rules") or []
                                 if isinstance(rule, dict) and "provisioning_status" in rule])
        self.finish(changed=bool(ops), l7policy=policy, id=policy_id, plan=[op.as_dict() for op in ops])

    def clamp_position(self, count, have):
        """Octavia numbers a listener's policies 1..N: a position beyond the end puts
        the policy at the end, and that is what the next run finds. Compare with it,
        or every run would move the policy "to 10" again."""
        position = self.want.get("position")
        if position is None:
            return
        last = count if have is not None else count + 1
        if position <= last:
            return
        if not self.want.get("name"):
            raise ModuleError("position: %d is beyond the end of the listener's %d L7 policies; Octavia would put an "
                              "unnamed policy at %d, where the next run would not look for it. Give a position up to %d "
                              "or a name." % (position, count, last, last))
        self.want["position"] = last


def main():
    L7PolicyModule()()


if __name__ == "__main__":
    main()
