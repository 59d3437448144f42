#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: l7rule
short_description: Manage a rule of an Octavia L7 policy
description:
  - "Creates, updates or deletes one L7 rule, identified by O(type), O(compare_type), O(rule_key) and O(value) in its
    policy; O(invert), O(admin_state_up) and O(tags) are updated in place."
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
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
  l7policy:
    description:
      - L7 policy (name or ID) of the rule.
    type: str
    required: true
  listener:
    description:
      - "Listener of the policy (C(PROTOCOL:PORT), name or ID); needed unless O(l7policy) is an ID."
    type: str
  loadbalancer:
    description:
      - "Load balancer (name or ID); needed unless O(listener) or O(l7policy) is an ID."
    type: str
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  rule_key:
    description:
      - Header name, cookie name or DN field the rule looks at (Octavia's C(key)).
    type: str
  state:
    description:
      - "V(present) creates or updates the %s, V(absent) deletes it."
    type: str
    default: "present"
    choices: [present, absent]
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
"""

EXAMPLES = r"""
- name: Match a header
  octavia.lbaas.l7rule:
    loadbalancer: web
    listener: HTTP:80
    l7policy: api
    type: HEADER
    compare_type: EQUAL_TO
    rule_key: X-Api-Version
    value: "2"

- name: Remove it
  octavia.lbaas.l7rule:
    loadbalancer: web
    listener: HTTP:80
    l7policy: api
    type: HEADER
    compare_type: EQUAL_TO
    rule_key: X-Api-Version
    value: "2"
    state: absent
"""

RETURN = r"""
l7rule:
  description: The rule as Octavia returns it.
  returned: always (null when absent)
  type: dict
  sample: {"id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "type": "HEADER", "compare_type": "EQUAL_TO",
           "key": "X-Api-Version", "value": "2", "invert": false}

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
    L7RULE,
    PROJECT_OPTION,
    STATE_OPTION,
    LbaasModule,
    Op,
    Planner,
    desire,
    label,
    object_options,
    public,
    rule_key,
)


class L7RuleModule(LbaasModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        listener=dict(type="str"),
        l7policy=dict(type="str", required=True),
        **object_options("l7rule", required=("type", "compare_type", "value")),
        state=STATE_OPTION,
    )

    def validate(self):
        self.want = desire("l7rule", self.params)

    def run(self):
        p = self.params
        present = p["state"] == "present"
        current, listener, policy = self.lookup_l7policy(p["l7policy"], p["listener"], p["loadbalancer"], required=present)
        key = rule_key(self.want)
        existing = current.rules(policy) if policy else []
        have = next((r for r in existing if rule_key(L7RULE.view(r)) == key), None)
        parent = label("l7policy", policy, label("listener", listener)) if policy else None
        if not present or policy is None:
            ops = []
            if have is not None:
                self.before, self.after = public(L7RULE.view(have)), {}
                ops = [Op("delete", "l7rule", label("l7rule", L7RULE.view(have), parent), "DELETE",
                          "/lbaas/l7policies/%s/rules/%s" % (policy["id"], have["id"]))]
                self.execute(ops, current.lb_id, current.lb.get("provisioning_status"))
            self.finish(changed=bool(ops), l7rule=have, id=have["id"] if have else None)
            return
        planner = Planner(current)
        before, after = planner.rules([self.want], policy, policy["id"], parent, purge=False)
        self.before = next((r for r in before if rule_key(r) == key), {})
        self.after = next((r for r in after if rule_key(r) == key), {})
        ops = planner.plan()
        self.execute(ops, current.lb_id, current.lb.get("provisioning_status"))
        rule = have
        if ops and not self.check_mode:
            rules = self.api.list("/lbaas/l7policies/%s/rules" % policy["id"], "rules")
            rule = next((r for r in rules if rule_key(L7RULE.view(r)) == key), None)
            self.fail_on_error(current.lb_id, (label("l7rule", L7RULE.view(rule or {}), parent), rule))
        self.finish(changed=bool(ops), l7rule=rule, id=(rule or {}).get("id"), plan=[op.as_dict() for op in ops])


def main():
    L7RuleModule()()


if __name__ == "__main__":
    main()
